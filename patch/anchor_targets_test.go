package patch

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// swapped is a folder of the root swapped, at the last moment, for a
// symbolic link to a copy of it outside the root: what an attacker who
// can write the folder's parent does after clp looked. The copy holds the
// same files, so every hash clp checks still holds through the link.
type swapped struct {
	link, moved, outside string
	// before is the outside tree right after the swap: clp must leave it
	// byte for byte as it is.
	before map[string]treeEntry
}

func swapOut(t *testing.T, root, dir string) *swapped {
	t.Helper()
	outside := t.TempDir()
	real := filepath.Join(root, dir)
	copyTo := filepath.Join(outside, filepath.Base(dir))
	if out, err := exec.Command("cp", "-a", real, copyTo).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
	os.WriteFile(filepath.Join(outside, "victim"), []byte("a host file clp must never write\n"), 0o644)
	s := &swapped{link: real, moved: real + ".moved-away", outside: outside}
	if err := os.Rename(real, s.moved); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(copyTo, real); err != nil {
		t.Fatal(err)
	}
	s.before = snapshot(t, outside)
	return s
}

// untouched checks that nothing outside the root was written or removed.
func (s *swapped) untouched(t *testing.T, when string) {
	t.Helper()
	sameTree(t, "outside the root "+when, s.before, snapshot(t, s.outside))
}

// undo takes the link away and puts the real folder back.
func (s *swapped) undo(t *testing.T) {
	t.Helper()
	if err := os.Remove(s.link); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(s.moved, s.link); err != nil {
		t.Fatal(err)
	}
}

// The patch's own targets are anchored to the root in apply: a folder on
// a target's path swapped for a link out of the root after planning (at
// the prompt, under the lock) or between any two steps (staging, backups,
// the commit's renames, a removal, a mode change) fails the apply with
// "path escapes from parent"; nothing outside the root is written or
// removed (the copy behind the link holds the same files, so on a clp that
// checks paths only when planning every hash holds and the write lands
// outside); clp recover, with the link still there, refuses the same way;
// once the link is gone the system is exactly as before the apply.
func TestSymlinkSwapCannotLeadApplyOutOfRoot(t *testing.T) {
	cases := []struct {
		name, at, dir string
	}{
		{"at the prompt", "locked", "etc/clp-test"},
		{"staging", "journal", "etc/clp-test"},
		{"backup", "staged", "usr/lib/clp-test"},
		{"commit rename", "backed-up", "etc/clp-test"},
		{"commit mode", "commit /usr/lib/clp-test/tool", "usr/lib/clp-test"},
		{"commit remove", "commit /etc/clp-test/removed.conf", "etc/clp-test"},
	}
	for _, c := range cases {
		for _, slow := range []bool{false, true} {
			name := c.name
			if slow {
				// Folders resolved by os.Root alone, as on a kernel
				// without openat2.
				name += " without openat2"
			}
			t.Run(name, func(t *testing.T) {
				noOpenat2 = slow
				defer func() { noOpenat2 = false }()
				root := t.TempDir()
				makeRoot(t, root)
				pre := snapshot(t, root, stateSkip...)
				e := newEngine(root, nil)
				var sw *swapped
				crashHook = func(step string) {
					if step == c.at && sw == nil {
						sw = swapOut(t, root, c.dir)
					}
				}
				defer func() { crashHook = nil }()
				err := applyArchive(t, e, fixtureArchive("CLP1250101"), ApplyOptions{})
				crashHook = nil
				if sw == nil {
					t.Fatalf("the apply never reached %q", c.at)
				}
				sw.untouched(t, "after the apply")
				mustContain(t, err, "path escapes from parent")
				if ap, _ := e.readApplied("CLP1250101"); ap != nil {
					t.Fatal("the patch was recorded as applied")
				}
				if _, jerr := os.Lstat(e.journalPath()); jerr == nil {
					// The undo could not go through the link either: recovery
					// refuses the same way while the link is there.
					_, rerr := e.Recover(t.Context())
					mustContain(t, rerr, "path escapes from parent")
					sw.untouched(t, "after clp recover")
				}
				sw.undo(t)
				if _, err := e.Recover(t.Context()); err != nil {
					t.Fatal(err)
				}
				sameTree(t, "after recover", pre, snapshot(t, root, stateSkip...))
				// And the patch applies cleanly now.
				if err := applyArchive(t, e, fixtureArchive("CLP1250101"), ApplyOptions{}); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

// Rollback and recovery restore through the root too: a folder on a
// target's path swapped for a link out of the root before the rollback's
// checks makes it refuse (the patch stays applied); swapped past its
// commit point (before the first restore, or between two restores) it
// stops with "run clp recover" instead of restoring a backup or removing
// a placed file outside the root; clp recover refuses the same way while
// the link is there, and finishes once it is gone.
func TestSymlinkSwapCannotLeadRollbackOutOfRoot(t *testing.T) {
	cases := []struct {
		name, at, dir string
		refused       bool // before the commit point: nothing changed
	}{
		{"at the start", "locked", "etc/clp-test", true},
		{"first restore (mode)", "commit-point", "usr/lib/clp-test", false},
		{"restore of a backup", "restore /usr/lib/clp-test/tool", "etc/clp-test", false},
		{"removal of an added file", "restore /etc/clp-test/modified.conf", "etc/clp-test", false},
	}
	for _, c := range cases {
		for _, slow := range []bool{false, true} {
			name := c.name
			if slow {
				name += " without openat2"
			}
			t.Run(name, func(t *testing.T) {
				noOpenat2 = slow
				defer func() { noOpenat2 = false }()
				root := t.TempDir()
				makeRoot(t, root)
				pre := snapshot(t, root, stateSkip...)
				e := newEngine(root, nil)
				if err := applyArchive(t, e, fixtureArchive("CLP1250101"), ApplyOptions{}); err != nil {
					t.Fatal(err)
				}
				var sw *swapped
				crashHook = func(step string) {
					if step == c.at && sw == nil {
						sw = swapOut(t, root, c.dir)
					}
				}
				defer func() { crashHook = nil }()
				err := e.Rollback(t.Context(), "CLP1250101", RollbackOptions{})
				crashHook = nil
				if sw == nil {
					t.Fatalf("the rollback never reached %q", c.at)
				}
				sw.untouched(t, "after the rollback")
				mustContain(t, err, "path escapes from parent")
				if c.refused {
					if errors.Is(err, ErrUnfinished) {
						t.Fatalf("a refusal is reported as unfinished: %v", err)
					}
					if ap, _ := e.readApplied("CLP1250101"); ap == nil {
						t.Fatal("the refused rollback forgot the patch")
					}
					sw.undo(t)
					if err := e.Rollback(t.Context(), "CLP1250101", RollbackOptions{}); err != nil {
						t.Fatal(err)
					}
				} else {
					mustContain(t, err, "run clp recover")
					_, rerr := e.Recover(t.Context())
					mustContain(t, rerr, "path escapes from parent")
					sw.untouched(t, "after clp recover")
					sw.undo(t)
					if _, err := e.Recover(t.Context()); err != nil {
						t.Fatal(err)
					}
				}
				sameTree(t, "after the rollback", pre, snapshot(t, root, stateSkip...))
			})
		}
	}
}

// The state lock is taken inside the root: the state folder (or a folder
// above it) swapped for a link out of the root after every check clp
// makes, just before it locks, fails the apply and the rollback with
// nothing created outside (no lock file), and they work once the link is
// gone.
func TestSymlinkSwapCannotLeadLockOutOfRoot(t *testing.T) {
	for _, dir := range []string{"var/lib/clp", "var/lib"} {
		t.Run(dir, func(t *testing.T) {
			root := t.TempDir()
			makeRoot(t, root)
			os.MkdirAll(filepath.Join(root, "var/lib/clp"), 0o755)
			pre := snapshot(t, root, stateSkip...)
			e := newEngine(root, nil)
			var sw *swapped
			beforeLock = func() { sw = swapOut(t, root, dir) }
			defer func() { beforeLock = nil }()
			err := applyArchive(t, e, fixtureArchive("CLP1250101"), ApplyOptions{})
			beforeLock = nil
			sw.untouched(t, "after the apply")
			mustContain(t, err, "path escapes from parent")
			sw.undo(t)
			sameTree(t, "after the refused apply", pre, snapshot(t, root, stateSkip...))
			if err := applyArchive(t, e, fixtureArchive("CLP1250101"), ApplyOptions{}); err != nil {
				t.Fatal(err)
			}
			beforeLock = func() { sw = swapOut(t, root, dir) }
			err = e.Rollback(t.Context(), "CLP1250101", RollbackOptions{})
			beforeLock = nil
			sw.untouched(t, "after the rollback")
			mustContain(t, err, "path escapes from parent")
			sw.undo(t)
			if err := e.Rollback(t.Context(), "CLP1250101", RollbackOptions{}); err != nil {
				t.Fatal(err)
			}
			sameTree(t, "after the rollback", pre, snapshot(t, root, stateSkip...))
		})
	}
}

// The children record (internal/child) is kept inside the root: the state
// folder swapped for a link out of the root just before the install
// script starts makes recording it fail, so the script never runs and
// nothing is written outside; the undo cannot reach the backups behind the
// link either, so clp recover refuses the same way until the link is gone,
// then puts everything back.
func TestSymlinkSwapCannotLeadChildrenRecordOutOfRoot(t *testing.T) {
	root := t.TempDir()
	makeRoot(t, root)
	installShell(t, root)
	pre := snapshot(t, root, stateSkip...)
	e := newEngine(root, nil)
	a := fixtureArchive("CLP1250101")
	a.m.InstallScript = "Install-Patch.sh"
	a.files["Install-Patch.sh"] = []byte("echo ran > \"$CLP_ROOT/script-ran\"\n")
	var sw *swapped
	crashHook = func(step string) {
		if step == "script" {
			sw = swapOut(t, root, "var/lib/clp")
		}
	}
	defer func() { crashHook = nil }()
	err := applyArchive(t, e, a, ApplyOptions{})
	crashHook = nil
	sw.untouched(t, "after the apply")
	if _, err := os.Stat(filepath.Join(root, "script-ran")); err == nil {
		t.Fatal("the script ran, its record kept outside the root")
	}
	mustContain(t, err, "record child process", "path escapes from parent")
	_, rerr := e.Recover(t.Context())
	mustContain(t, rerr, "path escapes from parent")
	sw.untouched(t, "after clp recover")
	sw.undo(t)
	if _, err := e.Recover(t.Context()); err != nil {
		t.Fatal(err)
	}
	sameTree(t, "after recover", pre, snapshot(t, root, stateSkip...))
}

// A script's working folder is anchored to the root: /opt/CLP swapped for
// a link to a copy outside the root just before the install script runs
// on the host (no chroot: the root has no /bin/sh) makes the run fail
// before the script starts, instead of running it (and letting it write)
// in the copy outside; once the link is gone, clp recover puts everything
// back. (Chrooted, the kernel resolves the folder inside the root.)
func TestSymlinkSwapCannotLeadScriptOutOfRoot(t *testing.T) {
	root := t.TempDir()
	makeRoot(t, root)
	pre := snapshot(t, root, stateSkip...)
	e := newEngine(root, nil)
	if e.useChroot() {
		t.Fatal("a root without /bin/sh must not be chrooted into")
	}
	a := fixtureArchive("CLP1250101")
	a.m.InstallScript = "Install-Patch.sh"
	a.files["Install-Patch.sh"] = []byte("echo ran > backup/ran\n")
	var sw *swapped
	crashHook = func(step string) {
		if step == "script" {
			sw = swapOut(t, root, "opt/CLP")
		}
	}
	defer func() { crashHook = nil }()
	err := applyArchive(t, e, a, ApplyOptions{})
	crashHook = nil
	sw.untouched(t, "after the apply")
	mustContain(t, err, "install script Install-Patch.sh", "path escapes from parent")
	_, rerr := e.Recover(t.Context())
	mustContain(t, rerr, "path escapes from parent")
	sw.untouched(t, "after clp recover")
	sw.undo(t)
	if _, err := e.Recover(t.Context()); err != nil {
		t.Fatal(err)
	}
	sameTree(t, "after recover", pre, snapshot(t, root, stateSkip...))
}

// clp's state is read inside the root too: the applied records' folder
// swapped for a link to forged records outside the root (a real record
// and backups, copied from another system) is an error for list and
// rollback, never a patch clp acts on; on a clp that read records by path
// the rollback moved the "backups" from outside into the root.
func TestStateReadsStayInRoot(t *testing.T) {
	other := t.TempDir()
	makeRoot(t, other)
	if err := applyArchive(t, newEngine(other, nil), fixtureArchive("CLP1250101"), ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	root, outside := t.TempDir(), t.TempDir()
	makeRoot(t, root)
	if out, err := exec.Command("cp", "-a", filepath.Join(other, "var/lib/clp/patches"), outside).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
	link(t, filepath.Join(outside, "patches"), filepath.Join(root, "var/lib/clp/patches"))
	pre, preOut := snapshot(t, root, stateSkip...), snapshot(t, outside)
	e := newEngine(root, nil)
	list, err := e.List()
	if len(list) != 0 {
		t.Fatalf("a record outside the root is listed: %+v", list)
	}
	mustContain(t, err, "path escapes from parent")
	err = e.Rollback(t.Context(), "CLP1250101", RollbackOptions{})
	sameTree(t, "outside the root", preOut, snapshot(t, outside))
	sameTree(t, "the root", pre, snapshot(t, root, stateSkip...))
	mustContain(t, err, "path escapes from parent")
}
