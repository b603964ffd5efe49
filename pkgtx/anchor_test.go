package pkgtx

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vincentos/clp/hooks"
	"github.com/vincentos/clp/testkit/sandbox"
)

// The guard allow file a killed apply of the patch left is removed inside
// the root: the state folder swapped for a link out of the root just
// before the removal (after the file was read there) makes it fail, and
// the allow file of the same name outside is left as it was.
func TestSymlinkSwapCannotLeadAllowRemovalOutOfRoot(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	state := filepath.Join(root, "var/lib/clp")
	if _, err := hooks.WriteAllow(root, state, []string{"linux"}, "patch CLP1", time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := hooks.WriteAllow("/", outside, []string{"linux"}, "patch CLP1", time.Hour); err != nil {
		t.Fatal(err)
	}
	before := sandbox.MustTree(t, outside)
	// The first look at the allow file is the read; the second the removal.
	swapped := sandbox.SwapAtLastMoment(t, hooks.AllowFile, 2, state, outside)
	err := dropAllowOf(root, state, "CLP1")
	t.Log(err)
	if !swapped() {
		t.Fatal("dropAllowOf never removed the allow file: the test proves nothing")
	}
	sandbox.AssertUnchanged(t, outside, before)
	if err == nil || !strings.Contains(err.Error(), "escapes") {
		t.Fatalf("error %v, want one saying the path escapes the root", err)
	}
	if _, err := os.Stat(filepath.Join(state+".moved", hooks.AllowFile)); err != nil {
		t.Fatal(err)
	}
}
