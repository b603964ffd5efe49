package patch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
)

// The crash tests run apply, rollback or recover in a child process (this
// test binary, re-executed into TestCrashHelper) that SIGKILLs itself at the
// N-th step boundary, then recover in the parent and compare the tree with
// the state the transaction must end in.

const crashEnv = "CLP_CRASH_HELPER"

// TestCrashHelper is the child: it does nothing in a normal test run.
func TestCrashHelper(t *testing.T) {
	if os.Getenv(crashEnv) == "" {
		t.Skip("only runs as the crash tests' child process")
	}
	root, op := os.Getenv("CLP_CRASH_ROOT"), os.Getenv("CLP_CRASH_OP")
	at, _ := strconv.Atoi(os.Getenv("CLP_CRASH_AT"))
	stepsFile := os.Getenv("CLP_CRASH_STEPS")
	n := 0
	crashHook = func(step string) {
		n++
		if stepsFile != "" {
			f, err := os.OpenFile(stepsFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
			if err == nil {
				fmt.Fprintln(f, step)
				f.Close()
			}
		}
		if n == at {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {}
		}
	}
	e := newEngine(root, nil)
	ctx := context.Background()
	var err error
	switch op {
	case "apply":
		a, oerr := OpenFile(os.Getenv("CLP_CRASH_ARCHIVE"), Limits{})
		if oerr != nil {
			t.Fatal(oerr)
		}
		defer a.Close()
		var p *Plan
		if p, err = e.Plan(ctx, a, ApplyOptions{}); err == nil {
			err = e.Apply(ctx, a, p)
		}
	case "rollback":
		err = e.Rollback(ctx, "CLP1250101", RollbackOptions{})
	case "recover":
		_, err = e.Recover(ctx)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// runChild runs op in a child that dies at boundary at (0: never) and
// returns the step names it passed (the last one is where it died).
func runChild(t *testing.T, root, archive, op string, at int) (steps []string, killed bool) {
	t.Helper()
	stepsFile := filepath.Join(t.TempDir(), "steps")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"=1", "CLP_CRASH_ROOT="+root, "CLP_CRASH_OP="+op,
		"CLP_CRASH_AT="+strconv.Itoa(at), "CLP_CRASH_STEPS="+stepsFile, "CLP_CRASH_ARCHIVE="+archive)
	out, err := cmd.CombinedOutput()
	if data, rerr := os.ReadFile(stepsFile); rerr == nil {
		steps = strings.Fields(strings.ReplaceAll(string(data), " ", "_"))
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			return steps, true
		}
	}
	if err != nil {
		t.Fatalf("child %s (crash at %d) failed: %v\n%s", op, at, err, out)
	}
	return steps, false
}

// crashPatch is the fixture patch with scripts, so that the script
// boundaries are crash points too. The scripts only write inside the
// patch's own folder, which every outcome removes or keeps with the patch.
func crashPatch(t *testing.T) string {
	m := fixtureManifest("CLP1250101")
	m.InstallScript, m.RemoveScript = "Install-Patch.sh", "Remove-Patch.sh"
	files := fixtureFiles()
	files["Install-Patch.sh"] = []byte("echo installed > backup/marker\n")
	files["Remove-Patch.sh"] = []byte("echo removing\n")
	return buildArchive(t, m, files, false)
}

// afterApplyCommit are the apply boundaries at or after its commit point.
var afterApplyCommit = map[string]bool{"applied": true, "history": true, "done": true}

// afterRollbackCommit says whether a rollback boundary is at or after the
// rollback's commit point (the remove script has succeeded).
func afterRollbackCommit(step string) bool {
	return step != "locked" && step != "journal" && step != "script"
}

func TestCrashDuringApply(t *testing.T) {
	archive := crashPatch(t)
	// A run without a crash gives the boundaries and the applied state.
	ref := t.TempDir()
	makeRoot(t, ref)
	steps, killed := runChild(t, ref, archive, "apply", 0)
	if killed || len(steps) < 10 {
		t.Fatalf("reference run: killed=%v steps=%v", killed, steps)
	}
	applied := snapshot(t, ref, stateSkip...)
	var passed atomic.Int32
	t.Run("points", func(t *testing.T) {
		for i := range steps {
			t.Run(fmt.Sprintf("%02d", i+1), func(t *testing.T) {
				t.Parallel()
				at := i + 1
				root := t.TempDir()
				makeRoot(t, root)
				pre := snapshot(t, root, stateSkip...)
				got, killed := runChild(t, root, archive, "apply", at)
				if !killed {
					t.Fatalf("crash point %d (%s): child was not killed", at, steps[i])
				}
				if got[len(got)-1] != steps[i] {
					t.Fatalf("crash point %d: died at %s, want %s", at, got[len(got)-1], steps[i])
				}
				e := newEngine(root, nil)
				if _, err := e.Recover(context.Background()); err != nil {
					t.Fatalf("crash at %s: recover: %v", steps[i], err)
				}
				want, what := pre, "pre-state"
				if afterApplyCommit[steps[i]] {
					want, what = applied, "applied state"
				}
				if d := treeDiff(want, snapshot(t, root, stateSkip...)); d != "" {
					t.Fatalf("crash at %s, after recover: tree is not the %s:\n%s", steps[i], what, d)
				}
				// Idempotent: a second recover finds nothing and changes nothing.
				if again, err := e.Recover(context.Background()); err != nil || again {
					t.Fatalf("crash at %s: second recover = %v, %v", steps[i], again, err)
				}
				list, _ := e.List()
				if (len(list) == 1) != afterApplyCommit[steps[i]] {
					t.Fatalf("crash at %s: applied list %+v", steps[i], list)
				}
				if d := treeDiff(want, snapshot(t, root, stateSkip...)); d != "" {
					t.Fatalf("crash at %s, after second recover:\n%s", steps[i], d)
				}
				passed.Add(1)
			})
		}
	})
	t.Logf("apply: %d crash points tried, %d passed: %s", len(steps), passed.Load(), strings.Join(steps, " "))
}

func TestCrashDuringRollback(t *testing.T) {
	archive := crashPatch(t)
	ref := t.TempDir()
	makeRoot(t, ref)
	pre := snapshot(t, ref, stateSkip...)
	if _, killed := runChild(t, ref, archive, "apply", 0); killed {
		t.Fatal("reference apply killed")
	}
	applied := snapshot(t, ref, stateSkip...)
	steps, killed := runChild(t, ref, archive, "rollback", 0)
	if killed || len(steps) < 8 {
		t.Fatalf("reference rollback: killed=%v steps=%v", killed, steps)
	}
	sameTree(t, "reference rollback", pre, snapshot(t, ref, stateSkip...))
	var passed atomic.Int32
	t.Run("points", func(t *testing.T) {
		for i := range steps {
			t.Run(fmt.Sprintf("%02d", i+1), func(t *testing.T) {
				t.Parallel()
				at := i + 1
				root := t.TempDir()
				makeRoot(t, root)
				if _, killed := runChild(t, root, archive, "apply", 0); killed {
					t.Fatal("apply killed")
				}
				if _, killed := runChild(t, root, archive, "rollback", at); !killed {
					t.Fatalf("crash point %d (%s): child was not killed", at, steps[i])
				}
				e := newEngine(root, nil)
				if _, err := e.Recover(context.Background()); err != nil {
					t.Fatalf("crash at %s: recover: %v", steps[i], err)
				}
				want, what := applied, "applied state"
				if afterRollbackCommit(steps[i]) {
					want, what = pre, "pre-state"
				}
				if d := treeDiff(want, snapshot(t, root, stateSkip...)); d != "" {
					t.Fatalf("rollback crash at %s, after recover: tree is not the %s:\n%s", steps[i], what, d)
				}
				if again, err := e.Recover(context.Background()); err != nil || again {
					t.Fatalf("crash at %s: second recover = %v, %v", steps[i], again, err)
				}
				passed.Add(1)
			})
		}
	})
	t.Logf("rollback: %d crash points tried, %d passed: %s", len(steps), passed.Load(), strings.Join(steps, " "))
}

// Crash during recovery itself, at every boundary of the recovery, for an
// apply killed after its last commit (the most to undo) and a rollback
// killed halfway through restoring.
func TestCrashDuringRecover(t *testing.T) {
	archive := crashPatch(t)
	ref := t.TempDir()
	makeRoot(t, ref)
	pre := snapshot(t, ref, stateSkip...)
	applySteps, _ := runChild(t, ref, archive, "apply", 0)
	rollbackSteps, _ := runChild(t, ref, archive, "rollback", 0)
	index := func(steps []string, name string) int {
		for i, s := range steps {
			if s == name {
				return i + 1
			}
		}
		t.Fatalf("no boundary %s in %v", name, steps)
		return 0
	}
	cases := []struct {
		name  string
		setup func(root string)
	}{
		{"apply killed at script", func(root string) {
			runChild(t, root, archive, "apply", index(applySteps, "script"))
		}},
		{"rollback killed mid-restore", func(root string) {
			runChild(t, root, archive, "apply", 0)
			runChild(t, root, archive, "rollback", index(rollbackSteps, "restore_/etc/clp-test/removed.conf"))
		}},
	}
	var total, passed atomic.Int32
	t.Run("points", func(t *testing.T) {
		for _, c := range cases {
			// A recovery without a crash gives its boundaries.
			root := t.TempDir()
			makeRoot(t, root)
			c.setup(root)
			recSteps, killed := runChild(t, root, archive, "recover", 0)
			if killed || len(recSteps) == 0 {
				t.Fatalf("%s: reference recover: killed=%v steps=%v", c.name, killed, recSteps)
			}
			sameTree(t, c.name+": reference recover", pre, snapshot(t, root, stateSkip...))
			for i := range recSteps {
				total.Add(1)
				t.Run(fmt.Sprintf("%s/%02d", c.name, i+1), func(t *testing.T) {
					t.Parallel()
					root := t.TempDir()
					makeRoot(t, root)
					c.setup(root)
					if _, killed := runChild(t, root, archive, "recover", i+1); !killed {
						t.Fatalf("%s: recover crash point %s: not killed", c.name, recSteps[i])
					}
					e := newEngine(root, nil)
					if _, err := e.Recover(context.Background()); err != nil {
						t.Fatalf("%s: recover after crash in recover at %s: %v", c.name, recSteps[i], err)
					}
					if d := treeDiff(pre, snapshot(t, root, stateSkip...)); d != "" {
						t.Fatalf("%s: recover crashed at %s, then recovered: tree is not the pre-state:\n%s", c.name, recSteps[i], d)
					}
					passed.Add(1)
				})
			}
		}
	})
	t.Logf("recover: %d crash points tried, %d passed", total.Load(), passed.Load())
}
