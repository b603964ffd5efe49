package snapshot

import (
	"bytes"
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

// The pending pre is index state: it survives a reopen and a compaction,
// and a deleted pending pre is passed over.
func TestPendingSurvivesReopenAndCompaction(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir)
	p := genPkgs(newRNG(), 30)
	pre, _ := s.Pre(p, []string{"a"}, "")
	if id, ok, err := mustOpen(t, dir).Pending(); !ok || id != pre.ID || err != nil {
		t.Fatalf("pending after reopen = %d %v %v", id, ok, err)
	}
	if err := s.locked(s.rewriteIndex); err != nil {
		t.Fatal(err)
	}
	post, err := mustOpen(t, dir).Post(p, []string{"a"})
	if err != nil || post.PairID != pre.ID {
		t.Fatalf("post after compaction = %+v %v", post, err)
	}
	// A pending pre that was deleted pairs with nothing and stops nothing.
	pre2, _ := s.Pre(p, []string{"b"}, "")
	if err := s.Delete(pre2.ID); err != nil {
		t.Fatal(err)
	}
	post2, err := s.Post(p, []string{"b"})
	if err != nil || post2.PairID != 0 {
		t.Fatalf("post after deleted pre: %+v %v", post2, err)
	}
	if l := s.List(); l[0].Orphan || l[0].ID != pre.ID {
		t.Fatalf("paired pre marked orphan: %+v", l[0])
	}
}

// tearLastLine cuts the index's last line in half, as a crash during its
// append would.
func tearLastLine(t *testing.T, s *Store) {
	t.Helper()
	data, err := os.ReadFile(s.indexPath())
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.LastIndexByte(data[:len(data)-1], '\n')
	if err := os.WriteFile(s.indexPath(), data[:i+1+(len(data)-i-1)/2], 0o644); err != nil {
		t.Fatal(err)
	}
}

// A crash that tears the post's index line loses the post: its pre is then
// a pre without a post, which the next pre marks orphan.
func TestTornPostLine(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir)
	p := genPkgs(newRNG(), 30)
	pre, _ := s.Pre(p, []string{"a"}, "")
	s.Post(p, []string{"a"})
	tearLastLine(t, s)
	s, err := Open(dir)
	if err != nil || len(s.Problems()) != 1 {
		t.Fatalf("open: %v %v", err, s.Problems())
	}
	if id, ok, _ := s.Pending(); !ok || id != pre.ID {
		t.Fatalf("pending = %d %v, want %d", id, ok, pre.ID)
	}
	pre2, err := s.Pre(p, []string{"b"}, "")
	if err != nil {
		t.Fatal(err)
	}
	post2, _ := s.Post(p, []string{"b"})
	l := mustOpen(t, dir).List()
	if len(l) != 3 || !l[0].Orphan || l[1].ID != pre2.ID || l[1].Orphan || post2.PairID != pre2.ID {
		t.Fatalf("after torn post: %+v", l)
	}
	if errs := s.Check(); len(errs) > 0 {
		t.Fatal(errs)
	}
}

// A mismatched post writes the orphan mark and its own line in one append;
// a crash that keeps only the mark leaves no pending pre, so a later post
// never pairs with the orphan.
func TestTornMismatchedPost(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir)
	p := genPkgs(newRNG(), 30)
	pre, _ := s.Pre(p, []string{"a"}, "")
	s.Post(p, []string{"c"})
	tearLastLine(t, s)
	s, _ = Open(dir)
	l := s.List()
	if len(l) != 1 || !l[0].Orphan || l[0].ID != pre.ID {
		t.Fatalf("after torn mismatched post: %+v", l)
	}
	if _, ok, _ := s.Pending(); ok {
		t.Fatal("an orphan is still pending")
	}
	post, err := s.Post(p, []string{"a"})
	if err != nil || post.PairID != 0 {
		t.Fatalf("post paired with an orphan: %+v %v", post, err)
	}
}

// A hook costs one sync of the segment and one of the index, nothing more
// (format 1 also renamed a marker file with two more syncs); pruning in the
// hook syncs nothing unless it removes a segment file.
func TestHookSyncs(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir)
	p := genPkgs(newRNG(), 300)
	s.Pre(p, []string{"a"}, "")
	s.Post(p, []string{"a"})
	syncs := 0
	old := syncFile
	syncFile = func(f *os.File) error { syncs++; return old(f) }
	t.Cleanup(func() { syncFile = old })
	for i, call := range []func() error{
		func() error { _, err := mustOpen(t, dir).Pre(p, []string{"b"}, ""); return err },
		func() error { _, err := mustOpen(t, dir).Post(p, []string{"b"}); return err },
		func() error { _, err := mustOpen(t, dir).Pre(p, []string{"c"}, ""); return err },
	} {
		syncs = 0
		if err := call(); err != nil {
			t.Fatal(err)
		}
		if syncs != 2 {
			t.Fatalf("hook %d: %d syncs, want 2", i, syncs)
		}
	}
	syncs = 0
	if gone, err := mustOpen(t, dir).Prune(4, nil); err != nil || len(gone) != 1 || syncs != 0 {
		t.Fatalf("prune: deleted %v, %d syncs, %v", gone, syncs, err)
	}
	if l := mustOpen(t, dir).List(); len(l) != 4 || l[0].ID != 2 {
		t.Fatalf("after prune: %+v", l)
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
