package feed

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/vincentos/clp/testkit/sandbox"
)

// The feed's files under a mounted root are resolved inside it: a folder
// on the way swapped for a link out of the root at the last moment makes
// clp's own reads and writes fail, and go-tuf, which writes its metadata
// cache by path, writes into the folder clp opened inside the root, not
// through the link. The folder outside is byte for byte unchanged.
func TestSymlinkSwapCannotLeadFeedOutOfRoot(t *testing.T) {
	ctx := context.Background()
	setup := func(t *testing.T) (root, outside string) {
		root, outside = t.TempDir(), t.TempDir()
		for n, s := range map[string]string{"feed-applied": "99\n", "feed-applied.held": "98\n", "timestamp.json": "{}", "p1.clp": "a host file\n"} {
			if err := os.WriteFile(filepath.Join(outside, n), []byte(s), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return root, outside
	}
	t.Run("metadata cache", func(t *testing.T) {
		root, outside := setup(t)
		f := newTestFeed(t)
		f.add(t, "p1.clp", TargetMeta{}, false)
		c := f.client(t)
		c.Root, c.MetadataDir = root, filepath.Join(root, "var/lib/clp/feed")
		before := sandbox.MustTree(t, outside)
		// The mirror answers timestamp.json only after the cache folder
		// was swapped: go-tuf writes everything after that.
		swapped := false
		ts := f.metaFile(t, "timestamp.json")
		f.handle("/metadata/timestamp.json", func(w http.ResponseWriter, r *http.Request) {
			if !swapped {
				swapped = true
				os.Rename(c.MetadataDir, c.MetadataDir+".moved")
				if err := os.Symlink(outside, c.MetadataDir); err != nil {
					t.Error(err)
				}
			}
			w.Write(ts)
		})
		err := c.Refresh(ctx)
		t.Log(err)
		if !swapped {
			t.Fatal("the mirror was never asked for timestamp.json: the test proves nothing")
		}
		sandbox.AssertUnchanged(t, outside, before)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(c.MetadataDir+".moved", "timestamp.json")); err != nil {
			t.Fatalf("go-tuf did not write into the folder inside the root: %v", err)
		}
	})
	t.Run("download", func(t *testing.T) {
		root, outside := setup(t)
		f := newTestFeed(t)
		f.add(t, "p1.clp", TargetMeta{}, true)
		c := f.client(t)
		c.Root = root
		pending, err := c.Pending(ctx, HighWater{Path: filepath.Join(root, "hw"), Root: root})
		if err != nil || len(pending) != 1 {
			t.Fatalf("pending %v, %v", pending, err)
		}
		dl := filepath.Join(root, "var/lib/clp/downloads")
		if err := os.MkdirAll(dl, 0o700); err != nil {
			t.Fatal(err)
		}
		before := sandbox.MustTree(t, outside)
		swapped := sandbox.SwapAtLastMoment(t, "p1.clp", 1, dl, outside)
		_, err = c.Download(ctx, pending[0], dl)
		sandbox.AssertEscapeRefused(t, swapped, outside, before, err)
	})
	hwOps := map[string]func(h HighWater) error{
		"mark": func(h HighWater) error { return h.Mark(5) },
		"load": func(h HighWater) error {
			n, err := h.Load()
			if n == 99 {
				t.Error("the mark was read through the link")
			}
			return err
		},
		"hold": func(h HighWater) error { return h.Hold(3) },
		"held": func(h HighWater) error {
			held, err := h.Held()
			if held[98] {
				t.Error("the held list was read through the link")
			}
			return err
		},
	}
	for name, op := range hwOps {
		t.Run("high-water "+name, func(t *testing.T) {
			root, outside := setup(t)
			state := filepath.Join(root, "var/lib/clp")
			h := HighWater{Path: filepath.Join(state, "feed-applied"), Root: root}
			if err := h.Mark(1); err != nil {
				t.Fatal(err)
			}
			before := sandbox.MustTree(t, outside)
			// Mark and Hold read first: the swap comes before the write.
			nth := 1
			if name == "mark" || name == "hold" {
				nth = 2
			}
			swapped := sandbox.SwapAtLastMoment(t, "feed-applied", nth, state, outside)
			err := op(h)
			sandbox.AssertEscapeRefused(t, swapped, outside, before, err)
		})
	}
}
