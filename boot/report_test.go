package boot

import (
	"reflect"
	"testing"
	"time"
)

func TestReportFields(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)
	local := at.Local().Format("2006-01-02 15:04")
	r := Report{Summary: "armed (snapshot 3, 1 of 3 failed boots)", Rollback: true, State: &State{
		Transactions: []Transaction{{Source: "clp downgrade", Packages: []string{"a", "b"}, Time: at}},
		Boots:        []Boot{{ID: "0123456789abcdef", Started: at}, {ID: "fedcba9876543210", Started: at, Verdict: "bad", Reason: "gdm restarted"}},
		Restore:      &RestoreRecord{Boot: "fedcba9876543210", Snapshot: 3, Patches: []string{"CLP1"}, Error: "pacman failed"},
		Last:         "disarmed by hand",
	}}
	want := []Field{
		{"boot guard", "armed (snapshot 3, 1 of 3 failed boots)"},
		{"armed by", "clp downgrade (a b) at " + local},
		{"boot 01234567", local + " being judged"},
		{"boot fedcba98", local + " bad: gdm restarted"},
		{"restore", "snapshot 3 in boot fedcba98: FAILED: pacman failed; patches rolled back: CLP1"},
		{"last", "disarmed by hand"},
		{"command line", "clp.rollback=1"},
	}
	if got := r.Fields(); !reflect.DeepEqual(got, want) {
		t.Errorf("Fields =\n%q\nwant\n%q", got, want)
	}
	if got := (Report{Summary: "disarmed", State: &State{}}).Fields(); !reflect.DeepEqual(got, []Field{{"boot guard", "disarmed"}}) {
		t.Errorf("disarmed Fields = %q", got)
	}
}
