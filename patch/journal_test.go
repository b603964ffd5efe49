package patch

import (
	"encoding/json"
	"strings"
	"testing"
)

// The journal's step records wait in memory (recovery never reads them)
// and reach the file in order, before the next record that matters, or
// when the journal is closed; the journal removed drops them.
func TestJournalStepsBatched(t *testing.T) {
	root := t.TempDir()
	makeRoot(t, root)
	e := newEngine(root, nil)
	tx := newTxID()
	j, err := e.createJournal(&txBegin{Kind: txApply, TxID: tx, Name: "X1", Version: "1", Applied: &Applied{Name: "X1", Version: "1", TxID: tx}})
	if err != nil {
		t.Fatal(err)
	}
	lines := func() []string {
		t.Helper()
		r, err := e.inspectJournal()
		if err != nil || r == nil || r.Damage != "" {
			t.Fatalf("journal: %+v, %v", r, err)
		}
		var out []string
		for _, l := range r.Lines[1:] {
			out = append(out, string(l.Record))
		}
		return out
	}
	j.step(0, "staged")
	j.step(1, "staged")
	if got := lines(); len(got) != 0 {
		t.Fatalf("step records written one by one: %q", got)
	}
	if err := j.phase(phaseBackup); err != nil {
		t.Fatal(err)
	}
	want := []string{`{"rec":"step","note":"staged"}`, `{"rec":"step","i":1,"note":"staged"}`, `{"rec":"phase","phase":"backup"}`}
	if got := lines(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("after a phase record:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	n := 0
	for len(lines()) == len(want) {
		j.step(n, "backed up")
		n++
		if n > 10000 {
			t.Fatal("step records never written without a phase record")
		}
	}
	if n < 100 {
		t.Fatalf("a batch of only %d step records", n)
	}
	j.step(n, "backed up")
	j.close()
	if got := lines(); len(got) != len(want)+n+1 {
		t.Fatalf("after close: %d lines, want %d", len(got), len(want)+n+1)
	}
}

// TestStepRecordAsMarshal: step records written directly are what
// json.Marshal writes.
func TestStepRecordAsMarshal(t *testing.T) {
	for _, i := range []int{0, 1, 999, -3, 1 << 40} {
		for _, note := range []string{"", "staged", "backed up", "committed", "restored", `a"b`, "a<b>&", "tab\there", "é", "x\\y"} {
			got, err := stepRecord(nil, i, note)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := json.Marshal(txRecord{Rec: recStep, Index: i, Note: note})
			if string(got) != string(want) {
				t.Errorf("step %d %q: %s, json.Marshal writes %s", i, note, got, want)
			}
		}
	}
}
