package system

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/vincentos/clp/pacman"
)

func TestPathsAreUnderTheRoot(t *testing.T) {
	root := t.TempDir()
	s := New(pacman.Options{Root: root}, "")
	for got, want := range map[string]string{
		s.StateDir:     filepath.Join(root, "var/lib/clp"),
		s.ConfigPath(): filepath.Join(root, "etc/clp/clp.conf"),
		s.KeysDir():    filepath.Join(root, "etc/clp/keys"),
		s.OptDir():     filepath.Join(root, "opt/CLP"),
		s.PatchLog():   filepath.Join(root, "var/log/CLP.log"),
		s.ClpLog():     filepath.Join(root, "var/log/clp.log"),
	} {
		if got != want {
			t.Errorf("%s, want %s", got, want)
		}
	}
	if s := New(pacman.Options{Root: root}, "/elsewhere"); s.StateDir != "/elsewhere" {
		t.Errorf("--state-dir ignored: %s", s.StateDir)
	}
}

func TestConfigReadOnce(t *testing.T) {
	root := t.TempDir()
	s := New(pacman.Options{Root: root}, "")
	c1, err := s.Config()
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Dir(s.ConfigPath()), 0o755)
	os.WriteFile(s.ConfigPath(), []byte("Bogus = 1\n"), 0o644)
	if c2, err := s.Config(); err != nil || c2 != c1 {
		t.Fatalf("clp.conf read twice: %v", err)
	}
}

// Under a mounted root, clp's own folders behind an absolute link are
// taken where that system has them (the link resolved against the root),
// so that the anchored reads and writes under them work.
func TestOwnFoldersResolvedInMountedRoot(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"data/var/lib", "data/var/log", "data/opt"} {
		os.MkdirAll(filepath.Join(root, d), 0o755)
	}
	os.MkdirAll(filepath.Join(root, "var"), 0o755)
	os.Symlink("/data/var/lib", filepath.Join(root, "var/lib"))
	os.Symlink("/data/var/log", filepath.Join(root, "var/log"))
	os.Symlink("/data/opt", filepath.Join(root, "opt"))
	s := New(pacman.Options{Root: root}, "")
	for got, want := range map[string]string{
		s.StateDir:   filepath.Join(root, "data/var/lib/clp"),
		s.OptDir():   filepath.Join(root, "data/opt/CLP"),
		s.PatchLog(): filepath.Join(root, "data/var/log/CLP.log"),
		s.ClpLog():   filepath.Join(root, "data/var/log/clp.log"),
	} {
		if got != want {
			t.Errorf("%s, want %s", got, want)
		}
	}
}
