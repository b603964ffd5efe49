package boot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vincentos/clp/internal/config"
)

func TestParseCmdline(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Cmdline
	}{
		{"", Cmdline{}},
		{"BOOT_IMAGE=/vmlinuz-linux root=UUID=x rw quiet\n", Cmdline{}},
		{"quiet clp.guard=off", Cmdline{GuardOff: true}},
		{"clp.guard=0 splash", Cmdline{GuardOff: true}},
		{"clp.guard=off clp.guard=on", Cmdline{}}, // the last one wins
		{"clp.guard", Cmdline{}},                  // no value: not off
		{"clp.rollback=1", Cmdline{Rollback: true}},
		{"clp.rollback", Cmdline{Rollback: true}},
		{"clp.rollback=yes clp.rollback=0", Cmdline{}},
		{`init=/bin/sh "acpi_osi=Windows 2020" clp.rollback=true`, Cmdline{Rollback: true}},
		{`"clp.guard=off"`, Cmdline{GuardOff: true}},
		{"xclp.guard=off clp.guardx=off clp.rollback2=1", Cmdline{}},
	} {
		if got := ParseCmdline(c.in); got != c.want {
			t.Errorf("ParseCmdline(%q) = %+v, want %+v", c.in, got, c.want)
		}
	}
}

func TestCritical(t *testing.T) {
	globs := config.Default().BootCritical
	got := Critical(globs, []string{"nvidia-utils", "firefox", "linux", "linux-lts", "linux-firmware", "mesa", "lib32-mesa", "gdm", "systemd-libs", "vim", "nvidia-utils", "sof-firmware", "intel-ucode", "grub", "xorg-server", "xorg-xrandr"})
	want := []string{"gdm", "grub", "intel-ucode", "lib32-mesa", "linux", "linux-firmware", "linux-lts", "mesa", "nvidia-utils", "sof-firmware", "systemd-libs", "xorg-server"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Critical = %v\nwant       %v", got, want)
	}
	if got := Critical(globs, []string{"firefox", "vim", "linuxx"}); got != nil {
		t.Errorf("nothing critical, got %v", got)
	}
	if got := Critical([]string{"[bad", "my-*"}, []string{"my-greeter"}); !reflect.DeepEqual(got, []string{"my-greeter"}) {
		t.Errorf("a bad glob must match nothing and not stop the others: %v", got)
	}
}

const (
	boot1 = "11111111-1111-4111-8111-111111111111"
	boot2 = "22222222-2222-4222-8222-222222222222"
	boot3 = "33333333-3333-4333-8333-333333333333"
	boot4 = "44444444-4444-4444-8444-444444444444"
)

// testGuard is a guard on temp files: the boot id and command line are
// files the test writes.
type testGuard struct {
	*Guard
	t   *testing.T
	dir string
	log bytes.Buffer
}

func newGuard(t *testing.T) *testGuard {
	dir := t.TempDir()
	tg := &testGuard{t: t, dir: dir}
	cfg := config.Default()
	cfg.BootCritical = append(cfg.BootCritical, "clp-testgreeter")
	tg.Guard = &Guard{
		Root:        dir,
		StateDir:    filepath.Join(dir, "var/lib/clp"),
		Config:      cfg,
		CmdlinePath: filepath.Join(dir, "cmdline"),
		BootIDPath:  filepath.Join(dir, "boot_id"),
		LogPath:     filepath.Join(dir, "CLP.log"),
		Log:         func(m string) { fmt.Fprintln(&tg.log, m) },
	}
	tg.boot(boot1, "")
	return tg
}

// boot starts a new boot: its id and command line.
func (tg *testGuard) boot(id, cmdline string) {
	tg.t.Helper()
	if err := os.WriteFile(tg.BootIDPath, []byte(id+"\n"), 0o644); err != nil {
		tg.t.Fatal(err)
	}
	if err := os.WriteFile(tg.CmdlinePath, []byte(cmdline+"\n"), 0o644); err != nil {
		tg.t.Fatal(err)
	}
}

func (tg *testGuard) state() *State {
	tg.t.Helper()
	st, err := tg.Load()
	if err != nil {
		tg.t.Fatal(err)
	}
	return st
}

type fakeRestorer struct {
	applied  map[string]bool
	restored []int
	rolled   []string
	fail     error
}

func (f *fakeRestorer) RollbackPatch(_ context.Context, name string) (bool, error) {
	if !f.applied[name] {
		return false, nil
	}
	f.rolled = append(f.rolled, name)
	return true, nil
}

func (f *fakeRestorer) RestoreSnapshot(_ context.Context, id int) error {
	if f.fail != nil {
		return f.fail
	}
	f.restored = append(f.restored, id)
	return nil
}

// fakeSystemd answers with fixed states.
type fakeSystemd struct {
	target string
	system string
	units  map[string][]Unit // successive answers; the last repeats
	// targetErrs is how many DefaultTarget calls fail first (-1: all).
	targetErrs int
}

func (f *fakeSystemd) SystemState(context.Context) string { return f.system }
func (f *fakeSystemd) DefaultTarget(context.Context) (string, error) {
	if f.targetErrs != 0 {
		if f.targetErrs > 0 {
			f.targetErrs--
		}
		return "", errors.New("Failed to connect to bus")
	}
	return f.target, nil
}
func (f *fakeSystemd) Unit(_ context.Context, name string) (Unit, error) {
	us := f.units[name]
	if len(us) == 0 {
		return Unit{LoadState: "not-found", ActiveState: "inactive", SubState: "dead"}, nil
	}
	u := us[0]
	if len(us) > 1 {
		f.units[name] = us[1:]
	}
	return u, nil
}

var (
	upDM     = Unit{LoadState: "loaded", ActiveState: "active", SubState: "running"}
	failedDM = Unit{LoadState: "loaded", ActiveState: "failed", SubState: "failed", NRestarts: 5}
	active   = Unit{LoadState: "loaded", ActiveState: "active", SubState: "active"}
)

func goodSystem() *fakeSystemd {
	return &fakeSystemd{target: "graphical.target", system: "running", units: map[string][]Unit{"graphical.target": {active}, DisplayManager: {upDM}}}
}

func badSystem() *fakeSystemd {
	return &fakeSystemd{target: "graphical.target", system: "degraded", units: map[string][]Unit{"graphical.target": {active}, DisplayManager: {failedDM}}}
}

var fastCheck = CheckOptions{Settle: 20 * time.Millisecond, Poll: 5 * time.Millisecond}

func (tg *testGuard) arm(snapshot int, patch string, pkgs ...string) []string {
	tg.t.Helper()
	got, err := tg.Arm(context.Background(), Transaction{Source: "pacman", Snapshot: snapshot, Patch: patch, Packages: pkgs})
	if err != nil {
		tg.t.Fatal(err)
	}
	return got
}

func TestArm(t *testing.T) {
	tg := newGuard(t)
	if got := tg.arm(5, "", "firefox", "vim"); got != nil {
		t.Fatalf("nothing boot-critical must not arm: %v", got)
	}
	if _, err := os.Stat(tg.statePath()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a transaction that arms nothing must not write the state: %v", err)
	}
	if got := tg.arm(5, "", "firefox", "nvidia-utils"); !reflect.DeepEqual(got, []string{"nvidia-utils"}) {
		t.Fatalf("armed for %v", got)
	}
	// the hook and clp both see it: recorded once, news once
	if crit, fresh, err := tg.ArmOnce(context.Background(), Transaction{Source: "clp apply", Snapshot: 5, Packages: []string{"firefox", "nvidia-utils"}}); err != nil || fresh || !reflect.DeepEqual(crit, []string{"nvidia-utils"}) {
		t.Fatalf("the same transaction again: %v fresh %v, %v", crit, fresh, err)
	}
	if _, fresh, err := tg.ArmOnce(context.Background(), Transaction{Source: "pacman", Snapshot: 9, Patch: "CLP1", Packages: []string{"linux"}}); err != nil || !fresh {
		t.Fatalf("a transaction with another boot-critical package: fresh %v, %v", fresh, err)
	}
	// clp's own report of a transaction the hook saw (its patch-pre
	// snapshot, not pacman's pre): recorded, not news
	if _, fresh, err := tg.ArmOnce(context.Background(), Transaction{Source: "clp apply", Snapshot: 8, Patch: "CLP1", Packages: []string{"linux"}}); err != nil || fresh {
		t.Fatalf("the same packages again: fresh %v, %v", fresh, err)
	}
	st := tg.state()
	if st.Phase != Armed || st.Snapshot != 5 || len(st.Transactions) != 3 || !reflect.DeepEqual(st.Patches(), []string{"CLP1"}) {
		t.Fatalf("state %+v", st)
	}
	// No snapshot to go back to: an error, not a guard that arms on nothing.
	if _, err := tg.Arm(context.Background(), Transaction{Source: "pacman", Packages: []string{"linux"}}); err == nil {
		t.Fatal("arming without a snapshot must fail")
	}
	// Off in clp.conf: nothing.
	tg2 := newGuard(t)
	tg2.Config.BootGuard = false
	if got := tg2.arm(5, "", "linux"); got != nil {
		t.Fatal("Guard = no must not arm")
	}
}

// The black screen: two bad boots, then the restore early in the third,
// whose judge finds it good and disarms.
func TestFailedBootsRestoreOnce(t *testing.T) {
	tg := newGuard(t)
	tg.arm(41, "CLP9", "clp-testgreeter")
	r := &fakeRestorer{applied: map[string]bool{"CLP9": true}}
	ctx := context.Background()
	for i, id := range []string{boot2, boot3} {
		tg.boot(id, "quiet")
		res, err := tg.Start(ctx, r)
		if err != nil || res.Action != "counted" {
			t.Fatalf("boot %d start: %v %+v", i, err, res)
		}
		c, err := tg.Check(ctx, badSystem(), fastCheck)
		if err != nil || c.Verdict.Good {
			t.Fatalf("boot %d check: %v %+v", i, err, c)
		}
	}
	if st := tg.state(); st.Failed != 2 || st.Phase != Armed || len(r.restored) != 0 {
		t.Fatalf("after two bad boots: %+v, restored %v", st, r.restored)
	}
	tg.boot(boot4, "")
	res, err := tg.Start(ctx, r)
	if err != nil || res.Action != "restored" {
		t.Fatalf("third boot: %v %+v", err, res)
	}
	if !reflect.DeepEqual(r.restored, []int{41}) || !reflect.DeepEqual(r.rolled, []string{"CLP9"}) {
		t.Fatalf("restored %v, rolled back %v", r.restored, r.rolled)
	}
	st := tg.state()
	if st.Phase != Restored || !st.Restore.OK || st.Restore.Boot != boot4 {
		t.Fatalf("state %+v", st)
	}
	// The unit started again in the same boot: nothing more.
	if res, _ := tg.Start(ctx, r); res.Action != "idle" || len(r.restored) != 1 {
		t.Fatalf("a second start in one boot: %+v, restored %v", res, r.restored)
	}
	c, err := tg.Check(ctx, goodSystem(), fastCheck)
	if err != nil || !c.Verdict.Good {
		t.Fatalf("check after restore: %v %+v", err, c)
	}
	if st := tg.state(); st.Phase != Disarmed || !strings.Contains(st.Last, "restored snapshot 41") {
		t.Fatalf("after the good boot: %+v", st)
	}
	log, _ := os.ReadFile(tg.LogPath)
	for _, want := range []string{"restoring snapshot 41 before the display manager", "rolled back patch CLP9", "restored snapshot 41", "this boot is good"} {
		if !strings.Contains(string(log), want) || !strings.Contains(tg.log.String(), want) {
			t.Errorf("CLP.log and the journal lack %q:\n%s", want, log)
		}
	}
}

// A boot that is never judged (power held on a black screen) counts as
// failed at the start of the next one.
func TestSilentBootCounts(t *testing.T) {
	tg := newGuard(t)
	tg.arm(7, "", "linux")
	r := &fakeRestorer{}
	ctx := context.Background()
	tg.boot(boot2, "")
	tg.Start(ctx, r) // no Check: powered off
	tg.boot(boot3, "")
	res, err := tg.Start(ctx, r)
	if err != nil || res.State.Failed != 1 {
		t.Fatalf("%v %+v", err, res.State)
	}
	if b := res.State.Boots[0]; b.ID != boot2 || b.Verdict != VerdictSilent {
		t.Fatalf("boot 2 recorded as %+v", b)
	}
	tg.boot(boot4, "")
	res, err = tg.Start(ctx, r)
	if err != nil || res.Action != "restored" || !reflect.DeepEqual(r.restored, []int{7}) {
		t.Fatalf("second silent boot must restore: %v %+v %v", err, res, r.restored)
	}
}

func TestGoodBootDisarms(t *testing.T) {
	tg := newGuard(t)
	tg.arm(7, "", "mesa")
	r := &fakeRestorer{}
	tg.boot(boot2, "")
	tg.Start(context.Background(), r)
	c, err := tg.Check(context.Background(), goodSystem(), fastCheck)
	if err != nil || !c.Verdict.Good {
		t.Fatalf("%v %+v", err, c)
	}
	if st := tg.state(); st.Phase != Disarmed || len(r.restored) != 0 {
		t.Fatalf("%+v", st)
	}
	// Disarmed: the next boot is not counted.
	tg.boot(boot3, "")
	if res, _ := tg.Start(context.Background(), r); res.Action != "idle" {
		t.Fatalf("%+v", res)
	}
}

func TestCmdlineOptions(t *testing.T) {
	ctx := context.Background()
	tg := newGuard(t)
	tg.arm(7, "", "linux")
	r := &fakeRestorer{}
	tg.boot(boot2, "quiet clp.guard=off")
	if res, _ := tg.Start(ctx, r); res.Action != "off" {
		t.Fatalf("clp.guard=off: %+v", res)
	}
	if c, _ := tg.Check(ctx, badSystem(), fastCheck); c.Action != "off" {
		t.Fatalf("clp.guard=off check: %+v", c)
	}
	if st := tg.state(); st.Failed != 0 || st.Pending != "" {
		t.Fatalf("an off boot must not be counted: %+v", st)
	}
	tg.boot(boot3, "clp.rollback=1")
	res, err := tg.Start(ctx, r)
	if err != nil || res.Action != "restored" || !res.State.Restore.Requested || !reflect.DeepEqual(r.restored, []int{7}) {
		t.Fatalf("clp.rollback=1: %v %+v %v", err, res, r.restored)
	}
	// Still on the command line next boot: never again.
	tg.boot(boot4, "clp.rollback=1")
	if _, err := tg.Start(ctx, r); err != nil || len(r.restored) != 1 {
		t.Fatalf("clp.rollback=1 must restore once: %v %v", err, r.restored)
	}
}

func TestRestoreFailsOnce(t *testing.T) {
	ctx := context.Background()
	tg := newGuard(t)
	tg.Config.BootFailures = 1
	tg.arm(7, "", "linux")
	r := &fakeRestorer{fail: errors.New("no file linux-6.1-1 in the cache")}
	tg.boot(boot2, "")
	tg.Start(ctx, r)
	tg.Check(ctx, badSystem(), fastCheck)
	tg.boot(boot3, "")
	res, err := tg.Start(ctx, r)
	if err == nil || res.Action != "restore-failed" {
		t.Fatalf("%v %+v", err, res)
	}
	st := tg.state()
	if st.Phase != RestoreFailed || !strings.Contains(st.Restore.Error, "no file linux") {
		t.Fatalf("%+v", st)
	}
	r.fail = nil
	tg.boot(boot4, "clp.rollback=1")
	if res, err := tg.Start(ctx, r); err != nil || res.Action != "idle" || len(r.restored) != 0 {
		t.Fatalf("after a failed restore nothing more: %v %+v %v", err, res, r.restored)
	}
	if _, err := tg.Arm(ctx, Transaction{Source: "pacman", Snapshot: 9, Packages: []string{"linux"}}); err == nil {
		t.Fatal("a failed restore must not be re-armed over")
	}
	if st, err := tg.Disarm(ctx, "disarmed by hand"); err != nil || st.Phase != Disarmed {
		t.Fatalf("disarm: %v %+v", err, st)
	}
}

// A restore that began and never recorded its end (power lost) is never
// started again.
func TestInterruptedRestore(t *testing.T) {
	ctx := context.Background()
	tg := newGuard(t)
	tg.arm(7, "", "linux")
	st := tg.state()
	st.Phase = Restoring
	st.Pending = boot2
	st.Boots = []Boot{{ID: boot2}}
	st.Restore = &RestoreRecord{Boot: boot2, Snapshot: 7}
	if err := writeState(tg.Root, tg.statePath(), st); err != nil {
		t.Fatal(err)
	}
	r := &fakeRestorer{}
	tg.boot(boot3, "")
	res, err := tg.Start(ctx, r)
	if err != nil || res.Action != "restore-failed" || len(r.restored) != 0 {
		t.Fatalf("%v %+v %v", err, res, r.restored)
	}
	if st := tg.state(); st.Phase != RestoreFailed || !strings.Contains(st.Restore.Error, "interrupted") {
		t.Fatalf("%+v", st)
	}
}

// Damage table: a good state file broken one way per row is reported as
// damaged, never obeyed (no restore), and left exactly as it was.
func TestStateDamage(t *testing.T) {
	good := func(t *testing.T) (*testGuard, []byte) {
		tg := newGuard(t)
		tg.Config.BootFailures = 1
		tg.arm(7, "", "linux")
		data, err := os.ReadFile(tg.statePath())
		if err != nil {
			t.Fatal(err)
		}
		return tg, data
	}
	reseal := func(inner string) []byte {
		sum := sha256hex([]byte(inner))
		return []byte(`{"format":1,"sha256":"` + sum + `","state":` + inner + `}`)
	}
	for _, c := range []struct {
		name   string
		break_ func([]byte) []byte
		want   string
	}{
		{"flipped byte", func(b []byte) []byte {
			i := bytes.Index(b, []byte(`"snapshot":7`))
			b[i+len(`"snapshot":`)] = '8'
			return b
		}, "checksum mismatch"},
		{"truncated", func(b []byte) []byte { return b[:len(b)/2] }, "not a state file"},
		{"empty", func([]byte) []byte { return nil }, "not a state file"},
		{"trailing data", func(b []byte) []byte { return append(b, []byte(`{"x":1}`)...) }, "trailing data"},
		{"unknown format", func(b []byte) []byte { return bytes.Replace(b, []byte(`"format":1`), []byte(`"format":2`), 1) }, "format 2"},
		{"unknown envelope field", func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"format":1`), []byte(`"format":1,"x":0`), 1)
		}, "unknown field"},
		{"too large", func(b []byte) []byte { return append(b, bytes.Repeat([]byte(" "), maxStateBytes)...) }, "larger than"},
		{"unknown phase", func([]byte) []byte {
			return reseal(`{"phase":"restoring-now","snapshot":7,"transactions":[{"source":"pacman","snapshot":7,"packages":["linux"]}],"failed":0}`)
		}, `unknown phase`},
		{"armed without snapshot", func([]byte) []byte {
			return reseal(`{"phase":"armed","transactions":[{"source":"pacman","snapshot":7,"packages":["linux"]}],"failed":1}`)
		}, "without a snapshot"},
		{"negative count", func([]byte) []byte {
			return reseal(`{"phase":"armed","snapshot":7,"transactions":[{"source":"pacman","snapshot":7,"packages":["linux"]}],"failed":-1}`)
		}, "out of range"},
		{"bad boot id", func([]byte) []byte {
			return reseal(`{"phase":"armed","snapshot":7,"transactions":[{"source":"pacman","snapshot":7,"packages":["linux"]}],"failed":0,"pending":"../../x"}`)
		}, "not a boot id"},
		{"unknown state field", func([]byte) []byte {
			return reseal(`{"phase":"armed","snapshot":7,"transactions":[{"source":"pacman","snapshot":7,"packages":["linux"]}],"failed":0,"restore_now":true}`)
		}, "unknown field"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tg, data := good(t)
			bad := c.break_(bytes.Clone(data))
			if err := os.WriteFile(tg.statePath(), bad, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := tg.Load()
			if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Load: %v, want damaged: %q", err, c.want)
			}
			r := &fakeRestorer{}
			tg.boot(boot2, "clp.rollback=1")
			if _, err := tg.Start(context.Background(), r); !errors.Is(err, ErrDamaged) || len(r.restored) != 0 {
				t.Fatalf("Start on a damaged state: %v, restored %v", err, r.restored)
			}
			if _, err := tg.Check(context.Background(), badSystem(), fastCheck); !errors.Is(err, ErrDamaged) {
				t.Fatalf("Check on a damaged state: %v", err)
			}
			if _, err := tg.Arm(context.Background(), Transaction{Source: "pacman", Snapshot: 9, Packages: []string{"linux"}}); !errors.Is(err, ErrDamaged) {
				t.Fatalf("Arm over a damaged state: %v", err)
			}
			if now, _ := os.ReadFile(tg.statePath()); !bytes.Equal(now, bad) {
				t.Fatal("the damaged file was changed")
			}
			// disarm keeps it aside and starts clean
			if st, err := tg.Disarm(context.Background(), "disarmed by hand"); err != nil || st.Phase != Disarmed {
				t.Fatalf("Disarm: %v %+v", err, st)
			}
			if kept, _ := os.ReadFile(tg.statePath() + ".damaged"); !bytes.Equal(kept, bad) {
				t.Fatal("disarm must keep the damaged file aside")
			}
		})
	}
}

// systemd that does not answer yet (early boot) or any more (going down)
// is asked again; only at the time limit is that a bad boot, so a boot cut
// short has no verdict and counts as never judged.
func TestJudgeAsksSystemdAgain(t *testing.T) {
	ctx := context.Background()
	slow := goodSystem()
	slow.targetErrs = 3
	if v := Judge(ctx, slow, time.Second, fastCheck); !v.Good {
		t.Errorf("systemd answering on the fourth try: %+v", v)
	}
	gone := goodSystem()
	gone.targetErrs = -1
	start := time.Now()
	v := Judge(ctx, gone, 200*time.Millisecond, fastCheck)
	if v.Good || !strings.Contains(v.Reason, "cannot tell the default target within the time limit") {
		t.Errorf("systemd never answering: %+v", v)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("judged bad after %s, before the time limit", d)
	}
}

func TestJudge(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if v := Judge(ctx, goodSystem(), time.Second, fastCheck); !v.Good {
		t.Errorf("good system: %+v", v)
	}
	if v := Judge(ctx, badSystem(), time.Second, fastCheck); v.Good || !strings.Contains(v.Reason, "display manager") {
		t.Errorf("failed display manager: %+v", v)
	}
	restarting := goodSystem()
	restarting.units[DisplayManager] = []Unit{upDM, {LoadState: "loaded", ActiveState: "active", SubState: "running", NRestarts: 1}}
	if v := Judge(ctx, restarting, time.Second, fastCheck); v.Good || !strings.Contains(v.Reason, "restarting") {
		t.Errorf("restarting display manager: %+v", v)
	}
	hung := goodSystem()
	hung.system = "starting"
	start := time.Now()
	if v := Judge(ctx, hung, 100*time.Millisecond, fastCheck); v.Good || !strings.Contains(v.Reason, "time limit") {
		t.Errorf("hung boot: %+v", v)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("the judge overran its time limit: %s", d)
	}
	multi := &fakeSystemd{target: "multi-user.target", system: "degraded", units: map[string][]Unit{"multi-user.target": {active}, DisplayManager: {failedDM}}}
	if v := Judge(ctx, multi, time.Second, fastCheck); !v.Good {
		t.Errorf("a text-mode default target does not need a display manager: %+v", v)
	}
	// Admin checks: a failing one names itself and its last line.
	o := fastCheck
	o.ChecksDir = dir
	os.WriteFile(filepath.Join(dir, "10-ok"), []byte("#!/bin/sh\nexit 0\n"), 0o755)
	os.WriteFile(filepath.Join(dir, "20-disabled"), []byte("#!/bin/sh\nexit 1\n"), 0o644)
	if v := Judge(ctx, goodSystem(), time.Second, o); !v.Good {
		t.Errorf("passing checks: %+v", v)
	}
	os.WriteFile(filepath.Join(dir, "30-net"), []byte("#!/bin/sh\necho checking\necho no network >&2\nexit 3\n"), 0o755)
	if v := Judge(ctx, goodSystem(), time.Second, o); v.Good || !strings.Contains(v.Reason, "30-net") || !strings.Contains(v.Reason, "no network") {
		t.Errorf("failing check: %+v", v)
	}
	os.Remove(filepath.Join(dir, "30-net"))
	os.WriteFile(filepath.Join(dir, "40-hang"), []byte("#!/bin/sh\nsleep 30 &\nwait\n"), 0o755)
	start = time.Now()
	if v := Judge(ctx, goodSystem(), 300*time.Millisecond, o); v.Good || !strings.Contains(v.Reason, "time limit") {
		t.Errorf("hanging check: %+v", v)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("a hanging check held the judge for %s", d)
	}
}

// A judge stopped by a shutdown records no verdict: the boot stays pending
// and counts as never judged.
func TestCheckInterrupted(t *testing.T) {
	tg := newGuard(t)
	tg.arm(7, "", "linux")
	tg.boot(boot2, "")
	tg.Start(context.Background(), &fakeRestorer{})
	ctx, cancel := context.WithCancel(context.Background())
	hung := goodSystem()
	hung.system = "starting"
	time.AfterFunc(50*time.Millisecond, cancel)
	if _, err := tg.Check(ctx, hung, fastCheck); err == nil {
		t.Fatal("an interrupted judge must not succeed")
	}
	if st := tg.state(); st.Pending != boot2 || st.Failed != 0 {
		t.Fatalf("an interrupted judge recorded something: %+v", st)
	}
}
