package patch

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vincentos/clp/testkit/sandbox"
)

// clp show --diff looks at a patch's targets inside the root: the
// targets' folder swapped for a link out of the root after the checks,
// just before a target is opened, makes the dry run fail instead of
// reading (and diffing, and printing) the file of the same name outside.
func TestSymlinkSwapCannotLeadShowOutOfRoot(t *testing.T) {
	root, outside := descRoot(t), t.TempDir()
	secret := "a host secret clp must never show\n"
	for _, n := range []string{"modified-file.txt", "removed-file.txt"} {
		if err := os.WriteFile(filepath.Join(outside, n), []byte(secret), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	before := sandbox.MustTree(t, outside)
	dir := filepath.Join(root, "opt/CLP")
	swapped := false
	lookHook = func(p string) {
		if swapped {
			return
		}
		swapped = true
		if err := os.Rename(dir, dir+".moved"); err != nil {
			t.Error(err)
		}
		if err := os.Symlink(outside, dir); err != nil {
			t.Error(err)
		}
	}
	defer func() { lookHook = nil }()
	d, err := Describe(descOpen(t, filepath.Join(samplesDir, "example.clp")), root)
	t.Log(err)
	if !swapped {
		t.Fatal("no target was opened: the test proves nothing")
	}
	sandbox.AssertUnchanged(t, outside, before)
	if d != nil {
		for _, f := range d.Files {
			if strings.Contains(f.Diff, "host secret") {
				t.Fatalf("the dry run read through the link:\n%s", f.Diff)
			}
		}
	}
	if err == nil || !strings.Contains(err.Error(), "escapes") {
		t.Fatalf("error %v, want one saying the path escapes the root", err)
	}
}
