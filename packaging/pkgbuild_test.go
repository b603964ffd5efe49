package packaging

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/vincentos/clp/testkit/sandbox"
)

// sourceDir is the clp source tree: $CLP_SOURCE (as for the sandbox) or the
// folder above this package.
func sourceDir(t *testing.T) string {
	if s := os.Getenv("CLP_SOURCE"); s != "" {
		return s
	}
	abs, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// promisedFiles is what the PKGBUILD (through 'make install') promises to
// install, as pacman lists it (no leading slash, files only). Hooks and man
// pages are read from the source tree, so a new hook or page is promised
// as soon as it exists; the feed's root of trust only when the source
// ships one (the Makefile skips it with a note otherwise).
func promisedFiles(t *testing.T, src string) []string {
	files := []string{
		"etc/clp/clp.conf",
		"usr/bin/clp",
		"usr/lib/clp/clp-hook",
		"usr/lib/systemd/system/core-livepatch-update.service",
		"usr/lib/systemd/system/core-livepatch-update.timer",
		"usr/lib/systemd/system/clp-boot-guard.service",
		"usr/lib/systemd/system/clp-boot-check.service",
		"usr/share/bash-completion/completions/clp",
		"usr/share/zsh/site-functions/_clp",
		"usr/share/fish/vendor_completions.d/clp.fish",
		"usr/share/doc/clp/clp-format.md",
		"usr/share/licenses/clp/LICENSE",
		// The three pages the issue asks for; others in dist/man join them.
		"usr/share/man/man1/clp.1.gz",
		"usr/share/man/man5/clp.conf.5.gz",
		"usr/share/man/man5/clp-format.5.gz",
	}
	hooks, err := filepath.Glob(filepath.Join(src, "hooks/files/*.hook"))
	if err != nil || len(hooks) == 0 {
		t.Fatalf("no hooks/files/*.hook in %s: %v", src, err)
	}
	for _, h := range hooks {
		files = append(files, "usr/share/libalpm/hooks/"+filepath.Base(h))
	}
	pages, _ := filepath.Glob(filepath.Join(src, "dist/man/*.scd"))
	for _, p := range pages {
		page := strings.TrimSuffix(filepath.Base(p), ".scd")
		files = append(files, "usr/share/man/man"+page[len(page)-1:]+"/"+page+".gz")
	}
	if _, err := os.Stat(filepath.Join(src, "dist/feed/root.json")); err == nil {
		files = append(files, "usr/share/clp/feed/root.json")
	}
	return uniqSorted(files)
}

// promisedDirs are directories the package owns although they are empty.
var promisedDirs = []string{"etc/clp/keys/"}

func uniqSorted(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}

type builder struct {
	uid, gid int
}

func nobody(t *testing.T) builder {
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Skipf("no 'nobody' user to run makepkg as: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return builder{uid, gid}
}

// goBin finds the go command for makepkg's PATH: the one running this
// test, else /usr/local/go/bin.
func goBin(t *testing.T) string {
	for _, p := range []string{filepath.Join(runtime.GOROOT(), "bin"), "/usr/local/go/bin"} {
		if st, err := os.Stat(filepath.Join(p, "go")); err == nil && !st.IsDir() {
			return p
		}
	}
	if p, err := exec.LookPath("go"); err == nil {
		return filepath.Dir(p)
	}
	t.Skip("no go command to build with")
	return ""
}

// goCache is the build user's Go build cache. It is kept between runs
// (like the sandbox's fixture packages) because a cold build of clp with
// the PKGBUILD's flags (PIE, trimpath, external linking) takes minutes on
// two cores, and a warm one seconds. $CLP_PKGBUILD_GOCACHE overrides it.
func goCache(t *testing.T, b builder) string {
	dir := os.Getenv("CLP_PKGBUILD_GOCACHE")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), fmt.Sprintf("clp-pkgbuild-gocache-%d", b.uid))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(dir, b.uid, b.gid); err != nil {
		t.Fatal(err)
	}
	return dir
}

// pages, makepkg's src/ and pkg/), or every file but .git without git.
func copySource(t *testing.T, src, dst string) {
	var files []string
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = src
	if out, err := cmd.Output(); err == nil {
		for _, f := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
			if f != "" {
				files = append(files, f)
			}
		}
	} else {
		err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(src, p)
			if d.IsDir() && (rel == ".git" || rel == "src" || rel == "pkg") {
				return filepath.SkipDir
			}
			if d.Type().IsRegular() {
				files = append(files, rel)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range files {
		from := filepath.Join(src, f)
		st, err := os.Lstat(from)
		if errors.Is(err, fs.ErrNotExist) {
			continue // deleted in the working tree, not yet in git
		}
		if err != nil {
			t.Fatal(err)
		}
		if !st.Mode().IsRegular() {
			continue
		}
		if err := sandbox.CopyFile(from, filepath.Join(dst, f), st.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
}

func copyTree(t *testing.T, src, dst string) {
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		return sandbox.CopyFile(p, filepath.Join(dst, rel), 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func chownTree(t *testing.T, dir string, b builder) {
	err := filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, b.uid, b.gid)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// buildPackage runs the real makepkg on a copy of the source tree as
// nobody, offline: modules come from a copy of the host's module download
// cache served as a file:// GOPROXY (nobody cannot read root's module
// cache, and the build must not reach the network).
func buildPackage(t *testing.T, src string) string {
	b := nobody(t)
	gobin := goBin(t)
	work := t.TempDir()
	// nobody must reach work through t.TempDir's private parent.
	for _, d := range []string{work, filepath.Dir(work)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// The release as Arch builds it: 'make dist' writes the source
	// tarball, the PKGBUILD with its sha256 and the install scriptlet into
	// an empty folder, and makepkg runs there, with nothing else at hand.
	tree := filepath.Join(work, "release")
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is needed for 'make dist':", err)
	}
	dist := exec.Command("make", "--no-print-directory", "-C", src, "dist", "DISTDIR="+tree)
	if out, err := dist.CombinedOutput(); err != nil {
		t.Fatalf("make dist: %v\n%s", err, out)
	}
	ents, err := os.ReadDir(tree)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if len(names) != 3 || names[0] != "PKGBUILD" || !strings.HasPrefix(names[1], "clp-") || !strings.HasSuffix(names[1], ".tar.gz") || names[2] != "clp.install" {
		t.Fatalf("make dist wrote %v, want PKGBUILD, clp-VERSION.tar.gz, clp.install", names)
	}
	pb, _ := os.ReadFile(filepath.Join(tree, "PKGBUILD"))
	if bytes.Contains(pb, []byte("startdir")) || bytes.Contains(pb, []byte("'SKIP'")) {
		t.Fatalf("the released PKGBUILD reads $startdir or skips its checksum:\n%s", pb)
	}

	out, err := exec.Command(filepath.Join(gobin, "go"), "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatalf("go env GOMODCACHE: %v", err)
	}
	download := filepath.Join(strings.TrimSpace(string(out)), "cache", "download")
	if _, err := os.Stat(download); err != nil {
		t.Skipf("no Go module download cache to build offline from (run 'go mod download' first): %v", err)
	}
	proxy := filepath.Join(work, "goproxy")
	copyTree(t, download, proxy)

	for _, d := range []string{"home", "gopath", "gomod", "pkgdest", "srcdest", "build"} {
		if err := os.Mkdir(filepath.Join(work, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	chownTree(t, work, b)
	logPath := filepath.Join(work, "makepkg.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command("makepkg", "--nodeps", "--noconfirm", "--noprogressbar", "--nocolor")
	cmd.Dir = tree
	// The makepkg, pacman and libalpm under test (make test's pacman 7.1
	// leg puts its own first on PATH and names its makepkg.conf and
	// libalpm.pc), then the system's.
	cmd.Env = []string{
		"PATH=" + gobin + ":" + os.Getenv("PATH") + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"PKG_CONFIG_PATH=" + os.Getenv("PKG_CONFIG_PATH"),
		"MAKEPKG_CONF=" + os.Getenv("MAKEPKG_CONF"),
		"HOME=" + filepath.Join(work, "home"),
		"LANG=C",
		"PKGEXT=.pkg.tar.zst",
		"PKGDEST=" + filepath.Join(work, "pkgdest"),
		"SRCDEST=" + filepath.Join(work, "srcdest"),
		"BUILDDIR=" + filepath.Join(work, "build"),
		"PACKAGER=clp packaging test <packaging@example.invalid>",
		"GOPATH=" + filepath.Join(work, "gopath"),
		"GOMODCACHE=" + filepath.Join(work, "gomod"),
		"GOCACHE=" + goCache(t, b),
		"GOPROXY=file://" + proxy,
		"GOSUMDB=off", // go.sum still checks every module
		"GOTOOLCHAIN=local",
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(b.uid), Gid: uint32(b.gid)}}
	if err := cmd.Run(); err != nil {
		log, _ := os.ReadFile(logPath)
		t.Fatalf("makepkg as nobody: %v\n%s", err, tail(string(log), 60))
	}
	pkgs, _ := filepath.Glob(filepath.Join(work, "pkgdest", "clp-*.pkg.tar.zst"))
	if len(pkgs) != 1 {
		log, _ := os.ReadFile(logPath)
		t.Fatalf("makepkg made %d packages %v\n%s", len(pkgs), pkgs, tail(string(log), 30))
	}
	return pkgs[0]
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// TestPKGBUILD builds the package with the real makepkg as nobody, installs
// it into a sandbox root with the real pacman (scriptlet and hooks run in
// the root's chroot, where systemd is not running), checks its files, runs
// the installed clp, and removes it again.
func TestPKGBUILD(t *testing.T) {
	sandbox.RequireRoot(t)
	for _, c := range []string{"makepkg", "pacman", "fakeroot", "bsdtar", "scdoc", "git"} {
		if _, err := exec.LookPath(c); err != nil && c != "git" {
			t.Skipf("%s is not installed (make deps installs it)", c)
		}
	}
	src := sourceDir(t)
	pkg := buildPackage(t, src)

	// The root: /bin/sh for the scriptlet, and clp's shared libraries for
	// the hooks, which pacman runs chrooted into the root. The libraries
	// are found from a copy of the packaged binary under another name, so
	// that the package's own /usr/bin/clp does not exist yet.
	dir := t.TempDir()
	root, err := sandbox.Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	// A machine installing clp has no clp.conf yet (sandbox roots start
	// with one that names no archive server): the package must own it.
	if err := os.RemoveAll(filepath.Join(root.Dir, "etc/clp")); err != nil {
		t.Fatal(err)
	}
	probe := filepath.Join(t.TempDir(), "x")
	if out, err := exec.Command("bsdtar", "-xf", pkg, "-C", filepath.Dir(probe), "usr/bin/clp").CombinedOutput(); err != nil {
		t.Fatalf("bsdtar: %v: %s", err, out)
	}
	libProbe := filepath.Join(filepath.Dir(probe), "clp-libs")
	if err := os.Rename(filepath.Join(filepath.Dir(probe), "usr/bin/clp"), libProbe); err != nil {
		t.Fatal(err)
	}
	if err := root.MakeChrootable(libProbe); err != nil {
		t.Fatal(err)
	}
	before := treeOf(t, dir)

	out, err := root.PacmanTargets([]string{"-U", "--nodeps", "--nodeps", "--noconfirm"}, []string{pkg}) // -dd: the root has no pacman or glibc packages
	if err != nil {
		t.Fatalf("pacman -U: %v", err)
	}
	t.Logf("pacman -U:\n%s", out)
	if !strings.Contains(out, "systemd is not running") {
		t.Errorf("the install scriptlet did not run (or did not see that systemd is not running):\n%s", out)
	}
	if strings.Contains(strings.ToLower(out), "error") {
		t.Errorf("pacman -U reported an error (scriptlet or hook):\n%s", out)
	}

	// The file list.
	q, err := root.PacmanQuery("-Qlq", "clp")
	if err != nil {
		t.Fatalf("pacman -Ql clp: %v", err)
	}
	var files, dirs []string
	for _, l := range strings.Split(strings.TrimSpace(string(q)), "\n") {
		rel, ok := strings.CutPrefix(l, root.Dir+"/")
		if !ok {
			t.Fatalf("pacman -Ql: %q is not under the root", l)
		}
		if strings.HasSuffix(rel, "/") {
			dirs = append(dirs, rel)
		} else {
			files = append(files, rel)
		}
	}
	sort.Strings(files)
	want := promisedFiles(t, src)
	if strings.Join(files, "\n") != strings.Join(want, "\n") {
		t.Errorf("the package's files differ from the promised list:\n%s", setDiff(want, files))
	}
	for _, d := range promisedDirs {
		if !contains(dirs, d) {
			t.Errorf("the package does not own the directory /%s", d)
		}
		if st, err := os.Stat(filepath.Join(root.Dir, d)); err != nil || st.Mode().Perm() != 0o755 {
			t.Errorf("/%s: want a 0755 directory, got %v %v", d, st, err)
		}
	}
	info, err := root.PacmanQuery("-Qii", "clp")
	if err != nil {
		t.Fatalf("pacman -Qii: %v", err)
	}
	for _, w := range []string{"/etc/clp/clp.conf", "pacman", "powershell-bin", "snapper", "Install Script  : Yes"} {
		if !strings.Contains(info, w) {
			t.Errorf("pacman -Qii clp lacks %q:\n%s", w, info)
		}
	}
	if m, _ := os.Stat(filepath.Join(root.Dir, "usr/bin/clp")); m == nil || m.Mode().Perm() != 0o755 {
		t.Errorf("/usr/bin/clp: want mode 0755, got %v", m)
	}
	checkHardening(t, filepath.Join(root.Dir, "usr/bin/clp"))
	// clp loads libalpm with dlopen when a command first needs it (the
	// package's depends has pacman for it); nothing of it is in DT_NEEDED.
	if f, err := elf.Open(filepath.Join(root.Dir, "usr/bin/clp")); err != nil {
		t.Error(err)
	} else {
		libs, _ := f.ImportedLibraries()
		for _, l := range libs {
			if strings.HasPrefix(l, "libalpm") {
				t.Errorf("the packaged clp links %s (DT_NEEDED %v): it must load it on first use", l, libs)
			}
		}
		f.Close()
	}
	// The hook files run clp-hook: PIE too, and no shared library at all
	// (no cgo), so each hook loads nothing but itself.
	hook := filepath.Join(root.Dir, "usr/lib/clp/clp-hook")
	if m, _ := os.Stat(hook); m == nil || m.Mode().Perm() != 0o755 {
		t.Errorf("/usr/lib/clp/clp-hook: want mode 0755, got %v", m)
	}
	checkHardening(t, hook)
	if f, err := elf.Open(hook); err != nil {
		t.Error(err)
	} else {
		if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
			t.Errorf("clp-hook links shared libraries %v: it must be built without cgo", libs)
		}
		f.Close()
	}
	for _, h := range []string{"00-clp-guard.hook", "00-clp-pre.hook", "zz-clp-post.hook"} {
		b, err := os.ReadFile(filepath.Join(root.Dir, "usr/share/libalpm/hooks", h))
		if err != nil || !strings.Contains(string(b), "\nExec = /usr/lib/clp/clp-hook ") {
			t.Errorf("%s does not run /usr/lib/clp/clp-hook: %v\n%s", h, err, b)
		}
	}

	// The installed clp runs, against the root it was installed in (its
	// cache of pacman's version in a temporary directory, not the user's).
	clpCmd := func(args ...string) *exec.Cmd {
		c := exec.Command(filepath.Join(root.Dir, "usr/bin/clp"), args...)
		c.Env = append(os.Environ(), "XDG_CACHE_HOME="+t.TempDir())
		return c
	}
	ver, err := clpCmd("--version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(ver), "clp 0.") || !strings.Contains(string(ver), "libalpm") {
		t.Errorf("clp --version: %v: %s", err, ver)
	}
	st, err := clpCmd("--root", root.Dir, "--noconfirm", "status").CombinedOutput()
	if err != nil || !strings.Contains(string(st), "clp") {
		t.Errorf("clp --root ROOT status: %v: %s", err, st)
	}
	t.Logf("clp status:\n%s", st)

	// A changed config survives the removal as .pacsave; nothing else of
	// the package stays.
	conf := filepath.Join(root.Dir, "etc/clp/clp.conf")
	changed := []byte("# changed by the packaging test\n")
	if old, err := os.ReadFile(conf); err == nil {
		changed = append(old, changed...)
	}
	if err := os.WriteFile(conf, changed, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = root.Pacman("-R", "--noconfirm", "clp")
	if err != nil {
		t.Fatalf("pacman -R clp: %v", err)
	}
	t.Logf("pacman -R:\n%s", out)
	if strings.Contains(strings.ToLower(out), "error") {
		t.Errorf("pacman -R reported an error:\n%s", out)
	}
	saved, err := os.ReadFile(conf + ".pacsave")
	if err != nil || !bytes.Equal(saved, changed) {
		t.Errorf("the changed clp.conf was not kept as clp.conf.pacsave: %v", err)
	}
	after := treeOf(t, dir)
	var left []string
	for _, d := range before.Diff(after) {
		switch d {
		case "added: etc/clp", "added: etc/clp/clp.conf.pacsave":
			continue // the saved config and its folder
		}
		left = append(left, d)
	}
	if len(left) > 0 {
		t.Errorf("removing clp left the root changed:\n%s", strings.Join(left, "\n"))
	}
}

// treeOf records the root without what pacman and clp keep for themselves:
// pacman's database, log and cache, and clp's state (written by its hooks,
// runtime data that pacman never removes, like pacman's own database).
func treeOf(t *testing.T, dir string) sandbox.Tree {
	tree, err := sandbox.TreeState(dir, func(rel string) bool {
		switch rel {
		case "var/lib/pacman", "var/log", "var/cache", "var/lib/clp", "etc/pacman.d/gnupg":
			return true
		}
		return false
	})
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

// checkHardening checks what Arch's Go guidelines are for: a PIE binary
// with RELRO, built without the build folder's paths in it (-trimpath).
func checkHardening(t *testing.T, bin string) {
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Type != elf.ET_DYN {
		t.Errorf("clp is %v, not a PIE (ET_DYN)", f.Type)
	}
	relro := false
	for _, p := range f.Progs {
		if p.Type == elf.PT_GNU_RELRO {
			relro = true
		}
	}
	if !relro {
		t.Error("clp has no PT_GNU_RELRO segment (external linking)")
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte("/pkgdest")) || bytes.Contains(data, []byte(os.TempDir()+"/TestPKGBUILD")) {
		t.Error("clp holds build paths: -trimpath was not used")
	}
}

func contains(s []string, x string) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}

func setDiff(want, got []string) string {
	var b strings.Builder
	for _, w := range want {
		if !contains(got, w) {
			fmt.Fprintf(&b, "  missing: /%s\n", w)
		}
	}
	for _, g := range got {
		if !contains(want, g) {
			fmt.Fprintf(&b, "  unexpected: /%s\n", g)
		}
	}
	return b.String()
}
