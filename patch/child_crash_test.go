package patch

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/vincentos/clp/internal/child"
)

// A clp killed (SIGKILL) while a patch's install script runs leaves
// nothing running: the script dies with it (parent-death signal), and what
// the script started in the background, which would otherwise write to the
// root later, is ended by the next clp before it recovers; recovery then
// undoes the apply as usual.
func TestKilledDuringScriptLeavesNoOrphan(t *testing.T) {
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
	cmd.Process.Kill()
	cmd.Wait()
	// The orphan this is about: the script's background job survives clp.
	if len(child.Marked(tokens)) == 0 {
		t.Fatal("no process of the script is left to end (the test does not test anything)")
	}
	rep := &testReporter{}
	e.Reporter = rep
	if got, err := e.Recover(context.Background()); err != nil || !got {
		t.Fatalf("Recover = %v, %v", got, err)
	}
	if left := child.Marked(tokens); len(left) != 0 {
		t.Fatalf("processes of the killed clp's script still run after recover: %v", left)
	}
	mustContain(t, errorsJoin(rep.all()), "process(es) an interrupted clp left running (script")
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
