package snapshot

import (
	"reflect"
	"testing"
	"time"
)

func TestViewLines(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s := Snapshot{ID: 7, Time: at, Kind: KindPre, Orphan: true, Count: 12, Description: "pacman -Syu", Snapper: &SnapperRef{Config: "root", Number: 42}}
	if got, want := s.ListRow(), []string{"7", at.Local().Format("2006-01-02 15:04:05"), "pre!", "-", "12", "root:42", "pacman -Syu"}; !reflect.DeepEqual(got, want) {
		t.Errorf("ListRow = %q, want %q", got, want)
	}
	post := Snapshot{ID: 8, Kind: "post", PairID: 7}
	if got := post.ListRow(); got[2] != "post" || got[3] != "7" || got[5] != "-" {
		t.Errorf("post ListRow = %q", got)
	}
	if got := (Pkg{Name: "a", Version: "1-1", Arch: "x86_64", Reason: ReasonDependency}).Line(); got != "a 1-1 x86_64 (dependency)" {
		t.Errorf("Pkg.Line = %q", got)
	}
	if got := (Pkg{Name: "a", Version: "1-1", Arch: "any", Reason: ReasonExplicit}).Line(); got != "a 1-1 any" {
		t.Errorf("Pkg.Line = %q", got)
	}
	for _, tc := range []struct {
		c             Change
		past, planned string
	}{
		{Change{Name: "a", To: "1", Kind: Installed}, "installed   a 1", "install     a 1"},
		{Change{Name: "a", From: "1", Kind: Removed}, "removed     a 1", "remove      a 1"},
		{Change{Name: "a", From: "2", To: "1", Kind: Downgraded}, "downgraded  a 2 -> 1", "downgrade   a 2 -> 1"},
		{Change{Name: "a", FromReason: ReasonExplicit, ToReason: ReasonDependency, Kind: ReasonOnly}, "reason      a explicit -> dependency", "reason      a explicit -> dependency"},
	} {
		if got := tc.c.Line(false); got != tc.past {
			t.Errorf("Line(false) = %q, want %q", got, tc.past)
		}
		if got := tc.c.Line(true); got != tc.planned {
			t.Errorf("Line(true) = %q, want %q", got, tc.planned)
		}
	}
	if got := Names([]Change{{Name: "a"}, {Name: "b"}}); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("Names = %q", got)
	}
}

func TestSnapshotFields(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s := Snapshot{ID: 8, Time: at, Kind: "post", PairID: 7, Orphan: true, Targets: []string{"a", "b"}, Count: 3}
	want := []Field{
		{"ID", "8"}, {"Date", Time(at)}, {"Kind", "post"},
		{"Orphan", "yes (no post followed: the transaction failed or was interrupted)"},
		{"Pre", "7"}, {"Description", "None"}, {"Patch", "None"}, {"Targets", "a  b"}, {"Snapper", "None"}, {"Packages", "3"},
	}
	if got := s.Fields(); !reflect.DeepEqual(got, want) {
		t.Errorf("Fields =\n%q\nwant\n%q", got, want)
	}
	s = Snapshot{ID: 1, Kind: KindManual, Description: "mine", Patch: "CLP1", Snapper: &SnapperRef{Config: "root", Number: 5}}
	got := s.Fields()
	if len(got) != 8 || got[3] != (Field{"Description", "mine"}) || got[4] != (Field{"Patch", "CLP1"}) || got[6] != (Field{"Snapper", "root:5"}) {
		t.Errorf("Fields = %q", got)
	}
}
