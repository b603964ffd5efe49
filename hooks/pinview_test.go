package hooks

import (
	"testing"
)

func TestPinLines(t *testing.T) {
	for _, tc := range []struct {
		p            Pin
		line, pinned string
	}{
		{Pin{Name: "a", Version: "1-1"}, "a 1-1", ":: pinned a at 1-1"},
		{Pin{Name: "a", Version: "1-1", Until: "2-1"}, "a 1-1 until 2-1", ":: pinned a at 1-1 until 2-1 is offered"},
		{Pin{Name: "b", Patch: "CLP1"}, "b (installed version) (patch CLP1)", ":: pinned b at "},
	} {
		if got := tc.p.Line(); got != tc.line {
			t.Errorf("Line() = %q, want %q", got, tc.line)
		}
		if got := tc.p.PinnedLine(); got != tc.pinned {
			t.Errorf("PinnedLine() = %q, want %q", got, tc.pinned)
		}
	}
	l := Lifted{Pin: Pin{Name: "a", Until: "2-1"}, Offered: "2-2", Repo: "extra"}
	if got, want := l.Line(), ":: pin lifted: a (extra offers 2-2, at or above 2-1)"; got != want {
		t.Errorf("Lifted.Line() = %q, want %q", got, want)
	}
	if got := OrEmpty(nil); got == nil || len(got) != 0 {
		t.Errorf("OrEmpty(nil) = %#v", got)
	}
}
