package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vincentos/clp/testkit/sandbox"
)

// clp's state lock (taken by pin, unpin, downgrade and update) is created
// and locked inside the root: the state folder swapped for a link out of
// the root just before it makes the command stop, and the folder outside
// (with a lock file of its own) is byte for byte unchanged.
func TestSymlinkSwapCannotLeadStateLockOutOfRoot(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	state := filepath.Join(root, "var/lib/clp")
	os.MkdirAll(state, 0o755)
	os.WriteFile(filepath.Join(outside, "lock"), []byte("12345\n"), 0o644)
	env := &Env{Globals: Globals{Root: root}}
	before := sandbox.MustTree(t, outside)
	swapped := sandbox.SwapAtLastMoment(t, "lock", 1, state, outside)
	l, err := env.stateLock(context.Background())
	t.Log(err)
	if err == nil {
		l.Release()
	}
	if !swapped() {
		t.Fatal("the lock was never taken: the test proves nothing")
	}
	sandbox.AssertUnchanged(t, outside, before)
	if err == nil || !strings.Contains(err.Error(), "escapes") {
		t.Fatalf("error %v, want one saying the path escapes the root", err)
	}
}
