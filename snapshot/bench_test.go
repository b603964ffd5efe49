package snapshot

import (
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vincentos/clp/testkit/sandbox"
)

// diskUsage returns the apparent size and the allocated blocks of dir.
func diskUsage(t testing.TB, dir string) (apparent, allocated int64) {
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		apparent += fi.Size()
		allocated += fileBlocks(fi)
		return nil
	})
	return apparent, allocated
}

// fillHistory records n successive snapshots of a 2,000-package system,
// each 1 to 6 package changes from the last, like real transactions.
func fillHistory(t testing.TB, s *Store, n int) {
	rng := rand.New(rand.NewPCG(3, 4))
	pkgs := genPkgs(rng, 2000)
	for i := 0; i < n; i++ {
		pkgs = evolve(rng, pkgs, 1+rng.IntN(6))
		targets := []string{pkgs[rng.IntN(len(pkgs))].Name}
		if _, err := s.Create(Snapshot{Kind: KindPre, Targets: targets, Description: Describe(KindPre, targets, ""), Packages: pkgs}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDiskUsage1000 checks the space goal: 1,000 snapshots of a
// 2,000-package DB under 5 MB. fsync is off here: it changes how long the
// test takes, not how many bytes land on disk.
func TestDiskUsage1000(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("1,000 snapshots: skipped in -short and under -race (it measures bytes; the race detector adds a minute and nothing else)")
	}
	old := syncFile
	syncFile = func(*os.File) error { return nil }
	t.Cleanup(func() { syncFile = old })
	dir := t.TempDir()
	s := mustOpen(t, dir)
	fillHistory(t, s, 1000)
	apparent, allocated := diskUsage(t, dir)
	t.Logf("1000 snapshots of 2000 packages: %d bytes (%d allocated on disk)", apparent, allocated)
	if allocated > 5<<20 {
		t.Fatalf("%d bytes allocated, goal is under 5 MB", allocated)
	}
	s = mustOpen(t, dir)
	l := s.List()
	for _, id := range []int{1, 500, 1000} {
		if _, err := s.Get(l[id-1].ID); err != nil {
			t.Fatal(err)
		}
	}
}

// BenchmarkCreate2000 is one hook's store work: record a 2,000-package
// snapshot a few changes after the last one (durable, fsync included).
func BenchmarkCreate2000(b *testing.B) {
	s := mustOpen(b, b.TempDir())
	rng := rand.New(rand.NewPCG(5, 6))
	pkgs := genPkgs(rng, 2000)
	states := make([][]Pkg, 64)
	for i := range states {
		pkgs = evolve(rng, pkgs, 3)
		states[i] = pkgs
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Create(Snapshot{Kind: KindManual, Packages: states[i%len(states)]}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHookPre is what `clp hook pre` does besides reading the local
// DB: open a store holding 1,000 snapshots and record a pre.
func BenchmarkHookPre(b *testing.B) {
	dir := b.TempDir()
	old := syncFile
	syncFile = func(*os.File) error { return nil }
	fillHistory(b, mustOpen(b, dir), 1000)
	syncFile = old
	pkgs := genPkgs(rand.New(rand.NewPCG(3, 4)), 2000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s, err := Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Pre(pkgs, []string{"linux"}, ""); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpen1000 is Open plus List of 1,000 snapshots.
func BenchmarkOpen1000(b *testing.B) {
	dir := b.TempDir()
	old := syncFile
	syncFile = func(*os.File) error { return nil }
	fillHistory(b, mustOpen(b, dir), 1000)
	syncFile = old
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s, err := Open(dir)
		if err != nil || len(s.List()) != 1000 {
			b.Fatal(err)
		}
	}
}

// BenchmarkGet2000 reads back one snapshot from the middle of a segment.
func BenchmarkGet2000(b *testing.B) {
	dir := b.TempDir()
	old := syncFile
	syncFile = func(*os.File) error { return nil }
	s := mustOpen(b, dir)
	fillHistory(b, s, 100)
	syncFile = old
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Get(96); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHookCycle is the store and local-DB work of one `clp hook pre`
// and one `clp hook post` on a synthesized 2,000-package local database,
// each from a fresh Open as in the hook processes (fsync included).
func BenchmarkHookCycle(b *testing.B) {
	db := b.TempDir()
	if err := sandbox.SynthesizeLocalDB(db, 2000); err != nil {
		b.Fatal(err)
	}
	// Descs older than the snapshots, as on a real system between
	// transactions: the previous snapshot's set is reused.
	old := time.Now().Add(-time.Hour)
	des, _ := os.ReadDir(filepath.Join(db, "local"))
	for _, de := range des {
		os.Chtimes(filepath.Join(db, "local", de.Name(), "desc"), old, old)
	}
	dir := b.TempDir()
	targets := []string{"synth-pkg-00001", "synth-pkg-00002"}
	hook := func(pre bool) {
		s, err := Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		prev, meta, _ := s.Tail()
		pkgs, err := ReadLocalDB("/", db, prev, meta.Time)
		if err != nil {
			b.Fatal(err)
		}
		if pre {
			_, err = s.Pre(pkgs, targets, "")
		} else {
			_, err = s.Post(pkgs, targets)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	for i := 0; i < 50; i++ {
		hook(true)
		hook(false)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		hook(i%2 == 0)
	}
}
