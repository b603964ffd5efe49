package hooks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/vincentos/clp/boot"
	"github.com/vincentos/clp/internal/config"
	"github.com/vincentos/clp/internal/report"
	"github.com/vincentos/clp/pacman"
	"github.com/vincentos/clp/patch"
	"github.com/vincentos/clp/snapshot"
	"github.com/vincentos/clp/system"
)

// ErrNeedsDB is the guard's answer, in a binary that links no libalpm
// (Run.Open is nil: /usr/lib/clp/clp-hook), when a target is pinned: only
// the package databases can say whether the pin holds. clp-hook then hands
// the same run to `clp hook guard`.
var ErrNeedsDB = errors.New("the guard needs the package databases for a pinned target")

// Run is one run of a hook handler as pacman starts it. `clp hook WHICH`
// (cmd/clp) and /usr/lib/clp/clp-hook WHICH (cmd/clp-hook, which the hook
// files call) both fill one in and call Do: the two spellings share this
// code path, and differ only in Open.
type Run struct {
	Sys   *system.System
	Stdin io.Reader
	// Say prints a line for the user (pacman shows what a hook prints).
	Say      func(msg string)
	Warnf    func(format string, a ...any)
	Reporter report.Reporter
	Debugf   func(format string, a ...any)
	// Open opens the package databases for the guard of a pinned target;
	// nil: the guard returns ErrNeedsDB instead.
	Open func() (VersionDB, error)
}

// Do runs the handler WHICH is (pre, post or guard). A snapshot never
// fails the transaction (its error is a warning); the guard's refusal is
// its error.
func (r *Run) Do(ctx context.Context, which string) error {
	targets, err := ReadTargets(r.Stdin)
	if err != nil && which != "guard" {
		r.Warnf("hook %s: read targets: %v", which, err)
	}
	h := &Handler{
		Root: r.Sys.Root, Pacman: r.Sys.Pacman, StateDir: r.Sys.StateDir, Patch: os.Getenv(EnvPatch),
		Retention: Retention(r.Sys), Reporter: r.Reporter, Debugf: r.Debugf,
		Say: r.Say,
		AfterPost: func(post snapshot.Snapshot, targets []string) {
			tx := boot.Transaction{Source: "pacman", Snapshot: post.PairID, Patch: post.Patch, Packages: targets}
			crit, err := ArmBootGuard(r.Sys, tx)
			if err != nil {
				r.Warnf("boot guard: %v", err)
			}
			if crit != nil {
				r.Say(ArmedMessage(crit))
			}
		},
		Open: r.Open,
	}
	switch which {
	case "pre", "post":
		if os.Getenv(EnvSkip) == "1" {
			return nil
		}
		// A hook is a short process that allocates a few megabytes: a
		// garbage collection would cost more (a few ms, on every pacman
		// transaction) than it frees. The limit still collects should a
		// huge store make the hook grow.
		debug.SetGCPercent(-1)
		debug.SetMemoryLimit(256 << 20)
		// Only a snapshot is described: the guard, which runs on every
		// transaction too, reads nothing it does not need.
		h.Command = ParentCommand()
		if err := h.Snapshot(ctx, which, targets); err != nil {
			// A snapshot is worth less than the user's transaction:
			// never fail it.
			r.Warnf("no %s-transaction snapshot recorded: %v", which, err)
		}
		return nil
	case "guard":
		if err != nil {
			return fmt.Errorf("guard: read targets: %w", err)
		}
		return h.Guard(targets)
	}
	return fmt.Errorf("unknown hook %q: expected pre, post or guard", which)
}

// Retention is clp.conf's SnapshotKeep, sparing the snapshots of the
// patches still applied and the one the boot guard may restore.
func Retention(sys *system.System) snapshot.Retention {
	return snapshot.Retention{
		Keep: func() (int, error) {
			cfg, err := sys.Config()
			if err != nil {
				return 0, err
			}
			return cfg.SnapshotKeep, nil
		},
		Applied: func() ([]string, error) {
			list, err := (&patch.Engine{StateDir: sys.StateDir}).List()
			names := make([]string, len(list))
			for i, a := range list {
				names[i] = a.Name
			}
			return names, err
		},
		Protect: func() int {
			cfg, err := sys.Config()
			if err != nil {
				return 0
			}
			return BootGuard(sys, cfg).Protects()
		},
	}
}

// BootGuard is the boot guard of an installation.
func BootGuard(sys *system.System, cfg *config.Config) *boot.Guard {
	return &boot.Guard{
		Root:        sys.Root,
		StateDir:    sys.StateDir,
		Config:      cfg,
		CmdlinePath: sys.Under("/proc/cmdline"),
		BootIDPath:  sys.Under("/proc/sys/kernel/random/boot_id"),
		LogPath:     sys.PatchLog(),
	}
}

// ArmBootGuard arms the boot guard after a transaction that changed
// packages, and returns the boot-critical packages it armed for when that
// is news (nil: not armed, or armed already for them). The post hook arms
// for every pacman transaction; clp's own
// commands call this too (the hook may be disabled), and a transaction
// seen twice is recorded once. A Snapshot of 0 is looked up: the patch-pre
// snapshot of tx.Patch, else the pre of the newest hook pair that changed
// one of tx.Packages.
func ArmBootGuard(sys *system.System, tx boot.Transaction) ([]string, error) {
	cfg, err := sys.Config()
	if err != nil || !cfg.BootGuard {
		return nil, nil
	}
	if tx.Snapshot == 0 {
		if st, err := snapshot.OpenUnder(sys.Root, SnapshotDir(sys.StateDir)); err == nil {
			tx.Snapshot, tx.Packages = st.PreOf(tx.Patch, tx.Packages, pacman.VerCmp)
		}
	}
	if len(boot.Critical(cfg.BootCritical, tx.Packages)) == 0 {
		return nil, nil
	}
	// The post hook and clp both report a transaction clp ran: say
	// "armed" only when it is news (newly armed, or for other packages).
	crit, fresh, err := BootGuard(sys, cfg).ArmOnce(context.Background(), tx)
	if !fresh {
		crit = nil
	}
	return crit, err
}

// ArmedMessage is the line that says the boot guard armed.
func ArmedMessage(crit []string) string {
	return fmt.Sprintf(":: boot guard armed (%s changed): the next boots are checked; 'clp boot status' shows it", strings.Join(crit, ", "))
}

// ParentCommand is the command line of the pacman that started this hook,
// as snap-pac names its snapshots: arguments joined by spaces, control
// characters replaced, at most 120 characters. "" when the parent is not
// pacman (a hook run by hand) or /proc cannot say (pacman's chroot into a
// root without /proc).
func ParentCommand() string {
	cmd := commandOf(os.Getppid())
	if first, _, _ := strings.Cut(cmd, " "); filepath.Base(first) != "pacman" {
		return ""
	}
	return cmd
}

// commandOf reads the command line of process pid.
func commandOf(pid int) string {
	f, err := os.Open(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return ""
	}
	defer f.Close()
	buf := make([]byte, 4096)
	n, _ := io.ReadFull(f, buf)
	args := strings.Split(strings.TrimRight(string(buf[:n]), "\x00"), "\x00")
	cmd := report.Printable(strings.Join(args, " "))
	if r := []rune(cmd); len(r) > 120 {
		cmd = string(r[:119]) + "…"
	}
	return cmd
}
