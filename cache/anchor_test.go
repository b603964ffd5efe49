package cache

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vincentos/clp/testkit/sandbox"
)

// A download into a staging folder under a mounted root (pacman's cache
// there, or clp's <state>/downloads) is made inside the root at the moment
// of each file operation: clp's state folder swapped for a link out of the
// root just before the staging folder is made, the partial file is looked
// at or written, or the signature is written, makes the download fail, and
// the folder outside (holding a staging folder of its own) is byte for
// byte unchanged.
func TestSymlinkSwapCannotLeadDownloadsOutOfRoot(t *testing.T) {
	cases := []struct {
		name, at string
		nth      int
	}{
		{"create staging", "clp/staging", 1},
		{"look at the partial file", ".part", 1},
		{"write the partial file", ".part", 2},
		{"write the signature", ".sig", 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, e, data := served(t, true)
			root, staging := stagingDir(t)
			outside := t.TempDir()
			must(t, os.Mkdir(filepath.Join(outside, "staging"), 0o700))
			must(t, os.WriteFile(filepath.Join(outside, "staging", "other.pkg.tar.zst"), []byte("outside"), 0o644))
			before := sandbox.MustTree(t, outside)
			swapped := sandbox.SwapAtLastMoment(t, c.at, c.nth, filepath.Dir(staging), outside)
			_, err := (&Client{Reporter: &recorder{}}).Download(context.Background(), e, staging,
				DownloadOptions{MaxBytes: testCap, SHA256: sum(data), Root: root})
			t.Log(err)
			if !swapped() {
				t.Fatal("the download never reached the file: the test proves nothing")
			}
			sandbox.AssertUnchanged(t, outside, before)
			if err == nil || !strings.Contains(err.Error(), "escapes") {
				t.Fatalf("error %v, want one saying the path escapes the root", err)
			}
		})
	}
}
