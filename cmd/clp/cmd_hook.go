package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/vincentos/clp/alpm"
	"github.com/vincentos/clp/hooks"
	"github.com/vincentos/clp/internal/config"
	"github.com/vincentos/clp/patch"
	"github.com/vincentos/clp/snapshot"
)

// Environment variables the hook handlers read. pacman runs a hook with
// execv in its chroot, so the hook inherits pacman's environment: whatever
// clp puts in its pacman runner's Env reaches the hook (the real-pacman
// tests check that).
const (
	// envPatch names the patch clp is applying or rolling back; the
	// pre/post snapshots of that pacman call are linked to it. clp's patch
	// engine sets it in alpm.Runner.Env (CLP_PATCH=<name>).
	envPatch = "CLP_PATCH"
	// envSkip=1 records no snapshot (the guard still runs).
	envSkip = "CLP_SKIP_SNAPSHOT"
)

func init() {
	register(&command{
		Name:    "hook",
		Summary: "pacman hook handlers (run by pacman, not by hand)",
		Usage: `Usage:
  clp hook pre|post|guard

Run by pacman from clp's hook files, inside pacman's chroot, while pacman
holds its database lock. The targets of the transaction come on stdin, one
per line. They never run pacman and never prompt.

  pre     record the package state before the transaction (and a snapper
          pre snapshot where the root is btrfs with a snapper config)
  post    record the package state after it, paired with its pre
  guard   refuse (exit 1, pacman aborts) a transaction that would take a
          pinned package past its pin

pre and post never fail a transaction: on any error they print a warning
and exit 0. CLP_SKIP_SNAPSHOT=1 skips them. CLP_PATCH=NAME, set by clp
when it runs pacman for a patch, links both snapshots to that patch.

Examples:
  printf 'linux\n' | clp --root /mnt hook pre`,
		Hidden: true,
		Args:   exactArgs(1, "pre, post or guard"),
		Run:    runHook,
	})
}

func runHook(ctx context.Context, env *Env, args []string) error {
	targets, err := readTargets(env.Stdin)
	if err != nil && args[0] != "guard" {
		env.Warnf("hook %s: read targets: %v", args[0], err)
	}
	switch args[0] {
	case "pre", "post":
		if os.Getenv(envSkip) == "1" {
			return nil
		}
		// A hook is a short process that allocates a few megabytes: a
		// garbage collection would cost more (a few ms, on every pacman
		// transaction) than it frees. The limit still collects should a
		// huge store make the hook grow.
		debug.SetGCPercent(-1)
		debug.SetMemoryLimit(256 << 20)
		if err := hookSnapshot(ctx, env, args[0], targets); err != nil {
			// A snapshot is worth less than the user's transaction:
			// never fail it.
			env.Warnf("no %s-transaction snapshot recorded: %v", args[0], err)
		}
		return nil
	case "guard":
		if err != nil {
			return fmt.Errorf("guard: read targets: %w", err)
		}
		return hookGuard(env, targets)
	}
	return usageErrorf("unknown hook %q: expected pre, post or guard", args[0])
}

// readTargets reads pacman's NeedsTargets list: one name a line.
func readTargets(r io.Reader) ([]string, error) {
	if r == nil {
		return nil, nil
	}
	var out []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		if t := strings.TrimSpace(sc.Text()); t != "" {
			out = append(out, t)
		}
	}
	return out, sc.Err()
}

func snapshotDir(env *Env) string { return filepath.Join(env.State(), "snapshots") }

// hookSnapshot records the pre or post snapshot, the snapper one beside it,
// and applies retention.
func hookSnapshot(ctx context.Context, env *Env, which string, targets []string) error {
	// The database first: a root clp cannot read gets no snapshot directory.
	dbpath, err := hookDBPath(env)
	if err != nil {
		return err
	}
	start := time.Now()
	st, err := snapshot.Open(snapshotDir(env))
	if err != nil {
		return err
	}
	env.Debugf("hook %s: opened the snapshot store in %s", which, time.Since(start))
	start = time.Now()
	pkgs, err := installedFast(env, st, dbpath)
	if err != nil {
		return err
	}
	env.Debugf("hook %s: read %d installed packages in %s", which, len(pkgs), time.Since(start))
	start = time.Now()
	var snap snapshot.Snapshot
	if which == "pre" {
		snap, err = st.Pre(pkgs, targets, os.Getenv(envPatch))
	} else {
		snap, err = st.Post(pkgs, targets)
	}
	if err != nil {
		return err
	}
	env.Debugf("hook %s: recorded snapshot %d in %s", which, snap.ID, time.Since(start))
	if which == "post" {
		armFromHook(env, snap, targets)
	}
	start = time.Now()
	if err := hookSnapper(ctx, env, st, snap); err != nil {
		env.Warnf("no snapper %s snapshot: %v", which, err)
	}
	if _, err := pruneSnapshots(env, st); err != nil {
		env.Warnf("snapshot retention: %v", err)
	}
	env.Debugf("hook %s: snapper and retention in %s", which, time.Since(start))
	return nil
}

// hookSnapper makes the snapper snapshot that goes with snap, when the root
// is btrfs with a snapper config. A post gets a snapper post only when its
// pre got a snapper pre (snapper needs the pair's number).
func hookSnapper(ctx context.Context, env *Env, st *snapshot.Store, snap snapshot.Snapshot) error {
	sn, err := snapshot.DetectSnapper(ctx, env.Root)
	if errors.Is(err, snapshot.ErrNoSnapper) {
		return nil
	}
	if err != nil {
		return err
	}
	var n int
	switch {
	case snap.Kind == snapshot.KindPost && snap.PairID != 0:
		pre, err := st.Get(snap.PairID)
		if err != nil {
			return err
		}
		if pre.Snapper == nil || pre.Snapper.Config != sn.Config {
			return nil
		}
		n, err = sn.CreatePost(ctx, pre.Snapper.Number, snap.Description, snap.ID)
		if err != nil {
			return err
		}
	case snap.Kind == snapshot.KindPost:
		return nil
	default:
		n, err = sn.CreatePre(ctx, snap.Description, snap.ID)
		if err != nil {
			return err
		}
	}
	return st.SetSnapper(snap.ID, snapshot.SnapperRef{Config: sn.Config, Number: n})
}

// pruneSnapshots keeps clp.conf's SnapshotKeep newest snapshots, and every
// snapshot linked to a patch that is still applied.
func pruneSnapshots(env *Env, st *snapshot.Store) ([]int, error) {
	cfg, err := config.Load(env.Under(config.DefaultPath))
	if err != nil {
		return nil, err
	}
	if len(st.List()) <= cfg.SnapshotKeep {
		return nil, nil // the common case: nothing to read
	}
	applied := map[string]bool{}
	list, err := (&patch.Engine{StateDir: env.State()}).List()
	protectAll := err != nil // cannot tell which are applied: keep every linked one
	for _, a := range list {
		applied[a.Name] = true
	}
	guard := guardProtects(env, cfg)
	return st.Prune(cfg.SnapshotKeep, func(s snapshot.Snapshot) bool {
		return s.Patch != "" && (protectAll || applied[s.Patch]) || s.ID == guard
	})
}

// installedFast reads the installed packages for a hook. pacman is
// running, so this must be quick: libalpm would read every package's desc
// file, while snapshot.ReadLocalDB reads only the desc files that changed
// since the newest snapshot.
func installedFast(env *Env, st *snapshot.Store, dbpath string) ([]snapshot.Pkg, error) {
	start := time.Now()
	prev, meta, _ := st.Tail()
	env.Debugf("hook: decoded the newest snapshot (%d packages) in %s", len(prev), time.Since(start))
	return snapshot.ReadLocalDB(dbpath, prev, meta.Time)
}

// hookDBPath finds pacman's database directory and checks it holds a local
// database.
func hookDBPath(env *Env) (string, error) {
	// alpm.Resolve reads pacman.conf itself (no pacman-conf process), so
	// it is cheap enough for a hook that runs on every transaction.
	p, err := alpm.Resolve(env.AlpmOptions())
	if err != nil {
		return "", err
	}
	if fi, err := os.Stat(filepath.Join(p.DBPath, "local")); err != nil || !fi.IsDir() {
		return "", fmt.Errorf("%w in %s", alpm.ErrNoLocalDB, p.DBPath)
	}
	return p.DBPath, nil
}

// hookGuard refuses a transaction that takes a pinned package past its pin.
// With no pins (or no pinned target) it reads one small file and opens
// nothing else.
func hookGuard(env *Env, targets []string) error {
	pins, err := hooks.LoadPins(env.State())
	if err != nil {
		return withHint(fmt.Errorf("guard: %w", err), "fix or restore "+filepath.Join(env.State(), hooks.PinsFile)+" ('clp pins' shows what clp reads); the guard refuses every transaction while it cannot read the pins")
	}
	pinned := false
	for _, p := range pins {
		for _, t := range targets {
			pinned = pinned || p.Name == t
		}
	}
	if !pinned {
		return nil
	}
	h, err := alpm.Open(env.AlpmOptions())
	if err != nil {
		return fmt.Errorf("guard: %w", err)
	}
	defer h.Close()
	refusals, err := hooks.Guard(targets, pins, hooks.LoadAllow(env.State(), time.Now()), func(name string) (hooks.Versions, error) {
		var v hooks.Versions
		p, ok, err := h.Installed1(name)
		if err != nil {
			return v, err
		}
		if ok {
			v.Installed = p.Version
		}
		s, ok, err := h.Sync(name)
		if err != nil {
			return v, err
		}
		if ok {
			v.Sync = s.Version
		}
		return v, nil
	}, alpm.VerCmp)
	if err != nil {
		return err
	}
	if len(refusals) == 0 {
		return nil
	}
	msgs := make([]string, len(refusals))
	for i, r := range refusals {
		msgs[i] = r.Message()
	}
	return withHint(errors.New(strings.Join(msgs, "\n")), "'clp pins' lists the pins; clp downgrades and restores pinned packages itself")
}
