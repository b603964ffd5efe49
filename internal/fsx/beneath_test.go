package fsx

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// The openat2 fast path of the *Under helpers gives what os.Root gives,
// success and error alike, on every kind of path: a file, a folder, a link
// inside the root (relative, at the end or on the way), a link out of it
// (absolute, or relative above the root), a missing file or folder, a
// FIFO, a file over the cap; opened, read, stat'ed, listed or made. Each case runs with the fast path and again
// with os.Root alone (NoOpenat2), and the two answers must be the same.
func TestBeneathFastPathAnswersAsOSRoot(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	os.MkdirAll(filepath.Join(root, "var/lib/clp/snapshots"), 0o755)
	os.WriteFile(filepath.Join(root, "var/lib/clp/snapshots/index"), []byte("index\n"), 0o644)
	os.WriteFile(filepath.Join(root, "var/lib/clp/big"), make([]byte, 200), 0o644)
	os.WriteFile(filepath.Join(outside, "index"), []byte("outside\n"), 0o644)
	syscall.Mkfifo(filepath.Join(root, "var/lib/clp/fifo"), 0o644)
	os.Symlink("snapshots", filepath.Join(root, "var/lib/clp/in"))
	os.Symlink("snapshots/index", filepath.Join(root, "var/lib/clp/inlast"))
	os.Symlink(outside, filepath.Join(root, "var/lib/clp/out"))
	os.Symlink("../../../..", filepath.Join(root, "var/lib/clp/up"))
	os.Symlink("/var/lib/clp/snapshots", filepath.Join(root, "var/lib/clp/abs"))
	if fi, err := os.Stat(filepath.Join(root, "var/lib/clp/fifo")); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Fatalf("no FIFO: %v", err)
	}
	names := []string{
		"var/lib/clp/snapshots/index", "var/lib/clp/snapshots", "var/lib/clp/in/index",
		"var/lib/clp/inlast", "var/lib/clp/in", "var/lib/clp/out/index", "var/lib/clp/out",
		"var/lib/clp/up/" + filepath.Base(outside) + "/index", "var/lib/clp/abs/index",
		"var/lib/clp/missing", "var/lib/missing/index", "var/lib/clp/fifo", "var/lib/clp/big",
		"var/lib/clp/snapshots/index/x",
	}
	answer := func(p string) []string {
		var out []string
		say := func(what string, v any, err error) {
			out = append(out, fmt.Sprintf("%s: %v / %v (escape %v)", what, v, err, IsEscape(err)))
		}
		data, err := ReadFileCappedUnder(root, p, 100)
		say("read", string(data), err)
		f, err := OpenRegularUnder(root, p, 100)
		if err == nil {
			say("open regular", f.Name(), err)
			f.Close()
		} else {
			say("open regular", nil, err)
		}
		f, err = OpenFileUnder(root, p, os.O_RDONLY|syscall.O_NONBLOCK, 0)
		if err == nil {
			fi, _ := f.Stat()
			say("open", f.Name()+" "+fi.Mode().String(), err)
			f.Close()
		} else {
			say("open", nil, err)
		}
		fi, err := StatUnder(root, p)
		if err == nil {
			say("stat", fmt.Sprint(fi.Name(), fi.Mode(), fi.Size()), err)
		} else {
			say("stat", nil, err)
		}
		if filepath.Base(p) != "fifo" { // (opening a FIFO to list it blocks, either way)
			ents, err := ReadDirUnder(root, p)
			var listed []string
			for _, e := range ents {
				listed = append(listed, e.Name()+" "+e.Type().String())
			}
			say("list", listed, err)
		}
		if _, err := os.Lstat(p); err == nil || !os.IsNotExist(err) {
			// (A missing folder is made: the same, checked below.)
			say("mkdir", nil, MkdirAllUnder(root, p, 0o755))
		}
		return out
	}
	for _, n := range names {
		p := filepath.Join(root, n)
		fast := answer(p)
		NoOpenat2 = true
		slow := answer(p)
		NoOpenat2 = false
		for i := range fast {
			if fast[i] != slow[i] {
				t.Errorf("%s: fast path %q, os.Root %q", n, fast[i], slow[i])
			}
		}
	}
	// A missing folder is made either way.
	for i, no := range []bool{false, true} {
		NoOpenat2 = no
		p := filepath.Join(root, fmt.Sprintf("var/lib/clp/in/d%d/e", i))
		err := MkdirAllUnder(root, p, 0o755)
		NoOpenat2 = false
		if fi, serr := os.Lstat(filepath.Join(root, fmt.Sprintf("var/lib/clp/snapshots/d%d/e", i))); err != nil || serr != nil || !fi.IsDir() {
			t.Errorf("mkdir through the link (os.Root alone %v): %v %v", no, err, serr)
		}
	}
	// Creating a file: the same file, with the same mode, either way.
	for i, no := range []bool{false, true} {
		NoOpenat2 = no
		p := filepath.Join(root, fmt.Sprintf("var/lib/clp/in/new%d", i))
		f, err := OpenFileUnder(root, p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
		NoOpenat2 = false
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		if fi, err := os.Lstat(filepath.Join(root, fmt.Sprintf("var/lib/clp/snapshots/new%d", i))); err != nil || fi.Mode().Perm() != 0o640&^umask() {
			t.Errorf("created through the link (os.Root alone %v): %v %v", no, fi, err)
		}
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 1 {
		t.Fatalf("something was made outside: %v", ents)
	}
}

func umask() os.FileMode {
	m := syscall.Umask(0)
	syscall.Umask(m)
	return os.FileMode(m)
}
