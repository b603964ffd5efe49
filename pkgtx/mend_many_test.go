package pkgtx

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vincentos/clp/cache"
	"github.com/vincentos/clp/internal/config"
	"github.com/vincentos/clp/internal/fail"
	"github.com/vincentos/clp/pacman"
	"github.com/vincentos/clp/testkit/sandbox"
)

// manyPKGBUILD is a package of 20,000 files with 150-character names: one
// --overwrite per file would be 3.7 MB of arguments, more than Linux lets
// a command have.
const manyPKGBUILD = `pkgname=clp-many
pkgver=1.0
pkgrel=1
pkgdesc="clp test package with many files"
arch=(any)
license=(MIT)
options=(!strip !zipman !purge !emptydirs !debug)
package() {
	local d="$pkgdir/usr/share/clp-many" long i
	mkdir -p "$d"/d{0..9}
	long=$(printf 'n%.0s' {1..150})
	for ((i = 0; i < 20000; i++)); do
		echo "$i" > "$d/d$((i % 10))/$long$i"
	done
	echo top > "$d/top"
}
`

// commaPKGBUILD has a file with a comma in its name and one in a folder
// with a comma in its name: pacman splits an --overwrite value at commas.
const commaPKGBUILD = `pkgname=clp-comma
pkgver=1.0
pkgrel=1
pkgdesc="clp test package with commas in names"
arch=(any)
license=(MIT)
options=(!strip !zipman !purge !emptydirs !debug)
package() {
	local d="$pkgdir/usr/share/clp-comma"
	mkdir -p "$d/x,y"
	echo ab > "$d/a,b"
	echo f > "$d/x,y/f"
}
`

// mendRig installs the package pkgbuild builds in a new root, adds a
// database entry clp-owner owning the paths owned (no package file of
// ours ships them) and makes the package's entry half written (files
// extracted, desc and files not yet written).
func mendRig(t *testing.T, pkgbuild string, owned ...string) (*Actor, *mending, *sandbox.Root, string) {
	t.Helper()
	sandbox.RequireRoot(t)
	work := t.TempDir()
	must(t, os.Chmod(filepath.Dir(work), 0o755)) // makepkg runs as nobody
	must(t, os.Chmod(work, 0o755))
	file, err := sandbox.BuildPackage(pkgbuild, work)
	if err != nil && strings.Contains(err.Error(), "makepkg is not installed") && os.Getenv("CI") == "" {
		t.Skip(err)
	}
	must(t, err)
	r := sandbox.New(t)
	must(t, r.Install(file))
	info, files, err := cache.ListFiles(file)
	must(t, err)
	local := filepath.Join(r.Dir, "var/lib/pacman/local")
	dir := info.Name + "-" + info.Version
	owner := filepath.Join(local, "clp-owner-1-1")
	must(t, os.Mkdir(owner, 0o755))
	must(t, os.WriteFile(filepath.Join(owner, "desc"), []byte("%NAME%\nclp-owner\n\n%VERSION%\n1-1\n\n%ARCH%\nany\n\n"), 0o644))
	setOwned(t, r, owned...)
	must(t, os.Remove(filepath.Join(local, dir, "desc")))
	must(t, os.Remove(filepath.Join(local, dir, "files")))
	p, err := r.Paths()
	must(t, err)
	runner := &pacman.Runner{Paths: p, LockWait: 5 * time.Second, Stdout: &testWriter{t}, Stderr: &testWriter{t}}
	a := &Actor{Paths: p, Runner: runner, Config: config.Default(), StateDir: filepath.Join(r.Dir, "var/lib/clp")}
	m := &mending{Name: info.Name, Version: info.Version, Dir: dir, Why: "it has no desc", File: file, Files: files, Backup: info.Backup}
	return a, m, r, filepath.Join(local, dir)
}

// setOwned makes clp-owner's files list owned.
func setOwned(t *testing.T, r *sandbox.Root, owned ...string) {
	t.Helper()
	must(t, os.WriteFile(filepath.Join(r.Dir, "var/lib/pacman/local/clp-owner-1-1/files"), []byte("%FILES%\n"+strings.Join(owned, "\n")+"\n\n"), 0o644))
}

// checkMended checks the entry lists the package's files again and pacman
// -Qk finds them all.
func checkMended(t *testing.T, r *sandbox.Root, m *mending, entry string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(entry, "files"))
	must(t, err)
	if got := filesSection(data); len(got) != len(m.Files) {
		t.Fatalf("the mended entry lists %d paths, want %d", len(got), len(m.Files))
	}
	if out, err := r.PacmanQuery("-Qk", m.Name); err != nil {
		t.Fatalf("pacman -Qk: %v\n%s", err, out)
	}
}

// The mend of a half-written entry of a package with 20,000 files, with
// real pacman: its --overwrite patterns are a folder each, and pacman
// reinstalls it. With another package's file in each of its folders they
// cannot be made small: the mend refuses (exit 7's error) and changes
// nothing.
func TestMendManyFiles(t *testing.T) {
	var owned []string
	for _, d := range []string{"d0", "d1", "d2", "d3", "d4", "d5", "d6", "d7", "d8", "d9"} {
		owned = append(owned, "usr/share/clp-many/"+d+"/owned")
	}
	a, m, r, entry := mendRig(t, manyPKGBUILD, owned...)
	if len(m.Files) < 20000 {
		t.Fatalf("the package lists %d paths", len(m.Files))
	}
	st := actorState{Patch: "CLPMANY"}
	before := sandbox.MustTree(t, r.Dir)
	err := a.mendOne(context.Background(), st, m)
	var fe *fail.Error
	if !errors.As(err, &fe) || !errors.Is(fe.Kind, fail.ErrDamaged) || !strings.Contains(err.Error(), "the --overwrite patterns for its 20001 files take ") || !strings.Contains(err.Error(), "nothing was changed") {
		t.Fatalf("with another package's file in every folder: %v", err)
	}
	sandbox.AssertUnchanged(t, r.Dir, before)

	setOwned(t, r, "usr/share/clp-many/owned")
	if err := a.mendOne(context.Background(), st, m); err != nil {
		t.Fatal(err)
	}
	checkMended(t, r, m, entry)
}

// A file and a folder with a comma in their names: the comma is "?" in
// their patterns (another package's file next to them makes them
// patterns of their own), and pacman reinstalls them.
func TestMendCommas(t *testing.T) {
	a, m, r, entry := mendRig(t, commaPKGBUILD, "usr/share/clp-comma/owned")
	if err := a.mendOne(context.Background(), actorState{Patch: "CLPCOMMA"}, m); err != nil {
		t.Fatal(err)
	}
	checkMended(t, r, m, entry)
	log, err := os.ReadFile(r.LogFile)
	must(t, err)
	for _, want := range []string{"--overwrite usr/share/clp-comma/a?b ", "--overwrite usr/share/clp-comma/x?y/* "} {
		if !strings.Contains(string(log), want) {
			t.Errorf("pacman's log has no %q:\n%s", want, log)
		}
	}
}
