package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vincentos/clp/hooks"
	"github.com/vincentos/clp/testkit/sandbox"
)

// The hook runs under real pacman in cmd/clp's TestHooksReal; these check
// clp-hook's own arguments and its hand-over to clp, in-process.

func TestUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"snapshot"}, {"pre", "post"}, {"--no-such-flag", "pre"}} {
		var out bytes.Buffer
		if code := run(context.Background(), args, nil, &out, &out); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
		if !strings.HasPrefix(out.String(), "clp: error: ") || !strings.Contains(out.String(), "usage: clp-hook") {
			t.Errorf("%q: %s", args, out.String())
		}
	}
}

// TestGuardHandsOnPinnedTarget: a pinned target goes to clp, with clp's
// spelling of the flags and the same targets on stdin; its exit code comes
// back. The stand-in clp records what it was given.
func TestGuardHandsOnPinnedTarget(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	if err := hooks.SavePins("/", state, []hooks.Pin{{Name: "linux", Version: "6.1-1"}}); err != nil {
		t.Fatal(err)
	}
	rec := filepath.Join(dir, "rec")
	fake := filepath.Join(dir, "clp")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\necho \"$@\" >"+rec+"\ncat >>"+rec+"\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CLP_BIN", fake)
	before := sandbox.MustTree(t, state)
	var out bytes.Buffer
	code := run(context.Background(), []string{"-root", dir, "-state-dir", state, "guard"}, strings.NewReader("vim\nlinux\n"), &out, &out)
	if code != 3 {
		t.Fatalf("exit %d, want clp's 3\n%s", code, out.String())
	}
	got, _ := os.ReadFile(rec)
	if want := "--root " + dir + " --state-dir " + state + " hook guard\nvim\nlinux\n"; string(got) != want {
		t.Fatalf("clp got\n%s\nwant\n%s", got, want)
	}
	sandbox.AssertUnchanged(t, state, before)

	// No pinned target: clp-hook decides alone, clp is not run.
	os.Remove(rec)
	if code := run(context.Background(), []string{"--root", dir, "--state-dir", state, "guard"}, strings.NewReader("vim\n"), &out, &out); code != 0 {
		t.Fatalf("exit %d\n%s", code, out.String())
	}
	if _, err := os.Stat(rec); err == nil {
		t.Fatal("clp ran for a target that is not pinned")
	}
}
