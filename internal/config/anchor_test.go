package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vincentos/clp/testkit/sandbox"
)

// clp.conf under a mounted root is read inside it: /etc/clp swapped for a
// link out of the root just before the read makes it fail, rather than
// trusting a clp.conf from outside (here one that would add a feed).
func TestSymlinkSwapCannotLeadConfigReadOutOfRoot(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	dir := filepath.Join(root, "etc/clp")
	os.MkdirAll(dir, 0o755)
	if err := os.WriteFile(filepath.Join(dir, "clp.conf"), []byte("UpdatePolicy = none\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, "clp.conf"), []byte("FeedMirror = https://evil.example/\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := sandbox.MustTree(t, outside)
	swapped := sandbox.SwapAtLastMoment(t, "clp.conf", 1, dir, outside)
	c, err := LoadUnder(root, filepath.Join(dir, "clp.conf"))
	t.Log(err)
	if !swapped() {
		t.Fatal("clp.conf was never read: the test proves nothing")
	}
	sandbox.AssertUnchanged(t, outside, before)
	if c != nil && len(c.FeedMirrors) > 0 {
		t.Fatalf("clp.conf read through the link: %v", c.FeedMirrors)
	}
	if err == nil || !strings.Contains(err.Error(), "escapes") {
		t.Fatalf("error %v, want one saying the path escapes the root", err)
	}
}
