package fsx

import (
	"encoding/binary"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// ReadDirFile lists a folder opened in an os.Root as (*os.File).ReadDir
// lists the same folder opened by path: the same names, in the same
// (directory) order, with the same types, over several getdents buffers;
// Info says the entry was listed without its details.
func TestReadDirFileMatchesReadDir(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "var/lib/pacman/local")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 3000 { // more than one 32 KiB buffer of records
		p := filepath.Join(dir, fmt.Sprintf("pkg-with-a-long-name-%05d-1.0-1", i))
		if i%3 == 0 {
			os.WriteFile(p, nil, 0o644)
		} else {
			os.Mkdir(p, 0o755)
		}
	}
	os.Symlink("elsewhere", filepath.Join(dir, "link"))
	syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644)
	if l, err := net.Listen("unix", filepath.Join(dir, "sock")); err == nil {
		defer l.Close()
	}

	plain, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	want, err := plain.ReadDir(-1)
	plain.Close()
	if err != nil {
		t.Fatal(err)
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	d, err := r.Open("var/lib/pacman/local")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	got, err := ReadDirFile(d)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d entries, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Name() != want[i].Name() || got[i].Type() != want[i].Type() || got[i].IsDir() != want[i].IsDir() {
			t.Fatalf("entry %d: %v, want %v", i, got[i], want[i])
		}
	}
	if _, err := got[0].Info(); err == nil || !strings.Contains(err.Error(), "listed without file details") {
		t.Fatalf("Info: %v", err)
	}

	// Sorted, through ReadDirUnder, as os.ReadDir sorts.
	sorted, err := ReadDirUnder(root, dir)
	if err != nil || len(sorted) != len(want) {
		t.Fatalf("ReadDirUnder: %d entries, %v", len(sorted), err)
	}
	for i := 1; i < len(sorted); i++ {
		if sorted[i-1].Name() >= sorted[i].Name() {
			t.Fatalf("not sorted at %d: %s, %s", i, sorted[i-1].Name(), sorted[i].Name())
		}
	}
}

// dirent64 is one linux_dirent64 record.
func dirent64(ino uint64, typ byte, name string) []byte {
	n := 19 + len(name) + 1
	n = (n + 7) &^ 7
	b := make([]byte, n)
	binary.NativeEndian.PutUint64(b[0:], ino)
	binary.NativeEndian.PutUint16(b[16:], uint16(n))
	b[18] = typ
	copy(b[19:], name)
	return b
}

// A record whose type the file system left out (DT_UNKNOWN) gets its
// type from an lstat inside the folder, which does not follow a link; an
// entry removed since the listing is skipped; ino 0 records, "." and ".."
// are skipped; a record with a bad length is refused.
func TestParseDirents(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	os.Symlink("sub", filepath.Join(dir, "link"))
	os.WriteFile(filepath.Join(dir, "file"), nil, 0o644)
	d, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	rc, err := d.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var b []byte
	for _, r := range [][]byte{
		dirent64(1, 0, "."), dirent64(1, 0, ".."),
		dirent64(2, 0, "sub"), dirent64(3, 0, "link"), dirent64(4, 0, "file"),
		dirent64(5, 0, "gone"), dirent64(0, 0, "deleted"), dirent64(6, 8, "typed"),
	} {
		b = append(b, r...)
	}
	got, err := parseDirents(d, rc, b, nil)
	if err != nil {
		t.Fatal(err)
	}
	var s []string
	for _, e := range got {
		s = append(s, fmt.Sprintf("%s:%v", e.Name(), e.Type()))
	}
	want := "sub:d--------- link:L--------- file:---------- typed:----------"
	if strings.Join(s, " ") != want {
		t.Fatalf("got %q, want %q", strings.Join(s, " "), want)
	}

	bad := dirent64(7, 8, "x")
	binary.NativeEndian.PutUint16(bad[16:], 10)
	if _, err := parseDirents(d, rc, bad, nil); err == nil || !strings.Contains(err.Error(), "bad directory record length") {
		t.Fatalf("bad length: %v", err)
	}
	if _, err := parseDirents(d, rc, bad[:12], nil); err == nil || !strings.Contains(err.Error(), "short directory record") {
		t.Fatalf("short record: %v", err)
	}
}

var _ fs.DirEntry = (*dirent)(nil)

// BenchmarkReadDirAnchored lists a 2,000-entry folder opened in an
// os.Root: ReadDirFile against the os package's own listing, which stats
// every entry of a folder opened in a root.
func BenchmarkReadDirAnchored(b *testing.B) {
	root := b.TempDir()
	for i := range 2000 {
		os.Mkdir(filepath.Join(root, fmt.Sprintf("pkg-%05d-1.0-1", i)), 0o755)
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	for _, bc := range []struct {
		name string
		list func(*os.File) ([]fs.DirEntry, error)
	}{
		{"ReadDirFile", ReadDirFile},
		{"os.File.ReadDir", func(d *os.File) ([]fs.DirEntry, error) { return d.ReadDir(-1) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				d, err := r.Open(".")
				if err != nil {
					b.Fatal(err)
				}
				ents, err := bc.list(d)
				d.Close()
				if err != nil || len(ents) != 2000 {
					b.Fatal(len(ents), err)
				}
			}
		})
	}
}
