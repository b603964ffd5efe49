package boot

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/vincentos/clp/internal/config"
	"github.com/vincentos/clp/internal/fsx"
	"github.com/vincentos/clp/internal/lock"
)

// Guard is the boot guard of one installation.
type Guard struct {
	// Root is the system root StateDir and LogPath are under ("" is /):
	// the guard's state, lock and log are read and written inside it
	// (fsx's *Under helpers), so a folder swapped for a link out of the
	// root makes the operation fail instead of leaving the root.
	Root string
	// StateDir is clp's state directory (<root>/var/lib/clp).
	StateDir string
	// Config is clp.conf: Guard, CriticalPackages, FailedBoots,
	// CheckTimeout.
	Config *config.Config
	// CmdlinePath and BootIDPath are the kernel's /proc/cmdline and
	// /proc/sys/kernel/random/boot_id (under the root); tests supply
	// their own. A missing command line reads as empty.
	CmdlinePath string
	BootIDPath  string
	// LogPath is /var/log/CLP.log: every message of Start and Check is
	// appended there as well as given to Log.
	LogPath string
	// Log receives the messages for the journal and the console.
	Log func(msg string)
	// Now is the clock (tests set it).
	Now func() time.Time
}

// lockWait bounds how long the guard waits for its own lock: it is held
// only around a read-modify-write, never across a restore.
const lockWait = 30 * time.Second

func (g *Guard) statePath() string { return filepath.Join(g.StateDir, StateFile) }

func (g *Guard) now() time.Time {
	if g.Now != nil {
		return g.Now().UTC()
	}
	return time.Now().UTC()
}

// say logs msg to Log and to CLP.log.
func (g *Guard) say(format string, a ...any) {
	msg := fmt.Sprintf(format, a...)
	if g.Log != nil {
		g.Log(msg)
	}
	if g.LogPath == "" {
		return
	}
	if err := fsx.MkdirAllUnder(g.Root, filepath.Dir(g.LogPath), 0o755); err != nil {
		return
	}
	f, err := fsx.OpenFileUnder(g.Root, g.LogPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return
	}
	defer f.Close()
	for _, line := range strings.Split(msg, "\n") {
		fmt.Fprintf(f, "==> %s clp boot guard: %s\n", g.now().Format(time.RFC3339), line)
	}
}

// Cmdline reads the kernel command line.
func (g *Guard) Cmdline() Cmdline {
	if g.CmdlinePath == "" {
		return Cmdline{}
	}
	data, err := os.ReadFile(g.CmdlinePath)
	if err != nil {
		return Cmdline{}
	}
	return ParseCmdline(string(data))
}

func (g *Guard) bootID() (string, error) {
	data, err := os.ReadFile(g.BootIDPath)
	if err != nil {
		return "", fmt.Errorf("read this boot's id: %w", err)
	}
	id := strings.TrimSpace(string(data))
	if !validBootID(id) {
		return "", fmt.Errorf("read this boot's id: %q from %s is not a boot id", id, g.BootIDPath)
	}
	return id, nil
}

// Load reads the state. A damaged state is an error matching ErrDamaged.
func (g *Guard) Load() (*State, error) { return readState(g.Root, g.statePath()) }

// update runs fn on the state under the guard's lock and writes the result
// when fn says so. A damaged state is never handed to fn.
func (g *Guard) update(ctx context.Context, fn func(st *State) (write bool, err error)) error {
	l, err := lock.AcquireUnder(ctx, g.Root, filepath.Join(g.StateDir, "boot-guard.lock"), lockWait)
	if err != nil {
		return err
	}
	defer l.Release()
	st, err := g.Load()
	if err != nil {
		return err
	}
	write, err := fn(st)
	if err != nil || !write {
		return err
	}
	return writeState(g.Root, g.statePath(), st)
}

// Protects reports the snapshot the guard may need to restore (0: none), so
// snapshot retention keeps it. A damaged state protects nothing it cannot
// read; retention then goes on as if the guard were disarmed.
func (g *Guard) Protects() int {
	st, err := g.Load()
	if err != nil || st.Phase == Disarmed {
		return 0
	}
	return st.Snapshot
}

// Arm records a transaction that changed packages. It arms the guard when
// one of them is boot-critical and the guard is on; armed already, it adds
// the transaction and keeps the snapshot it had (the state before the first
// change since the last good boot). It returns the boot-critical packages
// it armed for (nil: not armed). While the guard restores, its own
// transactions arm nothing; after a failed restore nothing arms until an
// admin disarms.
func (g *Guard) Arm(ctx context.Context, tx Transaction) ([]string, error) {
	crit, _, err := g.ArmOnce(ctx, tx)
	return crit, err
}

// ArmOnce is Arm that also says whether this is news: the guard was not
// armed, or armed for other packages. The hook and clp both report a
// transaction clp ran (with different snapshots: pacman's pre, clp's
// patch-pre), and only the first report is worth printing.
func (g *Guard) ArmOnce(ctx context.Context, tx Transaction) (crit []string, fresh bool, err error) {
	if !g.Config.BootGuard {
		return nil, false, nil
	}
	crit = Critical(g.Config.BootCritical, tx.Packages)
	if len(crit) == 0 {
		return nil, false, nil
	}
	if tx.Snapshot <= 0 {
		return nil, false, fmt.Errorf("boot-critical packages changed (%s) but there is no pre-transaction snapshot to go back to: the boot guard is not armed", strings.Join(crit, ", "))
	}
	tx.Packages = crit
	if tx.Time.IsZero() {
		tx.Time = g.now()
	}
	var armed []string
	err = g.update(ctx, func(st *State) (bool, error) {
		switch st.Phase {
		case Restoring:
			return false, nil // the guard's own restore
		case RestoreFailed:
			return false, errors.New("the boot guard's last restore failed; it arms again once an admin runs 'clp boot disarm'")
		case Armed:
			for _, t := range st.Transactions {
				if t.Snapshot == tx.Snapshot && t.Patch == tx.Patch && slices.Equal(t.Packages, tx.Packages) {
					armed = crit // the same transaction, seen by the hook and by clp
					return false, nil
				}
			}
			covered := map[string]bool{}
			for _, t := range st.Transactions {
				for _, p := range t.Packages {
					covered[p] = true
				}
			}
			for _, p := range crit {
				fresh = fresh || !covered[p]
			}
			st.Transactions = append(st.Transactions, tx)
			if len(st.Transactions) > 50 {
				st.Transactions = append(st.Transactions[:1], st.Transactions[len(st.Transactions)-49:]...)
			}
		default: // disarmed, restored: a new cycle
			last := st.Last
			if st.Phase == Restored {
				last = restoredSummary(st)
			}
			*st = State{Phase: Armed, Snapshot: tx.Snapshot, ArmedAt: tx.Time, Transactions: []Transaction{tx}, Last: last}
			fresh = true
		}
		armed = crit
		return true, nil
	})
	return armed, fresh, err
}

func restoredSummary(st *State) string {
	if st.Restore == nil {
		return ""
	}
	return fmt.Sprintf("restored snapshot %d on %s", st.Restore.Snapshot, st.Restore.Time.Format(time.RFC3339))
}

// Disarm stops guarding: the armed snapshot is forgotten (not deleted) and
// nothing is restored. A damaged state file is moved aside to
// boot-guard.json.damaged (kept, not deleted) and a disarmed state written.
func (g *Guard) Disarm(ctx context.Context, why string) (*State, error) {
	var out State
	err := g.update(ctx, func(st *State) (bool, error) {
		if st.Phase == Disarmed {
			out = *st
			return false, nil
		}
		*st = State{Phase: Disarmed, Last: fmt.Sprintf("%s on %s", why, g.now().Format(time.RFC3339))}
		out = *st
		return true, nil
	})
	if errors.Is(err, ErrDamaged) {
		aside := g.statePath() + ".damaged"
		if rerr := fsx.RenameUnder(g.Root, g.statePath(), aside); rerr != nil {
			return nil, fmt.Errorf("%w; moving it aside failed: %v", err, rerr)
		}
		g.say("the damaged state was moved to %s", aside)
		return g.Disarm(ctx, why)
	}
	return &out, err
}

// MarkGood records this boot as good by the admin's word: the guard is
// disarmed as a good boot disarms it.
func (g *Guard) MarkGood(ctx context.Context) (*State, error) {
	id, _ := g.bootID()
	var out State
	err := g.update(ctx, func(st *State) (bool, error) {
		if st.Phase == Disarmed {
			out = *st
			return false, nil
		}
		st.setVerdict(id, VerdictGood, "marked good by an admin")
		g.goodBoot(st, "marked good by an admin")
		out = *st
		return true, nil
	})
	return &out, err
}

// goodBoot ends the cycle after a good boot.
func (g *Guard) goodBoot(st *State, why string) {
	last := fmt.Sprintf("disarmed: a good boot (%s) on %s", why, g.now().Format(time.RFC3339))
	if st.Phase == Restored {
		last = restoredSummary(st) + "; the boot after it was good"
	}
	*st = State{Phase: Disarmed, Last: last}
}

// Restorer carries out the guard's restore. It is handed in by the caller
// so that the guard never changes packages itself.
type Restorer interface {
	// RollbackPatch rolls back an applied patch; rolledBack is false (and
	// err nil) when the patch is not applied any more.
	RollbackPatch(ctx context.Context, name string) (rolledBack bool, err error)
	// RestoreSnapshot takes the installed packages back to a snapshot.
	RestoreSnapshot(ctx context.Context, id int) error
}

// StartResult is what Start did.
type StartResult struct {
	// Action is "off", "idle", "counted", "restored", "restore-failed".
	Action string
	State  *State
}

// Start runs early in every boot (clp-boot-guard.service, before the
// display manager): it counts this boot, counts an earlier boot that was
// never judged as failed, and restores once the failed boots reach
// FailedBoots or the command line says clp.rollback=1. It never restores
// twice: the Restoring phase is written durably before the restore starts.
func (g *Guard) Start(ctx context.Context, r Restorer) (*StartResult, error) {
	cl := g.Cmdline()
	if cl.GuardOff {
		g.say("off for this boot (clp.guard=off on the kernel command line): not counted, judged or restored")
		return &StartResult{Action: "off"}, nil
	}
	if !g.Config.BootGuard {
		return &StartResult{Action: "off"}, nil
	}
	id, err := g.bootID()
	if err != nil {
		return nil, err
	}
	res := &StartResult{Action: "idle"}
	restore := false
	err = g.update(ctx, func(st *State) (bool, error) {
		res.State = st
		switch st.Phase {
		case Disarmed, RestoreFailed:
			if cl.Rollback {
				g.say("clp.rollback=1 is on the kernel command line, but the guard is %s: there is nothing to restore", st.Phase)
			}
			return false, nil
		case Restoring:
			// A restore began in an earlier boot and never recorded
			// its end: power was lost or it was killed. Never again.
			st.Phase = RestoreFailed
			st.Restore.OK = false
			st.Restore.Error = "the restore was interrupted (power lost or the boot guard killed) before it finished"
			g.say("the restore of snapshot %d started in an earlier boot was interrupted; the packages may be half restored. clp changes nothing more: check with 'pacman -Qk' and 'clp snapshot diff %d', then 'clp boot disarm'", st.Snapshot, st.Snapshot)
			res.Action = "restore-failed"
			return true, nil
		}
		if st.Pending == id {
			return false, nil // counted already (the unit ran twice)
		}
		if st.Pending != "" {
			st.setVerdict(st.Pending, VerdictSilent, "never judged: powered off, reset or hung before the check")
			if st.Phase == Armed {
				st.Failed++
				g.say("boot %s was never judged (powered off or hung before the check): counted as failed (%d of %d)", st.Pending, st.Failed, g.Config.BootFailures)
			}
		}
		st.Pending = id
		st.addBoot(Boot{ID: id, Started: g.now()})
		res.Action = "counted"
		if st.Phase == Armed && (st.Failed >= g.Config.BootFailures || cl.Rollback) {
			restore = true
			st.Phase = Restoring
			st.Restore = &RestoreRecord{Time: g.now(), Boot: id, Snapshot: st.Snapshot, Requested: cl.Rollback}
		}
		return true, nil
	})
	if err != nil || !restore {
		return res, err
	}
	st := res.State
	if cl.Rollback {
		g.say("clp.rollback=1 on the kernel command line: restoring snapshot %d now", st.Snapshot)
	} else {
		g.say("%d failed boot(s) since %s changed %s: restoring snapshot %d before the display manager starts", st.Failed, describeSources(st), strings.Join(changedPackages(st), ", "), st.Snapshot)
	}
	rolled, rerr := g.restore(ctx, r, st)
	err = g.update(ctx, func(cur *State) (bool, error) {
		if cur.Phase != Restoring || cur.Restore == nil {
			return false, fmt.Errorf("the boot guard's state changed during the restore (phase %s)", cur.Phase)
		}
		cur.Restore.Patches = rolled
		if rerr != nil {
			cur.Phase = RestoreFailed
			cur.Restore.Error = rerr.Error()
		} else {
			cur.Phase = Restored
			cur.Restore.OK = true
		}
		res.State = cur
		return true, nil
	})
	if rerr != nil {
		res.Action = "restore-failed"
		g.say("the restore of snapshot %d FAILED: %v\nclp changes nothing more and will not try again; the boot goes on. 'clp boot status' shows what happened; fix it by hand, then run 'clp boot disarm'", st.Snapshot, rerr)
		return res, errors.Join(rerr, err)
	}
	res.Action = "restored"
	g.say("restored snapshot %d; the boot goes on. 'clp boot status' shows what was done", st.Snapshot)
	return res, err
}

// restore rolls back the armed patches that are still applied (newest
// first), then restores the snapshot.
func (g *Guard) restore(ctx context.Context, r Restorer, st *State) ([]string, error) {
	var rolled []string
	patches := st.Patches()
	for i := len(patches) - 1; i >= 0; i-- {
		ok, err := r.RollbackPatch(ctx, patches[i])
		if err != nil {
			return rolled, fmt.Errorf("roll back patch %s: %w", patches[i], err)
		}
		if ok {
			rolled = append(rolled, patches[i])
			g.say("rolled back patch %s", patches[i])
		}
	}
	if err := r.RestoreSnapshot(ctx, st.Snapshot); err != nil {
		return rolled, fmt.Errorf("restore snapshot %d: %w", st.Snapshot, err)
	}
	return rolled, nil
}

func describeSources(st *State) string {
	var out []string
	for _, t := range st.Transactions {
		if !slices.Contains(out, t.Source) {
			out = append(out, t.Source)
		}
	}
	return strings.Join(out, ", ")
}

func changedPackages(st *State) []string {
	var out []string
	for _, t := range st.Transactions {
		for _, p := range t.Packages {
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}
