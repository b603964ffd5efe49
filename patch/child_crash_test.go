package patch

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/vincentos/clp/internal/child"
)

// A clp SIGKILLed while a patch's install script runs: the script dies
// with it (its parent-death signal), and its background job, which would
// write to the root later, is ended at once by the script's reaper
// (internal/child), before any clp runs again. Where the reaper is gone too
// (killed with clp), the next clp ends the job before it recovers.
// Recovery then undoes the apply as usual.
func TestKilledDuringScriptLeavesNoOrphan(t *testing.T) {
	t.Run("reaper", func(t *testing.T) { killedDuringScript(t, false) })
	t.Run("reaper killed too", func(t *testing.T) { killedDuringScript(t, true) })
}

func killedDuringScript(t *testing.T, killReaper bool) {
	root := t.TempDir()
	makeRoot(t, root)
	pre := snapshot(t, root, stateSkip...)
	m := fixtureManifest("CLP1250101")
	m.InstallScript, m.RemoveScript = "Install-Patch.sh", "Remove-Patch.sh"
	files := fixtureFiles()
	files["Install-Patch.sh"] = []byte(`( sleep 30; echo late > "$CLP_ROOT/etc/clp-test/late" ) &
echo started > "$CLP_PATCH_DIR/started"
sleep 60
`)
	files["Remove-Patch.sh"] = []byte("true\n")
	archive := buildArchive(t, m, files, false)

	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"=1", "CLP_CRASH_ROOT="+root, "CLP_CRASH_OP=apply",
		"CLP_CRASH_AT=0", "CLP_CRASH_ARCHIVE="+archive)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	started := filepath.Join(root, "opt/CLP/CLP1250101/started")
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(started); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatal("the install script never started")
		}
	}
	e := newEngine(root, nil)
	tokens := recordedTokens(t, e.StateDir)
	t.Cleanup(func() {
		for _, pid := range child.Marked(tokens) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	if len(child.Marked(tokens)) < 2 {
		t.Fatal("the script and its background job do not both run (the test does not test anything)")
	}
	reapers := child.Reapers(tokens)
	if len(reapers) == 0 {
		t.Fatal("the script has no reaper")
	}
	if killReaper {
		for _, pid := range reapers {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	rep := &testReporter{}
	e.Reporter = rep
	if !killReaper {
		// Nothing of the script is left, before any clp runs again.
		for deadline := time.Now().Add(5 * time.Second); len(child.Marked(tokens)) > 0; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("5 s after clp was killed, its script's processes still run: %v", child.Marked(tokens))
			}
		}
	} else if len(child.Marked(tokens)) == 0 {
		// The orphan this is about: the script's background job survives
		// clp and its reaper.
		t.Fatal("no process of the script is left to end (the test does not test anything)")
	}
	if got, err := e.Recover(context.Background()); err != nil || !got {
		t.Fatalf("Recover = %v, %v", got, err)
	}
	if left := child.Marked(tokens); len(left) != 0 {
		t.Fatalf("processes of the killed clp's script still run after recover: %v", left)
	}
	if killReaper {
		mustContain(t, errorsJoin(rep.all()), "process(es) an interrupted clp left running (script")
	}
	sameTree(t, "after recover", pre, snapshot(t, root, stateSkip...))
	if _, err := os.Stat(filepath.Join(e.StateDir, child.FileName)); !os.IsNotExist(err) {
		t.Fatalf("the children record is left: %v", err)
	}
}

func recordedTokens(t *testing.T, stateDir string) map[string]bool {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(stateDir, child.FileName))
	if err != nil {
		t.Fatalf("no record of the running script: %v", err)
	}
	out := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		var r child.Record
		if json.Unmarshal(sc.Bytes(), &r) == nil {
			out[r.Token] = true
		}
	}
	if len(out) == 0 {
		t.Fatalf("no child recorded in %q", data)
	}
	return out
}

type textErr string

func (e textErr) Error() string { return string(e) }

func errorsJoin(s string) error { return textErr(s) }
