package cache

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vincentos/clp/testkit/sandbox"
)

func versions(es []Entry) []string {
	var v []string
	for _, e := range es {
		v = append(v, e.Version)
	}
	return v
}

// cacheDirs lays out two cache directories the way a long-lived system has
// them: the broken 560 in pacman's cache, the good 550 in a second
// CacheDir with its signature, small real packages with epochs, and the
// litter a cache collects.
func cacheDirs(t *testing.T) (string, string) {
	t.Helper()
	d1, d2 := t.TempDir(), t.TempDir()
	for _, n := range sandbox.NVIDIA {
		copyFile(t, fixture(t, n, sandbox.Broken), filepath.Join(d1, n+"-"+sandbox.Broken+"-x86_64.pkg.tar.zst"))
		good := filepath.Join(d2, n+"-"+sandbox.Good+"-x86_64.pkg.tar.zst")
		copyFile(t, fixture(t, n, sandbox.Good), good)
		must(t, os.WriteFile(good+".sig", []byte("sig"), 0o644))
	}
	// The same 550 in both directories: listed once, from the first.
	copyFile(t, fixture(t, "nvidia-utils", sandbox.Good), filepath.Join(d1, "nvidia-utils-"+sandbox.Good+"-x86_64.pkg.tar.zst"))
	// Epochs: 1:1.0 is newer than 2.0 and 0:3.0 alike.
	buildPkg(t, filepath.Join(d1, "foo-1:1.0-1-any.pkg.tar.zst"), "foo", "1:1.0-1", "any", "zst")
	buildPkg(t, filepath.Join(d2, "foo-2.0-1-any.pkg.tar.xz"), "foo", "2.0-1", "any", "xz")
	buildPkg(t, filepath.Join(d2, "foo-2.0-2-any.pkg.tar.gz"), "foo", "2.0-2", "any", "gz")
	buildPkg(t, filepath.Join(d1, "foo-bar-9.0-1-any.pkg.tar"), "foo-bar", "9.0-1", "any", "")
	// A package whose name does not parse: its .PKGINFO decides.
	buildPkg(t, filepath.Join(d2, "foo-renamed-by-hand.pkg.tar.zst"), "foo", "1.5-1", "any", "zst")
	// Litter.
	for _, n := range []string{"nvidia-utils-999-1-x86_64.pkg.tar.zst.part", "README", "garbage-1-x-any.pkg.tar.zst"} {
		must(t, os.WriteFile(filepath.Join(d1, n), []byte("junk"), 0o644))
	}
	must(t, os.Mkdir(filepath.Join(d1, "download-Xy12ab"), 0o755))
	return d1, d2
}

func TestScan(t *testing.T) {
	d1, d2 := cacheDirs(t)
	missing := filepath.Join(t.TempDir(), "gone")
	ix, err := Scan([]string{d1, d2, missing})
	must(t, err)

	utils := ix.Versions("nvidia-utils")
	if got := versions(utils); !slices.Equal(got, []string{sandbox.Broken, sandbox.Good}) {
		t.Fatalf("nvidia-utils versions = %v", got)
	}
	if utils[1].Dir != d1 || utils[1].Sig {
		t.Errorf("550 should come from the first directory (no .sig there): %+v", utils[1])
	}
	dkms := ix.Versions("nvidia-dkms")
	if dkms[1].Dir != d2 || !dkms[1].Sig || dkms[1].Path() != filepath.Join(d2, "nvidia-dkms-550.78-1-x86_64.pkg.tar.zst") {
		t.Errorf("nvidia-dkms 550 = %+v", dkms[1])
	}
	if got := versions(ix.Versions("foo")); !slices.Equal(got, []string{"1:1.0-1", "2.0-2", "2.0-1", "1.5-1"}) {
		t.Errorf("foo versions = %v", got)
	}
	renamed, ok := ix.Find("foo", "1.5-1")
	if !ok || renamed.File != "foo-renamed-by-hand.pkg.tar.zst" || !strings.Contains(renamed.Note, ".PKGINFO says foo 1.5-1 any") {
		t.Errorf("renamed package = %+v, %v", renamed, ok)
	}
	if got := ix.Names(); !slices.Equal(got, []string{"foo", "foo-bar", "nvidia-dkms", "nvidia-settings", "nvidia-utils"}) {
		t.Errorf("Names = %v", got)
	}
	if _, ok := ix.Find("nvidia-utils", "1.0-1"); ok {
		t.Error("Find found a version that is not there")
	}
	skipped := map[string]string{}
	for _, s := range ix.Skipped {
		skipped[filepath.Base(s.File)] = s.Reason
	}
	for file, why := range map[string]string{
		"gone":            "cache directory does not exist",
		"README":          "no .pkg.tar",
		"download-Xy12ab": "no .pkg.tar",
		"nvidia-utils-999-1-x86_64.pkg.tar.zst.part": "partial download",
		"garbage-1-x-any.pkg.tar.zst":                `pkgrel "x" is not a number`,
	} {
		if !strings.Contains(skipped[file], why) {
			t.Errorf("skip reason for %s = %q, want it to say %q", file, skipped[file], why)
		}
	}
	// The unparsable junk package was also asked for its .PKGINFO.
	if !strings.Contains(skipped["garbage-1-x-any.pkg.tar.zst"], "read package") {
		t.Errorf("garbage skip reason = %q", skipped["garbage-1-x-any.pkg.tar.zst"])
	}
	// Versions hands out a copy.
	utils[0].Version = "changed"
	if ix.Versions("nvidia-utils")[0].Version != sandbox.Broken {
		t.Error("Versions exposes the index's own slice")
	}
}

func TestScanForMatchesScan(t *testing.T) {
	d1, d2 := cacheDirs(t)
	all, err := Scan([]string{d1, d2})
	must(t, err)
	// "foo" covers a prefix shared with another package (foo-bar) and a
	// hand-renamed file found through its .PKGINFO.
	for _, name := range []string{"nvidia-utils", "nvidia-dkms", "foo", "foo-bar", "absent"} {
		one, err := ScanFor([]string{d1, d2}, name)
		must(t, err)
		if got, want := one.Versions(name), all.Versions(name); !slices.Equal(got, want) {
			t.Errorf("ScanFor(%s) = %v, Scan says %v", name, versions(got), versions(want))
		}
		for _, n := range one.Names() {
			if n != name {
				t.Errorf("ScanFor(%s) also indexed %s", name, n)
			}
		}
	}
	none, err := ScanFor([]string{d1})
	if err != nil || len(none.Names()) != 0 {
		t.Errorf("ScanFor with no names = %v, %v", none.Names(), err)
	}
}

func TestScanUnreadableDirIsAnError(t *testing.T) {
	notDir := filepath.Join(t.TempDir(), "file")
	must(t, os.WriteFile(notDir, nil, 0o644))
	_, err := Scan([]string{notDir})
	if err == nil || !strings.Contains(err.Error(), "read cache directory "+notDir) {
		t.Errorf("Scan(a file) = %v", err)
	}
}

// TestScanPaths finds the cache of a real sandbox pacman root through the
// alpm package's resolution of its pacman.conf.
func TestScanPaths(t *testing.T) {
	r := sandbox.New(t)
	must(t, r.Cache(fixture(t, "nvidia-utils", sandbox.Good), fixture(t, "nvidia-utils", sandbox.Broken)))
	p, err := r.Paths()
	must(t, err)
	if got := CacheDirs(p); len(got) == 0 || !strings.HasPrefix(got[0], r.Dir) {
		t.Fatalf("CacheDirs = %v, want dirs under %s", got, r.Dir)
	}
	for _, names := range [][]string{nil, {"nvidia-utils"}} {
		ix, err := ScanPaths(p, names...)
		must(t, err)
		if got := versions(ix.Versions("nvidia-utils")); !slices.Equal(got, []string{sandbox.Broken, sandbox.Good}) {
			t.Errorf("ScanPaths(%v) versions = %v", names, got)
		}
	}
	if got := CacheDirs(nil); !slices.Equal(got, []string{DefaultCacheDir}) {
		t.Errorf("CacheDirs(nil) = %v", got)
	}
}

// TestReadNamesWithPrefix checks the raw directory reader against
// os.ReadDir on a directory big enough to need many getdents calls, with
// names up to the 255-byte limit.
func TestReadNamesWithPrefix(t *testing.T) {
	dir := t.TempDir()
	var want []string
	for i := range 1200 {
		name := fmt.Sprintf("p%d-%s", i%3, strings.Repeat("x", i%240))
		name += fmt.Sprint(i)
		must(t, os.WriteFile(filepath.Join(dir, name), nil, 0o644))
		if strings.HasPrefix(name, "p1-") || strings.HasPrefix(name, "p2-xx") {
			want = append(want, name)
		}
	}
	got, err := readNamesWithPrefix("/", dir, []string{"p1-", "p2-xx"})
	must(t, err)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("got %d names, want %d", len(got), len(want))
	}
	if _, err := readNamesWithPrefix("/", filepath.Join(dir, "nope"), []string{"p"}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing dir = %v", err)
	}
}
