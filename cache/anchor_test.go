package cache

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vincentos/clp/pacman"
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
			sandbox.AssertEscapeRefused(t, swapped, outside, before, err)
		})
	}
}

// pacman's package cache under a mounted root is listed, and a package
// file read, inside the root: the cache's folder swapped for a link out of
// the root (to another cache, with another version) just before the
// listing or the read makes it fail (or skip the file), never index the
// other cache's packages.
func TestSymlinkSwapCannotLeadCacheScanOutOfRoot(t *testing.T) {
	const other = "nvidia-utils-9.9-1-x86_64.pkg.tar.zst"
	cases := []struct {
		name, at string
		names    []string
	}{
		{"list by name", "pacman/pkg", []string{"nvidia-utils"}},
		{"list all", "pacman/pkg", nil},
		{"read an oddly named package", "/odd.pkg", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root, outside := t.TempDir(), t.TempDir()
			dir := filepath.Join(root, "var/cache/pacman/pkg")
			must(t, os.MkdirAll(dir, 0o755))
			must(t, os.MkdirAll(filepath.Join(outside, "pkg"), 0o755))
			must(t, os.WriteFile(filepath.Join(dir, "nvidia-utils-"+sandbox.Good+"-x86_64.pkg.tar.zst"), nil, 0o644))
			must(t, os.WriteFile(filepath.Join(outside, "pkg", other), nil, 0o644))
			// A package whose file name does not parse is read for its
			// .PKGINFO: outside, a real one.
			must(t, os.WriteFile(filepath.Join(dir, "odd.pkg.tar.zst"), nil, 0o644))
			copyFile(t, fixture(t, "nvidia-utils", sandbox.Good), filepath.Join(outside, "pkg", "odd.pkg.tar.zst"))
			before := sandbox.MustTree(t, outside)
			swapped := sandbox.SwapAtLastMoment(t, c.at, 1, filepath.Dir(dir), outside)
			ix, err := ScanPaths(&pacman.Paths{Root: root, CacheDirs: []string{dir}}, c.names...)
			t.Log(ix, err)
			if !swapped() {
				t.Fatal("the scan never reached the cache: the test proves nothing")
			}
			sandbox.AssertUnchanged(t, outside, before)
			if c.at == "/odd.pkg" {
				if err != nil {
					t.Fatal(err)
				}
				if len(ix.Versions("nvidia-utils")) != 1 || !strings.Contains(fmt.Sprint(ix.Skipped), "escapes") {
					t.Fatalf("versions %v, skipped %v: want the odd file skipped as escaping the root", ix.Versions("nvidia-utils"), ix.Skipped)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "escapes") {
				t.Fatalf("error %v, want one saying the path escapes the root", err)
			}
		})
	}
}
