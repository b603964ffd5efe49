package pacman

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// A mounted installation's pacman.conf names that system's paths. pacman
// reads them literally (and pacman 7 resolves them here), so pacman gets a
// copy where the directory lines are comments (their mapped values are on
// its command line), every Include names a copy of the root's file, and a
// file:// server is the root's folder. Everything else is kept as written.
func TestPrepareRewritesConfigForRoot(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"etc/pacman.d/gnupg", "etc/pacman.d/hooks", "var/lib/pacman", "var/cache/pacman/pkg", "srv/cache"} {
		os.MkdirAll(filepath.Join(root, d), 0o755)
	}
	os.WriteFile(filepath.Join(root, "etc/pacman.d/clp-pins.conf"), []byte("IgnorePkg = nvidia-utils\n"), 0o644)
	os.WriteFile(filepath.Join(root, "etc/pacman.d/cache.conf"), []byte("CacheDir = /srv/cache/\n"), 0o644)
	os.WriteFile(filepath.Join(root, "etc/pacman.d/mirrorlist"), []byte("Server = https://mirror.example/$repo/os/$arch\n"), 0o644)
	conf := filepath.Join(root, "etc/pacman.conf")
	os.WriteFile(conf, []byte(`[options]
Include = /etc/pacman.d/clp-pins.conf
Include = /etc/pacman.d/cache.conf
CacheDir = /var/cache/pacman/pkg/
HookDir = /etc/pacman.d/hooks/
GPGDir = /etc/pacman.d/gnupg/
DBPath = /var/lib/pacman/
DownloadUser = alpm
SigLevel = Required DatabaseOptional
[core]
Include = /etc/pacman.d/mirrorlist
[local]
Server = file:///srv/repo
`), 0o644)
	p, err := Resolve(Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	pr, err := prepare(p)
	if err != nil {
		t.Fatal(err)
	}
	if pr.paths.Config == p.Config || !strings.HasPrefix(pr.paths.Config, pr.tmp) {
		t.Fatalf("pacman must get a private copy of pacman.conf, got %s", pr.paths.Config)
	}
	got, _ := os.ReadFile(pr.paths.Config)
	for _, want := range []string{
		"# clp: given on pacman's command line: CacheDir = /var/cache/pacman/pkg/",
		"# clp: given on pacman's command line: HookDir = /etc/pacman.d/hooks/",
		"# clp: given on pacman's command line: GPGDir = /etc/pacman.d/gnupg/",
		"# clp: given on pacman's command line: DBPath = /var/lib/pacman/",
		"DownloadUser = alpm\n", "SigLevel = Required DatabaseOptional\n",
		"Server = file://" + root + "/srv/repo\n",
	} {
		if !strings.Contains(string(got), want) {
			t.Errorf("the copy lacks %q:\n%s", want, got)
		}
	}
	// Both Includes name copies of the root's files, not this machine's.
	var incs []string
	for _, l := range strings.Split(string(got), "\n") {
		if v, ok := strings.CutPrefix(l, "Include = "); ok {
			incs = append(incs, v)
		}
	}
	if len(incs) != 3 {
		t.Fatalf("includes %v, want 3", incs)
	}
	// An included file continues its includer's section: a directory line
	// in a file included from [options] is pacman's command line's too.
	for i, want := range []string{"IgnorePkg = nvidia-utils\n", "# clp: given on pacman's command line: CacheDir = /srv/cache/\n", "Server = https://mirror.example/$repo/os/$arch\n"} {
		b, err := os.ReadFile(incs[i])
		if err != nil || string(b) != want || !strings.HasPrefix(incs[i], pr.tmp) {
			t.Errorf("include %d = %s (%q, %v), want a private copy holding %q", i, incs[i], b, err, want)
		}
	}
	// The directories it names exist, so pacman 7 takes them as given.
	if !reflect.DeepEqual(pr.paths.HookDirs, p.HookDirs) || pr.paths.GPGDir != p.GPGDir || !reflect.DeepEqual(pr.paths.CacheDirs, p.CacheDirs) {
		t.Errorf("existing folders must be passed as they are: %+v", pr.paths)
	}
	pr.cleanup()
	if _, err := os.Stat(pr.tmp); !os.IsNotExist(err) {
		t.Errorf("cleanup left %s: %v", pr.tmp, err)
	}
}

// pacman 7 refuses a --gpgdir, --hookdir or --cachedir that does not exist,
// and without one it would use this machine's. A root without a keyring or
// hook folder gets empty private ones; missing caches are left out and,
// when none is left, the first is made, as pacman 6 makes its cache.
func TestPrepareStandsInForMissingFolders(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	os.MkdirAll(filepath.Join(root, "var/lib/pacman"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/pacman.conf"), []byte("[options]\nCacheDir = /var/cache/pacman/pkg/\nCacheDir = /srv/cache/\n"), 0o644)
	p, err := Resolve(Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	pr, err := prepare(p)
	if err != nil {
		t.Fatal(err)
	}
	defer pr.cleanup()
	for _, d := range append([]string{pr.paths.GPGDir}, pr.paths.HookDirs...) {
		if !strings.HasPrefix(d, pr.tmp) {
			t.Errorf("%s: a missing folder must be replaced by a private empty one", d)
		}
		if ents, err := os.ReadDir(d); err != nil || len(ents) != 0 {
			t.Errorf("%s: %v %v, want an empty folder", d, ents, err)
		}
	}
	want := filepath.Join(root, "var/cache/pacman/pkg")
	if !reflect.DeepEqual(pr.paths.CacheDirs, []string{want}) || !isDir(want) {
		t.Errorf("caches %v, want only %s, created", pr.paths.CacheDirs, want)
	}
}

// On the running system ("/") pacman.conf is pacman's own: no copy.
func TestPrepareKeepsSystemConfig(t *testing.T) {
	p := &Paths{Root: "/", Config: "/etc/pacman.conf", GPGDir: t.TempDir(), HookDirs: []string{t.TempDir()}}
	pr, err := prepare(p)
	if err != nil {
		t.Fatal(err)
	}
	defer pr.cleanup()
	if pr.paths.Config != "/etc/pacman.conf" || pr.tmp != "" {
		t.Errorf("config %s tmp %q, want the system's own file and no temporary folder", pr.paths.Config, pr.tmp)
	}
}
