package snapshot

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// simpleVerCmp orders dotted numeric versions; enough for these fixtures
// (the real one is alpm.VerCmp, passed in by the caller).
func simpleVerCmp(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(pa), len(pb)); i++ {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			return x - y
		}
	}
	return 0
}

func pk(name, ver, arch, reason string) Pkg {
	return Pkg{Name: name, Version: ver, Arch: arch, Reason: reason}
}

func TestDiffKinds(t *testing.T) {
	e, d := ReasonExplicit, ReasonDependency
	from := []Pkg{pk("up", "1.0", "x86_64", e), pk("down", "2.0", "x86_64", e), pk("gone", "1", "any", d),
		pk("same", "1", "any", e), pk("rebuilt", "1", "x86_64", e), pk("why", "1", "any", e)}
	to := []Pkg{pk("why", "1", "any", d), pk("new", "3", "any", d), pk("up", "1.1", "x86_64", e),
		pk("down", "1.9", "x86_64", e), pk("same", "1", "any", e), pk("rebuilt", "1", "any", e)}
	got := Diff(from, to, simpleVerCmp)
	want := []Change{
		{Name: "down", From: "2.0", To: "1.9", Kind: Downgraded, FromReason: e, ToReason: e},
		{Name: "gone", From: "1", Kind: Removed, FromReason: d},
		{Name: "new", To: "3", Kind: Installed, ToReason: d},
		{Name: "rebuilt", From: "1", To: "1", Kind: Reinstalled, FromReason: e, ToReason: e},
		{Name: "up", From: "1.0", To: "1.1", Kind: Upgraded, FromReason: e, ToReason: e},
		{Name: "why", From: "1", To: "1", Kind: ReasonOnly, FromReason: e, ToReason: d},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("diff:\n got %+v\nwant %+v", got, want)
	}
	if len(Diff(to, to, simpleVerCmp)) != 0 {
		t.Fatal("diff of a set with itself is not empty")
	}
}

func TestStoreDiff(t *testing.T) {
	s := mustOpen(t, t.TempDir())
	a := mustCreate(t, s, Snapshot{Kind: KindManual, Packages: []Pkg{pk("x", "1", "any", ReasonExplicit)}})
	b := mustCreate(t, s, Snapshot{Kind: KindManual, Packages: []Pkg{pk("x", "2", "any", ReasonExplicit)}})
	ch, err := s.Diff(a, b, simpleVerCmp)
	if err != nil || len(ch) != 1 || ch[0].Kind != Upgraded {
		t.Fatalf("%+v %v", ch, err)
	}
	if _, err := s.Diff(a, 7, simpleVerCmp); err == nil || err.Error() != "snapshot 7: no such snapshot" {
		t.Fatalf("diff missing: %v", err)
	}
}

func TestRestorePlan(t *testing.T) {
	e, d := ReasonExplicit, ReasonDependency
	target := []Pkg{pk("nvidia-utils", "550.78-1", "x86_64", e), pk("nvidia-dkms", "550.78-1", "x86_64", d),
		pk("removed-since", "1-1", "any", d), pk("keep", "1-1", "any", e), pk("mark", "1-1", "any", d)}
	current := []Pkg{pk("nvidia-utils", "560.35.03-1", "x86_64", e), pk("nvidia-dkms", "560.35.03-1", "x86_64", d),
		pk("added-since", "2-1", "any", e), pk("keep", "1-1", "any", e), pk("mark", "1-1", "any", e)}
	got := RestorePlan(current, target)
	want := Plan{
		Install: []PkgRef{{"nvidia-dkms", "550.78-1", "x86_64"}, {"nvidia-utils", "550.78-1", "x86_64"}, {"removed-since", "1-1", "any"}},
		Remove:  []string{"added-since"},
		AsDeps:  []string{"mark", "removed-since"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("plan:\n got %+v\nwant %+v", got, want)
	}
	if got.Install[0].String() != "nvidia-dkms-550.78-1-x86_64" {
		t.Fatal(got.Install[0].String())
	}
	if p := RestorePlan(target, target); !p.Empty() {
		t.Fatalf("plan to the same state: %+v", p)
	}
}

func TestRemoveStaleDBLock(t *testing.T) {
	boot := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	old := bootTime
	bootTime = func() (time.Time, error) { return boot, nil }
	t.Cleanup(func() { bootTime = old })
	dir := t.TempDir()
	lck := filepath.Join(dir, "db.lck")
	if ok, err := RemoveStaleDBLock("/", dir); ok || err != nil {
		t.Fatalf("no lock: %v %v", ok, err)
	}
	// A lock from this boot may be a running pacman's: kept.
	os.WriteFile(lck, nil, 0o644)
	os.Chtimes(lck, boot.Add(time.Minute), boot.Add(time.Minute))
	if ok, err := RemoveStaleDBLock("/", dir); ok || err != nil {
		t.Fatalf("fresh lock: %v %v", ok, err)
	}
	if _, err := os.Stat(lck); err != nil {
		t.Fatal("fresh lock removed")
	}
	// One inherited from a snapshot taken before this boot: removed.
	os.Chtimes(lck, boot.Add(-time.Hour), boot.Add(-time.Hour))
	if ok, err := RemoveStaleDBLock("/", dir); !ok || err != nil {
		t.Fatalf("stale lock: %v %v", ok, err)
	}
	if _, err := os.Stat(lck); !os.IsNotExist(err) {
		t.Fatal("stale lock still there")
	}
}

func TestRealBootTime(t *testing.T) {
	bt, err := bootTime()
	if err != nil {
		t.Skipf("no /proc/stat btime here: %v", err)
	}
	if bt.After(time.Now()) || bt.Year() < 2000 {
		t.Fatalf("boot time %v", bt)
	}
}
