package patch

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A patch that only adds files has nothing to back up; its applied record
// must still be written (its state folder made for it).
func TestApplyAddOnly(t *testing.T) {
	root := t.TempDir()
	makeRoot(t, root)
	e := newEngine(root, nil)
	a := &memArchive{
		m: &Manifest{Format: 1, Name: "ADDONLY", Version: "1", Files: []FileAction{
			{Op: OpAdd, Target: "/etc/clp-test/only-new.conf", Payload: "files/new-file.conf", SHA256: shaOf(newFile)},
		}},
		files: fixtureFiles(),
	}
	ctx := context.Background()
	p, err := e.Plan(ctx, a, ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Apply(ctx, a, p); err != nil {
		t.Fatal(err)
	}
	if got := string(mustRead(t, filepath.Join(root, "etc/clp-test/only-new.conf"))); got != string(newFile) {
		t.Fatalf("added file holds %q", got)
	}
	if err := e.Rollback(ctx, "ADDONLY", RollbackOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(root, "etc/clp-test/only-new.conf")); !os.IsNotExist(err) {
		t.Fatalf("rollback left the added file: %v", err)
	}
}

// clpctlFolder lays out what the original tool leaves for an installed
// patch: /opt/CLP/<name>/ with PKGINFO.meta (INI), its scripts and its
// own backup/ folder.
func clpctlFolder(t *testing.T, root, name string, removeScript string) string {
	t.Helper()
	dir := filepath.Join(root, "opt/CLP", name)
	if err := os.MkdirAll(filepath.Join(dir, "backup"), 0o755); err != nil {
		t.Fatal(err)
	}
	ini := "[Package]\nName=" + name + "\nVersion=3\nArchitechture=x86_64\nDescription=installed missing pacman keys\n"
	if err := os.WriteFile(filepath.Join(dir, ManifestName), []byte(ini), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "backup", "keys.conf"), []byte("old keys\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if removeScript != "" {
		// A #! line makes it run with sh here; clpctl's run with pwsh.
		script := "#!/bin/sh\ncp backup/keys.conf \"$CLP_ROOT/etc/clp-test/keys.conf\"\n"
		if err := os.WriteFile(filepath.Join(dir, removeScript), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestAdoptLegacy(t *testing.T) {
	root := t.TempDir()
	makeRoot(t, root)
	if err := os.WriteFile(filepath.Join(root, "etc/clp-test/keys.conf"), []byte("new keys\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rep := &testReporter{}
	e := newEngine(root, rep)
	ctx := context.Background()
	dir := clpctlFolder(t, root, "CLP1251124", "Remove-Patch.ps1")
	// Not patches: a loose file, a folder without PKGINFO.meta.
	os.WriteFile(filepath.Join(root, "opt/CLP/modified-file.txt"), nil, 0o644)
	os.MkdirAll(filepath.Join(root, "opt/CLP/not-a-patch"), 0o755)

	got, err := e.LegacyCandidates()
	if err != nil || len(got) != 1 || got[0] != "CLP1251124" {
		t.Fatalf("LegacyCandidates = %v, %v", got, err)
	}
	ap, err := e.AdoptLegacy(ctx, "CLP1251124")
	if err != nil {
		t.Fatal(err)
	}
	if !ap.Legacy || ap.Version != "3" || ap.RemoveScript != "Remove-Patch.ps1" || len(ap.Steps) != 0 {
		t.Fatalf("adopted record %+v", ap)
	}
	list, err := e.List()
	if err != nil || len(list) != 1 || !list[0].Legacy {
		t.Fatalf("List = %+v, %v", list, err)
	}
	if got, _ := e.LegacyCandidates(); len(got) != 0 {
		t.Fatalf("an adopted patch is still a candidate: %v", got)
	}
	_, err = e.AdoptLegacy(ctx, "CLP1251124")
	mustContain(t, err, "CLP1251124 is already applied")

	// Applying a patch of that name again is refused.
	_, err = e.Plan(ctx, fixtureArchive("CLP1251124"), ApplyOptions{})
	mustContain(t, err, "CLP1251124 is already applied")

	// Rollback is the remove script alone; then the folder goes.
	if err := e.Rollback(ctx, "CLP1251124", RollbackOptions{}); err != nil {
		t.Fatalf("%v\n%s", err, rep.all())
	}
	if got := string(mustRead(t, filepath.Join(root, "etc/clp-test/keys.conf"))); got != "old keys\n" {
		t.Fatalf("remove script did not run: keys.conf holds %q", got)
	}
	if _, err := os.Lstat(dir); !os.IsNotExist(err) {
		t.Fatalf("%s is still there after rollback: %v", dir, err)
	}
	if list, _ := e.List(); len(list) != 0 {
		t.Fatalf("still applied after rollback: %+v", list)
	}
}

// Without a remove script, an adopted patch cannot be rolled back: clp has
// no backups, and removing the folder would lose clpctl's.
func TestAdoptLegacyNoRemoveScript(t *testing.T) {
	root := t.TempDir()
	makeRoot(t, root)
	e := newEngine(root, nil)
	ctx := context.Background()
	clpctlFolder(t, root, "CLP1250101", "")
	if _, err := e.AdoptLegacy(ctx, "CLP1250101"); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, root)
	err := e.Rollback(ctx, "CLP1250101", RollbackOptions{})
	mustContain(t, err, "cannot roll back CLP1250101", "installed by clpctl", "no remove script")
	sameTree(t, "refused rollback", before, snapshot(t, root))

	// The script removed after adoption: refused too.
	clpctlFolder(t, root, "CLP1250102", "Remove-Script.ps1")
	if _, err := e.AdoptLegacy(ctx, "CLP1250102"); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(root, "opt/CLP/CLP1250102/Remove-Script.ps1"))
	before = snapshot(t, root)
	err = e.Rollback(ctx, "CLP1250102", RollbackOptions{})
	mustContain(t, err, "cannot roll back CLP1250102", "is missing")
	sameTree(t, "refused rollback", before, snapshot(t, root))

	_, err = e.AdoptLegacy(ctx, "../etc")
	mustContain(t, err, "not usable as a directory name")
	_, err = e.AdoptLegacy(ctx, "CLP9999999")
	mustContain(t, err, "adopt CLP9999999", "no such file")
}

// TestMigrate: a dry run lists what would be adopted and changes nothing;
// the real run adopts each clpctl patch, and says which have no remove
// script either way; a second run finds nothing left.
func TestMigrate(t *testing.T) {
	root := t.TempDir()
	makeRoot(t, root)
	e := newEngine(root, &testReporter{})
	ctx := context.Background()
	clpctlFolder(t, root, "CLP1", "Remove-Script.ps1")
	clpctlFolder(t, root, "CLP2", "")
	for _, dry := range []bool{true, false} {
		m, err := e.Migrate(ctx, dry)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(m.Adopted, " ") != "CLP1 CLP2" || strings.Join(m.NoRemoveScript, " ") != "CLP2" {
			t.Errorf("dry run %v: %+v", dry, m)
		}
		applied, err := e.List()
		if err != nil {
			t.Fatal(err)
		}
		if want := map[bool]int{true: 0, false: 2}[dry]; len(applied) != want {
			t.Errorf("dry run %v: %d applied, want %d", dry, len(applied), want)
		}
	}
	m, err := e.Migrate(ctx, false)
	if err != nil || len(m.Adopted) != 0 || m.Adopted == nil || m.NoRemoveScript == nil {
		t.Errorf("second run: %+v, %v", m, err)
	}
}
