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
