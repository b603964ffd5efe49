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
		}, wantErr: "rolled back"},
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
