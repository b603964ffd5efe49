package patch

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/vincentos/clp/internal/fsx"
)

// Under a mounted root an absolute link means what it means once that
// system boots: "<root>/opt -> /data/opt" is "<root>/data/opt". clp's
// own folders (/opt, /var/lib, /var/log here) are resolved so, once, by
// the kernel (RESOLVE_IN_ROOT), and apply, rollback and the script log
// work there, all inside the root; the anchored operations then meet no
// link. Without openat2 the same root is refused as before ("leads out of
// the root"), and nothing is written anywhere.
func TestMountedRootResolvesAbsoluteLinksInRoot(t *testing.T) {
	setup := func(t *testing.T) string {
		root := t.TempDir()
		makeRoot(t, root)
		for _, d := range []string{"opt", "var/lib", "var/log"} {
			real := filepath.Join(root, "data", d)
			if err := os.MkdirAll(filepath.Dir(real), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(filepath.Join(root, d), real); err != nil {
				t.Fatal(err)
			}
			link(t, "/data/"+d, filepath.Join(root, d)) // absolute target
		}
		return root
	}
	t.Run("resolved in the root", func(t *testing.T) {
		root := setup(t)
		skip := []string{"data/var/lib/clp", "data/var/log/CLP.log"}
		pre := snapshot(t, root, skip...)
		e := newEngine(root, nil)
		a := fixtureArchive("CLP1250101")
		a.m.InstallScript = "Install-Patch.sh"
		a.files["Install-Patch.sh"] = []byte("echo the script ran\n")
		if err := applyArchive(t, e, a, ApplyOptions{}); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{"data/var/lib/clp/patches/CLP1250101/applied.json", "data/opt/CLP/CLP1250101", "data/var/log/CLP.log"} {
			if _, err := os.Lstat(filepath.Join(root, p)); err != nil {
				t.Errorf("not where the root's links lead: %v", err)
			}
		}
		if e.StateDir != filepath.Join(root, "data/var/lib/clp") || e.OptDir != filepath.Join(root, "data/opt/CLP") {
			t.Errorf("StateDir %s, OptDir %s", e.StateDir, e.OptDir)
		}
		if err := e.Rollback(t.Context(), "CLP1250101", RollbackOptions{}); err != nil {
			t.Fatal(err)
		}
		sameTree(t, "after rollback", pre, snapshot(t, root, skip...))
	})
	t.Run("a link swapped in later", func(t *testing.T) {
		// Only clp's folders as they are when it starts are resolved so:
		// a link put in later, even one that would stay inside the root
		// once booted, is refused by the anchored write.
		root := setup(t)
		e := newEngine(root, nil)
		crashHook = func(step string) {
			if step == "locked" {
				link(t, "/data/elsewhere", filepath.Join(root, "data/var/lib/clp/journal"))
			}
		}
		defer func() { crashHook = nil }()
		err := applyArchive(t, e, fixtureArchive("CLP1250101"), ApplyOptions{})
		crashHook = nil
		mustContain(t, err, "write journal", "path escapes")
		if _, err := os.Lstat(filepath.Join(root, "data/elsewhere")); err == nil {
			t.Fatal("clp wrote through the link")
		}
	})
	t.Run("without openat2", func(t *testing.T) {
		fsx.NoOpenat2 = true
		defer func() { fsx.NoOpenat2 = false }()
		root := setup(t)
		pre := snapshot(t, root)
		e := newEngine(root, nil)
		_, err := e.Plan(t.Context(), fixtureArchive("CLP1250101"), ApplyOptions{})
		mustContain(t, err, "leads out of the root")
		sameTree(t, "after the refusal", pre, snapshot(t, root))
	})
}
