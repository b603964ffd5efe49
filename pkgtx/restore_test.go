package pkgtx

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vincentos/clp/hooks"
	"github.com/vincentos/clp/internal/config"
	"github.com/vincentos/clp/pacman"
	"github.com/vincentos/clp/snapshot"
)

// fakeQuery answers Query from a list: a restore needs no libalpm.
type fakeQuery []pacman.Package

func (q fakeQuery) Installed() ([]pacman.Package, error) { return q, nil }

func (q fakeQuery) Installed1(name string) (pacman.Package, bool, error) {
	for _, p := range q {
		if p.Name == name {
			return p, true, nil
		}
	}
	return pacman.Package{}, false, nil
}

// restorer makes a Restorer on a fake installation: linux 6.2 installed,
// snapshot 1 holding linux 6.1, whose file is in the cache.
func restorer(t *testing.T) *Restorer {
	t.Helper()
	dir := t.TempDir()
	cacheDir := filepath.Join(dir, "cache")
	must(t, os.MkdirAll(cacheDir, 0o755))
	must(t, os.WriteFile(filepath.Join(cacheDir, "linux-6.1-1-x86_64.pkg.tar.zst"), []byte("x"), 0o644))
	st, err := snapshot.Open(filepath.Join(dir, "state", "snapshots"))
	must(t, err)
	_, err = st.Create(snapshot.Snapshot{Kind: snapshot.KindManual, Packages: []snapshot.Pkg{{Name: "linux", Version: "6.1-1", Arch: "x86_64", Reason: snapshot.ReasonExplicit}}})
	must(t, err)
	return &Restorer{
		Query: fakeQuery{{Name: "linux", Version: "6.2-1", Arch: "x86_64", Explicit: true}},
		Paths: &pacman.Paths{Root: dir, CacheDirs: []string{cacheDir}}, Store: st, StateDir: filepath.Join(dir, "state"),
		Config: func() (*config.Config, error) { return config.Default(), nil },
	}
}

// TestRestorePlan: the plan finds the cached file and asks nothing else.
func TestRestorePlan(t *testing.T) {
	x := restorer(t)
	r, err := x.Plan(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if r.Empty() || len(r.Files) != 1 || !strings.HasSuffix(r.Files[0].Path, "linux-6.1-1-x86_64.pkg.tar.zst") || r.FromArchive() != 0 {
		t.Fatalf("plan = %+v", r)
	}
}

// TestRestoreRefusedByPin: a pin the restore would break refuses it
// (ErrRefused) before anything changes; a pin at the snapshot's version is
// let through the guard.
func TestRestoreRefusedByPin(t *testing.T) {
	x := restorer(t)
	must(t, hooks.SavePins("/", x.StateDir, []hooks.Pin{{Name: "linux", Version: "6.2-1"}}))
	_, err := x.Plan(context.Background(), 1)
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "restore would move pinned linux off its pin 6.2-1 (to 6.1-1)") {
		t.Fatalf("err = %v", err)
	}
	must(t, hooks.SavePins("/", x.StateDir, []hooks.Pin{{Name: "linux", Version: "6.1-1"}}))
	r, err := x.Plan(context.Background(), 1)
	if err != nil || len(r.Allow) != 1 || r.Allow[0] != "linux" {
		t.Fatalf("allow = %v, %v", r, err)
	}
}

// TestRestoreMissingFileIsRefused: a file that is nowhere refuses with the
// next step, before the store or the system changes.
func TestRestoreMissingFileIsRefused(t *testing.T) {
	x := restorer(t)
	must(t, os.Remove(filepath.Join(x.Paths.CacheDirs[0], "linux-6.1-1-x86_64.pkg.tar.zst")))
	_, err := x.Restore(context.Background(), 1)
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "nothing was changed") {
		t.Fatalf("err = %v", err)
	}
	if n := len(x.Store.List()); n != 1 {
		t.Fatalf("%d snapshots after a refused restore", n)
	}
}
