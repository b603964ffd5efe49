package alpm_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/vincentos/clp/alpm"
	"github.com/vincentos/clp/pacman"
	"github.com/vincentos/clp/testkit/sandbox"
)

func TestOpenReadsWhatPacmanInstalled(t *testing.T) {
	r, _ := sandbox.NewNVIDIA(t)
	h, err := alpm.Open(pacman.Options{Root: r.Dir})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	pkgs, err := h.Installed()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range pkgs {
		got[p.Name] = p.Version
	}
	want, _ := r.Query()
	if sandbox.Versions(got) != sandbox.Versions(want) {
		t.Fatalf("libalpm:\n%s\npacman -Q:\n%s", sandbox.Versions(got), sandbox.Versions(want))
	}
	dkms, ok, err := h.Installed1("nvidia-dkms")
	if err != nil || !ok || len(dkms.Depends) != 1 || dkms.Depends[0] != "nvidia-utils=560.35.03" || dkms.Base != "nvidia-utils" {
		t.Fatalf("nvidia-dkms: %+v %v %v", dkms, ok, err)
	}
	if n, _ := h.CountInstalled(); n != 4 {
		t.Fatalf("count %d", n)
	}
}

func TestSyncQuery(t *testing.T) {
	r, f := sandbox.NewNVIDIA(t)
	if err := r.AddRepo("core", f.Path("nvidia-utils", sandbox.Good), f.Path("clp-testconf", "1.1-1")); err != nil {
		t.Fatal(err)
	}
	h, err := alpm.Open(pacman.Options{Root: r.Dir})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	p, ok, err := h.Sync("clp-testconf")
	if err != nil || !ok || p.Version != "1.1-1" || p.Repo != "core" {
		t.Fatalf("sync clp-testconf: %+v %v %v", p, ok, err)
	}
	if _, ok, _ := h.Sync("nvidia-settings"); ok {
		t.Fatal("nvidia-settings is in no repository")
	}
}

func TestOpenWithoutLocalDB(t *testing.T) {
	r := sandbox.New(t)
	os.Remove(filepath.Join(r.DBPath, "local"))
	_, err := alpm.Open(pacman.Options{Root: r.Dir})
	if !errors.Is(err, alpm.ErrNoLocalDB) {
		t.Fatalf("got %v", err)
	}
}

// The runner drives real pacman: a downgrade of all three driver packages
// in one transaction, and pacman's own failure passed through with its code.
func TestRunnerRealPacman(t *testing.T) {
	r, f := sandbox.NewNVIDIA(t)
	p, err := r.Paths()
	if err != nil {
		t.Fatal(err)
	}
	run := &pacman.Runner{Paths: p}
	if err := run.Run(context.Background(), []string{"-U"}, f.Paths(sandbox.Good, sandbox.NVIDIA...)...); err != nil {
		t.Fatal(err)
	}
	q, _ := r.Query()
	if q["nvidia-utils"] != "550.78-1" || q["nvidia-dkms"] != "550.78-1" || q["nvidia-settings"] != "550.78-1" {
		t.Fatalf("after downgrade: %v", q)
	}
	err = run.Run(context.Background(), []string{"-R"}, "no-such-package")
	var pe *pacman.PacmanError
	if !errors.As(err, &pe) || pe.Code != 1 {
		t.Fatalf("want pacman's exit code 1, got %v", err)
	}
}

func TestInstalledVersionsMatchesInstalled(t *testing.T) {
	r, _ := sandbox.NewNVIDIA(t)
	h, err := alpm.Open(pacman.Options{Root: r.Dir})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	full, _ := h.Installed()
	light, err := h.InstalledVersions()
	if err != nil || len(full) != len(light) || len(full) == 0 {
		t.Fatalf("%d vs %d packages, %v", len(full), len(light), err)
	}
	for i := range full {
		if full[i].Name != light[i].Name || full[i].Version != light[i].Version {
			t.Fatalf("package %d: %+v vs %+v", i, full[i], light[i])
		}
	}
}
