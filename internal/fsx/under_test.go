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
		"read":   func() error { _, err := ReadFileCappedUnder(root, out, 100); return err }(),
		"write":  WriteFileUnder(root, out, []byte("x"), 0o644),
		"mkdir":  MkdirAllUnder(root, filepath.Join(root, "etc/out/d"), 0o755),
		"open":   func() error { _, err := OpenFileUnder(root, out, os.O_RDWR|os.O_APPEND, 0); return err }(),
		"remove": RemoveUnder(root, out),
		"rename": RenameUnder(root, out, filepath.Join(root, "etc/real/g")),
		"stat":   func() error { _, err := StatUnder(root, out); return err }(),
		"list":   func() error { _, err := ReadDirUnder(root, filepath.Join(root, "etc/out")); return err }(),
		"chmod":  ChmodUnder(root, out, 0o600),
		"folder": func() error { _, _, err := DirPathUnder(root, filepath.Join(root, "etc/out")); return err }(),
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
