package patch

import (
	"context"
	"fmt"
	"io/fs"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
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
	b.SetBytes(20 << 20)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p, err := e.Plan(ctx, a, ApplyOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if err := e.Apply(ctx, a, p); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := e.Rollback(ctx, "BENCH", RollbackOptions{}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

func BenchmarkRollback1000Files(b *testing.B) {
	root, a, _ := benchPatch(b)
	e := newEngine(root, nil)
	ctx := context.Background()
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
		if err := e.Rollback(ctx, "BENCH", RollbackOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBsdtarBaseline1000Files is the yardstick for the two above:
// bsdtar -xf of the same 1,000-file payload, then sync.
func BenchmarkBsdtarBaseline1000Files(b *testing.B) {
	if _, err := exec.LookPath("bsdtar"); err != nil {
		b.Skip("bsdtar is not installed")
	}
	_, _, payload := benchPatch(b)
	tarball := filepath.Join(b.TempDir(), "payload.tar")
	if out, err := exec.Command("bsdtar", "-cf", tarball, "-C", payload, ".").CombinedOutput(); err != nil {
		b.Fatalf("bsdtar -c: %v\n%s", err, out)
	}
	b.SetBytes(20 << 20)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dst := filepath.Join(b.TempDir(), fmt.Sprint(i))
		os.MkdirAll(dst, 0o755)
		b.StartTimer()
		if out, err := exec.Command("bsdtar", "-xf", tarball, "-C", dst).CombinedOutput(); err != nil {
			b.Fatalf("bsdtar -x: %v\n%s", err, out)
		}
		if err := exec.Command("sync").Run(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBsdtarAfterRemove1000Files is the same yardstick under the
// conditions BenchmarkApply1000Files runs in: each apply there follows the
// (untimed) rollback of the one before, which freed the 1,000 files it had
// made in the same folders, and here each bsdtar -xf + sync follows the
// (untimed) removal of the files the one before extracted. On ext4
// without a journal the kernel skips recently freed inodes when it
// allocates one (recently_deleted() in fs/ext4/ialloc.c), so a create
// right after many removals costs far more than one in a fresh folder:
// this is the floor under apply's 1,000 creates there.
func BenchmarkBsdtarAfterRemove1000Files(b *testing.B) {
	if _, err := exec.LookPath("bsdtar"); err != nil {
		b.Skip("bsdtar is not installed")
	}
	_, _, payload := benchPatch(b)
	tarball := filepath.Join(b.TempDir(), "payload.tar")
	if out, err := exec.Command("bsdtar", "-cf", tarball, "-C", payload, ".").CombinedOutput(); err != nil {
		b.Fatalf("bsdtar -c: %v\n%s", err, out)
	}
	dst := b.TempDir()
	extract := func() {
		if out, err := exec.Command("bsdtar", "-xf", tarball, "-C", dst).CombinedOutput(); err != nil {
			b.Fatalf("bsdtar -x: %v\n%s", err, out)
		}
		if err := exec.Command("sync").Run(); err != nil {
			b.Fatal(err)
		}
	}
	extract()
	b.SetBytes(20 << 20)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		err := filepath.WalkDir(dst, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				err = os.Remove(p)
			}
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		extract()
	}
}
