package patch

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// benchPatch makes a root with 500 files and a patch of 1,000 files (20 MB
// in all): 500 replacing those files and 500 new ones, spread over 10
// directories.
func benchPatch(b testing.TB) (root string, a Archive, payload string) {
	b.Helper()
	root = b.TempDir()
	makeRoot(b, root)
	payload = b.TempDir()
	rng := rand.New(rand.NewSource(1))
	m := &Manifest{Format: 1, Name: "BENCH", Version: "1"}
	files := map[string][]byte{}
	for i := 0; i < 1000; i++ {
		data := make([]byte, 20<<10)
		rng.Read(data)
		target := fmt.Sprintf("/usr/share/clp-bench/d%d/f%d", i%10, i)
		name := fmt.Sprintf("files/f%d", i)
		files[name] = data
		fa := FileAction{Op: OpAdd, Target: target, Payload: name, SHA256: shaOf(data)}
		p := filepath.Join(root, target)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if i%2 == 0 {
			old := []byte(fmt.Sprintf("old content %d\n", i))
			if err := os.WriteFile(p, old, 0o644); err != nil {
				b.Fatal(err)
			}
			fa.Op, fa.Expect = OpReplace, shaOf(old)
		}
		m.Files = append(m.Files, fa)
		pp := filepath.Join(payload, target)
		os.MkdirAll(filepath.Dir(pp), 0o755)
		if err := os.WriteFile(pp, data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return root, openArchive(b, buildArchive(b, m, files, false)), payload
}

func BenchmarkApply1000Files(b *testing.B) {
	root, a, _ := benchPatch(b)
	e := newEngine(root, nil)
	ctx := context.Background()
	base := newTarBaseline(b)
	var self, same, fresh []time.Duration
	b.SetBytes(20 << 20)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		p, err := e.Plan(ctx, a, ApplyOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if err := e.Apply(ctx, a, p); err != nil {
			b.Fatal(err)
		}
		self = append(self, time.Since(t0))
		b.StopTimer()
		if err := e.Rollback(ctx, "BENCH", RollbackOptions{}); err != nil {
			b.Fatal(err)
		}
		same = append(same, base.applyLike())
		fresh = append(fresh, base.fresh())
		b.StartTimer()
	}
	b.StopTimer()
	reportPaired(b, self, same, fresh)
}

func BenchmarkRollback1000Files(b *testing.B) {
	root, a, _ := benchPatch(b)
	e := newEngine(root, nil)
	ctx := context.Background()
	base := newTarBaseline(b)
	var self, same, fresh []time.Duration
	b.SetBytes(20 << 20)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		p, err := e.Plan(ctx, a, ApplyOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if err := e.Apply(ctx, a, p); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		t0 := time.Now()
		if err := e.Rollback(ctx, "BENCH", RollbackOptions{}); err != nil {
			b.Fatal(err)
		}
		self = append(self, time.Since(t0))
		b.StopTimer()
		same = append(same, base.rollbackLike())
		fresh = append(fresh, base.fresh())
		b.StartTimer()
	}
	b.StopTimer()
	reportPaired(b, self, same, fresh)
}

// The yardstick of the two benchmarks above is bsdtar -xf + sync, timed
// in the same loop as apply or rollback (one after the other, so a drift
// of the shared machine hits both) and in the same disk conditions, on a
// root of its own built like benchPatch's:
//
//   - apply (bsdtar-ns/op beside BenchmarkApply1000Files): each timed
//     apply follows the untimed rollback of the one before, which freed
//     the 1,000 files it had made in the same folders and put the 500 old
//     files back. The baseline does the same before each timed run: the
//     previous extraction's 1,000 files are removed and the 500 old ones
//     linked back (they are kept under a second name, as apply's backups
//     keep them, so neither side frees them); then bsdtar -xf of the
//     1,000 files into the root, over the 500, and sync. On ext4 without a
//     journal the kernel skips inodes freed in the last half minute when
//     it allocates one (recently_deleted() in fs/ext4/ialloc.c), so a
//     create right after many removals in the same folders costs far more
//     than one in a fresh folder: both sides pay it here.
//   - rollback (bsdtar-ns/op beside BenchmarkRollback1000Files): a
//     rollback has to free the 1,000 files the patch placed, bring the
//     500 replaced files' old contents back and make that durable. The
//     disk-level way to do that without clp is what the baseline times:
//     remove the 500 files the patch added, bsdtar -xf of a tarball of the
//     500 old files over the placed ones (it unlinks each and writes the
//     old content, 500 small files), sync. It frees the same 1,000 inodes
//     (with discard, each freed extent is discarded) in the same folders,
//     right after an untimed extraction of the 1,000, as each timed
//     rollback follows the untimed apply. Extracting all 1,000 files
//     again would write 20 MB rollback never writes: a slower, easier
//     baseline.
//
// fresh-ns/op is bsdtar -xf + sync into a new, empty folder each time:
// the yardstick of earlier tables, which no apply or rollback runs in.
// x-bsdtar and x-fresh are the medians of the per-iteration ratios.
type tarBaseline struct {
	b       testing.TB
	root    string   // the baseline's own root, like benchPatch's
	payload string   // tarball of the 1,000 files at their targets
	old     string   // tarball of the 500 replaced files as they were
	keep    string   // second names of those 500 (apply's backups)
	targets []string // the 1,000 targets, relative to root
	spare   string   // parent of the fresh folders
	n       int
}

func newTarBaseline(b testing.TB) *tarBaseline {
	b.Helper()
	if _, err := exec.LookPath("bsdtar"); err != nil {
		b.Skip("bsdtar is not installed")
	}
	root, _, payload := benchPatch(b)
	t := &tarBaseline{b: b, root: root, keep: b.TempDir(), spare: b.TempDir()}
	dir := b.TempDir()
	t.payload = filepath.Join(dir, "payload.tar")
	t.old = filepath.Join(dir, "old.tar")
	var old []string
	for i := 0; i < 1000; i++ {
		rel := fmt.Sprintf("usr/share/clp-bench/d%d/f%d", i%10, i)
		t.targets = append(t.targets, rel)
		if i%2 == 0 {
			old = append(old, rel)
			if err := os.Link(filepath.Join(root, rel), filepath.Join(t.keep, fmt.Sprint(i))); err != nil {
				b.Fatal(err)
			}
		}
	}
	list := filepath.Join(dir, "old.list")
	if err := os.WriteFile(list, []byte(strings.Join(old, "\n")+"\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	t.run("bsdtar", "-cf", t.payload, "-C", payload, ".")
	t.run("bsdtar", "-cf", t.old, "-C", root, "-T", list)
	return t
}

func (t *tarBaseline) run(name string, args ...string) {
	t.b.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.b.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// extract is the timed part of every baseline: bsdtar -xf, then sync.
func (t *tarBaseline) extract(tarball, dst string) {
	t.run("bsdtar", "-xf", tarball, "-C", dst)
	t.run("sync")
}

// applyLike times bsdtar in apply's conditions (above).
func (t *tarBaseline) applyLike() time.Duration {
	for i, rel := range t.targets {
		p := filepath.Join(t.root, rel)
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.b.Fatal(err)
		}
		if i%2 == 0 {
			if err := os.Link(filepath.Join(t.keep, fmt.Sprint(i)), p); err != nil {
				t.b.Fatal(err)
			}
		}
	}
	t0 := time.Now()
	t.extract(t.payload, t.root)
	return time.Since(t0)
}

// rollbackLike times the disk-level rollback (above) after an untimed
// extraction of the 1,000 files, synced as apply syncs what it placed:
// a file removed before its delayed allocation frees no blocks, so it
// would cost the baseline neither a block free nor a discard.
func (t *tarBaseline) rollbackLike() time.Duration {
	t.extract(t.payload, t.root)
	t0 := time.Now()
	for i, rel := range t.targets {
		if i%2 == 1 {
			if err := os.Remove(filepath.Join(t.root, rel)); err != nil {
				t.b.Fatal(err)
			}
		}
	}
	t.extract(t.old, t.root)
	return time.Since(t0)
}

// fresh times bsdtar -xf + sync into a new folder.
func (t *tarBaseline) fresh() time.Duration {
	t.n++
	dst := filepath.Join(t.spare, fmt.Sprint(t.n))
	if err := os.Mkdir(dst, 0o755); err != nil {
		t.b.Fatal(err)
	}
	t0 := time.Now()
	t.extract(t.payload, dst)
	return time.Since(t0)
}

// reportPaired adds the baselines' medians and the medians of the
// per-iteration ratios to the benchmark's line.
func reportPaired(b *testing.B, self, same, fresh []time.Duration) {
	ratios := func(base []time.Duration) float64 {
		var r []float64
		for i := range self {
			r = append(r, float64(self[i])/float64(base[i]))
		}
		return median(r)
	}
	ns := func(d []time.Duration) float64 {
		var f []float64
		for _, x := range d {
			f = append(f, float64(x))
		}
		return median(f)
	}
	b.ReportMetric(ns(same), "bsdtar-ns/op")
	b.ReportMetric(ns(fresh), "fresh-ns/op")
	b.ReportMetric(ratios(same), "x-bsdtar")
	b.ReportMetric(ratios(fresh), "x-fresh")
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
