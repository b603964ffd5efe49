package hooks

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vincentos/clp/pacman"
	"github.com/vincentos/clp/testkit/sandbox"
)

// The pins, the pins include, pacman.conf, the guard allow file and the
// log are resolved inside the root at the moment each is read, written or
// removed: a folder on the way swapped for a link out of the root at the
// last moment (sandbox.SwapAtLastMoment, after every check clp makes)
// makes the operation fail, and the folder outside, holding files of the
// same names, is byte for byte unchanged.
func TestSymlinkSwapCannotLeadPinsOutOfRoot(t *testing.T) {
	hostile := map[string]string{
		PinsFile:        `[{"name":"evil","created":"2026-01-01T00:00:00Z"}]` + "\n",
		AllowFile:       `{"names":["linux"],"why":"patch CLP1","expires":"2999-01-01T00:00:00Z"}` + "\n",
		"clp-pins.conf": "IgnorePkg = evil\n",
		"pacman.conf":   "[options]\nIgnorePkg = evil\n",
		"clp.log":       "a host log\n",
	}
	cases := []struct {
		name, at, dir string // swap dir (relative to the root) when a path with at is reached
		op            func(t *testing.T, root string, p *pacman.Paths) error
		wantErr       string
	}{
		{"read pins", PinsFile, "var/lib/clp", func(t *testing.T, root string, p *pacman.Paths) error {
			pins, err := LoadPins(root, filepath.Join(root, "var/lib/clp"))
			if len(pins) > 0 {
				t.Errorf("pins read through the link: %v", pins)
			}
			return err
		}, "escapes"},
		{"write pins", PinsFile, "var/lib/clp", func(t *testing.T, root string, p *pacman.Paths) error {
			return SavePins(root, filepath.Join(root, "var/lib/clp"), []Pin{{Name: "linux"}})
		}, "escapes"},
		{"update pins", PinsFile, "var/lib/clp", func(t *testing.T, root string, p *pacman.Paths) error {
			_, err := UpdatePins(p, filepath.Join(root, "var/lib/clp"), func(pins []Pin) ([]Pin, error) {
				return append(pins, Pin{Name: "linux"}), nil
			})
			return err
		}, "escapes"},
		{"write pins include", "clp-pins.conf", "etc/pacman.d", func(t *testing.T, root string, p *pacman.Paths) error {
			return WritePinsConf(p, []Pin{{Name: "linux"}})
		}, "escapes"},
		{"remove pins include", "clp-pins.conf", "etc/pacman.d", func(t *testing.T, root string, p *pacman.Paths) error {
			_, err := RemoveInclude(p)
			return err
		}, "escapes"},
		{"pacman.conf include", "pacman.conf", "etc", func(t *testing.T, root string, p *pacman.Paths) error {
			_, err := EnsureInclude(p)
			return err
		}, "escapes"},
		{"write allow file", AllowFile, "var/lib/clp", func(t *testing.T, root string, p *pacman.Paths) error {
			_, err := WriteAllow(root, filepath.Join(root, "var/lib/clp"), []string{"linux"}, "test", time.Minute)
			return err
		}, "escapes"},
		{"read allow file", AllowFile, "var/lib/clp", func(t *testing.T, root string, p *pacman.Paths) error {
			if a := LoadAllow(root, filepath.Join(root, "var/lib/clp"), time.Now()); a != nil {
				t.Errorf("allow file read through the link: %+v", a)
			}
			return nil
		}, ""},
		{"append log", "clp.log", "var/log", func(t *testing.T, root string, p *pacman.Paths) error {
			return AppendLog(root, filepath.Join(root, "var/log/clp.log"), "pin lifted\n")
		}, "escapes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, p := sandboxPaths(t)
			outside := t.TempDir()
			for n, s := range hostile {
				if err := os.WriteFile(filepath.Join(outside, n), []byte(s), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			for _, d := range []string{"var/lib/clp", "var/log", "etc/pacman.d"} {
				os.MkdirAll(filepath.Join(r.Dir, d), 0o755)
			}
			// The include exists, so that removing it has something to do.
			os.WriteFile(filepath.Join(r.Dir, "etc/pacman.d/clp-pins.conf"), []byte("IgnorePkg = linux\n"), 0o644)
			before := sandbox.MustTree(t, outside)
			swapped := sandbox.SwapAtLastMoment(t, c.at, 1, filepath.Join(r.Dir, c.dir), outside)
			err := c.op(t, r.Dir, p)
			t.Log(err)
			if !swapped() {
				t.Fatal("the operation never reached the file: the test proves nothing")
			}
			sandbox.AssertUnchanged(t, outside, before)
			if c.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)) {
				t.Fatalf("error %v, want one with %q", err, c.wantErr)
			}
		})
	}
}

// clp's hook files (clp hooks install, remove, status) are looked at,
// written and removed inside the root: the hook folder swapped for a link
// out of the root just before the write or the removal (after Status read
// every file: one look at a missing file, two at a present one) makes it fail, and the folder outside is unchanged.
func TestSymlinkSwapCannotLeadHookFilesOutOfRoot(t *testing.T) {
	n := len(Files())
	cases := []struct {
		name      string
		nth       int
		installed bool
		op        func(root, dir string) error
	}{
		{"status", 1, false, func(root, dir string) error { _, err := Status(root, dir); return err }},
		{"install", n + 1, false, func(root, dir string) error { return Install(root, dir) }},
		{"remove", 2*n + 1, true, func(root, dir string) error { _, _, err := Remove(root, dir); return err }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root, outside := t.TempDir(), t.TempDir()
			dir := filepath.Join(root, "etc/pacman.d/hooks")
			os.MkdirAll(dir, 0o755)
			if c.installed {
				if err := Install(root, dir); err != nil {
					t.Fatal(err)
				}
			}
			// Outside: clp's own hook files, which the old code would
			// have removed (or kept and installed over).
			if err := Install("/", outside); err != nil {
				t.Fatal(err)
			}
			before := sandbox.MustTree(t, outside)
			swapped := sandbox.SwapAtLastMoment(t, ".hook", c.nth, dir, outside)
			err := c.op(root, dir)
			sandbox.AssertEscapeRefused(t, swapped, outside, before, err)
		})
	}
}
