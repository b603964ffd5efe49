package patch

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vincentos/clp/internal/lock"
	"golang.org/x/sys/unix"
)

// tick outlasts a few ticks of the coarse clock files are stamped with, so
// that a change made after it cannot share the change time of one before.
const tick = 30 * time.Millisecond

// noRacyMargin lets the test reuse what it just wrote (a real target is
// older than racyMargin); racy() stays tested in TestStatFileSeenRacy.
func noRacyMargin(t *testing.T) {
	old := racyMargin
	racyMargin = func() time.Duration { return 0 }
	t.Cleanup(func() { racyMargin = old })
}

// What checkRollback read of a target is reused after the commit point
// only while its inode is untouched: each change a user (or a remove
// script) can make to it makes finishRollback read it again, even one
// that keeps its size and puts its modification time back.
func TestStatFileAgain(t *testing.T) {
	noRacyMargin(t)
	dir := t.TempDir()
	r, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	p := filepath.Join(dir, "f")
	content := []byte("content one\n")
	xattrs := xattrsWork(t, dir)
	changes := []struct {
		name   string
		change func() error
	}{
		{"nothing", func() error { return nil }},
		{"rewritten, same size, mtime put back", func() error {
			st, err := os.Stat(p)
			if err != nil {
				return err
			}
			if err := os.WriteFile(p, []byte("content two\n"), 0o644); err != nil {
				return err
			}
			return os.Chtimes(p, st.ModTime(), st.ModTime())
		}},
		{"chmod to the same mode", func() error { return os.Chmod(p, 0o644) }},
		{"chown to the same owner", func() error { return os.Chown(p, os.Getuid(), os.Getgid()) }},
		{"xattr set", func() error {
			if !xattrs {
				return unix.ENOTSUP
			}
			return unix.Setxattr(p, "user.clp-test", []byte("x"), 0)
		}},
		{"replaced by a rename", func() error {
			if err := os.WriteFile(p+".new", content, 0o644); err != nil {
				return err
			}
			return os.Rename(p+".new", p)
		}},
	}
	for _, c := range changes {
		if err := os.WriteFile(p, content, 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, 0o644)
		time.Sleep(tick)
		seen := seenFiles{}
		first, err := statFileSeen(r, "f", seen)
		if err != nil || !first.Exists {
			t.Fatalf("%s: first read: %+v, %v", c.name, first, err)
		}
		s, ok := seen["f"]
		if !ok {
			t.Fatalf("%s: the first read is not kept", c.name)
		}
		s.st.SHA256 = "kept" // marks an answer taken from seen
		seen["f"] = s
		time.Sleep(tick)
		if err := c.change(); err == unix.ENOTSUP {
			continue
		} else if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		again, err := statFileAgain(r, "f", seen)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		want, err := statFileIn(r, "f")
		if err != nil {
			t.Fatal(err)
		}
		if c.name == "nothing" {
			if again.SHA256 != "kept" {
				t.Fatalf("unchanged file read again: %+v", again)
			}
			continue
		}
		if again.SHA256 != want.SHA256 || again.SHA256 == "kept" {
			t.Fatalf("%s: second read %s, the file is %s", c.name, again.SHA256, want.SHA256)
		}
	}
	// A file gone since is read (as absent), not taken from seen.
	seen := seenFiles{}
	if _, err := statFileSeen(r, "f", seen); err != nil {
		t.Fatal(err)
	}
	os.Remove(p)
	if got, err := statFileAgain(r, "f", seen); err != nil || got.Exists {
		t.Fatalf("removed file: %+v, %v", got, err)
	}
}

// A file changed just before it was read is never reused: a second
// change within the same clock tick would keep its timestamps.
func TestStatFileSeenRacy(t *testing.T) {
	dir := t.TempDir()
	r, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	seen := seenFiles{}
	if _, err := statFileSeen(r, "f", seen); err != nil {
		t.Fatal(err)
	}
	if _, ok := seen["f"]; ok {
		t.Fatalf("a file written %v before it was read is kept (racyMargin %v)", tick, racyMargin())
	}
	now := time.Now()
	for _, c := range []struct {
		ctime time.Time
		want  bool
	}{
		{now.Add(-racyMargin() / 2), true},
		{now.Add(time.Second), true},
		{now.Add(-2 * racyMargin()), false},
		{now.Add(-time.Second).Truncate(time.Second), true}, // whole seconds: 2 s
		{now.Add(-3 * time.Second).Truncate(time.Second), false},
	} {
		ts := unix.NsecToTimespec(c.ctime.UnixNano())
		if got := racy(fileID{ctime: ts, mtime: ts}, now); got != c.want {
			t.Errorf("racy(ctime %v before) = %v, want %v", now.Sub(c.ctime), got, c.want)
		}
	}
}

// A target the user changes after the rollback's check, within the same
// size and modification time, is still seen as changed when the files are
// restored: the rollback stops before overwriting it.
func TestRollbackRereadsTargetChangedAfterCheck(t *testing.T) {
	noRacyMargin(t)
	root := t.TempDir()
	makeRoot(t, root)
	e := newEngine(root, nil)
	if err := applyArchive(t, e, fixtureArchive("X1"), ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(tick)
	p := filepath.Join(root, "etc/clp-test/modified.conf")
	mine := []byte(strings.Replace(string(newModified), "new", "NEW", 1))
	crashHook = func(step string) {
		if step != "journal" {
			return
		}
		st, err := os.Stat(p)
		if err != nil {
			t.Error(err)
			return
		}
		time.Sleep(tick)
		if err := os.WriteFile(p, mine, 0); err != nil {
			t.Error(err)
		}
		os.Chtimes(p, st.ModTime(), st.ModTime())
	}
	defer func() { crashHook = nil }()
	err := e.Rollback(context.Background(), "X1", RollbackOptions{})
	crashHook = nil
	if err == nil || !strings.Contains(err.Error(), "modified.conf changed since the patch was applied") {
		t.Fatalf("rollback = %v", err)
	}
	if got, _ := os.ReadFile(p); string(got) != string(mine) {
		t.Fatalf("the user's copy was overwritten: %q", got)
	}
}

// A target changed between the plan (made without the lock, before the
// prompt) and the apply, within the same size and modification time, is
// still seen as changed under the lock: nothing is changed.
func TestApplyRereadsTargetChangedAfterPlan(t *testing.T) {
	noRacyMargin(t)
	root := t.TempDir()
	makeRoot(t, root)
	e := newEngine(root, nil)
	time.Sleep(tick)
	a := fixtureArchive("X1")
	p, err := e.Plan(context.Background(), a, ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.seen) == 0 {
		t.Fatal("the plan kept nothing of what it read")
	}
	target := filepath.Join(root, "etc/clp-test/modified.conf")
	st, err := os.Stat(target)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(tick)
	mine := []byte(strings.Replace(string(origModified), "o", "0", 1))
	if len(mine) != len(origModified) || string(mine) == string(origModified) {
		t.Fatal("the test's edit must keep the size")
	}
	if err := os.WriteFile(target, mine, 0); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(target, st.ModTime(), st.ModTime()); err != nil {
		t.Fatal(err)
	}
	// The state folder and its lock file are made by taking the lock.
	l, err := lock.Acquire(context.Background(), e.lockPath(), 0)
	if err != nil {
		t.Fatal(err)
	}
	l.Release()
	pre := snapshot(t, root)
	err = e.Apply(context.Background(), a, p)
	if err == nil || !strings.Contains(err.Error(), "target /etc/clp-test/modified.conf changed since the plan was made; nothing was changed, plan again") {
		t.Fatalf("apply = %v", err)
	}
	sameTree(t, "after the refused apply", pre, snapshot(t, root))
}
