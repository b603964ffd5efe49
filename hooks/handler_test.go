package hooks

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vincentos/clp/internal/fail"
	"github.com/vincentos/clp/pacman"
	"github.com/vincentos/clp/snapshot"
	"github.com/vincentos/clp/testkit/sandbox"
)

type fakeDB struct {
	installed, sync map[string]string
	closed          bool
}

func (f *fakeDB) Installed1(name string) (pacman.Package, bool, error) {
	v, ok := f.installed[name]
	return pacman.Package{Name: name, Version: v}, ok, nil
}

func (f *fakeDB) Sync(name string) (pacman.Package, bool, error) {
	v, ok := f.sync[name]
	return pacman.Package{Name: name, Version: v}, ok, nil
}

func (f *fakeDB) Close() error { f.closed = true; return nil }

// TestHandlerGuard: no pinned target opens nothing; a pinned target going
// past its pin is refused with the next step; the database is closed.
func TestHandlerGuard(t *testing.T) {
	state := t.TempDir()
	if err := SavePins("/", state, []Pin{{Name: "linux", Version: "6.1-1"}}); err != nil {
		t.Fatal(err)
	}
	db := &fakeDB{installed: map[string]string{"linux": "6.1-1"}, sync: map[string]string{"linux": "6.2-1"}}
	opened := 0
	h := &Handler{StateDir: state, Open: func() (VersionDB, error) { opened++; return db, nil }}
	if err := h.Guard([]string{"bash"}); err != nil || opened != 0 {
		t.Fatalf("unpinned target: %v, opened %d", err, opened)
	}
	err := h.Guard([]string{"linux"})
	if err == nil || !strings.Contains(err.Error(), "linux") || !db.closed {
		t.Fatalf("pinned target past its pin: %v (closed %v)", err, db.closed)
	}
	var fe *fail.Error
	if !errors.As(err, &fe) || !strings.Contains(fe.NextStep(), "clp pins") {
		t.Fatalf("no next step in %v", err)
	}
}

// A snapshot names the pacman command that ran the transaction, as snap-pac
// does, and the hook says which snapshot it recorded.
func TestSnapshotNamesCommandAndSaysID(t *testing.T) {
	h, _ := newHandlerForCommandTest(t)
	var said []string
	h.Command = "pacman -Syu"
	h.Say = func(msg string) { said = append(said, msg) }
	if err := h.Snapshot(context.Background(), "pre", []string{"linux"}); err != nil {
		t.Fatal(err)
	}
	if err := h.Snapshot(context.Background(), "post", []string{"linux"}); err != nil {
		t.Fatal(err)
	}
	st, err := snapshot.Open(SnapshotDir(h.StateDir))
	if err != nil {
		t.Fatal(err)
	}
	list := st.List()
	if len(list) != 2 || list[0].Description != "pre: pacman -Syu" || list[1].Description != "post: pacman -Syu" {
		t.Fatalf("snapshots %+v", list)
	}
	want := []string{fmt.Sprintf("==> clp: snapshot %d", list[0].ID), fmt.Sprintf("==> clp: snapshot %d (after %d)", list[1].ID, list[0].ID)}
	if !slices.Equal(said, want) {
		t.Fatalf("said %q, want %q", said, want)
	}
}

// commandOf reads a real process's command line; ParentCommand names only
// a pacman parent.
func TestCommandOf(t *testing.T) {
	// A shell that stays (two commands) with a tab in its $0: every
	// argument a real process was started with.
	cmd := exec.Command("sh", "-c", "sleep 30; :", "x\ty")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	// Until the child has exec'd sh, /proc shows the forked copy of the
	// test; the deadline only stops a broken test from hanging.
	var got string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if got = commandOf(cmd.Process.Pid); strings.HasPrefix(got, "sh ") {
			break
		}
	}
	if got != "sh -c sleep 30; : x?y" {
		t.Fatalf("commandOf = %q", got)
	}
	if got := ParentCommand(); got != "" {
		t.Fatalf("the test's parent is not pacman, yet ParentCommand = %q", got)
	}
}

// newHandlerForCommandTest is a Handler on a root whose local database has
// one package, written as pacman writes it, and an empty pacman.conf.
func newHandlerForCommandTest(t *testing.T) (*Handler, string) {
	t.Helper()
	root := t.TempDir()
	dbpath := filepath.Join(root, "var/lib/pacman")
	if err := sandbox.WriteLocalPackage(dbpath, "linux", "6.1-1", true); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(root, "etc/pacman.conf")
	if err := os.MkdirAll(filepath.Dir(conf), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, []byte("[options]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(root, "var/lib/clp")
	keep := snapshot.Retention{Keep: func() (int, error) { return 100, nil }, Applied: func() ([]string, error) { return nil, nil }}
	return &Handler{Root: root, Pacman: pacman.Options{Root: root, DBPath: dbpath, Config: conf}, StateDir: state, Retention: keep}, root
}
