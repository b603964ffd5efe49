package patch

import (
	"strings"
	"testing"
	"time"
)

func TestAppliedView(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)
	a := Applied{Name: "fix", Version: "1", Seq: 3, AppliedAt: at, TxID: "secret",
		Steps: []Step{{Op: "replace", Target: "/etc/x", After: FileState{Exists: true, SHA256: "ab"}}},
		Packages: &PackagePlan{
			Actions:  []PackageAction{{Op: OpDowngrade, Name: "a", Version: "1-1"}, {Op: OpPin, Name: "b", Until: "2-1"}},
			Previous: map[string]string{"a": "2-1"},
		}}
	v := a.View()
	if len(v.Files) != 1 || v.Files[0].Path != "/etc/x" || v.Files[0].Action != "replace" || !v.Files[0].After.Exists {
		t.Errorf("files = %+v", v.Files)
	}
	if len(v.Packages) != 1 || v.Packages[0] != (ViewPackage{Name: "a", From: "2-1", To: "1-1"}) {
		t.Errorf("packages = %+v", v.Packages)
	}
	if len(v.Pins) != 1 || v.Pins[0] != (ViewPin{Name: "b", Until: "2-1"}) {
		t.Errorf("pins = %+v", v.Pins)
	}
	// An empty patch lists empty arrays, never null.
	e := Applied{Name: "x"}.View()
	if e.Files == nil || e.Packages == nil || e.Pins == nil {
		t.Errorf("empty view has nil lists: %+v", e)
	}
	row := strings.Join(a.ListRow(), "|")
	if want := "fix|1|-|" + at.Local().Format("2006-01-02 15:04") + "|1|2"; row != want {
		t.Errorf("row = %q, want %q", row, want)
	}
}

func TestEventLine(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ts := at.Local().Format("2006-01-02 15:04:05")
	for _, tc := range []struct {
		e    Event
		want string
	}{
		{Event{Time: at, Event: EventApplied, Name: "fix", Version: "1"}, "[" + ts + "] applied fix 1"},
		{Event{Time: at, Event: EventRolledBack, Name: "fix", Detail: "withdrawn"}, "[" + ts + "] rolled-back fix: withdrawn"},
	} {
		if got := tc.e.Line(); got != tc.want {
			t.Errorf("Line() = %q, want %q", got, tc.want)
		}
	}
}

func TestJournalReportText(t *testing.T) {
	r := &JournalReport{Path: "/s/journal/current", Sealed: true, Kind: "apply", Name: "fix", Version: "1", TxID: "t1",
		Lines: []JournalLine{{N: 1, Status: "ok", Record: []byte(`{"a":1}`)}, {N: 2, Status: "torn", Raw: "{\"b"}}}
	want := "journal: /s/journal/current\nchecksums: hold\ntransaction: apply of fix 1 (id t1)\nphases: none\n" +
		"line 1 (ok): {\"a\":1}\nline 2 (torn): \"{\\\"b\""
	if got := strings.Join(r.Text(), "\n"); got != want {
		t.Errorf("Text() =\n%s\nwant\n%s", got, want)
	}
	d := &JournalReport{Path: "p", Damage: "line 1 does not hold"}
	got := strings.Join(d.Text(), "\n")
	if !strings.Contains(got, "checksums: DAMAGED: line 1 does not hold") || strings.Contains(got, "transaction:") {
		t.Errorf("damaged Text() = %q", got)
	}
}

func TestUndoText(t *testing.T) {
	a := Applied{Steps: []Step{{Op: OpAdd, Target: "/etc/a"}, {Op: OpRemove, Target: "/etc/b"}, {Op: OpReplace, Target: "/etc/c"}},
		Packages: &PackagePlan{
			Actions:  []PackageAction{{Op: OpDowngrade, Name: "x", Version: "1-1"}, {Op: OpDowngrade, Name: "y", Version: "3-1"}},
			Previous: map[string]string{"x": "2-1", "y": "", "z": "5-1"},
			Pins:     []string{"x"},
		}}
	want := "\nFiles (3)\n" +
		"  remove         /etc/a\n" +
		"  put back       /etc/b\n" +
		"  restore        /etc/c\n" +
		"\nPackages (4)\n" +
		"  reinstall      x 1-1 -> 2-1\n" +
		"  remove         y 3-1\n" +
		"  reinstall      z ? -> 5-1\n" +
		"  unpin          x\n\n"
	if got := a.UndoText(); got != want {
		t.Errorf("UndoText =\n%q\nwant\n%q", got, want)
	}
	if got := (Applied{}).UndoText(); got != "\n" {
		t.Errorf("empty UndoText = %q", got)
	}
}

func TestFindApplied(t *testing.T) {
	applied := []Applied{{Name: "a", Version: "1"}, {Name: "b", Version: "2"}}
	if got := FindApplied(applied, "b"); got != &applied[1] {
		t.Errorf("FindApplied(b) = %p, want %p", got, &applied[1])
	}
	if got := FindApplied(applied, "c"); got != nil {
		t.Errorf("FindApplied(c) = %+v", got)
	}
}
