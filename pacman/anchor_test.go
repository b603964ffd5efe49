package pacman_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vincentos/clp/pacman"
	"github.com/vincentos/clp/testkit/sandbox"
)

// A mounted installation's pacman.conf and its Includes are read inside
// the root, both by clp's own reader and when clp copies them for pacman:
// a folder swapped for a link out of the root just before the read makes
// it fail (and the file is not handed to pacman-conf, which would follow
// the link), rather than taking an IgnorePkg or a Server from outside.
func TestSymlinkSwapCannotLeadConfigReadOutOfRoot(t *testing.T) {
	cases := []struct{ name, at, dir string }{
		{"pacman.conf", "pacman.conf", "etc"},
		{"include", "mirrorlist", "etc/pacman.d"},
	}
	for _, c := range cases {
		for _, how := range []string{"read", "copy for pacman"} {
			t.Run(c.name+" "+how, func(t *testing.T) {
				root, outside := t.TempDir(), t.TempDir()
				os.MkdirAll(filepath.Join(root, "etc/pacman.d"), 0o755)
				os.WriteFile(filepath.Join(root, "etc/pacman.d/mirrorlist"), []byte("Server = https://inside.example/$repo\n"), 0o644)
				conf := filepath.Join(root, "etc/pacman.conf")
				os.WriteFile(conf, []byte("[options]\n[core]\nInclude = /etc/pacman.d/mirrorlist\n"), 0o644)
				hostile := []byte("[options]\nIgnorePkg = evil\n[core]\nServer = https://evil.example/$repo\n")
				os.WriteFile(filepath.Join(outside, "pacman.conf"), hostile, 0o644)
				os.WriteFile(filepath.Join(outside, "mirrorlist"), hostile[len("[options]\nIgnorePkg = evil\n[core]\n"):], 0o644)
				before := sandbox.MustTree(t, outside)
				swapped := sandbox.SwapAtLastMoment(t, c.at, 1, filepath.Join(root, c.dir), outside)
				var err error
				if how == "read" {
					cf, rerr := pacman.ReadConfigUnder(conf, root)
					if cf != nil && (slices.Contains(cf.IgnorePkg, "evil") || len(cf.Repos) > 0 && strings.Contains(strings.Join(cf.Repos[0].Servers, " "), "evil")) {
						t.Errorf("pacman.conf read through the link: %+v", cf)
					}
					err = rerr
				} else {
					var cleanup func()
					cleanup, err = pacman.PrepareForTest(&pacman.Paths{Root: root, Config: conf})
					cleanup()
				}
				sandbox.AssertEscapeRefused(t, swapped, outside, before, err)
			})
		}
	}
}

// pacman's package cache, when none of its folders exists under a mounted
// root, is created inside the root: the cache's parent swapped for a link
// out of the root just before makes preparing pacman's run fail, and
// nothing is created outside.
func TestSymlinkSwapCannotLeadCacheCreationOutOfRoot(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	os.MkdirAll(filepath.Join(root, "var/cache"), 0o755)
	conf := filepath.Join(root, "etc/pacman.conf")
	os.WriteFile(conf, []byte("[options]\n"), 0o644)
	before := sandbox.MustTree(t, outside)
	swapped := sandbox.SwapAtLastMoment(t, "cache/pacman/pkg", 1, filepath.Join(root, "var/cache"), outside)
	cleanup, err := pacman.PrepareForTest(&pacman.Paths{Root: root, Config: conf, CacheDirs: []string{filepath.Join(root, "var/cache/pacman/pkg")}})
	cleanup()
	sandbox.AssertEscapeRefused(t, swapped, outside, before, err)
}

// The check that a mounted root holds a local database looks inside the
// root: the database folder swapped for a link out of the root just before
// makes it fail, naming the escape, rather than judge another system's.
func TestSymlinkSwapCannotLeadLocalDBCheckOutOfRoot(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	dbpath := filepath.Join(root, "var/lib/pacman")
	os.MkdirAll(filepath.Join(dbpath, "local"), 0o755)
	os.MkdirAll(filepath.Join(outside, "local"), 0o755)
	before := sandbox.MustTree(t, outside)
	swapped := sandbox.SwapAtLastMoment(t, "pacman/local", 1, dbpath, outside)
	err := pacman.CheckLocalDB(root, dbpath)
	sandbox.AssertEscapeRefused(t, swapped, outside, before, err)
}
