// Package lock is clp's single-writer lock: an flock on a file in the state
// directory. The kernel drops an flock when its holder dies, so a crash never
// leaves a stale lock behind (unlike pacman's db.lck, which is a plain file).
package lock

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vincentos/clp/internal/fsx"
)

// ErrHeld is returned when another clp holds the lock and the caller chose
// not to wait (or waiting timed out).
var ErrHeld = errors.New("lock is held by another clp process")

// Lock is a held lock; Release it when done.
type Lock struct {
	f    *os.File
	Path string
}

// HeldError names the lock file and, when known, the pid holding it.
type HeldError struct {
	Path string
	PID  int
}

func (e *HeldError) Error() string {
	if e.PID > 0 {
		return fmt.Sprintf("%s is held by another clp (pid %d)", e.Path, e.PID)
	}
	return fmt.Sprintf("%s is held by another clp", e.Path)
}

func (e *HeldError) Unwrap() error { return ErrHeld }

// Acquire takes the exclusive lock at path, waiting up to wait (0: do not
// wait). It writes the holder's pid into the file for the error message of
// the next caller; the pid is informational only, the flock is what counts.
func Acquire(ctx context.Context, path string, wait time.Duration) (*Lock, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("create lock directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", path, err)
	}
	return take(ctx, f, path, wait)
}

// AcquireIn is Acquire for the lock file name resolved inside r (an
// os.Root of the system root): its folder is created and the file opened
// inside r, so a symbolic link swapped in for the state folder or a folder
// above it cannot make clp create or lock a file outside the root.
func AcquireIn(ctx context.Context, r *os.Root, name string, wait time.Duration) (*Lock, error) {
	path := filepath.Join(r.Name(), name)
	if err := r.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return nil, fmt.Errorf("create lock directory: %w", err)
	}
	f, err := r.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", path, err)
	}
	return take(ctx, f, path, wait)
}

// AcquireUnder is Acquire for path, a file under the system root root,
// resolved inside it (fsx's *Under helpers): for root "/" it is Acquire.
func AcquireUnder(ctx context.Context, root, path string, wait time.Duration) (*Lock, error) {
	if err := fsx.MkdirAllUnder(root, filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("create lock directory: %w", err)
	}
	f, err := fsx.OpenFileUnder(root, path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		if pe := (*fs.PathError)(nil); errors.As(err, &pe) && pe.Path == path {
			err = pe.Err // (the message names path once)
		}
		return nil, fmt.Errorf("open lock %s: %w", path, err)
	}
	return take(ctx, f, path, wait)
}

func take(ctx context.Context, f *os.File, path string, wait time.Duration) (*Lock, error) {
	var err error
	deadline := time.Now().Add(wait)
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if !time.Now().Before(deadline) {
			pid := readPID(f)
			f.Close()
			return nil, &HeldError{Path: path, PID: pid}
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &Lock{f: f, Path: path}, nil
}

func readPID(f *os.File) int {
	buf := make([]byte, 32)
	n, _ := f.ReadAt(buf, 0)
	pid, _ := strconv.Atoi(strings.TrimSpace(string(buf[:n])))
	return pid
}

// Release drops the lock. The file stays: removing it would race with a
// waiter that already opened it.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	l.f.Truncate(0)
	err := l.f.Close()
	l.f = nil
	return err
}
