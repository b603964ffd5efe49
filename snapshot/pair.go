package snapshot

import (
	"slices"
)

// Pairing rule.
//
// pacman runs the PreTransaction hook, the transaction, then the
// PostTransaction hook, all under its database lock, so the post of a
// transaction always follows its own pre. But when the transaction fails,
// pacman runs no PostTransaction hook at all, and the next post to arrive
// belongs to a later transaction. So:
//
//  1. Pre records a pre snapshot flagged as waiting: it is the "pending
//     pre" from then on. If another pre was pending, that pre never got a
//     post: it is marked Orphan in the same index append.
//  2. Post pairs with the pending pre only if that pre is still the newest
//     pre in the store, is not marked Orphan, and the post's targets are
//     exactly the pre's (pacman passes the same matched targets to both
//     hooks of one transaction). Otherwise the pending pre is marked
//     Orphan and the post stays unpaired (PairID 0). Either way the post is
//     flagged as ending the wait: no pre is pending after it.
//  3. A pending pre that already has a post, is already Orphan, or no
//     longer exists is passed over silently.
//
// A pre is therefore never paired with a later transaction's post.
//
// The pending pre is state the index builds (the flags of its lines, and
// the header after a compaction), not a marker file: setting or clearing it
// is part of the append that records the snapshot, so no crash can leave a
// marker and the snapshots disagreeing, and it costs the hook no sync of
// its own.

// Pending returns the pre snapshot waiting for its post, if any.
func (s *Store) Pending() (id int, ok bool, err error) {
	err = s.locked(func() error {
		id = s.livePending()
		return nil
	})
	return id, id != 0 && err == nil, err
}

// livePending returns the pending pre when it can still be paired or
// orphaned: it exists, is not Orphan and has no post.
func (s *Store) livePending() int {
	if s.pending == 0 {
		return 0
	}
	i, ok := s.find(s.pending)
	if !ok || s.entries[i].snap.Orphan || s.hasPost(s.pending) {
		return 0
	}
	return s.pending
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

func normTargets(t []string) []string {
	t = slices.Clone(t)
	slices.Sort(t)
	return slices.Compact(t)
}

// Pre records the pre-transaction snapshot of pkgs for a transaction on
// targets, linked to patch when clp is applying or rolling one back. See the
// pairing rule above.
func (s *Store) Pre(pkgs []Pkg, targets []string, patch string) (Snapshot, error) {
	return s.PreCommand(pkgs, targets, patch, "")
}

// PreCommand is Pre whose description names command, the pacman command
// line that runs the transaction ("" when unknown: the targets then).
func (s *Store) PreCommand(pkgs []Pkg, targets []string, patch, command string) (Snapshot, error) {
	snap := Snapshot{Kind: KindPre, Targets: normTargets(targets), Patch: patch, Packages: pkgs}
	snap.Description = DescribeCommand(KindPre, snap.Targets, patch, command)
	pkgs, err := validate(&snap)
	if err != nil {
		return Snapshot{}, err
	}
	err = s.locked(func() error {
		_, err := s.createWith(&snap, pkgs, string(flagWaiting), s.livePending())
		return err
	})
	if err != nil {
		return Snapshot{}, err
	}
	return snap.meta(), nil
}

// Post records the post-transaction snapshot and pairs it with the pending
// pre when the pairing rule allows; the post inherits the pre's patch link.
func (s *Store) Post(pkgs []Pkg, targets []string) (Snapshot, error) {
	return s.PostCommand(pkgs, targets, "")
}

// PostCommand is Post whose description names command (see PreCommand).
func (s *Store) PostCommand(pkgs []Pkg, targets []string, command string) (Snapshot, error) {
	snap := Snapshot{Kind: KindPost, Targets: normTargets(targets), Packages: pkgs}
	pkgs, err := validate(&snap)
	if err != nil {
		return Snapshot{}, err
	}
	err = s.locked(func() error {
		flags, orphan := "", 0
		if s.pending != 0 {
			flags = string(flagCloses)
		}
		if p := s.livePending(); p != 0 {
			if i, ok := s.pairable(p, snap.Targets); ok {
				snap.PairID = p
				snap.Patch = s.entries[i].snap.Patch
			} else {
				orphan = p
			}
		}
		snap.Description = DescribeCommand(KindPost, snap.Targets, snap.Patch, command)
		_, err := s.createWith(&snap, pkgs, flags, orphan)
		return err
	})
	if err != nil {
		return Snapshot{}, err
	}
	return snap.meta(), nil
}

// pairable reports whether the live pending pre p is the transaction that
// is ending, and returns its index in entries.
func (s *Store) pairable(p int, targets []string) (int, bool) {
	i, ok := s.find(p)
	if !ok || s.entries[i].snap.Kind != KindPre {
		return 0, false
	}
	for _, e := range s.entries[i+1:] {
		if e.snap.Kind == KindPre {
			return 0, false // a newer pre exists: p's transaction is not the one ending
		}
	}
	return i, s.entries[i].tgt == targetsHash(targets)
}

// PreOf finds the snapshot taken before a recent transaction, and the
// packages it changed, among the newest 50 snapshots: for a patch, the
// patch-pre of its newest patch-post (the packages the pair differs in,
// unless packages names them); else the pre of the newest pacman hook pair
// whose targets include one of packages. 0 when there is none.
func (s *Store) PreOf(patch string, packages []string, verCmp func(a, b string) int) (int, []string) {
	list := s.List()
	for i := len(list) - 1; i >= 0 && i >= len(list)-50; i-- {
		m := list[i]
		switch {
		case patch != "" && m.Kind == KindPatchPost && m.Patch == patch && m.PairID != 0:
			if packages != nil {
				return m.PairID, packages
			}
			pre, err1 := s.Get(m.PairID)
			post, err2 := s.Get(m.ID)
			if err1 != nil || err2 != nil {
				return 0, nil
			}
			var names []string
			for _, c := range Diff(pre.Packages, post.Packages, verCmp) {
				names = append(names, c.Name)
			}
			return m.PairID, names
		case patch == "" && m.Kind == KindPost && m.PairID != 0:
			post, err := s.Get(m.ID)
			if err != nil {
				continue
			}
			for _, p := range packages {
				if slices.Contains(post.Targets, p) {
					return m.PairID, packages
				}
			}
		}
	}
	return 0, packages
}
