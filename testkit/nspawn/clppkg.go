package nspawn

import (
	"crypto/sha256"
	"encoding/hex"
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
	"sync"
	"syscall"
	"testing"

	"github.com/vincentos/clp/testkit/sandbox"
)

// The clp package built from the PKGBUILD, the way packaging/'s test builds
// it (makepkg as nobody, offline from a copy of the module download cache,
// the same shared Go build cache), but kept in CacheDir by a key of the
// source's content, so the test packages that boot it build it once.

var (
	pkgOnce sync.Once
	pkgPath string
	pkgErr  error
)

// SourceDir is the clp source tree: $CLP_SOURCE, else the folder holding
// go.mod above the working directory.
func SourceDir() (string, error) {
	if s := os.Getenv("CLP_SOURCE"); s != "" {
		return s, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "PKGBUILD")); err == nil {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				return dir, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("nspawn: no clp source (PKGBUILD and go.mod) above the working directory; set CLP_SOURCE")
		}
		dir = parent
	}
}

// sourceFiles lists the source as git sees it (tracked and untracked, not
// ignored), or every regular file but .git, src/ and pkg/ without git.
func sourceFiles(src string) ([]string, error) {
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = src
	var files []string
	if out, err := cmd.Output(); err == nil {
		for _, f := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
			if f == "" {
				continue
			}
			if st, err := os.Lstat(filepath.Join(src, f)); err == nil && st.Mode().IsRegular() {
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
			return nil, err
		}
	}
	sort.Strings(files)
	return files, nil
}

// ClpPackage returns the path of the clp package built from the source
// under test.
func ClpPackage(tb testing.TB) string {
	tb.Helper()
	for _, c := range []string{"makepkg", "fakeroot", "bsdtar", "scdoc"} {
		if _, err := exec.LookPath(c); err != nil {
			tb.Skipf("%s is not installed (make deps installs it)", c)
		}
	}
	pkgOnce.Do(func() { pkgPath, pkgErr = buildClpPackage(tb) })
	if pkgErr != nil {
		tb.Fatal(pkgErr)
	}
	return pkgPath
}

func buildClpPackage(tb testing.TB) (string, error) {
	src, err := SourceDir()
	if err != nil {
		return "", err
	}
	files, err := sourceFiles(src)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "clp-package-v2 %s %s\n", runtime.GOARCH, runtime.Version())
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d\n", f, len(data))
		h.Write(data)
	}
	final := filepath.Join(CacheDir(), "clp-nspawn-pkg-"+hex.EncodeToString(h.Sum(nil))[:16])
	unlock, err := lockCache(final)
	if err != nil {
		return "", err
	}
	defer unlock()
	if pkgs, _ := filepath.Glob(filepath.Join(final, "clp-*.pkg.tar.zst")); len(pkgs) == 1 {
		return pkgs[0], nil
	}

	u, err := user.Lookup("nobody")
	if err != nil {
		return "", fmt.Errorf("no 'nobody' user to run makepkg as: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	gobin := filepath.Join(runtime.GOROOT(), "bin")
	if _, err := os.Stat(filepath.Join(gobin, "go")); err != nil {
		p, err := exec.LookPath("go")
		if err != nil {
			return "", fmt.Errorf("no go command to build with")
		}
		gobin = filepath.Dir(p)
	}
	work, err := os.MkdirTemp(CacheDir(), "clp-nspawn-pkgbuild-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(work)
	if err := os.Chmod(work, 0o755); err != nil {
		return "", err
	}
	// The release as Arch builds it (make dist: the source tarball, the
	// PKGBUILD with its sha256, the scriptlet), as packaging/'s test does.
	tree := filepath.Join(work, "release")
	if out, err := exec.Command("make", "--no-print-directory", "-C", src, "dist", "DISTDIR="+tree).CombinedOutput(); err != nil {
		return "", fmt.Errorf("make dist: %v\n%s", err, out)
	}
	out, err := exec.Command(filepath.Join(gobin, "go"), "env", "GOMODCACHE").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMODCACHE: %v", err)
	}
	download := filepath.Join(strings.TrimSpace(string(out)), "cache", "download")
	proxy := filepath.Join(work, "goproxy")
	if out, err := exec.Command("cp", "-a", download, proxy).CombinedOutput(); err != nil {
		return "", fmt.Errorf("copy the module download cache (run 'go mod download' first): %v: %s", err, out)
	}
	for _, d := range []string{"home", "gopath", "gomod", "pkgdest", "srcdest", "build"} {
		if err := os.Mkdir(filepath.Join(work, d), 0o755); err != nil {
			return "", err
		}
	}
	// The Go build cache packaging/'s test uses too: warm, a build takes
	// seconds; cold, minutes.
	gocache := os.Getenv("CLP_PKGBUILD_GOCACHE")
	if gocache == "" {
		gocache = filepath.Join(os.TempDir(), fmt.Sprintf("clp-pkgbuild-gocache-%d", uid))
	}
	if err := os.MkdirAll(gocache, 0o755); err != nil {
		return "", err
	}
	if err := filepath.WalkDir(work, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	}); err != nil {
		return "", err
	}
	os.Lchown(gocache, uid, gid)
	// The machine runs its distribution's pacman (Debian's 6.0 / libalpm
	// 13 in the tree), so clp is built by the system's makepkg against the
	// system's libalpm, whatever pacman the rest of the tests run on.
	const sysPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	makepkg := "makepkg"
	for _, d := range filepath.SplitList(sysPath) {
		if _, err := os.Stat(filepath.Join(d, "makepkg")); err == nil {
			makepkg = filepath.Join(d, "makepkg")
			break
		}
	}
	cmd := exec.Command(makepkg, "--nodeps", "--noconfirm", "--noprogressbar", "--nocolor", "--nocheck")
	cmd.Dir = tree
	cmd.Env = []string{
		"PATH=" + gobin + ":" + sysPath,
		"HOME=" + filepath.Join(work, "home"),
		"LANG=C",
		"PKGEXT=.pkg.tar.zst",
		"PKGDEST=" + filepath.Join(work, "pkgdest"),
		"SRCDEST=" + filepath.Join(work, "srcdest"),
		"BUILDDIR=" + filepath.Join(work, "build"),
		"PACKAGER=clp nspawn test <nspawn@example.invalid>",
		"GOPATH=" + filepath.Join(work, "gopath"),
		"GOMODCACHE=" + filepath.Join(work, "gomod"),
		"GOCACHE=" + gocache,
		"GOPROXY=file://" + proxy,
		"GOSUMDB=off",
		"GOTOOLCHAIN=local",
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("makepkg as nobody: %v\n%s", err, tail(string(out), 40))
	}
	pkgs, _ := filepath.Glob(filepath.Join(work, "pkgdest", "clp-*.pkg.tar.zst"))
	if len(pkgs) != 1 {
		return "", fmt.Errorf("makepkg made %d packages", len(pkgs))
	}
	if err := os.MkdirAll(final, 0o755); err != nil {
		return "", err
	}
	dst := filepath.Join(final, filepath.Base(pkgs[0]))
	if err := sandbox.CopyFile(pkgs[0], dst+".part", 0o644); err != nil {
		return "", err
	}
	if err := os.Rename(dst+".part", dst); err != nil {
		return "", err
	}
	return dst, nil
}

// InstallClp copies the clp package into the running machine's package
// cache and installs it with the machine's own pacman, so that its
// scriptlet and hooks run under the machine's systemd. -dd: pacman and
// glibc come from dpkg in the tree, not from pacman's database.
func (m *Machine) InstallClp() string {
	m.tb.Helper()
	pkg := ClpPackage(m.tb)
	dst := m.Path("/var/cache/pacman/pkg/" + filepath.Base(pkg))
	if err := sandbox.CopyFile(pkg, dst, 0o644); err != nil {
		m.tb.Fatal(err)
	}
	return m.Must("pacman", "-U", "--noconfirm", "--noprogressbar", "-dd", "/var/cache/pacman/pkg/"+filepath.Base(pkg))
}

// CopyIn copies host files into the tree's dir (for the package cache).
func (m *Machine) CopyIn(dir string, files ...string) []string {
	m.tb.Helper()
	var out []string
	for _, f := range files {
		p := filepath.Join(dir, filepath.Base(f))
		if err := sandbox.CopyFile(f, m.Path(p), 0o644); err != nil {
			m.tb.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}
