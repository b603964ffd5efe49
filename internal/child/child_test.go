package child

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// A killed clp's child (here started and "forgotten" by the test) is
// found by its marker and ended, a db.lck nobody holds open is removed,
// one a live process holds open is kept, and the record goes.
func TestEndLeftovers(t *testing.T) {
	state := t.TempDir()
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
