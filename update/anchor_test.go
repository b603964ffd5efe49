package update

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vincentos/clp/internal/config"
	"github.com/vincentos/clp/pacman"
	"github.com/vincentos/clp/system"
	"github.com/vincentos/clp/testkit/sandbox"
)

// last-update.json, the feed sequences and the update lock are resolved
// inside the system root: the state folder swapped for a link out of the
// root just before the operation makes it fail, and the folder outside
// (holding files of the same names) is byte for byte unchanged.
func TestSymlinkSwapCannotLeadUpdateStateOutOfRoot(t *testing.T) {
	ops := map[string]struct {
		at string
		op func(root, state string) error
	}{
		"record last update": {lastName, func(root, state string) error {
			return Record(root, state, &Report{Time: time.Now(), Result: "ok"})
		}},
		"read last update": {lastName, func(root, state string) error {
			rep, err := Last(root, state)
			if rep != nil && rep.Result == "hostile" {
				t.Error("last-update.json read through the link")
			}
			return err
		}},
		"record sequence": {sequencesName, func(root, state string) error {
			return recordSequence(root, state, "CLP1", 7)
		}},
		"update lock": {lockName, func(root, state string) error {
			u := &Updater{Sys: system.New(pacman.Options{Root: root}, ""), Config: &config.Config{FeedMirrors: []string{"http://127.0.0.1:1/"}}}
			_, err := u.Run(context.Background())
			return err
		}},
	}
	for name, c := range ops {
		t.Run(name, func(t *testing.T) {
			root, outside := t.TempDir(), t.TempDir()
			state := filepath.Join(root, "var/lib/clp")
			os.MkdirAll(state, 0o755)
			for _, n := range []string{lastName, sequencesName, lockName} {
				os.WriteFile(filepath.Join(outside, n), []byte(`{"result":"hostile"}`), 0o644)
			}
			before := sandbox.MustTree(t, outside)
			swapped := sandbox.SwapAtLastMoment(t, c.at, 1, state, outside)
			err := c.op(root, state)
			sandbox.AssertEscapeRefused(t, swapped, outside, before, err)
		})
	}
}
