package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vincentos/clp/internal/child"
	"github.com/vincentos/clp/testkit/sandbox"
)

// A clp SIGKILLed while real pacman runs a slow pre-transaction hook of
// its downgrade: pacman dies with clp (it does not go on to downgrade the
// packages behind the next clp's back), the hook, pacman's child, is ended
// at once by pacman's reaper (internal/child), or, where the reaper was
// killed too, by the next clp before it does anything; the db.lck the
// killed pacman left is released by the next clp, and the packages are as
// pacman left them (untouched: it died before the transaction).
func TestKilledDuringPacmanHookLeavesNoOrphan(t *testing.T) {
	sandbox.RequireRoot(t)
	bin := sandbox.GoBuild(t, ".", filepath.Join(t.TempDir(), "clp"))
	t.Run("reaper", func(t *testing.T) { killedDuringPacmanHook(t, bin, false) })
	t.Run("reaper killed too", func(t *testing.T) { killedDuringPacmanHook(t, bin, true) })
}

func killedDuringPacmanHook(t *testing.T, bin string, killReaper bool) {
	r := nvidiaRoot(t)
	slowHook(t, r, "echo started > /hook-started; sleep 60")
	before, err := r.Query()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd := exec.Command(bin, "--root", r.Dir, "downgrade", "nvidia-utils", "--to", "550.78-1", "--noconfirm")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Waiting for the hook, not timing anything: the deadline only stops
	// a broken clp from hanging the test.
	marker := filepath.Join(r.Dir, "hook-started")
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(marker); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("the hook never started; clp said:\n%s", out.String())
		}
	}
	tokens := childTokens(t, filepath.Join(r.Dir, "var/lib/clp"))
	t.Cleanup(func() {
		for _, pid := range child.Marked(tokens) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	if len(child.Marked(tokens)) < 2 {
		t.Fatal("pacman and its hook do not both run (the test does not test anything)")
	}
	reapers := child.Reapers(tokens)
	if len(reapers) == 0 {
		t.Fatal("pacman has no reaper")
	}
	if killReaper {
		for _, pid := range reapers {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	lck := filepath.Join(r.Dir, "var/lib/pacman/db.lck")
	if _, err := os.Stat(lck); err != nil {
		t.Fatalf("the killed pacman left no db.lck (the test does not test anything): %v", err)
	}
	if !killReaper {
		// Nothing of pacman is left, before any clp runs again.
		for deadline := time.Now().Add(5 * time.Second); len(child.Marked(tokens)) > 0; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("5 s after clp was killed, pacman's hook still runs: %v", child.Marked(tokens))
			}
		}
	} else if len(child.Marked(tokens)) == 0 {
		t.Fatal("nothing of pacman is left running (the test does not test anything)")
	}

	stdout, stderr, code := runBin(t, bin, "--root", r.Dir, "list")
	if code != 0 {
		t.Fatalf("list after the kill: exit %d\n%s%s", code, stdout, stderr)
	}
	if killReaper && (!strings.Contains(stderr, "ended") || !strings.Contains(stderr, "process(es) an interrupted clp left running (pacman")) {
		t.Fatalf("no word of what was ended:\n%s", stderr)
	}
	if left := child.Marked(tokens); len(left) != 0 {
		t.Fatalf("pacman's hook still runs after the next clp: %v", left)
	}
	if _, err := os.Stat(lck); !os.IsNotExist(err) {
		t.Fatalf("the dead pacman's db.lck is still there: %v", err)
	}
	after, err := r.Query()
	if err != nil {
		t.Fatal(err)
	}
	if sandbox.Versions(after) != sandbox.Versions(before) {
		t.Fatalf("packages changed behind clp's back:\n%s\nwant\n%s", sandbox.Versions(after), sandbox.Versions(before))
	}
	// pacman works again: the downgrade goes through now, after it
	// finished what the killed one left (its record).
	os.Remove(filepath.Join(r.HookDir, "50-slow.hook"))
	stdout, stderr, code = runBin(t, bin, "--root", r.Dir, "downgrade", "nvidia-utils", "--to", "550.78-1", "--noconfirm")
	if code != 0 {
		t.Fatalf("downgrade after recovery: exit %d\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "found and finished the interrupted clp downgrade of nvidia-utils, nvidia-dkms") {
		t.Fatalf("the downgrade does not say it finished the killed one:\n%s", stderr)
	}
}

func childTokens(t *testing.T, stateDir string) map[string]bool {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(stateDir, child.FileName))
	if err != nil {
		t.Fatalf("no record of the running pacman: %v", err)
	}
	out := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		var rec child.Record
		if json.Unmarshal(sc.Bytes(), &rec) == nil {
			out[rec.Token] = true
		}
	}
	return out
}

// slowHook makes sleep runnable in r's chroot and installs a pre-transaction
// hook that runs the shell line cmd on every install or upgrade.
func slowHook(t *testing.T, r *sandbox.Root, cmd string) {
	t.Helper()
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep binary")
	}
	if err := r.MakeChrootable(sleep); err != nil {
		t.Fatal(err)
	}
	hook := "[Trigger]\nOperation = Install\nOperation = Upgrade\nType = Package\nTarget = *\n\n" +
		"[Action]\nDescription = a slow hook\nWhen = PreTransaction\nExec = /bin/sh -c '" + cmd + "'\n"
	if err := os.MkdirAll(r.HookDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(r.HookDir, "50-slow.hook"), []byte(hook), 0o644); err != nil {
		t.Fatal(err)
	}
}
