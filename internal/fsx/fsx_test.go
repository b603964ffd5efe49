package fsx

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestWriteFileReplacesAndKeepsMode(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := WriteFile(p, []byte("one"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Chmod(p, 0o640)
	if err := WriteFile(p, []byte("two"), 0o600); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(p)
	st, _ := os.Stat(p)
	if string(data) != "two" || st.Mode().Perm() != 0o640 {
		t.Fatalf("content %q mode %v", data, st.Mode())
	}
}

type failingFile struct{ PendingFile }

func (failingFile) Write([]byte) (int, error) { return 0, syscall.ENOSPC }

// A write that fails (disk full) leaves the old content and no temp file.
func TestWriteFileENOSPCKeepsOld(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	os.WriteFile(p, []byte("old"), 0o644)
	orig := NewPendingFile
	NewPendingFile = func(path string, perm fs.FileMode) (PendingFile, error) {
		pf, err := orig(path, perm)
		return failingFile{pf}, err
	}
	defer func() { NewPendingFile = orig }()
	err := WriteFile(p, []byte("new"), 0o644)
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("got %v", err)
	}
	data, _ := os.ReadFile(p)
	ents, _ := os.ReadDir(dir)
	if string(data) != "old" || len(ents) != 1 {
		t.Fatalf("content %q, %d entries", data, len(ents))
	}
}

func TestUnderRoot(t *testing.T) {
	for _, c := range []struct{ root, p, want string }{
		{"/", "/etc/x", "/etc/x"},
		{"", "/etc/x", "/etc/x"},
		{"/sb", "/etc/x", "/sb/etc/x"},
		{"/sb", "/../../etc/x", "/sb/etc/x"},
		{"/sb", "etc/x", "/sb/etc/x"},
	} {
		if got := UnderRoot(c.root, c.p); got != c.want {
			t.Errorf("UnderRoot(%q, %q) = %q, want %q", c.root, c.p, got, c.want)
		}
	}
}

func TestSHA256(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	os.WriteFile(p, []byte("abc"), 0o644)
	h, err := SHA256File(p)
	const want = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	if err != nil || h != want || SHA256Bytes([]byte("abc")) != want {
		t.Fatalf("got %s %v", h, err)
	}
}

func TestReadFileCapped(t *testing.T) {
	dir := t.TempDir()
	ok := filepath.Join(dir, "ok")
	os.WriteFile(ok, []byte("hello"), 0o600)
	big := filepath.Join(dir, "big")
	f, _ := os.Create(big)
	f.Truncate(20 << 30) // sparse: no disk used
	f.Close()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if data, err := ReadFileCapped(ok, 5); err != nil || string(data) != "hello" {
		t.Fatalf("ReadFileCapped(ok) = %q, %v", data, err)
	}
	cases := []struct {
		path, want string
	}{
		{ok + "-missing", "no such file"},
		{dir, "is a directory, not a file"},
		{"/dev/zero", "/dev/zero is a device, not a regular file"},
		{fifo, "is a FIFO, not a regular file"}, // and it does not block
		{big, "is too large (21474836480 bytes; clp reads at most 4)"},
	}
	for _, c := range cases {
		_, err := ReadFileCapped(c.path, 4)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ReadFileCapped(%s) = %v, want %q", c.path, err, c.want)
		}
	}
	if _, err := ReadFileCapped(ok, 4); err == nil || !strings.Contains(err.Error(), "too large") {
		t.Errorf("a 5-byte file read with a cap of 4: %v", err)
	}
	if _, err := ReadFileCapped(ok+"-missing", 4); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file does not keep fs.ErrNotExist: %v", err)
	}
}

func TestCheckTrusted(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: files owned by nobody")
	}
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	keys := filepath.Join(dir, "keys")
	os.Mkdir(keys, 0o755)
	key := filepath.Join(keys, "k.pub")
	os.WriteFile(key, []byte("k"), 0o644)
	if err := CheckTrusted(key); err != nil {
		t.Fatalf("a root-owned key in root-owned folders: %v", err)
	}
	if err := CheckTrusted(filepath.Join(keys, "missing.pub")); err != nil {
		t.Fatalf("a file to be written in safe folders: %v", err)
	}
	steps := []struct {
		do, undo func()
		want     string
	}{
		{func() { os.Chown(key, 65534, 65534) }, func() { os.Chown(key, 0, 0) }, "it is owned by uid 65534, not root"},
		{func() { os.Chmod(key, 0o666) }, func() { os.Chmod(key, 0o644) }, "it is writable by group or others (mode 0666)"},
		{func() { os.Chmod(keys, 0o775) }, func() { os.Chmod(keys, 0o755) }, "folder " + keys + " is writable by group or others (mode 0775)"},
		// sticky does not excuse the file's own folder
		{func() { syscall.Chmod(keys, 0o1777) }, func() { os.Chmod(keys, 0o755) }, "folder " + keys + " is writable by group or others (mode 1777)"},
		{func() { os.Chown(dir, 65534, 65534) }, func() { os.Chown(dir, 0, 0) }, "folder " + dir + " is owned by uid 65534, not root"},
	}
	for _, s := range steps {
		s.do()
		err := CheckTrusted(key)
		s.undo()
		var ue *UnsafeError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), s.want) {
			t.Errorf("CheckTrusted = %v, want %q", err, s.want)
		}
	}
	// A root-owned sticky folder higher up (like /tmp) is fine.
	syscall.Chmod(dir, 0o1777)
	defer os.Chmod(dir, 0o755)
	if err := CheckTrusted(key); err != nil {
		t.Fatalf("under a root-owned sticky folder: %v", err)
	}
}

// Under picks the os.Root a path is resolved in, by names alone; Anchor's
// os.Root then keeps every operation inside it: a folder swapped for a
// link out of the root makes a write and a read fail, with nothing
// written outside.
func TestAnchorStaysInRoot(t *testing.T) {
	for _, c := range []struct {
		dir, p, rel string
		ok          bool
	}{
		{"/r", "/r/var/lib/clp", "var/lib/clp", true},
		{"/r", "/r", ".", true},
		{"/r/", "/r/x/../y", "y", true},
		{"/r", "/rr/x", "", false},
		{"/r", "/x", "", false},
		{"/", "/var", "var", true},
	} {
		if rel, ok := Under(c.dir, c.p); rel != c.rel || ok != c.ok {
			t.Errorf("Under(%q, %q) = %q, %v; want %q, %v", c.dir, c.p, rel, ok, c.rel, c.ok)
		}
	}
	root, outside := t.TempDir(), t.TempDir()
	if err := os.Symlink(outside, filepath.Join(root, "var")); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(outside, "state"), []byte("outside\n"), 0o644)
	r, name, err := Anchor(root, "", filepath.Join(root, "var/state"), false)
	if err != nil || name != "var/state" {
		t.Fatalf("Anchor: %q, %v", name, err)
	}
	defer r.Close()
	if err := WriteFileIn(r, name, []byte("clp\n"), 0o600); err == nil || !strings.Contains(err.Error(), "path escapes from parent") {
		t.Fatalf("WriteFileIn through the link: %v", err)
	}
	if _, err := ReadFileCappedIn(r, name, SmallFileMax); err == nil || !strings.Contains(err.Error(), "path escapes from parent") {
		t.Fatalf("ReadFileCappedIn through the link: %v", err)
	}
	if got, _ := os.ReadFile(filepath.Join(outside, "state")); string(got) != "outside\n" {
		t.Fatalf("written outside the root: %q", got)
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 1 {
		t.Fatalf("created outside the root: %v", ents)
	}
	// A state folder named outside the root is anchored to itself.
	state := filepath.Join(t.TempDir(), "state")
	r2, name, err := Anchor(root, state, filepath.Join(state, "lock"), true)
	if err != nil || name != "lock" || r2.Name() != state {
		t.Fatalf("Anchor outside: %q, %v", name, err)
	}
	r2.Close()
}
