package snapshot

import (
	"errors"
	"slices"
	"testing"
)

// TestRetain: the newest Keep stay, and so do the snapshots of a patch that
// is still applied; when the applied list cannot be read, every linked one
// stays.
func TestRetain(t *testing.T) {
	pkgs := []Pkg{{Name: "a", Version: "1-1", Arch: "x86_64", Reason: ReasonExplicit}}
	for _, c := range []struct {
		name    string
		applied func() ([]string, error)
		want    []int
	}{
		{"applied patch kept", func() ([]string, error) { return []string{"P1"}, nil }, []int{2}},
		{"unknown applied keeps linked", func() ([]string, error) { return nil, errors.New("unreadable") }, []int{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := mustOpen(t, t.TempDir())
			mustCreate(t, s, Snapshot{Kind: KindPatchPre, Patch: "P1", Packages: pkgs})
			mustCreate(t, s, Snapshot{Kind: KindPatchPre, Patch: "P2", Packages: pkgs})
			mustCreate(t, s, Snapshot{Kind: KindPre, Packages: pkgs})
			gone, err := s.Retain(Retention{Keep: func() (int, error) { return 1, nil }, Applied: c.applied})
			if err != nil {
				t.Fatal(err)
			}
			if gone == nil {
				gone = []int{}
			}
			if !slices.Equal(gone, c.want) {
				t.Fatalf("deleted %v, want %v", gone, c.want)
			}
		})
	}
	s := mustOpen(t, t.TempDir())
	mustCreate(t, s, Snapshot{Kind: KindPre, Packages: pkgs})
	if _, err := s.Retain(Retention{Keep: func() (int, error) { return 0, errors.New("bad clp.conf") }}); err == nil {
		t.Fatal("a Keep that cannot be read must be an error")
	}
}

// Snapshots made by hand are never pruned by SnapshotKeep: the hooks'
// pre/post snapshots around them go, the manual ones stay until deleted.
func TestRetainKeepsManualSnapshots(t *testing.T) {
	pkgs := []Pkg{{Name: "a", Version: "1-1", Arch: "x86_64", Reason: ReasonExplicit}}
	s := mustOpen(t, t.TempDir())
	mustCreate(t, s, Snapshot{Kind: KindManual, Description: "known good", Packages: pkgs}) // 1
	mustCreate(t, s, Snapshot{Kind: KindPre, Packages: pkgs})                               // 2
	mustCreate(t, s, Snapshot{Kind: KindPost, Packages: pkgs})                              // 3
	mustCreate(t, s, Snapshot{Kind: KindManual, Packages: pkgs})                            // 4
	mustCreate(t, s, Snapshot{Kind: KindPre, Packages: pkgs})                               // 5
	none := func() ([]string, error) { return nil, nil }
	gone, err := s.Retain(Retention{Keep: func() (int, error) { return 1, nil }, Applied: none})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(gone, []int{2, 3}) {
		t.Fatalf("deleted %v, want [2 3]: the manual snapshots 1 and 4 stay", gone)
	}
	var left []int
	for _, sn := range s.List() {
		left = append(left, sn.ID)
	}
	if !slices.Equal(left, []int{1, 4, 5}) {
		t.Fatalf("left %v, want [1 4 5]", left)
	}
}
