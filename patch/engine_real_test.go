package patch

import (
	"bytes"
	"context"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// buildArchive writes m and files into a folder and makes a real .clp of it
// with Build (tar.gz, or zip), as a maintainer would.
func buildArchive(t testing.TB, m *Manifest, files map[string][]byte, zip bool) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	meta, err := MarshalManifest(m)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) {
		p := filepath.Join(src, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(ManifestName, meta)
	for n, d := range files {
		write(n, d)
	}
	out := filepath.Join(dir, m.Name+".clp")
	if err := Build(src, out, BuildOptions{Zip: zip}); err != nil {
		t.Fatal(err)
	}
	return out
}

func openArchive(t testing.TB, path string) Archive {
	t.Helper()
	a, err := OpenFile(path, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// The whole cycle with real archives in both container formats, with real
// install and remove scripts that check what they were given.
func TestRealArchiveApplyRollback(t *testing.T) {
	for _, zip := range []bool{false, true} {
		name := "tar.gz"
		if zip {
			name = "zip"
		}
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			makeRoot(t, root)
			e := newEngine(root, nil)
			pre := snapshot(t, root)
			m := fixtureManifest("CLP1250101")
			m.InstallScript, m.RemoveScript = "Install-Patch.sh", "Remove-Patch.sh"
			files := fixtureFiles()
			// Scripts written for the original tool look for their files
			// in the working directory and keep backups in ./backup.
			files["Install-Patch.sh"] = []byte("#!/bin/sh -e\ntest -f files/modified.conf\ntest -d backup\necho \"$CLP_PATCH_NAME in $(pwd)\" > backup/installed\n")
			files["Remove-Patch.sh"] = []byte("test -f backup/installed\necho removed\n")
			a := openArchive(t, buildArchive(t, m, files, zip))
			if err := applyArchive(t, e, a, ApplyOptions{}); err != nil {
				t.Fatal(err)
			}
			got := string(mustRead(t, filepath.Join(e.OptDir, "CLP1250101/backup/installed")))
			if want := "CLP1250101 in " + filepath.Join(e.OptDir, "CLP1250101") + "\n"; got != want {
				t.Fatalf("install script wrote %q, want %q", got, want)
			}
			if err := e.Rollback(context.Background(), "CLP1250101", RollbackOptions{}); err != nil {
				t.Fatal(err)
			}
			sameTree(t, "after rollback", snapshotSkip(t, pre, stateSkip), snapshot(t, root, stateSkip...))
			if log := string(mustRead(t, e.LogPath)); !strings.Contains(log, "removed\n") {
				t.Fatalf("remove script output not logged:\n%s", log)
			}
		})
	}
}

// A real archive whose payload does not match what a plan expects: a
// user-modified target is refused before anything is touched.
func TestRealArchiveRefusesUserChange(t *testing.T) {
	root := t.TempDir()
	makeRoot(t, root)
	os.WriteFile(filepath.Join(root, "etc/clp-test/removed.conf"), []byte("changed\n"), 0o600)
	e := newEngine(root, nil)
	pre := snapshot(t, root)
	a := openArchive(t, buildArchive(t, fixtureManifest("CLP1250101"), fixtureFiles(), false))
	mustContain(t, applyArchive(t, e, a, ApplyOptions{}), "/etc/clp-test/removed.conf changed since the patch was made", "--force")
	sameTree(t, "after refusal", pre, snapshot(t, root))
}

// The stage writes an archive's payload without hashing it a second time
// when the archive binds what Open returns to the sha256 the plan wants
// (archive.checkedSHA256). What that relies on: a payload changed in the
// file after the archive was opened fails the apply, which changes
// nothing, in both container formats' file-backed entries (a zip entry;
// a tar.gz entry over 1 MiB, spilled to a private unlinked file, cannot
// be reached from outside).
func TestApplyPayloadChangedAfterOpenFails(t *testing.T) {
	root := t.TempDir()
	makeRoot(t, root)
	e := newEngine(root, nil)
	data := make([]byte, 64<<10)
	rand.New(rand.NewSource(2)).Read(data) // incompressible: stored as is
	m := &Manifest{Format: 1, Name: "CHANGED", Version: "1", Files: []FileAction{
		{Op: OpAdd, Target: "/usr/lib/clp-test/changed", Payload: "files/changed", SHA256: shaOf(data)},
	}}
	path := buildArchive(t, m, map[string][]byte{"files/changed": data}, true)
	a := openArchive(t, path)
	if sum, ok := a.(*archive).checkedSHA256("files/changed"); !ok || sum != shaOf(data) {
		t.Fatalf("checkedSHA256 = %q, %v; want the payload's sha256", sum, ok)
	}
	p, err := e.Plan(context.Background(), a, ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	at := bytes.Index(raw, data[1000:1100])
	if at < 0 {
		t.Fatal("the payload is not stored as is in the zip")
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{raw[at] ^ 0xff}, int64(at)); err != nil {
		t.Fatal(err)
	}
	f.Close()
	pre := snapshot(t, root, stateSkip...)
	err = e.Apply(context.Background(), a, p)
	mustContain(t, err, "apply CHANGED failed", "stage /usr/lib/clp-test/changed", "rolled back")
	sameTree(t, "after the failed apply", pre, snapshot(t, root, stateSkip...))
}
