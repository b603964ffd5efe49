package lock

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestExclusiveAndReleased(t *testing.T) {
	p := filepath.Join(t.TempDir(), "state", "lock")
	l, err := Acquire(context.Background(), p, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Acquire(context.Background(), p, 100*time.Millisecond)
	var held *HeldError
	if !errors.As(err, &held) || !errors.Is(err, ErrHeld) || held.PID != os.Getpid() {
		t.Fatalf("second acquire: %v", err)
	}
	if !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "pid") {
		t.Fatalf("message must name the lock and the pid: %v", err)
	}
	l.Release()
	l2, err := Acquire(context.Background(), p, 0)
	if err != nil {
		t.Fatal(err)
	}
	l2.Release()
}

func TestWaitsForHolder(t *testing.T) {
	p := filepath.Join(t.TempDir(), "lock")
	l, _ := Acquire(context.Background(), p, 0)
	go func() { time.Sleep(200 * time.Millisecond); l.Release() }()
	l2, err := Acquire(context.Background(), p, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	l2.Release()
}

// The kernel drops an flock when its holder dies: a killed clp never leaves
// a stale lock.
func TestLockDiesWithHolder(t *testing.T) {
	p := filepath.Join(t.TempDir(), "lock")
	cmd := exec.Command("flock", "--close", p, "sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Skip("flock(1) not available:", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		l, err := Acquire(context.Background(), p, 0)
		if err != nil {
			break
		}
		l.Release()
		if time.Now().After(deadline) {
			t.Fatal("flock(1) never took the lock")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	l, err := Acquire(context.Background(), p, time.Second)
	if err != nil {
		t.Fatalf("lock still held after its holder was killed: %v", err)
	}
	l.Release()
}

func TestCancelWhileWaiting(t *testing.T) {
	p := filepath.Join(t.TempDir(), "lock")
	l, _ := Acquire(context.Background(), p, 0)
	defer l.Release()
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(100 * time.Millisecond); cancel() }()
	if _, err := Acquire(ctx, p, time.Minute); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
}

// AcquireIn creates and locks the file inside the os.Root: a state folder
// swapped for a link out of the root after the root was opened fails,
// creating nothing outside; the real folder works.
func TestAcquireInStaysInRoot(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	r, err := os.OpenRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := os.MkdirAll(filepath.Join(root, "var/lib"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "var/lib/clp")); err != nil {
		t.Fatal(err)
	}
	if _, err := AcquireIn(context.Background(), r, "var/lib/clp/lock", 0); err == nil || !strings.Contains(err.Error(), "path escapes from parent") {
		t.Fatalf("AcquireIn through the link: %v", err)
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Fatalf("created outside the root: %v", ents)
	}
	os.Remove(filepath.Join(root, "var/lib/clp"))
	l, err := AcquireIn(context.Background(), r, "var/lib/clp/lock", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := AcquireIn(context.Background(), r, "var/lib/clp/lock", 0); !errors.Is(err, ErrHeld) || !strings.Contains(err.Error(), filepath.Join(root, "var/lib/clp/lock")) {
		t.Fatalf("second AcquireIn: %v", err)
	}
	l.Release()
}
