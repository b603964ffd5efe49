package hooks

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/vincentos/clp/internal/fail"
	"github.com/vincentos/clp/internal/report"
	"github.com/vincentos/clp/pacman"
	"github.com/vincentos/clp/snapshot"
)

// Environment variables the hook handlers read. pacman runs a hook with
// execv in its chroot, so the hook inherits pacman's environment: whatever
// clp puts in its pacman runner's Env reaches the hook (the real-pacman
// tests check that).
const (
	// EnvPatch names the patch clp is applying or rolling back; the
	// pre/post snapshots of that pacman call are linked to it. clp's patch
	// engine sets it in pacman.Runner.Env (CLP_PATCH=<name>).
	EnvPatch = "CLP_PATCH"
	// EnvSkip=1 records no snapshot (the guard still runs).
	EnvSkip = "CLP_SKIP_SNAPSHOT"
)

// VersionQuery is what the guard asks of the package databases: the
// installed package and the newest one a sync database offers
// (*alpm.Handle answers it).
type VersionQuery interface {
	Installed1(name string) (pacman.Package, bool, error)
	Sync(name string) (pacman.Package, bool, error)
}

// VersionDB is a VersionQuery opened for one hook run.
type VersionDB interface {
	VersionQuery
	Close() error
}

// Handler runs `clp hook pre|post|guard` on one installation, inside
// pacman's chroot while pacman holds its database lock.
type Handler struct {
	// Root is the installation (for snapper's btrfs detection).
	Root     string
	Pacman   pacman.Options
	StateDir string
	// Patch is the patch whose pacman call this is (CLP_PATCH), "" for
	// none.
	Patch     string
	Retention snapshot.Retention
	// Open opens the package databases; the guard asks only when a
	// target is pinned.
	Open     func() (VersionDB, error)
	Reporter report.Reporter
	// AfterPost, when set, is told of each post-transaction snapshot and
	// its targets before retention runs (the boot guard arms on it).
	AfterPost func(post snapshot.Snapshot, targets []string)
	// Debugf traces timings (nil: none).
	Debugf func(format string, a ...any)
	// Command is the pacman command line running the transaction, named
	// in the snapshot's description ("" when unknown: its targets then).
	Command string
	// Say, when set, is told the id of each snapshot recorded (pacman
	// shows what a hook prints).
	Say func(msg string)
}

func (h *Handler) debugf(format string, a ...any) {
	if h.Debugf != nil {
		h.Debugf(format, a...)
	}
}

// SnapshotDir is where the snapshots of a state directory live.
func SnapshotDir(stateDir string) string { return filepath.Join(stateDir, "snapshots") }

// ReadTargets reads pacman's NeedsTargets list: one name a line.
func ReadTargets(r io.Reader) ([]string, error) {
	if r == nil {
		return nil, nil
	}
	var out []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4<<10), 1<<20) // grows to the longest line
	for sc.Scan() {
		if t := strings.TrimSpace(sc.Text()); t != "" {
			out = append(out, t)
		}
	}
	return out, sc.Err()
}

// Snapshot records the pre or post snapshot, the snapper one beside it,
// and applies retention. Snapper and retention failures are warnings: the
// snapshot is recorded.
func (h *Handler) Snapshot(ctx context.Context, which string, targets []string) error {
	// The database first: a root clp cannot read gets no snapshot directory.
	dbpath, err := pacman.LocalDBPath(h.Pacman)
	if err != nil {
		return err
	}
	start := time.Now()
	// The database is listed, and its desc files' times taken, while
	// the store is opened: the two overlap on a second core.
	list, err := snapshot.ListLocalDB(h.Root, dbpath)
	if err != nil {
		return err
	}
	defer list.Close()
	st, err := snapshot.OpenUnder(h.Root, SnapshotDir(h.StateDir))
	if err != nil {
		return err
	}
	h.debugf("hook %s: opened the snapshot store in %s", which, time.Since(start))
	start = time.Now()
	pkgs, err := st.ReadInstalledFrom(list)
	if err != nil {
		return err
	}
	h.debugf("hook %s: read %d installed packages in %s", which, len(pkgs), time.Since(start))
	start = time.Now()
	var snap snapshot.Snapshot
	if which == "pre" {
		snap, err = st.PreCommand(pkgs, targets, h.Patch, h.Command)
	} else {
		snap, err = st.PostCommand(pkgs, targets, h.Command)
	}
	if err != nil {
		return err
	}
	if h.Say != nil {
		if snap.PairID != 0 {
			h.Say(fmt.Sprintf("==> clp: snapshot %d (after %d)", snap.ID, snap.PairID))
		} else {
			h.Say(fmt.Sprintf("==> clp: snapshot %d", snap.ID))
		}
	}
	h.debugf("hook %s: recorded snapshot %d in %s", which, snap.ID, time.Since(start))
	if snap.Kind == snapshot.KindPost {
		h.dropRemovedPins(pkgs, targets)
	}
	if snap.Kind == snapshot.KindPost && h.AfterPost != nil {
		h.AfterPost(snap, targets)
	}
	start = time.Now()
	rep := report.Or(h.Reporter)
	if err := h.snapper(ctx, st, snap); err != nil {
		rep.Warn(fmt.Sprintf("no snapper %s snapshot: %v", which, err))
	}
	if _, err := st.Retain(h.Retention); err != nil {
		rep.Warn(fmt.Sprintf("snapshot retention: %v", err))
	}
	h.debugf("hook %s: snapper and retention in %s", which, time.Since(start))
	return nil
}

// snapper makes the snapper snapshot that goes with snap, when the root
// is btrfs with a snapper config. A post gets a snapper post only when its
// pre got a snapper pre (snapper needs the pair's number).
func (h *Handler) snapper(ctx context.Context, st *snapshot.Store, snap snapshot.Snapshot) error {
	sn, err := snapshot.DetectSnapper(ctx, h.Root)
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

// Guard refuses a transaction that takes a pinned package past its pin.
// With no pins (or no pinned target) it reads one small file and opens
// nothing else.
func (h *Handler) Guard(targets []string) error {
	pins, err := LoadPins(h.Root, h.StateDir)
	if err != nil {
		return fail.Hint(fmt.Errorf("guard: %w", err), "fix or restore "+filepath.Join(h.StateDir, PinsFile)+" ('clp pins' shows what clp reads); the guard refuses every transaction while it cannot read the pins")
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
	if h.Open == nil {
		return ErrNeedsDB
	}
	db, err := h.Open()
	if err != nil {
		return fmt.Errorf("guard: %w", err)
	}
	defer db.Close()
	refusals, err := Guard(targets, pins, LoadAllow(h.Root, h.StateDir, time.Now()), func(name string) (Versions, error) {
		var v Versions
		p, ok, err := db.Installed1(name)
		if err != nil {
			return v, err
		}
		if ok {
			v.Installed = p.Version
		}
		s, ok, err := db.Sync(name)
		if err != nil {
			return v, err
		}
		if ok {
			v.Sync = s.Version
		}
		return v, nil
	}, pacman.VerCmp)
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
	return fail.Hint(errors.New(strings.Join(msgs, "\n")), "'clp pins' lists the pins; clp downgrades and restores pinned packages itself")
}

// dropRemovedPins forgets the pins of packages this transaction removed
// (pacman -R of a pinned package): a pin on a package that is not
// installed would hold nothing and only surprise whoever installs it
// again. Failures are warnings: the hook never fails the transaction.
func (h *Handler) dropRemovedPins(installed []snapshot.Pkg, targets []string) {
	pins, err := LoadPins(h.Root, h.StateDir)
	if err != nil || len(pins) == 0 {
		return
	}
	have := make(map[string]bool, len(installed))
	for _, p := range installed {
		have[p.Name] = true
	}
	gone := map[string]bool{}
	for _, p := range pins {
		if !have[p.Name] && slices.Contains(targets, p.Name) {
			gone[p.Name] = true
		}
	}
	if len(gone) == 0 {
		return
	}
	rep := report.Or(h.Reporter)
	paths, err := pacman.Resolve(h.Pacman)
	if err == nil {
		_, err = UpdatePins(paths, h.StateDir, func(pins []Pin) ([]Pin, error) {
			var keep []Pin
			for _, p := range pins {
				if !gone[p.Name] {
					keep = append(keep, p)
				}
			}
			return keep, nil
		})
	}
	names := slices.Sorted(maps.Keys(gone))
	if err != nil {
		rep.Warn(fmt.Sprintf("%s removed but its pin could not be dropped: %v ('clp unpin %s' drops it)", strings.Join(names, ", "), err, strings.Join(names, " ")))
		return
	}
	rep.Warn(fmt.Sprintf("pin of %s dropped: pacman removed it", strings.Join(names, ", ")))
}
