package pkgtx

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vincentos/clp/pacman"
	"github.com/vincentos/clp/testkit/sandbox"
)

// TestBadSignatureRefusedByPacman: with LocalFileSigLevel = Required and a
// keyring of its own in the root, pacman refuses a package whose .sig is
// not a valid signature; clp passes pacman's failure on as a PacmanError
// and nothing of the installation changes.
func TestBadSignatureRefusedByPacman(t *testing.T) {
	sandbox.RequireRoot(t)
	r, f := sandbox.NewNVIDIA(t)
	if err := r.WriteConfig("# signatures required for local files\n"); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(r.Config)
	if err != nil {
		t.Fatal(err)
	}
	conf := strings.Replace(string(data), "LocalFileSigLevel = Never", "LocalFileSigLevel = Required", 1)
	if err := os.WriteFile(r.Config, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	// The root's keyring holds one trusted test key; the packages are
	// signed, for real, by another key that it does not know.
	gpg(t, r.GPGDir, "--quick-gen-key", "clp test keyring <keyring@clp.invalid>", "ed25519", "sign", "never")
	other := filepath.Join(t.TempDir(), "gnupg")
	must(t, os.Mkdir(other, 0o700))
	gpg(t, other, "--quick-gen-key", "somebody else <else@clp.invalid>", "ed25519", "sign", "never")
	signed := t.TempDir()
	var files []string
	for _, src := range f.Paths(sandbox.Good, sandbox.NVIDIA...) {
		dst := filepath.Join(signed, filepath.Base(src))
		must(t, os.WriteFile(dst, readFile(t, src), 0o644))
		gpg(t, other, "--detach-sign", "--output", dst+".sig", dst)
		files = append(files, dst)
	}
	emptyCache(t, r)
	arch := newArchive(t, files...)
	d := open(t, r, arch.URL)
	skip := func(rel string) bool {
		// clp's own download staging and pacman's log are expected to
		// change, and gpg refreshes its trust database on every check.
		return strings.HasPrefix(rel, "var/lib/clp") || rel == "var/log/pacman.log" || rel == "etc/pacman.d/gnupg/trustdb.gpg"
	}
	before, err := sandbox.TreeState(r.Dir, skip)
	if err != nil {
		t.Fatal(err)
	}
	p, err := d.Plan(bg, []Target{{"nvidia-utils", sandbox.Good}})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Fetch(bg, p); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p.Moves[0].Path + ".sig"); err != nil {
		t.Fatal(err)
	}
	if err := d.Check(bg, p); err != nil {
		t.Fatal(err)
	}
	err = d.Run(bg, p, "test")
	var pe *pacman.PacmanError
	if !errors.As(err, &pe) {
		t.Fatalf("Run: %v, want a PacmanError", err)
	}
	mustContain(t, err, "pacman -U nvidia-utils nvidia-dkms", "pacman exited with status 1")
	// The refused files leave pacman's cache again: the root is as it was.
	d.Discard(p)
	after, err := sandbox.TreeState(r.Dir, skip)
	if err != nil {
		t.Fatal(err)
	}
	if diff := before.Diff(after); len(diff) > 0 {
		t.Fatalf("changed:\n%s", strings.Join(diff, "\n"))
	}
	if got := query(t, r); got != brokenAll {
		t.Fatalf("installed:\n%s", got)
	}
}

// gpg runs gpg on a throwaway home without a passphrase and stops its
// agent when the test ends.
func gpg(t *testing.T, home string, args ...string) {
	t.Helper()
	cmd := exec.Command("gpg", append([]string{"--homedir", home, "--batch", "--yes", "--pinentry-mode", "loopback", "--passphrase", ""}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gpg %v: %v\n%s", args, err, out)
	}
	t.Cleanup(func() { exec.Command("gpgconf", "--homedir", home, "--kill", "gpg-agent").Run() })
}
