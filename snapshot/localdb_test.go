package snapshot

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/vincentos/clp/testkit/sandbox"
)

// readLocalDBBoth is ReadLocalDB of db, checked against the hooks' way
// to the same answer (ListLocalDB, then the comparison with prev).
func readLocalDBBoth(t *testing.T, db string, prev []Pkg, prevTime time.Time) ([]Pkg, error) {
	t.Helper()
	got, err := ReadLocalDB("/", db, prev, prevTime)
	l, lerr := ListLocalDB("/", db)
	if lerr != nil {
		t.Fatalf("ListLocalDB: %v (ReadLocalDB: %v)", lerr, err)
	}
	defer l.Close()
	listed, lerr := l.read(prev, prevTime)
	if fmt.Sprint(err) != fmt.Sprint(lerr) || !slices.Equal(got, listed) {
		t.Fatalf("ReadLocalDB and the listing differ:\n%v %v\n%v %v", got, err, listed, lerr)
	}
	return got, err
}

// ReadLocalDB reuses the previous snapshot for unchanged packages, and
// notices a desc rewritten since (pacman -D changes the reason in place).
func TestReadLocalDB(t *testing.T) {
	db := t.TempDir()
	if err := sandbox.SynthesizeLocalDB(db, 50); err != nil {
		t.Fatal(err)
	}
	first, err := readLocalDBBoth(t, db, nil, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 50 || first[0].Arch == "" {
		t.Fatalf("read %d packages: %+v", len(first), first[:1])
	}
	taken := time.Now().Add(-time.Hour) // as if the snapshot were old
	again, err := readLocalDBBoth(t, db, first, taken)
	if err != nil || len(Diff(first, again, func(a, b string) int { return 0 })) != 0 {
		t.Fatalf("re-read differs: %v", err)
	}
	// A hint that lies (wrong arch) is used only while the desc is older
	// than the snapshot: here every desc is newer, so all are read again.
	bad := append([]Pkg(nil), first...)
	bad[3].Arch = "bogus"
	got, err := readLocalDBBoth(t, db, bad, taken)
	if err != nil || got[3].Arch == "bogus" {
		t.Fatalf("stale hint used for a desc newer than the snapshot: %+v %v", got[3], err)
	}
	// With a snapshot newer than every desc, the hint is trusted.
	got, _ = readLocalDBBoth(t, db, bad, time.Now().Add(time.Hour))
	if got[3].Arch != "bogus" {
		t.Fatalf("hint not used: %+v", got[3])
	}
	// A hint list out of name order is looked up all the same (sorted,
	// it is binary-searched; otherwise through a map).
	rev := slices.Clone(bad)
	slices.Reverse(rev)
	got, _ = readLocalDBBoth(t, db, rev, time.Now().Add(time.Hour))
	if got[3].Arch != "bogus" {
		t.Fatalf("hint out of order not used: %+v", got[3])
	}
	// A changed reason (desc rewritten) is seen.
	p := first[5]
	explicit := p.Reason == ReasonDependency
	if err := sandbox.WriteLocalPackage(db, p.Name, p.Version, explicit); err != nil {
		t.Fatal(err)
	}
	got, _ = readLocalDBBoth(t, db, first, time.Now().Add(-time.Minute))
	if got[5].Reason == p.Reason {
		t.Fatalf("reason change of %s not seen", p.Name)
	}
	// Packages installed (first, last and middle in name order) and one
	// removed since the hint: the hinted ones merged with those read
	// give what a read of every desc gives.
	prev, _ := readLocalDBBoth(t, db, nil, time.Time{})
	for _, n := range []string{"0aaa", "zzzz", prev[20].Name + "-extra"} {
		if err := sandbox.WriteLocalPackage(db, n, "1.0-1", true); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.RemoveAll(filepath.Join(db, "local", prev[30].Name+"-"+prev[30].Version)); err != nil {
		t.Fatal(err)
	}
	got, err = readLocalDBBoth(t, db, prev, time.Now().Add(time.Hour))
	want, _ := readLocalDBBoth(t, db, nil, time.Time{})
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("merged read differs from a full read (%v):\n%v\n%v", err, got, want)
	}
	// Only a removal: nothing to read, but prev is no longer the answer.
	if err := os.RemoveAll(filepath.Join(db, "local", want[40].Name+"-"+want[40].Version)); err != nil {
		t.Fatal(err)
	}
	got, err = readLocalDBBoth(t, db, want, time.Now().Add(time.Hour))
	if err != nil || len(got) != len(want)-1 || slices.Contains(got, want[40]) {
		t.Fatalf("removal of %s not seen: %d packages, %v", want[40].Name, len(got), err)
	}
}

// TestReadLocalDBSplitStats: on a database big enough for the stats to be
// split among goroutines, a desc rewritten in any chunk is read again and
// the others are taken from the hint.
func TestReadLocalDBSplitStats(t *testing.T) {
	db := t.TempDir()
	if err := sandbox.SynthesizeLocalDB(db, 1100); err != nil {
		t.Fatal(err)
	}
	first, err := readLocalDBBoth(t, db, nil, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	// Every hint lies about the arch: it is trusted for a desc older than
	// the snapshot, and not for one rewritten since.
	bad := slices.Clone(first)
	for i := range bad {
		bad[i].Arch = "bogus"
	}
	// Every desc an hour old, then four rewritten now.
	old := time.Now().Add(-time.Hour)
	descs, _ := filepath.Glob(filepath.Join(db, "local", "*", "desc"))
	for _, d := range descs {
		if err := os.Chtimes(d, old, old); err != nil {
			t.Fatal(err)
		}
	}
	rewritten := map[string]bool{}
	for _, i := range []int{0, 3, 550, 1099} {
		p := first[i]
		if err := sandbox.WriteLocalPackage(db, p.Name, p.Version, p.Reason == ReasonDependency); err != nil {
			t.Fatal(err)
		}
		rewritten[p.Name] = true
	}
	got, err := readLocalDBBoth(t, db, bad, time.Now().Add(-time.Minute))
	if err != nil || len(got) != len(first) {
		t.Fatalf("read %d packages: %v", len(got), err)
	}
	for _, p := range got {
		if rewritten[p.Name] == (p.Arch == "bogus") {
			t.Errorf("%s: arch %q (desc rewritten: %v)", p.Name, p.Arch, rewritten[p.Name])
		}
	}
}
