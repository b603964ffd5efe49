package pacman_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vincentos/clp/testkit/sandbox"
)

// A root laid out like a mounted installation: its pacman.conf names the
// system's own paths (/var/lib/pacman/, /etc/pacman.d/hooks/ ...) and
// includes /etc/pacman.d/clp-pins.conf; it has no keyring and no hook
// folder. Real pacman (6.0 or 7.1, whichever is on PATH) driven through the
// runner installs into it, and reads the root's pins, not this machine's:
// an upgrade from a repository skips the pinned packages.
func TestRunnerMountedInstallation(t *testing.T) {
	sandbox.RequireRoot(t)
	f := sandbox.TestFixtures(t)
	r := sandbox.New(t)
	if _, err := os.Stat("/etc/pacman.d/clp-pins.conf"); err == nil {
		t.Skip("this machine has its own /etc/pacman.d/clp-pins.conf: the test could not tell the two apart")
	}
	if err := r.WriteChrootConfig("Include = /etc/pacman.d/clp-pins.conf\n"); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"etc/pacman.d/gnupg", "etc/pacman.d/hooks"} {
		if err := os.RemoveAll(filepath.Join(r.Dir, d)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(r.Dir, "etc/pacman.d/clp-pins.conf"), []byte("IgnorePkg = nvidia-utils nvidia-dkms nvidia-settings\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := r.Install(f.Paths(sandbox.Good, sandbox.NVIDIA...)...); err != nil {
		t.Fatalf("pacman -U on a mounted-layout root: %v", err)
	}
	if err := r.AddRepo("fixed", f.Paths(sandbox.Broken, sandbox.NVIDIA...)...); err != nil {
		t.Fatal(err)
	}
	out, err := r.Pacman("-Su")
	if err != nil {
		t.Fatalf("pacman -Su: %v", err)
	}
	if !strings.Contains(out, "nvidia-utils: ignoring package upgrade") {
		t.Errorf("pacman did not read the root's pins include:\n%s", out)
	}
	q, err := r.Query()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range sandbox.NVIDIA {
		if q[n] != sandbox.Good {
			t.Errorf("%s %s: want it held at %s by the root's pin", n, q[n], sandbox.Good)
		}
	}
	// Nothing was created for pacman in the root beyond what it changes.
	for _, d := range []string{"etc/pacman.d/gnupg", "etc/pacman.d/hooks"} {
		if _, err := os.Stat(filepath.Join(r.Dir, d)); !os.IsNotExist(err) {
			t.Errorf("%s: %v, want it still missing (pacman gets a private stand-in)", d, err)
		}
	}
}
