package sandbox

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNVIDIARootWithRealPacman(t *testing.T) {
	r, f := NewNVIDIA(t)
	got, err := r.Query()
	if err != nil {
		t.Fatal(err)
	}
	want := "clp-testconf 1.0-1\nnvidia-dkms 560.35.03-1\nnvidia-settings 560.35.03-1\nnvidia-utils 560.35.03-1"
	if Versions(got) != want {
		t.Fatalf("pacman -Q:\n%s\nwant:\n%s", Versions(got), want)
	}
	smi, err := os.ReadFile(filepath.Join(r.Dir, "usr/bin/nvidia-smi"))
	if err != nil || !strings.Contains(string(smi), "560.35.03") {
		t.Fatalf("nvidia-smi not installed into the root: %v %q", err, smi)
	}
	for _, p := range f.Paths(Good, NVIDIA...) {
		if _, err := os.Stat(filepath.Join(r.CacheDir, filepath.Base(p))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(filepath.Join(r.Dir, "etc/clp-testconf.conf")); err != nil {
		t.Fatal(err)
	}
}

func TestDKMSDependsOnExactUtils(t *testing.T) {
	RequireRoot(t)
	f := TestFixtures(t)
	r := New(t)
	// nvidia-dkms 550 needs nvidia-utils=550.78: pacman must refuse it next
	// to utils 560, which is what makes "siblings move together" necessary.
	err := r.Install(f.Path("nvidia-utils", Broken), f.Path("nvidia-dkms", Good))
	if err == nil || !strings.Contains(err.Error(), "nvidia-utils=550.78") {
		t.Fatalf("want a dependency error naming nvidia-utils=550.78, got %v", err)
	}
}

func TestAddRepo(t *testing.T) {
	RequireRoot(t)
	f := TestFixtures(t)
	r := New(t)
	if err := r.AddRepo("fixed", f.Path("nvidia-utils", Broken)); err != nil {
		t.Fatal(err)
	}
	out, err := r.Pacman("-Sl", "fixed")
	if err != nil || !strings.Contains(out, "nvidia-utils 560.35.03-1") {
		t.Fatalf("pacman -Sl fixed: %v\n%s", err, out)
	}
}

func TestTreeStateSeesModeOwnerContent(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	os.WriteFile(p, []byte("a"), 0o644)
	before := MustTree(t, dir)
	os.Chmod(p, 0o600)
	if d := before.Diff(MustTree(t, dir)); len(d) != 1 || !strings.HasPrefix(d[0], "changed: f") {
		t.Fatalf("mode change not seen: %v", d)
	}
	os.Chmod(p, 0o644)
	os.WriteFile(p, []byte("b"), 0o644)
	if d := before.Diff(MustTree(t, dir)); len(d) != 1 {
		t.Fatalf("content change not seen: %v", d)
	}
	os.WriteFile(p, []byte("a"), 0o644)
	os.WriteFile(filepath.Join(dir, "g"), nil, 0o644)
	if d := before.Diff(MustTree(t, dir)); len(d) != 1 || d[0] != "added: g" {
		t.Fatalf("added file not seen: %v", d)
	}
}
