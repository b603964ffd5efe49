package hooks

import (
	"errors"
	"strings"
	"testing"

	"github.com/vincentos/clp/internal/fail"
	"github.com/vincentos/clp/pacman"
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
	if err := SavePins(state, []Pin{{Name: "linux", Version: "6.1-1"}}); err != nil {
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
