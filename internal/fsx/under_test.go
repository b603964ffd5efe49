package fsx

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// Under a root other than "/", every helper resolves inside it: a link
// out of it anywhere on the path is refused (IsEscape), a relative link
// staying inside is followed; for "/" (and a path the admin named outside
// the root) the helpers are the plain operations.
func TestUnderHelpers(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc/real"), 0o755)
	os.WriteFile(filepath.Join(outside, "f"), []byte("outside"), 0o644)
	os.Symlink(outside, filepath.Join(root, "etc/out"))
	os.Symlink("real", filepath.Join(root, "etc/in"))
	out := filepath.Join(root, "etc/out/f")
	in := filepath.Join(root, "etc/in/f")

	if err := WriteFileUnder(root, in, []byte("inside"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadFileCappedUnder(root, in, 100); err != nil || string(got) != "inside" {
		t.Fatalf("through a link inside the root: %q %v", got, err)
	}
	checks := map[string]error{
		"read":      func() error { _, err := ReadFileCappedUnder(root, out, 100); return err }(),
		"write":     WriteFileUnder(root, out, []byte("x"), 0o644),
		"mkdir":     MkdirAllUnder(root, filepath.Join(root, "etc/out/d"), 0o755),
		"open":      func() error { _, err := OpenFileUnder(root, out, os.O_RDWR|os.O_APPEND, 0); return err }(),
		"remove":    RemoveUnder(root, out),
		"rename":    RenameUnder(root, out, filepath.Join(root, "etc/real/g")),
		"stat":      func() error { _, err := StatUnder(root, out); return err }(),
		"list":      func() error { _, err := ReadDirUnder(root, filepath.Join(root, "etc/out")); return err }(),
		"chmod":     ChmodUnder(root, out, 0o600),
		"folder":    func() error { _, _, err := DirPathUnder(root, filepath.Join(root, "etc/out")); return err }(),
		"removeall": RemoveAllUnder(root, out),
		"mkdir one": MkdirUnder(root, filepath.Join(root, "etc/out/e"), 0o755),
		"link":      LinkUnder(root, out, filepath.Join(root, "etc/real/h")),
		"link to":   LinkUnder(root, in, filepath.Join(root, "etc/out/h")),
		"sha256":    func() error { _, err := SHA256FileUnder(root, out); return err }(),
	}
	for what, err := range checks {
		if !IsEscape(err) {
			t.Errorf("%s through a link out of the root: %v, want it refused", what, err)
		}
	}
	if got, _ := os.ReadFile(filepath.Join(outside, "f")); string(got) != "outside" {
		t.Fatalf("the file outside changed: %q", got)
	}
	if fi, _ := os.Stat(filepath.Join(outside, "f")); fi.Mode().Perm() != 0o644 {
		t.Fatalf("the file outside changed mode: %v", fi.Mode())
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 1 {
		t.Fatalf("something was made outside: %v", ents)
	}
	// A missing file keeps fs.ErrNotExist.
	if _, err := ReadFileCappedUnder(root, filepath.Join(root, "none"), 100); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	// Inside the root, the new helpers do their work.
	if err := LinkUnder(root, in, filepath.Join(root, "etc/real/g")); err != nil {
		t.Fatal(err)
	}
	if sum, err := SHA256FileUnder(root, filepath.Join(root, "etc/real/g")); err != nil || sum != SHA256Bytes([]byte("inside")) {
		t.Fatalf("sha256 inside the root: %s %v", sum, err)
	}
	os.MkdirAll(filepath.Join(root, "etc/real/d/e"), 0o755)
	if err := RemoveAllUnder(root, filepath.Join(root, "etc/real/d")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "etc/real/d")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("RemoveAllUnder left the folder: %v", err)
	}
	// "/" and a path outside the root: plain operations.
	if got, err := ReadFileCappedUnder("/", out, 100); err != nil || string(got) != "outside" {
		t.Fatalf("under /: %q %v", got, err)
	}
	if got, err := ReadFileCappedUnder(root, filepath.Join(outside, "f"), 100); err != nil || string(got) != "outside" {
		t.Fatalf("a path outside the root: %q %v", got, err)
	}
	p, release, err := DirPathUnder(root, filepath.Join(root, "etc/real"))
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if got, err := os.ReadFile(filepath.Join(p, "f")); err != nil || string(got) != "inside" {
		t.Fatalf("through the folder held open: %q %v", got, err)
	}
}

// ResolveInRoot takes a mounted root's absolute links against the root
// (as the booted system does), never out of it; what does not resolve to
// an existing place inside it, the root "/", and a kernel without openat2
// leave the path as given.
func TestResolveInRoot(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "data/opt"), 0o755)
	os.MkdirAll(filepath.Join(root, "var"), 0o755)
	os.Symlink("/data/opt", filepath.Join(root, "opt"))                 // absolute, inside once booted
	os.Symlink("../../../../../data", filepath.Join(root, "var/up"))    // ".." clamped at the root
	os.Symlink("/nonexistent-clp-test", filepath.Join(root, "var/lib")) // dangling inside the root
	for in, want := range map[string]string{
		"opt/CLP":          "data/opt/CLP",
		"opt":              "data/opt",
		"var/up/opt/CLP/x": "data/opt/CLP/x",
		"var/lib/clp":      "var/lib/clp",
		"var/log/CLP.log":  "var/log/CLP.log",
		".":                ".",
	} {
		if got := ResolveInRoot(root, filepath.Join(root, in)); got != filepath.Join(root, want) {
			t.Errorf("ResolveInRoot(%s) = %s, want %s", in, got, filepath.Join(root, want))
		}
	}
	if got := ResolveInRoot("/", filepath.Join(root, "opt/CLP")); got != filepath.Join(root, "opt/CLP") {
		t.Errorf("under / = %s", got)
	}
	if got := ResolveInRoot(root, "/elsewhere/opt"); got != "/elsewhere/opt" {
		t.Errorf("a path outside the root = %s", got)
	}
	NoOpenat2 = true
	defer func() { NoOpenat2 = false }()
	if got := ResolveInRoot(root, filepath.Join(root, "opt/CLP")); got != filepath.Join(root, "opt/CLP") {
		t.Errorf("without openat2 = %s", got)
	}
}
