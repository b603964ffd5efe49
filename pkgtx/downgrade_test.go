package pkgtx

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vincentos/clp/testkit/sandbox"
)

func TestHistory(t *testing.T) {
	log := filepath.Join(t.TempDir(), "pacman.log")
	data := `[2024-05-01T10:00:00+0000] [PACMAN] Running 'pacman -U x'
[2024-05-01T10:00:01+0000] [ALPM] transaction started
[2024-05-01T10:00:01+0000] [ALPM] installed nvidia-utils (545.29.06-1)
[2024-05-02T10:00:01+0000] [ALPM] upgraded nvidia-utils (545.29.06-1 -> 550.78-1)
[2024-05-02T10:00:01+0000] [ALPM] upgraded nvidia-utils-beta (1-1 -> 2-1)
[2024-05-03T10:00:01+0000] [ALPM] downgraded nvidia-dkms (560.35.03-1 -> 550.78-1)
[2024-05-04T10:00:01+0000] [ALPM] reinstalled nvidia-utils (1:2.0-1)
[2024-05-04T10:00:01+0000] [ALPM-SCRIPTLET] installed nvidia-utils (9-9)
garbage line
`
	if err := os.WriteFile(log, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := History("/", log, "nvidia-utils", "nvidia-dkms", "nvidia-settings")
	if err != nil {
		t.Fatal(err)
	}
	got := func(n string) string {
		var vs []string
		for v := range h[n] {
			vs = append(vs, v)
		}
		return strings.Join(sortStrings(vs), " ")
	}
	if g := got("nvidia-utils"); g != "1:2.0-1 545.29.06-1 550.78-1" {
		t.Errorf("nvidia-utils: %s", g)
	}
	if g := got("nvidia-dkms"); g != "550.78-1 560.35.03-1" {
		t.Errorf("nvidia-dkms: %s", g)
	}
	if g := got("nvidia-settings"); g != "" {
		t.Errorf("nvidia-settings: %s", g)
	}
	if h, err := History("/", filepath.Join(t.TempDir(), "none"), "x"); err != nil || len(h["x"]) != 0 {
		t.Fatalf("missing log: %v %v", h, err)
	}
}

func sortStrings(s []string) []string {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s
}

func TestSplitDep(t *testing.T) {
	for in, want := range map[string][2]string{
		"nvidia-utils=560.35.03": {"nvidia-utils", "=560.35.03"},
		"glibc>=2.38":            {"glibc", ">=2.38"},
		"sh":                     {"sh", ""},
		"foo<2":                  {"foo", "<2"},
	} {
		n, c := splitDep(in)
		if n != want[0] || c != want[1] {
			t.Errorf("splitDep(%q) = %q %q", in, n, c)
		}
	}
}

// TestListMarksInstalledAndHistory: the cache and the archive merge into
// one list, newest first; the installed version and the one pacman.log
// says was installed before are marked.
func TestListMarksInstalledAndHistory(t *testing.T) {
	sandbox.RequireRoot(t)
	r, f := sandbox.NewNVIDIA(t)
	// 550.78 was installed once, before the upgrade to 560.
	if err := r.Install(f.Paths(sandbox.Good, sandbox.NVIDIA...)...); err != nil {
		t.Fatal(err)
	}
	if err := r.Install(f.Paths(sandbox.Broken, sandbox.NVIDIA...)...); err != nil {
		t.Fatal(err)
	}
	arch := newArchive(t, f.Path("nvidia-utils", sandbox.Good), f.Path("nvidia-utils", sandbox.Broken))
	d := open(t, r, arch.URL)
	l, err := d.List(bg, "nvidia-utils", true)
	if err != nil {
		t.Fatal(err)
	}
	if l.Installed != sandbox.Broken || len(l.Versions) != 2 {
		t.Fatalf("listing %+v", l)
	}
	top, old := l.Versions[0], l.Versions[1]
	if top.Version != sandbox.Broken || !top.Installed || top.Cached != "" || top.URL == "" {
		t.Errorf("top %+v", top)
	}
	if old.Version != sandbox.Good || old.Installed || !old.InstalledBefore || old.Cached == "" || old.URL == "" {
		t.Errorf("old %+v", old)
	}
	if v, ok := l.LatestCachedBelowInstalled(); !ok || v.Version != sandbox.Good {
		t.Errorf("latest cached: %+v %v", v, ok)
	}
}

// TestDowngradeFromCache: all three driver packages from the cache, in one
// pacman transaction; nvidia-dkms joins by itself (same pkgbase as
// nvidia-utils, and it depends on nvidia-utils at its own version).
func TestDowngradeFromCache(t *testing.T) {
	sandbox.RequireRoot(t)
	r, _ := sandbox.NewNVIDIA(t)
	before := transactions(t, r)
	d := open(t, r) // no archive server: the cache alone
	p, err := d.Plan(bg, []Target{{"nvidia-utils", sandbox.Good}, {"nvidia-settings", sandbox.Good}})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(p.Names(), " "); got != "nvidia-utils nvidia-settings nvidia-dkms" {
		t.Fatalf("plan %s", got)
	}
	dkms := p.Moves[2]
	if dkms.From != sandbox.Broken || dkms.To != sandbox.Good || !strings.Contains(dkms.Why, "same pkgbase nvidia-utils") {
		t.Fatalf("dkms move %+v", dkms)
	}
	if err := d.Fetch(bg, p); err != nil {
		t.Fatal(err)
	}
	if err := d.Check(bg, p); err != nil {
		t.Fatal(err)
	}
	if err := d.Run(bg, p, "test"); err != nil {
		t.Fatal(err)
	}
	if got := query(t, r); got != goodAll {
		t.Fatalf("installed:\n%s", got)
	}
	if n := transactions(t, r) - before; n != 1 {
		t.Fatalf("%d pacman transactions, want 1", n)
	}
}

// TestDowngradeDependentSibling: a package outside the pkgbase whose
// versioned dependency breaks moves too (nvidia-dkms, once the pkgbase
// rule is out of play: asking for nvidia-dkms alone pulls nvidia-utils in
// through nvidia-dkms 550's own dependency).
func TestDowngradeDependencyOfNewVersion(t *testing.T) {
	sandbox.RequireRoot(t)
	r, _ := sandbox.NewNVIDIA(t)
	d := open(t, r)
	p, err := d.Plan(bg, []Target{{"nvidia-dkms", sandbox.Good}})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(p.Names(), " "); got != "nvidia-dkms nvidia-utils" {
		t.Fatalf("plan %s", got)
	}
}

// TestMissingSibling: nvidia-dkms 550 is gone from the cache and there is
// no archive: a clear error naming it, and nothing changed.
func TestMissingSibling(t *testing.T) {
	sandbox.RequireRoot(t)
	r, _ := sandbox.NewNVIDIA(t)
	if err := os.Remove(filepath.Join(r.CacheDir, "nvidia-dkms-550.78-1-x86_64.pkg.tar.zst")); err != nil {
		t.Fatal(err)
	}
	tree := sandbox.MustTree(t, r.Dir)
	d := open(t, r)
	_, err := d.Plan(bg, []Target{{"nvidia-utils", sandbox.Good}})
	mustContain(t, err, "nvidia-dkms must move too", "nvidia-dkms 550.78-1 is not available", "not in the cache")
	var me *MissingError
	if !errors.As(err, &me) || me.Name != "nvidia-dkms" || me.Version != sandbox.Good {
		t.Fatalf("error %#v", err)
	}
	sandbox.AssertUnchanged(t, r.Dir, tree)
}

// TestDowngradeFromArchive: nothing cached; the files come from a local
// HTTP server in the archive's layout, with their .sig.
func TestDowngradeFromArchive(t *testing.T) {
	sandbox.RequireRoot(t)
	r, f := sandbox.NewNVIDIA(t)
	emptyCache(t, r)
	var files []string
	for _, v := range []string{sandbox.Good, sandbox.Broken} {
		files = append(files, f.Paths(v, sandbox.NVIDIA...)...)
	}
	arch := newArchive(t, files...)
	d := open(t, r, arch.URL)
	before := transactions(t, r)
	p, err := d.Plan(bg, []Target{{"nvidia-utils", sandbox.Good}, {"nvidia-settings", sandbox.Good}})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Moves) != 3 || !strings.HasPrefix(p.Moves[2].Source, arch.URL) {
		t.Fatalf("plan %+v", p.Moves)
	}
	if err := d.Fetch(bg, p); err != nil {
		t.Fatal(err)
	}
	for _, m := range p.Moves {
		if filepath.Dir(m.Path) != r.CacheDir {
			t.Fatalf("%s fetched to %s", m.Name, m.Path)
		}
		if _, err := os.Stat(m.Path + ".sig"); err != nil {
			t.Fatalf("no .sig beside %s", m.Path)
		}
	}
	if err := d.Check(bg, p); err != nil {
		t.Fatal(err)
	}
	if err := d.Run(bg, p, "test"); err != nil {
		t.Fatal(err)
	}
	if got := query(t, r); got != goodAll {
		t.Fatalf("installed:\n%s", got)
	}
	if n := transactions(t, r) - before; n != 1 {
		t.Fatalf("%d transactions", n)
	}
}

// TestArchiveListingFails: the archive answers 500 and the cache is empty:
// an error naming the archive failure, never "no older versions", and
// nothing changed.
func TestArchiveListingFails(t *testing.T) {
	sandbox.RequireRoot(t)
	r, f := sandbox.NewNVIDIA(t)
	emptyCache(t, r)
	arch := newArchive(t, f.Paths(sandbox.Good, sandbox.NVIDIA...)...)
	arch.fail.Store(500)
	tree := sandbox.MustTree(t, r.Dir)
	d := open(t, r, arch.URL)
	l, err := d.List(bg, "nvidia-utils", true)
	var ae *ArchiveError
	if !errors.As(err, &ae) || l == nil || l.ArchiveError == "" {
		t.Fatalf("List: %v (%+v)", err, l)
	}
	mustContain(t, err, "cannot list nvidia-utils on the archive server", "500")
	_, err = d.Plan(bg, []Target{{"nvidia-utils", sandbox.Good}})
	mustContain(t, err, "nvidia-utils 550.78-1 is not available", "cannot list nvidia-utils on the archive server", "500")
	sandbox.AssertUnchanged(t, r.Dir, tree)
}

// TestArchiveDownWithCacheEnough: the archive is down, but the cache has
// every file: the plan goes ahead from the cache alone.
func TestArchiveDownWithCacheEnough(t *testing.T) {
	sandbox.RequireRoot(t)
	r, f := sandbox.NewNVIDIA(t)
	arch := newArchive(t, f.Paths(sandbox.Good, sandbox.NVIDIA...)...)
	arch.fail.Store(503)
	d := open(t, r, arch.URL)
	p, err := d.Plan(bg, []Target{{"nvidia-utils", sandbox.Good}})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Moves) != 2 || arch.listings.Load() != 0 {
		t.Fatalf("plan %v, %d listings asked", p.Names(), arch.listings.Load())
	}
}

// TestTamperedPackageRefused: a cached file that is not what the pinned
// sha256 says is refused before pacman runs.
func TestTamperedPackageRefused(t *testing.T) {
	sandbox.RequireRoot(t)
	r, f := sandbox.NewNVIDIA(t)
	good := f.Path("nvidia-utils", sandbox.Good)
	sum := sha(t, good)
	cached := filepath.Join(r.CacheDir, filepath.Base(good))
	// Still a valid package (recompressed), but not the pinned bytes.
	if out, err := exec.Command("sh", "-c", "zstd -qdc \"$1\" | zstd -q -1 -c > \"$1.new\" && mv \"$1.new\" \"$1\"", "sh", cached).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	tree := sandbox.MustTree(t, r.Dir)
	before := transactions(t, r)
	d := open(t, r)
	p, err := d.Plan(bg, []Target{{"nvidia-utils", sandbox.Good}})
	if err != nil {
		t.Fatal(err)
	}
	p.Moves[0].SHA256 = sum
	if err := d.Fetch(bg, p); err != nil {
		t.Fatal(err)
	}
	mustContain(t, d.Check(bg, p), "sha256 mismatch", cached, sum)
	sandbox.AssertUnchanged(t, r.Dir, tree)
	if transactions(t, r) != before {
		t.Fatal("pacman ran")
	}
}

func sha(t *testing.T, path string) string {
	t.Helper()
	s, err := fsxSHA(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
