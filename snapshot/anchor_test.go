package snapshot

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vincentos/clp/testkit/sandbox"
)

// The store's index, segments and lock are resolved inside the system root
// at the moment each is opened: the store's folder swapped for a link out
// of the root (to a copy of the store, so that following it would work)
// just before an operation makes it fail, and the copy outside is byte for
// byte unchanged.
func TestSymlinkSwapCannotLeadSnapshotsOutOfRoot(t *testing.T) {
	pkgs := []Pkg{{Name: "linux", Version: "6.1-1", Arch: "x86_64", Reason: ReasonExplicit}}
	// at: the swap comes just before the first operation on a path with it
	// (the lock is taken first; a segment is written or removed after it).
	cases := map[string]func(s *Store, root, dir string, id int) error{
		"open": func(s *Store, root, dir string, id int) error {
			_, err := OpenUnder(root, dir)
			return err
		},
		"create segment": func(s *Store, root, dir string, id int) error {
			_, err := s.Create(Snapshot{Kind: KindManual, Time: time.Now(), Packages: pkgs})
			return err
		},
		"get": func(s *Store, root, dir string, id int) error {
			got, err := s.Get(id)
			if err == nil && len(got.Packages) > 0 && got.Packages[0].Version != "6.1-1" {
				return nil // read outside: the check below fails
			}
			return err
		},
		"delete segment": func(s *Store, root, dir string, id int) error {
			return s.Delete(id)
		},
		"prune lock": func(s *Store, root, dir string, id int) error {
			_, err := s.Prune(0, nil)
			return err
		},
	}
	for name, op := range cases {
		t.Run(name, func(t *testing.T) {
			root, outside := t.TempDir(), t.TempDir()
			dir := filepath.Join(root, "var/lib/clp/snapshots")
			s, err := OpenUnder(root, dir)
			if err != nil {
				t.Fatal(err)
			}
			id := mustCreate(t, s, Snapshot{Kind: KindManual, Time: time.Now(), Packages: pkgs})
			// Outside: the same store, with another version in its segment.
			ents, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range ents {
				data, err := os.ReadFile(filepath.Join(dir, e.Name()))
				if err != nil {
					t.Fatal(err)
				}
				data = []byte(strings.ReplaceAll(string(data), "6.1-1", "6.6-6"))
				if err := os.WriteFile(filepath.Join(outside, e.Name()), data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			before := sandbox.MustTree(t, outside)
			at := "snapshots"
			if strings.HasSuffix(name, "segment") {
				at = "seg-"
			}
			swapped := sandbox.SwapAtLastMoment(t, at, 1, dir, outside)
			err = op(s, root, dir, id)
			sandbox.AssertEscapeRefused(t, swapped, outside, before, err)
		})
	}
}

// A stale db.lck is looked at and removed inside the system root: the
// package database's folder swapped for a link out of the root (to a
// folder holding a stale db.lck of its own) just before either makes the
// removal fail, and the lock outside stays.
func TestSymlinkSwapCannotLeadDBLockRemovalOutOfRoot(t *testing.T) {
	boot := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	old := bootTime
	bootTime = func() (time.Time, error) { return boot, nil }
	t.Cleanup(func() { bootTime = old })
	for name, nth := range map[string]int{"look at the lock": 1, "remove the lock": 2} {
		t.Run(name, func(t *testing.T) {
			root, outside := t.TempDir(), t.TempDir()
			dbpath := filepath.Join(root, "var/lib/pacman")
			for _, d := range []string{dbpath, outside} {
				if err := os.MkdirAll(d, 0o755); err != nil {
					t.Fatal(err)
				}
				lck := filepath.Join(d, "db.lck")
				os.WriteFile(lck, nil, 0o644)
				os.Chtimes(lck, boot.Add(-time.Hour), boot.Add(-time.Hour))
			}
			before := sandbox.MustTree(t, outside)
			swapped := sandbox.SwapAtLastMoment(t, "db.lck", nth, dbpath, outside)
			removed, err := RemoveStaleDBLock(root, dbpath)
			t.Log(removed, err)
			if !swapped() {
				t.Fatal("the removal never reached the lock: the test proves nothing")
			}
			sandbox.AssertUnchanged(t, outside, before)
			if removed || err == nil || !strings.Contains(err.Error(), "escapes") {
				t.Fatalf("removed %v, error %v, want one saying the path escapes the root", removed, err)
			}
		})
	}
}

// pacman's local database under a mounted root is read inside it: the
// database folder swapped for a link out of the root (to another system's
// database) just before the folder is listed or a desc file read makes
// the read fail, rather than describe the other system's packages.
func TestSymlinkSwapCannotLeadLocalDBReadOutOfRoot(t *testing.T) {
	read := map[string]func(root, dbpath string) ([]Pkg, error){
		"": func(root, dbpath string) ([]Pkg, error) { return ReadLocalDB(root, dbpath, nil, time.Time{}) },
		" (the hooks' listing)": func(root, dbpath string) ([]Pkg, error) {
			l, err := ListLocalDB(root, dbpath)
			if err != nil {
				return nil, err
			}
			defer l.Close()
			return l.read(nil, time.Time{})
		},
	}
	for name, at := range map[string]string{"list the folder": "/local", "read a desc": "/desc"} {
		for how, readDB := range read {
			t.Run(name+how, func(t *testing.T) {
				root, outside := t.TempDir(), t.TempDir()
				dbpath := filepath.Join(root, "var/lib/pacman")
				if err := sandbox.SynthesizeLocalDB(dbpath, 5); err != nil {
					t.Fatal(err)
				}
				if err := sandbox.SynthesizeLocalDB(outside, 9); err != nil {
					t.Fatal(err)
				}
				before := sandbox.MustTree(t, outside)
				swapped := sandbox.SwapAtLastMoment(t, at, 1, dbpath, outside)
				pkgs, err := readDB(root, dbpath)
				t.Log(len(pkgs), err)
				if !swapped() {
					t.Fatal("the read never reached the database: the test proves nothing")
				}
				sandbox.AssertUnchanged(t, outside, before)
				if pkgs != nil || err == nil || !strings.Contains(err.Error(), "escapes") {
					t.Fatalf("%d packages, error %v, want one saying the path escapes the root", len(pkgs), err)
				}
			})
		}
	}
}
