package alpm

import (
	"testing"

	"github.com/vincentos/clp/testkit/sandbox"
)

// clp's own reader of the local database under a mounted root reads it
// inside the root: the database folder swapped for a link out of the root
// (to another system's database) just before ALPM_DB_VERSION is read or
// the folder listed makes it decline (libalpm's handle answers then),
// never answer with the other system's packages.
func TestSymlinkSwapCannotLeadQuickLocalReadOutOfRoot(t *testing.T) {
	for name, at := range map[string]string{"read ALPM_DB_VERSION": "ALPM_DB_VERSION", "list the folder": "pacman/local"} {
		t.Run(name, func(t *testing.T) {
			r := sandbox.New(t)
			p, err := r.Paths()
			if err != nil {
				t.Fatal(err)
			}
			if err := sandbox.SynthesizeLocalDB(p.DBPath, 5); err != nil {
				t.Fatal(err)
			}
			outside := t.TempDir()
			if err := sandbox.SynthesizeLocalDB(outside, 9); err != nil {
				t.Fatal(err)
			}
			before := sandbox.MustTree(t, outside)
			swapped := sandbox.SwapAtLastMoment(t, at, 1, p.DBPath, outside)
			pkgs, ok := readLocalNames(p)
			t.Log(len(pkgs), ok)
			if !swapped() {
				t.Fatal("the read never reached the database: the test proves nothing")
			}
			sandbox.AssertUnchanged(t, outside, before)
			if ok {
				t.Fatalf("read %d packages through a link out of the root", len(pkgs))
			}
		})
	}
}
