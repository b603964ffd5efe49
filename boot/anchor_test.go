package boot

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vincentos/clp/testkit/sandbox"
)

// The boot guard's state, its lock and its log are resolved inside the
// system root: clp's state folder (or the log folder) swapped for a link
// out of the root just before the operation makes it fail, and the folder
// outside, holding an armed state of its own, is byte for byte unchanged.
func TestSymlinkSwapCannotLeadBootGuardOutOfRoot(t *testing.T) {
	ctx := context.Background()
	arm := func(g *Guard) error {
		_, err := g.Arm(ctx, Transaction{Source: "pacman", Snapshot: 3, Packages: []string{"linux"}})
		return err
	}
	cases := []struct {
		name, at, dir string
		nth           int
		damaged       bool // the state in the root is damaged first
		op            func(g *Guard) error
		quiet         bool // the operation reports no error (a log line)
	}{
		{name: "write state", at: StateFile, dir: "var/lib/clp", nth: 2, op: arm},
		{name: "read state", at: StateFile, dir: "var/lib/clp", nth: 1, op: func(g *Guard) error {
			st, err := g.Load()
			if st != nil && st.Snapshot == 7 {
				t.Error("the state was read through the link")
			}
			return err
		}},
		{name: "lock", at: "boot-guard.lock", dir: "var/lib/clp", nth: 1, op: arm},
		{name: "move damaged state aside", at: StateFile, dir: "var/lib/clp", nth: 2, damaged: true, op: func(g *Guard) error {
			_, err := g.Disarm(ctx, "test")
			return err
		}},
		{name: "log", at: "CLP.log", dir: "var/log", nth: 1, quiet: true, op: func(g *Guard) error {
			g.say("a line for the log")
			return nil
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tg := newGuard(t)
			g := tg.Guard
			g.LogPath = filepath.Join(tg.dir, "var/log/CLP.log")
			os.MkdirAll(filepath.Join(tg.dir, "var/log"), 0o755)
			if err := os.MkdirAll(g.StateDir, 0o755); err != nil {
				t.Fatal(err)
			}
			if c.damaged {
				os.WriteFile(filepath.Join(g.StateDir, StateFile), []byte("{damaged"), 0o644)
			}
			// Outside: an armed state (snapshot 7), a lock and a log.
			outside := t.TempDir()
			og := *g
			og.Root, og.StateDir, og.LogPath = "/", outside, filepath.Join(outside, "CLP.log")
			if _, err := og.Arm(ctx, Transaction{Source: "pacman", Snapshot: 7, Packages: []string{"linux"}}); err != nil {
				t.Fatal(err)
			}
			before := sandbox.MustTree(t, outside)
			swapped := sandbox.SwapAtLastMoment(t, c.at, c.nth, filepath.Join(tg.dir, c.dir), outside)
			err := c.op(g)
			t.Log(err)
			if !swapped() {
				t.Fatal("the operation never reached the file: the test proves nothing")
			}
			sandbox.AssertUnchanged(t, outside, before)
			if !c.quiet && (err == nil || !strings.Contains(err.Error(), "escapes")) {
				t.Fatalf("error %v, want one saying the path escapes the root", err)
			}
		})
	}
}

// The admin's boot checks under a system root are listed, and each looked
// at, inside the root: the checks folder swapped for a link out of the
// root (to a folder whose check would run and leave a mark) just before
// either makes the boot bad, naming the escape, and runs nothing outside.
func TestSymlinkSwapCannotLeadBootChecksOutOfRoot(t *testing.T) {
	for name, nth := range map[string]int{"list the checks": 1, "look at a check": 2} {
		t.Run(name, func(t *testing.T) {
			root, outside := t.TempDir(), t.TempDir()
			dir := filepath.Join(root, "etc/clp/boot-checks.d")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(dir, "10-ok"), []byte("#!/bin/sh\nexit 0\n"), 0o755)
			os.WriteFile(filepath.Join(outside, "10-ok"), []byte("#!/bin/sh\ntouch \"$0.ran\"\nexit 0\n"), 0o755)
			before := sandbox.MustTree(t, outside)
			swapped := sandbox.SwapAtLastMoment(t, "boot-checks.d", nth, dir, outside)
			o := fastCheck
			o.ChecksDir, o.Root = dir, root
			v := Judge(context.Background(), goodSystem(), 5*time.Second, o)
			t.Log(v)
			if !swapped() {
				t.Fatal("the judge never reached the checks: the test proves nothing")
			}
			sandbox.AssertUnchanged(t, outside, before)
			if v.Good || !strings.Contains(v.Reason, "escapes") {
				t.Fatalf("verdict %+v, want a bad boot saying the path escapes the root", v)
			}
		})
	}
}
