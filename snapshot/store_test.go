package snapshot

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func newRNG() *rand.Rand { return rand.New(rand.NewPCG(1, 2)) }

func mustOpen(t testing.TB, dir string) *Store {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if p := s.Problems(); len(p) > 0 {
		t.Fatalf("unexpected problems: %v", p)
	}
	return s
}

func mustCreate(t testing.TB, s *Store, snap Snapshot) int {
	t.Helper()
	id, err := s.Create(snap)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func sorted(p []Pkg) []Pkg { return clonedSorted(p) }

func checkGet(t *testing.T, s *Store, id int, want []Pkg) {
	t.Helper()
	got, err := s.Get(id)
	if err != nil {
		t.Fatalf("get %d: %v", id, err)
	}
	if !slices.Equal(got.Packages, sorted(want)) {
		t.Fatalf("get %d: package set differs (%d packages, want %d)", id, len(got.Packages), len(want))
	}
}

// dirState captures every file in dir, to prove a refused call changed
// nothing.
func dirState(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range des {
		if de.Name() == lockName {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, de.Name()))
		if err != nil {
			t.Fatal(err)
		}
		m[de.Name()] = string(b)
	}
	return m
}

func sameDir(t *testing.T, before map[string]string, dir string) {
	t.Helper()
	after := dirState(t, dir)
	if len(after) != len(before) {
		t.Fatalf("files changed: %d before, %d after", len(before), len(after))
	}
	for k, v := range before {
		if after[k] != v {
			t.Fatalf("%s changed", k)
		}
	}
}

func TestRoundTrip2000(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir)
	pkgs := genPkgs(newRNG(), 2000)
	when := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	id := mustCreate(t, s, Snapshot{Kind: KindManual, Time: when, Targets: []string{"a", "b"}, Description: "by hand", Patch: "p1", Packages: pkgs})
	if id != 1 {
		t.Fatalf("first id %d, want 1", id)
	}
	s2 := mustOpen(t, dir)
	got, err := s2.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Packages, sorted(pkgs)) || !slices.Equal(got.Targets, []string{"a", "b"}) {
		t.Fatal("round trip lost data")
	}
	if !got.Time.Equal(when) || got.Kind != KindManual || got.Description != "by hand" || got.Patch != "p1" || got.Count != 2000 {
		t.Fatalf("metadata: %+v", got.meta())
	}
	l := s2.List()
	if len(l) != 1 || l[0].Packages != nil || l[0].Targets != nil || l[0].Count != 2000 {
		t.Fatalf("list: %+v", l)
	}
	latest, ok, err := s2.Latest()
	if err != nil || !ok || latest.ID != id || len(latest.Packages) != 2000 {
		t.Fatalf("latest: %v %v %v", latest.ID, ok, err)
	}
	if _, err := s2.Get(99); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "snapshot 99") {
		t.Fatalf("get missing: %v", err)
	}
}

func TestEmptyStore(t *testing.T) {
	s := mustOpen(t, filepath.Join(t.TempDir(), "new", "dir"))
	if len(s.List()) != 0 {
		t.Fatal("not empty")
	}
	if _, ok, err := s.Latest(); ok || err != nil {
		t.Fatalf("latest on empty: %v %v", ok, err)
	}
	// An empty package set is a valid (if odd) state.
	id := mustCreate(t, s, Snapshot{Kind: KindManual})
	checkGet(t, s, id, nil)
}

// history creates n successive snapshots and returns the package set of each.
func history(t *testing.T, s *Store, n int) map[int][]Pkg {
	return historyOf(t, s, n, 300)
}

func historyOf(t *testing.T, s *Store, n, size int) map[int][]Pkg {
	rng := newRNG()
	pkgs := genPkgs(rng, size)
	want := map[int][]Pkg{}
	for i := 0; i < n; i++ {
		pkgs = evolve(rng, pkgs, 1+rng.IntN(4))
		want[mustCreate(t, s, Snapshot{Kind: KindManual, Packages: pkgs})] = pkgs
	}
	return want
}

func segFiles(t *testing.T, dir string) []string {
	m, _ := filepath.Glob(filepath.Join(dir, segPrefix+"*"))
	return m
}

func shortSegments(t *testing.T) {
	old := checkpointEvery
	checkpointEvery = 16
	t.Cleanup(func() { checkpointEvery = old })
}

func TestDeltasAndCheckpoints(t *testing.T) {
	shortSegments(t)
	dir := t.TempDir()
	s := mustOpen(t, dir)
	want := historyOf(t, s, 40, 1000)
	// 40 small-change snapshots: one checkpoint every checkpointEvery.
	if n := len(segFiles(t, dir)); n != 3 {
		t.Fatalf("%d segments, want 3", n)
	}
	s = mustOpen(t, dir)
	for id, pkgs := range want {
		checkGet(t, s, id, pkgs)
	}
	// A change touching over half the packages is stored as a checkpoint
	// in a new segment.
	big := genPkgs(rand.New(rand.NewPCG(9, 9)), 400)
	id := mustCreate(t, s, Snapshot{Kind: KindManual, Packages: big})
	id2 := mustCreate(t, s, Snapshot{Kind: KindManual, Packages: big[:10]})
	id3 := mustCreate(t, s, Snapshot{Kind: KindManual, Packages: big})
	if n := len(segFiles(t, dir)); n != 6 {
		t.Fatalf("%d segments after big changes, want 6", n)
	}
	checkGet(t, s, id, big)
	checkGet(t, s, id2, big[:10])
	checkGet(t, s, id3, big)
	if errs := s.Check(); len(errs) > 0 {
		t.Fatal(errs)
	}
}

func TestDeleteMiddleAndCheckpoint(t *testing.T) {
	shortSegments(t)
	dir := t.TempDir()
	s := mustOpen(t, dir)
	want := historyOf(t, s, 40, 1000)
	// ID 1 and 17 are checkpoints; 8 and 25 deltas in the middle.
	del := []int{1, 8, 17, 25}
	if err := s.Delete(del...); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*Store{s, mustOpen(t, dir)} {
		for id, pkgs := range want {
			if slices.Contains(del, id) {
				if _, err := s.Get(id); !errors.Is(err, ErrNotFound) {
					t.Fatalf("deleted %d still readable: %v", id, err)
				}
				continue
			}
			checkGet(t, s, id, pkgs)
		}
	}
	// Deleting every snapshot of the first segment removes its file.
	var first []int
	for id := 2; id <= 16; id++ {
		if id != 8 {
			first = append(first, id)
		}
	}
	if err := s.Delete(first...); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.segPath(1)); !os.IsNotExist(err) {
		t.Fatalf("segment 1 still there: %v", err)
	}
	s = mustOpen(t, dir)
	checkGet(t, s, 40, want[40])
	// New snapshots after deletes get new IDs, never reused ones.
	if id := mustCreate(t, s, Snapshot{Kind: KindManual, Packages: want[40]}); id != 41 {
		t.Fatalf("id %d, want 41", id)
	}
}

func TestDeleteLatestKeepsIDsMonotonic(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir)
	want := history(t, s, 5)
	if err := s.Delete(4, 5); err != nil {
		t.Fatal(err)
	}
	// Compact so the index no longer mentions 5 at all.
	if err := s.locked(s.rewriteIndex); err != nil {
		t.Fatal(err)
	}
	s = mustOpen(t, dir)
	pkgs := evolve(newRNG(), want[3], 2)
	if id := mustCreate(t, s, Snapshot{Kind: KindManual, Packages: pkgs}); id != 6 {
		t.Fatalf("id %d, want 6", id)
	}
	checkGet(t, s, 6, pkgs)
	checkGet(t, s, 3, want[3])
}

func TestDeleteRefusesUnknown(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir)
	history(t, s, 3)
	before := dirState(t, dir)
	err := s.Delete(2, 42)
	if err == nil || err.Error() != "delete snapshot 42: no such snapshot" {
		t.Fatalf("err = %v", err)
	}
	sameDir(t, before, dir)
	if len(mustOpen(t, dir).List()) != 3 {
		t.Fatal("a snapshot was deleted")
	}
}

func TestPruneProtected(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir)
	rng := newRNG()
	pkgs := genPkgs(rng, 50)
	for i := 1; i <= 20; i++ {
		patch := ""
		if i == 3 || i == 12 {
			patch = "nvidia-fix"
		}
		pkgs = evolve(rng, pkgs, 2)
		mustCreate(t, s, Snapshot{Kind: KindManual, Patch: patch, Packages: pkgs})
	}
	applied := func(sn Snapshot) bool { return sn.Patch == "nvidia-fix" }
	gone, err := s.Prune(5, applied)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int
	for _, sn := range mustOpen(t, dir).List() {
		ids = append(ids, sn.ID)
	}
	if want := []int{3, 12, 16, 17, 18, 19, 20}; !slices.Equal(ids, want) {
		t.Fatalf("kept %v, want %v (deleted %v)", ids, want, gone)
	}
	if len(gone) != 13 {
		t.Fatalf("deleted %v", gone)
	}
	if errs := s.Check(); len(errs) > 0 {
		t.Fatal(errs)
	}
	if _, err := s.Prune(-1, nil); err == nil || err.Error() != "prune: keep -1 is negative" {
		t.Fatalf("negative keep: %v", err)
	}
}

func TestCreateRefusals(t *testing.T) {
	good := Pkg{Name: "a", Version: "1-1", Arch: "x86_64", Reason: ReasonExplicit}
	cases := []struct {
		name string
		snap Snapshot
		want string
	}{
		{"no kind", Snapshot{Packages: []Pkg{good}}, "snapshot has no kind"},
		{"tab in version", Snapshot{Kind: KindManual, Packages: []Pkg{{Name: "a", Version: "1\t2", Arch: "x86_64", Reason: ReasonExplicit}}}, `snapshot not recorded: package "a": version "1\t2" contains whitespace`},
		{"empty arch", Snapshot{Kind: KindManual, Packages: []Pkg{{Name: "a", Version: "1", Reason: ReasonExplicit}}}, `snapshot not recorded: package "a": empty architecture`},
		{"bad reason", Snapshot{Kind: KindManual, Packages: []Pkg{{Name: "a", Version: "1", Arch: "any", Reason: "maybe"}}}, `snapshot not recorded: package "a": install reason "maybe" is neither "explicit" nor "dependency"`},
		{"duplicate", Snapshot{Kind: KindManual, Packages: []Pkg{good, good}}, `snapshot not recorded: package "a" is listed twice`},
		{"newline target", Snapshot{Kind: KindManual, Targets: []string{"x\ny"}, Packages: []Pkg{good}}, `snapshot not recorded: target "x\ny" is empty or contains a tab or newline`},
	}
	dir := t.TempDir()
	s := mustOpen(t, dir)
	history(t, s, 2)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := dirState(t, dir)
			_, err := s.Create(c.snap)
			if err == nil || err.Error() != c.want {
				t.Fatalf("err = %v, want %s", err, c.want)
			}
			sameDir(t, before, dir)
		})
	}
}

func TestTwoHandlesShareTheStore(t *testing.T) {
	dir := t.TempDir()
	a, b := mustOpen(t, dir), mustOpen(t, dir)
	p := genPkgs(newRNG(), 20)
	if id := mustCreate(t, a, Snapshot{Kind: KindManual, Packages: p}); id != 1 {
		t.Fatal(id)
	}
	// b has not seen a's snapshot; its write reloads the index first.
	if id := mustCreate(t, b, Snapshot{Kind: KindManual, Packages: p[:10]}); id != 2 {
		t.Fatalf("second handle got id %d, want 2", id)
	}
	if err := a.Delete(2); err != nil {
		t.Fatal(err)
	}
	checkGet(t, a, 1, p)
	if l := mustOpen(t, dir).List(); len(l) != 1 || l[0].ID != 1 {
		t.Fatalf("list %+v", l)
	}
}

func TestIndexCompaction(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir)
	want := history(t, s, 10)
	for i := 0; i < 100; i++ {
		if err := s.SetSnapper(1+i%10, SnapperRef{Config: "root", Number: i}); err != nil {
			t.Fatal(err)
		}
	}
	data, _ := os.ReadFile(s.indexPath())
	if n := bytes.Count(data, []byte("\n")); n > 2*10+64 {
		t.Fatalf("index has %d lines, compaction did not run", n)
	}
	s = mustOpen(t, dir)
	for id, pkgs := range want {
		checkGet(t, s, id, pkgs)
	}
	l := s.List()
	if l[9].Snapper == nil || l[9].Snapper.Number != 99 || l[0].Snapper.Number != 90 {
		t.Fatalf("snapper refs lost: %+v %+v", l[0].Snapper, l[9].Snapper)
	}
}

// A crash can tear the tail of the file being appended. Tearing the index
// loses only the snapshot whose line was torn.
func TestTornIndexTail(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir)
	want := history(t, s, 5)
	path := s.indexPath()
	data, _ := os.ReadFile(path)
	if err := os.WriteFile(path, data[:len(data)-20], 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir)
	if err != nil {
		t.Fatalf("open after torn index: %v", err)
	}
	p := s.Problems()
	// Line 1 is the format header, so the fifth snapshot is line 6.
	if len(p) != 1 || !strings.Contains(p[0].Error(), "line 6 is incomplete (a torn write)") || !strings.Contains(p[0].Error(), path) {
		t.Fatalf("problems = %v", p)
	}
	if n := len(s.List()); n != 4 {
		t.Fatalf("%d snapshots listed, want 4", n)
	}
	for id := 1; id <= 4; id++ {
		checkGet(t, s, id, want[id])
	}
	// The next writer cuts the torn line and carries on.
	id := mustCreate(t, s, Snapshot{Kind: KindManual, Packages: want[5]})
	s = mustOpen(t, dir)
	checkGet(t, s, id, want[5])
	if errs := s.Check(); len(errs) > 0 {
		t.Fatal(errs)
	}
}

// Tearing a segment makes only the record torn unreadable; the next snapshot
// starts a fresh segment instead of appending after the damage.
func TestTornSegmentTail(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir)
	want := history(t, s, 5)
	seg := s.segPath(1)
	data, _ := os.ReadFile(seg)
	if err := os.WriteFile(seg, data[:len(data)-7], 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir)
	if err != nil {
		t.Fatalf("open after torn segment: %v", err)
	}
	p := s.Problems()
	if len(p) != 1 || p[0].Error() != "snapshot 5: segment "+seg+" ends before its record (torn write)" {
		t.Fatalf("problems = %v", p)
	}
	for id := 1; id <= 4; id++ {
		checkGet(t, s, id, want[id])
	}
	_, err = s.Get(5)
	if err == nil || !strings.Contains(err.Error(), "snapshot 5: segment "+seg) || !strings.Contains(err.Error(), "torn write") {
		t.Fatalf("get torn: %v", err)
	}
	id := mustCreate(t, s, Snapshot{Kind: KindManual, Packages: want[5]})
	if _, err := os.Stat(s.segPath(2)); err != nil {
		t.Fatalf("no new segment after a torn one: %v", err)
	}
	checkGet(t, s, id, want[5])
	checkGet(t, s, 4, want[4])
	if errs := s.Check(); len(errs) != 1 {
		t.Fatalf("check: %v", errs)
	}
}

// A record written but not indexed (crash between the two appends) is part
// of its segment's chain; later snapshots stay right.
func TestUnindexedRecord(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir)
	want := history(t, s, 3)
	idx, _ := os.ReadFile(s.indexPath())
	rng := newRNG()
	p4 := evolve(rng, want[3], 3)
	mustCreate(t, s, Snapshot{Kind: KindManual, Packages: p4})
	if err := os.WriteFile(s.indexPath(), idx, 0o644); err != nil { // drop line 4
		t.Fatal(err)
	}
	s = mustOpen(t, dir)
	p5 := evolve(rng, p4, 3)
	id := mustCreate(t, s, Snapshot{Kind: KindManual, Packages: p5})
	if id != 4 {
		t.Fatalf("id %d, want 4", id)
	}
	checkGet(t, mustOpen(t, dir), 4, p5)
}

// TestCreateKeepsNoReferenceToTheCallersPackages: a package list already
// in name order is recorded without a copy, so the store must not keep it
// as the base of its next delta: the caller changing its slice between two
// Creates must not change what the second records.
func TestCreateKeepsNoReferenceToTheCallersPackages(t *testing.T) {
	s := mustOpen(t, t.TempDir())
	rng := rand.New(rand.NewPCG(5, 6))
	pkgs := genPkgs(rng, 300)
	sortByName(pkgs)
	mustCreate(t, s, Snapshot{Kind: KindManual, Packages: pkgs})
	first := slices.Clone(pkgs)
	id2 := mustCreate(t, s, Snapshot{Kind: KindManual, Packages: pkgs})
	// The caller reuses its slice for the next state.
	pkgs[7].Version = "9.9-9"
	id3 := mustCreate(t, s, Snapshot{Kind: KindManual, Packages: pkgs})
	checkGet(t, s, id2, first)
	checkGet(t, s, id3, pkgs)
	s = mustOpen(t, s.Dir())
	checkGet(t, s, id2, first)
	checkGet(t, s, id3, pkgs)
}
