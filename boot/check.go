package boot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vincentos/clp/internal/fsx"
)

// Unit is what the judge asks systemd about one unit.
type Unit struct {
	LoadState   string // loaded, not-found, masked
	ActiveState string // active, activating, failed, inactive, ...
	SubState    string // running, auto-restart, dead, ...
	NRestarts   int
}

// Systemd is the part of the running systemd the judge needs.
type Systemd interface {
	// SystemState is 'systemctl is-system-running': initializing,
	// starting, running, degraded, ...
	SystemState(ctx context.Context) string
	// DefaultTarget is 'systemctl get-default'.
	DefaultTarget(ctx context.Context) (string, error)
	// Unit is 'systemctl show' of name.
	Unit(ctx context.Context, name string) (Unit, error)
}

// Systemctl asks the running systemd through the systemctl command.
type Systemctl struct{}

func (Systemctl) run(ctx context.Context, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, "systemctl", args...).Output()
	return strings.TrimSpace(string(out)), err
}

// SystemState implements Systemd.
func (s Systemctl) SystemState(ctx context.Context) string {
	out, _ := s.run(ctx, "is-system-running") // non-zero unless running
	return out
}

// DefaultTarget implements Systemd.
func (s Systemctl) DefaultTarget(ctx context.Context) (string, error) {
	return s.run(ctx, "get-default")
}

// Unit implements Systemd.
func (s Systemctl) Unit(ctx context.Context, name string) (Unit, error) {
	out, err := s.run(ctx, "show", "--property=LoadState,ActiveState,SubState,NRestarts", "--", name)
	if err != nil {
		return Unit{}, fmt.Errorf("systemctl show %s: %w", name, err)
	}
	var u Unit
	for _, line := range strings.Split(out, "\n") {
		k, v, _ := strings.Cut(line, "=")
		switch k {
		case "LoadState":
			u.LoadState = v
		case "ActiveState":
			u.ActiveState = v
		case "SubState":
			u.SubState = v
		case "NRestarts":
			u.NRestarts, _ = strconv.Atoi(v)
		}
	}
	return u, nil
}

// DisplayManager is the unit name every display manager package enables
// itself as (an alias: gdm, sddm, lightdm ... link it there).
const DisplayManager = "display-manager.service"

// CheckOptions tune the judge.
type CheckOptions struct {
	// ChecksDir holds the admin's executable checks
	// (/etc/clp/boot-checks.d under the root).
	ChecksDir string
	// Root is the system root ChecksDir is under ("/" or empty: the
	// running system): the folder is listed and each check looked at
	// anchored to it.
	Root string
	// Settle is how long the display manager must stay active without
	// a restart.
	Settle time.Duration
	// Poll is how often systemd is asked (default 500ms).
	Poll time.Duration
}

// Verdict is the judge's word on this boot.
type Verdict struct {
	Good   bool
	Reason string
}

// Judge decides whether this boot is good, within the time limit
// (CheckTimeout): the boot finished and the default target is active; for
// a graphical default target, the display manager is active and not
// restarting; every executable in ChecksDir exits 0.
func Judge(ctx context.Context, sd Systemd, limit time.Duration, o CheckOptions) Verdict {
	if o.Poll <= 0 {
		o.Poll = 500 * time.Millisecond
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	late := func(what string) Verdict {
		return Verdict{Reason: fmt.Sprintf("%s within the time limit of %s", what, limit)}
	}
	wait := func() bool {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(o.Poll):
			return true
		}
	}
	// systemd may not answer yet (early in the boot) or any more (the
	// machine is going down): asking again until the time limit keeps a
	// boot cut short from being judged on a question it could not answer;
	// it then has no verdict, and counts as never judged.
	var target string
	for {
		t, err := sd.DefaultTarget(ctx)
		if err == nil && t != "" {
			target = t
			break
		}
		if !wait() {
			return Verdict{Reason: fmt.Sprintf("cannot tell the default target within the time limit of %s: %v", limit, err)}
		}
	}
	// The boot is done when systemd's boot jobs are: "starting" while
	// they run (the judge's own unit is Type=exec, so it does not hold
	// that up).
	for {
		switch st := sd.SystemState(ctx); st {
		case "initializing", "starting", "":
			if !wait() {
				return late("the boot did not finish (systemd " + orUnknown(st) + ")")
			}
			continue
		}
		break
	}
	for {
		u, err := sd.Unit(ctx, target)
		if err == nil && u.ActiveState == "active" {
			break
		}
		if !wait() {
			return late("the default target " + target + " was not reached")
		}
	}
	if target == "graphical.target" {
		if v := judgeDisplayManager(ctx, sd, o, limit, wait); !v.Good {
			return v
		}
	}
	return runChecks(ctx, o.Root, o.ChecksDir, limit)
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func judgeDisplayManager(ctx context.Context, sd Systemd, o CheckOptions, limit time.Duration, wait func() bool) Verdict {
	u, err := sd.Unit(ctx, DisplayManager)
	if err != nil {
		return Verdict{Reason: err.Error()}
	}
	if u.LoadState != "loaded" {
		// A graphical target without a display manager (a kiosk
		// session started otherwise): nothing to judge here.
		return Verdict{Good: true}
	}
	for {
		switch {
		case u.ActiveState == "active" && u.SubState == "running":
			restarts := u.NRestarts
			deadline := time.Now().Add(o.Settle)
			for time.Now().Before(deadline) {
				if !wait() {
					return Verdict{Reason: fmt.Sprintf("the display manager did not stay up for %s within the time limit of %s", o.Settle, limit)}
				}
				if u, err = sd.Unit(ctx, DisplayManager); err != nil {
					return Verdict{Reason: err.Error()}
				}
				if u.ActiveState != "active" || u.NRestarts != restarts {
					return Verdict{Reason: fmt.Sprintf("the display manager (%s) is restarting: %s/%s, %d restart(s)", DisplayManager, u.ActiveState, u.SubState, u.NRestarts)}
				}
			}
			return Verdict{Good: true}
		case u.ActiveState == "failed" || u.ActiveState == "inactive" && u.SubState != "dead" || u.ActiveState == "inactive" && u.NRestarts > 0:
			return Verdict{Reason: fmt.Sprintf("the display manager (%s) is %s/%s after %d restart(s)", DisplayManager, u.ActiveState, u.SubState, u.NRestarts)}
		}
		if !wait() {
			return Verdict{Reason: fmt.Sprintf("the display manager (%s) was not running within the time limit of %s (%s/%s, %d restart(s))", DisplayManager, limit, u.ActiveState, u.SubState, u.NRestarts)}
		}
		if u, err = sd.Unit(ctx, DisplayManager); err != nil {
			return Verdict{Reason: err.Error()}
		}
	}
}

// runChecks runs every executable regular file in dir, in name order, each
// with what is left of the time limit, greenboot-style: any non-zero exit
// makes the boot bad. Files that are not executable are skipped (an admin
// disables a check with chmod -x). The folder is listed, and each check
// looked at, anchored to root: a folder on the way swapped for a link out
// of the root makes the boot bad, naming it, rather than run what lies
// outside.
func runChecks(ctx context.Context, root, dir string, limit time.Duration) Verdict {
	if dir == "" {
		return Verdict{Good: true}
	}
	ents, err := fsx.ReadDirUnder(root, dir)
	if errors.Is(err, os.ErrNotExist) {
		return Verdict{Good: true}
	}
	if err != nil {
		return Verdict{Reason: fmt.Sprintf("read the boot checks: %v", err)}
	}
	sort.Slice(ents, func(i, j int) bool { return ents[i].Name() < ents[j].Name() })
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		fi, err := fsx.StatUnder(root, p)
		if fsx.IsEscape(err) {
			return Verdict{Reason: fmt.Sprintf("boot check %s: %v", p, err)}
		}
		if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
			continue
		}
		cmd := exec.CommandContext(ctx, p)
		cmd.Dir = "/"
		cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"}
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		// Its own process group, so the time limit kills what it started.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
		cmd.WaitDelay = time.Second
		if err := cmd.Run(); err != nil {
			if ctx.Err() != nil {
				return Verdict{Reason: fmt.Sprintf("boot check %s did not finish within the time limit of %s", p, limit)}
			}
			return Verdict{Reason: fmt.Sprintf("boot check %s failed (%v): %s", p, err, lastLine(out.String()))}
		}
	}
	return Verdict{Good: true}
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	if len(s) > 200 {
		s = s[:200]
	}
	if s == "" {
		return "no output"
	}
	return s
}

// CheckResult is what Check did.
type CheckResult struct {
	// Action is "off", "idle" (nothing to judge) or "judged".
	Action  string
	Verdict Verdict
	State   *State
}

// Check judges this boot (clp-boot-check.service) and records the verdict:
// a good boot disarms the guard; a bad one counts as failed. After the
// guard restored, the next boot is judged too, only to say whether the
// restore helped: nothing more is ever restored.
func (g *Guard) Check(ctx context.Context, sd Systemd, o CheckOptions) (*CheckResult, error) {
	if g.Cmdline().GuardOff || !g.Config.BootGuard {
		return &CheckResult{Action: "off"}, nil
	}
	id, err := g.bootID()
	if err != nil {
		return nil, err
	}
	st, err := g.Load()
	if err != nil {
		return nil, err
	}
	if st.Phase != Armed && st.Phase != Restored {
		return &CheckResult{Action: "idle", State: st}, nil
	}
	if st.Pending != id {
		g.say("not judging boot %s: clp-boot-guard.service did not count it (it counted %q); is the unit enabled?", id, st.Pending)
		return &CheckResult{Action: "idle", State: st}, nil
	}
	limit := time.Duration(g.Config.BootTimeoutSec) * time.Second
	g.say("judging this boot (time limit %s)", limit)
	v := Judge(ctx, sd, limit, o)
	if ctx.Err() != nil {
		// Stopped by a shutdown, not by the time limit: no verdict.
		// The boot stays pending and counts as never judged.
		return nil, fmt.Errorf("stopped before this boot was judged: %w", ctx.Err())
	}
	res := &CheckResult{Action: "judged", Verdict: v}
	err = g.update(ctx, func(st *State) (bool, error) {
		res.State = st
		if st.Pending != id || (st.Phase != Armed && st.Phase != Restored) {
			return false, nil // disarmed or marked good meanwhile
		}
		st.Pending = ""
		if v.Good {
			st.setVerdict(id, VerdictGood, "")
			g.goodBoot(st, "the default target was reached and the checks passed")
			g.say("this boot is good: %s", st.Last)
			return true, nil
		}
		st.setVerdict(id, VerdictBad, v.Reason)
		if st.Phase == Restored {
			st.Last = restoredSummary(st) + "; the boot after it was not good either (" + v.Reason + ")"
			g.say("this boot is not good either after the restore: %s. clp changes nothing more; 'clp boot status' shows what happened", v.Reason)
			return true, nil
		}
		st.Failed++
		if st.Failed >= g.Config.BootFailures {
			g.say("this boot is not good: %s. Failed boots: %d of %d: the next boot restores snapshot %d", v.Reason, st.Failed, g.Config.BootFailures, st.Snapshot)
		} else {
			g.say("this boot is not good: %s. Failed boots: %d of %d", v.Reason, st.Failed, g.Config.BootFailures)
		}
		return true, nil
	})
	return res, err
}
