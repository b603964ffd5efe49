package child

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A killed clp's child (here started and "forgotten" by the test) is
// found by its marker and ended, a db.lck nobody holds open is removed,
// one a live process holds open is kept, and the record goes.
func TestEndLeftovers(t *testing.T) {
	root := t.TempDir()
	state := In(root, filepath.Join(root, "var/lib/clp"))
	dbdir := t.TempDir()
	lck := filepath.Join(dbdir, "db.lck")
	os.WriteFile(lck, nil, 0o000)
	cmd := exec.CommandContext(t.Context(), "sleep", "60")
	token := Prepare(cmd)
	if err := add(state, Record{Token: token, What: "pacman -U", Lock: lck}); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	if got := Marked(map[string]bool{token: true}); len(got) != 1 || got[0] != cmd.Process.Pid {
		t.Fatalf("Marked = %v, want [%d]", got, cmd.Process.Pid)
	}
	n, err := EndLeftovers(state, 10*time.Second)
	if err != nil || n != 1 {
		t.Fatalf("EndLeftovers = %d, %v", n, err)
	}
	err = <-done
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("the child was not killed: %v", err)
	}
	if _, err := os.Stat(lck); !os.IsNotExist(err) {
		t.Fatalf("the dead child's db.lck is left: %v", err)
	}
	if left, _ := Leftovers(state); len(left) != 0 {
		t.Fatalf("records left: %+v", left)
	}

	// A db.lck a live process holds open (a pacman clp did not start) stays.
	os.WriteFile(lck, nil, 0o000)
	f, err := os.Open(lck)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	add(state, Record{Token: "0123456789abcdef01234567", What: "pacman -R", Lock: lck})
	if _, err := EndLeftovers(state, time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(lck); err != nil {
		t.Fatalf("a db.lck held open was removed: %v", err)
	}
}

// The record is anchored to the root: a state folder (or a folder above
// it) swapped for a symbolic link out of the root after clp checked it
// makes recording, reading and ending fail, with nothing written, read or
// removed outside; a db.lck under the root is removed inside it only.
func TestRecordAnchoredToRoot(t *testing.T) {
	for _, at := range []string{"var/lib/clp", "var/lib", "var"} {
		t.Run(at, func(t *testing.T) {
			root, outside := t.TempDir(), t.TempDir()
			state := In(root, filepath.Join(root, "var/lib/clp"))
			if err := os.MkdirAll(filepath.Join(root, "var/lib/clp"), 0o755); err != nil {
				t.Fatal(err)
			}
			// A record outside that a clp following the link would read
			// and act on (its lock would be removed), then rewrite.
			os.MkdirAll(filepath.Join(outside, "var/lib/clp"), 0o755)
			lck := filepath.Join(root, "var/lib/pacman/db.lck")
			rec := []byte(`{"token":"0123456789abcdef01234567","what":"pacman -U","lock":"` + lck + `"}` + "\n")
			bait := filepath.Join(outside, "var/lib/clp", FileName)
			os.WriteFile(bait, rec, 0o600)
			os.RemoveAll(filepath.Join(root, at))
			if err := os.Symlink(filepath.Join(outside, at), filepath.Join(root, at)); err != nil {
				t.Fatal(err)
			}
			if err := add(state, Record{Token: "abcdefabcdefabcdefabcdef", What: "script x"}); err == nil || !strings.Contains(err.Error(), "path escapes from parent") {
				t.Fatalf("add through the link: %v", err)
			}
			if _, err := Leftovers(state); err == nil || !strings.Contains(err.Error(), "path escapes from parent") {
				t.Fatalf("Leftovers through the link: %v", err)
			}
			if _, err := EndLeftovers(state, time.Second); err == nil || !strings.Contains(err.Error(), "path escapes from parent") {
				t.Fatalf("EndLeftovers through the link: %v", err)
			}
			cmd := exec.CommandContext(t.Context(), "true")
			if err := Run(state, Record{What: "script y"}, cmd); err == nil || cmd.Process != nil {
				t.Fatalf("Run recorded through the link and started: %v", err)
			}
			if got, _ := os.ReadFile(bait); string(got) != string(rec) {
				t.Fatalf("the record outside the root was changed: %q", got)
			}
			ents, _ := os.ReadDir(filepath.Join(outside, "var/lib/clp"))
			if len(ents) != 1 {
				t.Fatalf("clp wrote outside the root: %v", ents)
			}
		})
	}
}
