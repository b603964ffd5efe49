package hooks

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vincentos/clp/internal/fail"
	"github.com/vincentos/clp/pacman"
)

type fakeLocal map[string]string

func (f fakeLocal) Installed1(name string) (pacman.Package, bool, error) {
	v, ok := f[name]
	return pacman.Package{Name: name, Version: v}, ok, nil
}

func TestNewPins(t *testing.T) {
	q := fakeLocal{"a": "1.0-1", "b": "2.0-1"}
	now := time.Date(2026, 1, 2, 3, 4, 5, 600e6, time.FixedZone("x", 3600))
	pins, err := NewPins(q, pacman.VerCmp, []string{"a", "b"}, "", now)
	if err != nil || len(pins) != 2 || pins[0].Version != "1.0-1" || pins[1].Name != "b" || !pins[0].Created.Equal(time.Date(2026, 1, 2, 2, 4, 6, 0, time.UTC)) {
		t.Fatalf("NewPins = %+v, %v", pins, err)
	}
	if pins, err := NewPins(q, pacman.VerCmp, []string{"a"}, "1.1-1", now); err != nil || pins[0].Until != "1.1-1" {
		t.Errorf("until: %+v, %v", pins, err)
	}
	for _, tc := range []struct {
		names []string
		until string
		msg   string
		usage bool
	}{
		{[]string{"a", "c"}, "", "c is not installed: nothing to pin", false},
		{[]string{"a"}, "not a version!", `--until "not a version!" is not a package version`, true},
		{[]string{"b"}, "2.0-1", "--until 2.0-1 is not newer than the installed b 2.0-1", true},
	} {
		_, err := NewPins(q, pacman.VerCmp, tc.names, tc.until, now)
		if err == nil || !strings.Contains(err.Error(), tc.msg) || errors.Is(err, fail.ErrUsage) != tc.usage {
			t.Errorf("%v until %q: %v, want %q (usage %v)", tc.names, tc.until, err, tc.msg, tc.usage)
		}
	}
}

func TestCheckPinned(t *testing.T) {
	pins := []Pin{{Name: "a"}, {Name: "b"}}
	if err := CheckPinned(pins, []string{"b", "a"}); err != nil {
		t.Errorf("pinned names refused: %v", err)
	}
	if err := CheckPinned(pins, []string{"a", "c"}); err == nil || err.Error() != "c is not pinned: nothing changed" {
		t.Errorf("unpinned name: %v", err)
	}
}
