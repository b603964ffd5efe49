package snapshot

import (
	"os"
	"testing"
)

func TestPrePostPair(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir)
	rng := newRNG()
	before := genPkgs(rng, 100)
	after := evolve(rng, before, 3)
	pre, err := s.Pre(before, []string{"nvidia-utils", "nvidia-dkms"}, "nvidia-fix")
	if err != nil {
		t.Fatal(err)
	}
	if id, ok, _ := s.Pending(); !ok || id != pre.ID {
		t.Fatalf("pending = %d %v", id, ok)
	}
	post, err := mustOpen(t, dir).Post(after, []string{"nvidia-dkms", "nvidia-utils"})
	if err != nil {
		t.Fatal(err)
	}
	if post.PairID != pre.ID || post.Patch != "nvidia-fix" || post.Kind != KindPost {
		t.Fatalf("post = %+v", post)
	}
	if post.Description != "post (patch nvidia-fix): nvidia-dkms nvidia-utils" {
		t.Fatalf("description %q", post.Description)
	}
	if _, ok, _ := s.Pending(); ok {
		t.Fatal("marker left behind")
	}
	s = mustOpen(t, dir)
	checkGet(t, s, pre.ID, before)
	checkGet(t, s, post.ID, after)
	got, _ := s.Get(pre.ID)
	if got.Orphan || got.Targets[0] != "nvidia-dkms" {
		t.Fatalf("pre = %+v", got.meta())
	}
}

// A failed transaction runs no post hook: the next pre marks the old one.
func TestOrphanOnNextPre(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir)
	p := genPkgs(newRNG(), 30)
	first, _ := s.Pre(p, []string{"a"}, "")
	second, err := s.Pre(p, []string{"a"}, "")
	if err != nil {
		t.Fatal(err)
	}
	post, _ := s.Post(p, []string{"a"})
	if post.PairID != second.ID {
		t.Fatalf("post paired with %d, want %d", post.PairID, second.ID)
	}
	l := mustOpen(t, dir).List()
	if !l[0].Orphan || l[0].ID != first.ID || l[1].Orphan {
		t.Fatalf("orphan flags: %+v", l)
	}
}

// A post whose targets differ belongs to another transaction.
func TestOrphanOnMismatchedPost(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir)
	p := genPkgs(newRNG(), 30)
	pre, _ := s.Pre(p, []string{"a", "b"}, "x")
	post, err := s.Post(p, []string{"c"})
	if err != nil {
		t.Fatal(err)
	}
	if post.PairID != 0 || post.Patch != "" {
		t.Fatalf("mismatched post paired: %+v", post)
	}
	l := mustOpen(t, dir).List()
	if !l[0].Orphan || l[0].ID != pre.ID {
		t.Fatalf("pre not marked orphan: %+v", l[0])
	}
	if _, ok, _ := s.Pending(); ok {
		t.Fatal("marker left behind")
	}
	// A post with nothing pending stays unpaired and marks nothing.
	post2, err := s.Post(p, []string{"c"})
	if err != nil || post2.PairID != 0 {
		t.Fatalf("lone post: %+v %v", post2, err)
	}
}

// A newer pre recorded outside Pre (by another writer) means the marker's
// pre is not the transaction that is ending.
func TestNoPairAcrossNewerPre(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir)
	p := genPkgs(newRNG(), 30)
	pre, _ := s.Pre(p, []string{"a"}, "")
	mustCreate(t, s, Snapshot{Kind: KindPre, Targets: []string{"a"}, Packages: p})
	post, _ := s.Post(p, []string{"a"})
	if post.PairID != 0 {
		t.Fatalf("paired across a newer pre: %+v", post)
	}
	if l := s.List(); !l[0].Orphan || l[0].ID != pre.ID {
		t.Fatalf("list %+v", l)
	}
}

// A crash after the post was recorded but before the marker was removed
// must not mark the already-paired pre orphan.
func TestStaleMarkerOfPairedPre(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir)
	p := genPkgs(newRNG(), 30)
	pre, _ := s.Pre(p, []string{"a"}, "")
	marker, _ := os.ReadFile(s.pendingPath())
	s.Post(p, []string{"a"})
	os.WriteFile(s.pendingPath(), marker, 0o644)
	if _, err := s.Pre(p, []string{"b"}, ""); err != nil {
		t.Fatal(err)
	}
	if l := s.List(); l[0].ID != pre.ID || l[0].Orphan {
		t.Fatalf("paired pre marked orphan: %+v", l[0])
	}
	// A marker naming a deleted pre is dropped too.
	if err := s.Delete(3); err != nil {
		t.Fatal(err)
	}
	post, err := s.Post(p, []string{"b"})
	if err != nil || post.PairID != 0 {
		t.Fatalf("post after deleted pre: %+v %v", post, err)
	}
	// A damaged marker does not stop the hook from recording.
	os.WriteFile(s.pendingPath(), []byte("{garbage"), 0o644)
	if _, err := s.Post(p, []string{"b"}); err != nil {
		t.Fatal(err)
	}
}

func TestPreRefusesBadPackages(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir)
	p := genPkgs(newRNG(), 5)
	s.Pre(p, []string{"a"}, "")
	before := dirState(t, dir)
	bad := append(p, Pkg{Name: "x", Version: "", Arch: "any", Reason: ReasonExplicit})
	_, err := s.Pre(bad, []string{"x"}, "")
	// Validation comes before the old pre is marked orphan: nothing changes.
	if err == nil || err.Error() != `snapshot not recorded: package "x": empty version` {
		t.Fatalf("err = %v", err)
	}
	sameDir(t, before, dir)
}
