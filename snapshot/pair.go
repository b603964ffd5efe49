package snapshot

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/vincentos/clp/internal/fsx"
)

// Pairing rule.
//
// pacman runs the PreTransaction hook, the transaction, then the
// PostTransaction hook, all under its database lock, so the post of a
// transaction always follows its own pre. But when the transaction fails,
// pacman runs no PostTransaction hook at all, and the next post to arrive
// belongs to a later transaction. So:
//
//  1. Pre records a pre snapshot and writes the "pending pre" marker (its ID
//     and sorted targets). If a marker was already there, its pre never got
//     a post: that pre is marked Orphan before the new one is recorded.
//  2. Post pairs with the marker's pre only if that pre is still the newest
//     pre in the store and the post's targets are exactly the pre's (pacman
//     passes the same matched targets to both hooks of one transaction).
//     Otherwise the marker's pre is marked Orphan and the post stays unpaired
//     (PairID 0). Either way the marker is removed.
//  3. A marker whose pre already has a post (a crash between recording the
//     post and removing the marker) or no longer exists is dropped silently.
//
// A pre is therefore never paired with a later transaction's post.

type pending struct {
	ID      int       `json:"id"`
	Targets []string  `json:"targets"`
	Time    time.Time `json:"time"`
}

func (s *Store) pendingPath() string { return filepath.Join(s.dir, pendingName) }

func (s *Store) readPending() (*pending, error) {
	data, err := os.ReadFile(s.pendingPath())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read pending pre marker: %w", err)
	}
	var p pending
	if err := json.Unmarshal(data, &p); err != nil || p.ID <= 0 {
		// A damaged marker cannot pair anything; treat it as absent so the
		// hook still records its snapshot.
		return nil, nil
	}
	return &p, nil
}

func (s *Store) dropPending() error {
	if err := os.Remove(s.pendingPath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove pending pre marker: %w", err)
	}
	return fsx.SyncDir(s.dir)
}

// Pending returns the pre snapshot waiting for its post, if any.
func (s *Store) Pending() (id int, ok bool, err error) {
	p, err := s.readPending()
	if err != nil || p == nil {
		return 0, false, err
	}
	return p.ID, true, nil
}

// hasPost reports whether some post is paired with pre.
func (s *Store) hasPost(pre int) bool {
	for i := len(s.entries) - 1; i >= 0 && s.entries[i].snap.ID > pre; i-- {
		if s.entries[i].snap.PairID == pre {
			return true
		}
	}
	return false
}

// orphanStale marks the marker's pre Orphan unless it was paired or is gone.
func (s *Store) orphanStale(p *pending) (int, error) {
	if _, ok := s.find(p.ID); !ok || s.hasPost(p.ID) {
		return 0, nil
	}
	t := true
	if err := s.set(p.ID, indexLine{Op: "set", ID: p.ID, Orphan: &t}); err != nil {
		return 0, err
	}
	return p.ID, nil
}

func normTargets(t []string) []string {
	t = slices.Clone(t)
	slices.Sort(t)
	return slices.Compact(t)
}

// Pre records the pre-transaction snapshot of pkgs for a transaction on
// targets, linked to patch when clp is applying or rolling one back. See the
// pairing rule above.
func (s *Store) Pre(pkgs []Pkg, targets []string, patch string) (Snapshot, error) {
	snap := Snapshot{Kind: KindPre, Targets: normTargets(targets), Patch: patch, Packages: pkgs}
	snap.Description = Describe(KindPre, snap.Targets, patch)
	if _, err := validate(&snap); err != nil {
		return Snapshot{}, err
	}
	err := s.locked(func() error {
		p, err := s.readPending()
		if err != nil {
			return err
		}
		if p != nil {
			if _, err := s.orphanStale(p); err != nil {
				return err
			}
		}
		if _, err := s.create(&snap); err != nil {
			return err
		}
		data, _ := json.Marshal(pending{ID: snap.ID, Targets: snap.Targets, Time: snap.Time})
		return fsx.WriteFile(s.pendingPath(), data, 0o644)
	})
	if err != nil {
		return Snapshot{}, err
	}
	return snap.meta(), nil
}

// Post records the post-transaction snapshot and pairs it with the pending
// pre when the pairing rule allows; the post inherits the pre's patch link.
func (s *Store) Post(pkgs []Pkg, targets []string) (Snapshot, error) {
	snap := Snapshot{Kind: KindPost, Targets: normTargets(targets), Packages: pkgs}
	if _, err := validate(&snap); err != nil {
		return Snapshot{}, err
	}
	err := s.locked(func() error {
		p, err := s.readPending()
		if err != nil {
			return err
		}
		if p != nil {
			if s.pairable(p, snap.Targets) {
				snap.PairID = p.ID
				i, _ := s.find(p.ID)
				snap.Patch = s.entries[i].snap.Patch
			} else if _, err := s.orphanStale(p); err != nil {
				return err
			}
		}
		snap.Description = Describe(KindPost, snap.Targets, snap.Patch)
		if _, err := s.create(&snap); err != nil {
			return err
		}
		if p != nil {
			return s.dropPending()
		}
		return nil
	})
	if err != nil {
		return Snapshot{}, err
	}
	return snap.meta(), nil
}

func (s *Store) pairable(p *pending, targets []string) bool {
	i, ok := s.find(p.ID)
	if !ok || s.entries[i].snap.Kind != KindPre || s.hasPost(p.ID) {
		return false
	}
	for _, e := range s.entries[i+1:] {
		if e.snap.Kind == KindPre {
			return false // a newer pre exists: p's transaction is not the one ending
		}
	}
	return slices.Equal(normTargets(p.Targets), targets)
}
