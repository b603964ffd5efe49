package patch

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// Each of clp's own writes under the root (journal, applied record,
// history, script log) is anchored to it: a symbolic link to a folder or
// file outside the root, swapped in at the last moment (from the crash
// hook, after every check clp makes), makes the write fail instead of
// landing outside.
func TestSymlinkSwapCannotLeadStateOutOfRoot(t *testing.T) {
	cases := []struct {
		name string
		at   string // the step boundary where the link is swapped in
		swap func(t *testing.T, root, outside string)
		// outsideFile, when set, must still hold its old content.
		outsideFile string
		wantErr     string // "" when the apply still succeeds
		wantWarn    string
		// unswap, when set, takes the link away again: clp recover must
		// then finish the undo (the backups were behind the link).
		unswap func(t *testing.T, root, outside string)
	}{
		{name: "journal folder", at: "locked", swap: func(t *testing.T, root, outside string) {
			link(t, outside, filepath.Join(root, "var/lib/clp/journal"))
		}, wantErr: "write journal"},
		{name: "applied record folder", at: "unpacked", swap: func(t *testing.T, root, outside string) {
			pd := filepath.Join(root, "var/lib/clp/patches/CLP1250101")
			if err := os.Rename(pd, filepath.Join(outside, "CLP1250101")); err != nil {
				t.Fatal(err)
			}
			link(t, filepath.Join(outside, "CLP1250101"), pd)
		}, wantErr: "rolling back also failed", unswap: func(t *testing.T, root, outside string) {
			pd := filepath.Join(root, "var/lib/clp/patches/CLP1250101")
			if err := os.Remove(pd); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(filepath.Join(outside, "CLP1250101"), pd); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "history file", at: "applied", swap: func(t *testing.T, root, outside string) {
			h := filepath.Join(root, "var/lib/clp/history.jsonl")
			os.Remove(h)
			link(t, filepath.Join(outside, "victim"), h)
		}, outsideFile: "victim", wantWarn: "the history could not be written"},
		{name: "script log", at: "script", swap: func(t *testing.T, root, outside string) {
			l := filepath.Join(root, "var/log/CLP.log")
			os.Remove(l)
			link(t, filepath.Join(outside, "victim"), l)
		}, outsideFile: "victim", wantErr: "open log"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root, outside := t.TempDir(), t.TempDir()
			makeRoot(t, root)
			pre := snapshot(t, root, stateSkip...)
			victim := []byte("a host file clp must never write\n")
			os.WriteFile(filepath.Join(outside, "victim"), victim, 0o644)
			rep := &testReporter{}
			e := newEngine(root, rep)
			a := fixtureArchive("CLP1250101")
			a.m.InstallScript = "Install-Patch.sh"
			a.files["Install-Patch.sh"] = []byte("echo the script ran\n")
			crashHook = func(step string) {
				if step == c.at {
					c.swap(t, root, outside)
				}
			}
			defer func() { crashHook = nil }()
			err := applyArchive(t, e, a, ApplyOptions{})
			crashHook = nil
			if c.wantErr != "" {
				mustContain(t, err, c.wantErr)
			} else if err != nil {
				t.Fatal(err)
			}
			if c.wantWarn != "" {
				mustContain(t, errorsJoin(rep.all()), c.wantWarn)
			}
			if got, _ := os.ReadFile(filepath.Join(outside, "victim")); !bytes.Equal(got, victim) {
				t.Fatalf("clp wrote outside the root: %q", got)
			}
			for _, p := range []string{"current", "applied.json", "CLP1250101/applied.json", "history.jsonl"} {
				if _, err := os.Stat(filepath.Join(outside, p)); err == nil {
					t.Fatalf("clp wrote %s outside the root", p)
				}
			}
			if c.unswap != nil {
				c.unswap(t, root, outside)
				if _, err := e.Recover(t.Context()); err != nil {
					t.Fatal(err)
				}
				sameTree(t, "after recover", pre, snapshot(t, root, stateSkip...))
			}
		})
	}
}

func link(t *testing.T, target, at string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(at), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, at); err != nil {
		t.Fatal(err)
	}
}

// A symlink at <root>/opt, <root>/var/lib/clp or <root>/var/log leading out
// of the root: clp refuses before it takes its lock or plans anything, so
// nothing (not even the lock file) is written outside.
func TestStateOrOptOutsideRootRefused(t *testing.T) {
	for _, at := range []string{"opt", "var/lib/clp", "var/lib", "var/log"} {
		t.Run(at, func(t *testing.T) {
			root, outside := t.TempDir(), t.TempDir()
			makeRoot(t, root)
			os.RemoveAll(filepath.Join(root, at))
			link(t, outside, filepath.Join(root, at))
			pre := snapshot(t, root)
			e := newEngine(root, nil)
			_, err := e.Plan(t.Context(), fixtureArchive("CLP1250101"), ApplyOptions{})
			mustContain(t, err, filepath.Join(root, at)+" leads out of the root")
			_, err = e.Recover(t.Context())
			mustContain(t, err, "leads out of the root")
			err = e.Rollback(t.Context(), "CLP1250101", RollbackOptions{})
			mustContain(t, err, "leads out of the root")
			sameTree(t, "after the refusals", pre, snapshot(t, root))
			if ents, _ := os.ReadDir(outside); len(ents) != 0 {
				t.Fatalf("clp wrote outside the root: %v", ents)
			}
		})
	}
}

// A state folder given outside the root (clp --state-dir) is the admin's
// choice: apply and rollback work, with the state written there, anchored
// to that folder.
func TestStateDirOutsideRoot(t *testing.T) {
	root := t.TempDir()
	makeRoot(t, root)
	pre := snapshot(t, root, stateSkip...)
	e := newEngine(root, nil)
	e.StateDir = filepath.Join(t.TempDir(), "state")
	if err := applyArchive(t, e, fixtureArchive("CLP1250101"), ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(e.StateDir, "patches/CLP1250101/applied.json")); err != nil {
		t.Fatal(err)
	}
	if err := e.Rollback(t.Context(), "CLP1250101", RollbackOptions{}); err != nil {
		t.Fatal(err)
	}
	sameTree(t, "after rollback", pre, snapshot(t, root, stateSkip...))
}

// The unpack into /opt/CLP/<name> is anchored too: /opt/CLP swapped for a
// link out of the root just before it fails the apply, writing nothing
// outside; the undo cannot remove /opt/CLP/<name> through the link either,
// so it is left to clp recover, which finishes once the link is gone.
func TestSymlinkSwapCannotLeadUnpackOutOfRoot(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	makeRoot(t, root)
	pre := snapshot(t, root, stateSkip...)
	e := newEngine(root, nil)
	a := fixtureArchive("CLP1250101")
	a.m.InstallScript = "Install-Patch.sh"
	a.files["Install-Patch.sh"] = []byte("echo the script ran\n")
	crashHook = func(step string) {
		if step == "committed" {
			os.RemoveAll(filepath.Join(root, "opt/CLP"))
			link(t, outside, filepath.Join(root, "opt/CLP"))
		}
	}
	defer func() { crashHook = nil }()
	err := applyArchive(t, e, a, ApplyOptions{})
	crashHook = nil
	mustContain(t, err, "rolling back also failed", "path escapes", "run clp recover")
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Fatalf("the unpack wrote outside the root: %v", ents)
	}
	os.Remove(filepath.Join(root, "opt/CLP"))
	if _, err := e.Recover(t.Context()); err != nil {
		t.Fatal(err)
	}
	sameTree(t, "after recover", pre, snapshot(t, root, stateSkip...))
}

// On the running system (root /) clp's folders may sit behind absolute
// links (/opt -> /data/opt is an admin's layout, not an escape): clp takes
// them where they really are, where os.Root alone would refuse every
// absolute link ("path escapes from parent"). Only paths inside the
// test's own folder are used.
func TestLiveRootFollowsAbsoluteLinks(t *testing.T) {
	tmp := t.TempDir()
	real := filepath.Join(tmp, "data")
	for _, d := range []string{"opt", "clp", "log"} {
		if err := os.MkdirAll(filepath.Join(real, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(real, filepath.Join(tmp, "abs")); err != nil { // absolute target
		t.Fatal(err)
	}
	e := &Engine{Root: "/", StateDir: filepath.Join(tmp, "abs/clp/state"), OptDir: filepath.Join(tmp, "abs/opt/CLP"),
		LogPath: filepath.Join(tmp, "abs/log/CLP.log")}
	if err := e.check(); err != nil {
		t.Fatalf("check: %v", err)
	}
	if err := e.writeAnchored(filepath.Join(e.StateDir, "patches/x/applied.json"), []byte("{}"), 0o755, 0o600); err != nil {
		t.Fatalf("write under the state folder: %v", err)
	}
	if _, err := os.Stat(filepath.Join(real, "clp/state/patches/x/applied.json")); err != nil {
		t.Fatal(err)
	}
	if got, err := e.readDirAnchored(filepath.Join(e.OptDir, "..")); err != nil || len(got) != 0 {
		t.Fatalf("read /opt: %v %v", got, err)
	}
	if e.OptDir != filepath.Join(real, "opt/CLP") || e.LogPath != filepath.Join(real, "log/CLP.log") {
		t.Fatalf("OptDir %s, LogPath %s", e.OptDir, e.LogPath)
	}
	// Under any other root, the same link is what it looks like there:
	// refused (anchor_test.go's swap tests).
}
