package alpm

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	pacmanconf "github.com/Morganamilo/go-pacmanconf"

	"github.com/vincentos/clp/pacman"
	"github.com/vincentos/clp/testkit/sandbox"
)

// libalpmVersions is what libalpm itself answers on p, error included.
func libalpmVersions(p *pacman.Paths) ([]Package, error) {
	h, err := OpenPaths(p)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	return h.InstalledVersions()
}

func sameAnswer(t *testing.T, p *pacman.Paths) []Package {
	t.Helper()
	want, wantErr := libalpmVersions(p)
	got, err := InstalledVersionsAt(p)
	if fmt.Sprint(err) != fmt.Sprint(wantErr) || !reflect.DeepEqual(got, want) {
		t.Fatalf("InstalledVersionsAt: %v, %v\nlibalpm: %v, %v", got, err, want, wantErr)
	}
	return got
}

// What pacman installed, read from the directory, is what libalpm reads.
func TestInstalledVersionsAtReadsWhatPacmanInstalled(t *testing.T) {
	r, _ := sandbox.NewNVIDIA(t)
	p, err := r.Paths()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := readLocalNames(p); !ok {
		t.Fatal("a database pacman wrote is not read directly")
	}
	got := sameAnswer(t, p)
	want, _ := r.Query()
	m := map[string]string{}
	for _, pkg := range got {
		m[pkg.Name] = pkg.Version
	}
	if sandbox.Versions(m) != sandbox.Versions(want) {
		t.Fatalf("read:\n%s\npacman -Q:\n%s", sandbox.Versions(m), sandbox.Versions(want))
	}
}

// A big database, names with dashes and epochs, and files beside the
// package directories: read directly, the same as libalpm's answer.
func TestInstalledVersionsAtRegular(t *testing.T) {
	r := sandbox.New(t)
	p, err := r.Paths()
	if err != nil {
		t.Fatal(err)
	}
	if err := sandbox.SynthesizeLocalDB(p.DBPath, 500); err != nil {
		t.Fatal(err)
	}
	for _, nv := range [][2]string{{"lib32-gcc-libs", "14.2.1+r134+gab884fffe3fc-1"}, {"python-a-b", "2:1.0-3"}, {"x", "1-1"}} {
		if err := sandbox.WriteLocalPackage(p.DBPath, nv[0], nv[1], true); err != nil {
			t.Fatal(err)
		}
	}
	local := filepath.Join(p.DBPath, "local")
	// A plain file named like a package is no package for libalpm.
	if err := os.WriteFile(filepath.Join(local, "stray-1-1"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, ok := readLocalNames(p); !ok {
		t.Fatal("a regular database is not read directly")
	}
	if got := sameAnswer(t, p); len(got) != 503 {
		t.Fatalf("%d packages, want 503", len(got))
	}
}

// Anything irregular is left to libalpm, whose answer (or error) is the
// answer: each case first checks that the direct reader declines it.
func TestInstalledVersionsAtIrregular(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, p *pacman.Paths, local string)
	}{
		{"name without two dashes", func(t *testing.T, p *pacman.Paths, local string) {
			mkdir(t, filepath.Join(local, "nodash-1"))
		}},
		{"dash first", func(t *testing.T, p *pacman.Paths, local string) {
			mkdir(t, filepath.Join(local, "-1-1"))
		}},
		{"name twice", func(t *testing.T, p *pacman.Paths, local string) {
			mkdir(t, filepath.Join(local, "synth-pkg-00003-9.9-1"))
		}},
		{"symbolic link", func(t *testing.T, p *pacman.Paths, local string) {
			if err := os.Symlink(filepath.Join(local, "synth-pkg-00001-1.1-1"), filepath.Join(local, "linked-1-1")); err != nil {
				t.Fatal(err)
			}
		}},
		{"no ALPM_DB_VERSION", func(t *testing.T, p *pacman.Paths, local string) {
			if err := os.Remove(filepath.Join(local, "ALPM_DB_VERSION")); err != nil {
				t.Fatal(err)
			}
		}},
		{"other ALPM_DB_VERSION", func(t *testing.T, p *pacman.Paths, local string) {
			if err := os.WriteFile(filepath.Join(local, "ALPM_DB_VERSION"), []byte("8\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{"no local database", func(t *testing.T, p *pacman.Paths, local string) {
			if err := os.RemoveAll(local); err != nil {
				t.Fatal(err)
			}
		}},
		{"sync database named twice", func(t *testing.T, p *pacman.Paths, local string) {
			p.Conf.Repos = append(p.Conf.Repos, pacmanconf.Repository{Name: "core"}, pacmanconf.Repository{Name: "core"})
		}},
		{"sync database named local", func(t *testing.T, p *pacman.Paths, local string) {
			p.Conf.Repos = append(p.Conf.Repos, pacmanconf.Repository{Name: "local"})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := sandbox.New(t)
			p, err := r.Paths()
			if err != nil {
				t.Fatal(err)
			}
			if err := sandbox.SynthesizeLocalDB(p.DBPath, 20); err != nil {
				t.Fatal(err)
			}
			tc.setup(t, p, filepath.Join(p.DBPath, "local"))
			if _, ok := readLocalNames(p); ok {
				t.Fatal("read directly")
			}
			sameAnswer(t, p)
		})
	}
}

func mkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}
