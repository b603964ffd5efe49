package sandbox

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
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
)

// FixtureVersions lists, per PKGBUILD folder in testdata/pkgbuilds, the
// pkgver-pkgrel versions that are built.
var FixtureVersions = map[string][]string{
	"nvidia-utils":    {"550.78-1", "560.35.03-1"},
	"nvidia-settings": {"550.78-1", "560.35.03-1"},
	"clp-testconf":    {"1.0-1", "1.1-1"},
	"clp-testgreeter": {"1.0-1", "1.1-1", "2.0-1"},
}

// Fixtures are the built package files.
type Fixtures struct {
	Dir   string
	files map[string]string // "name-version" -> path
}

// Path returns the package file of name at version ("560.35.03-1").
func (f *Fixtures) Path(name, version string) string {
	p, ok := f.files[name+"-"+version]
	if !ok {
		panic(fmt.Sprintf("sandbox: no fixture %s-%s", name, version))
	}
	return p
}

// Paths returns the files of several packages at one version.
func (f *Fixtures) Paths(version string, names ...string) []string {
	var out []string
	for _, n := range names {
		out = append(out, f.Path(n, version))
	}
	return out
}

// All returns every fixture file, sorted.
func (f *Fixtures) All() []string {
	var out []string
	for _, p := range f.files {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// NVIDIA names the three driver packages of the black-screen case.
var NVIDIA = []string{"nvidia-utils", "nvidia-dkms", "nvidia-settings"}

// Good and Broken are the two NVIDIA fixture versions.
const (
	Good   = "550.78-1"
	Broken = "560.35.03-1"
)

// PkgbuildDir finds testdata/pkgbuilds by walking up from the working
// directory (go test runs in the package's folder) or from $CLP_SOURCE.
func PkgbuildDir() (string, error) {
	if s := os.Getenv("CLP_SOURCE"); s != "" {
		return filepath.Join(s, "testdata", "pkgbuilds"), nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "testdata", "pkgbuilds")
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("sandbox: testdata/pkgbuilds not found above the working directory (set CLP_SOURCE)")
		}
		dir = parent
	}
}

// BuildFixtures builds every fixture with makepkg unless a build of the same
// PKGBUILDs is already in cacheRoot (os.TempDir() when empty). Concurrent
// callers (go test runs packages in parallel) serialize on an flock, and a
// build is renamed into place only when complete.
func BuildFixtures(cacheRoot string, log io.Writer) (*Fixtures, error) {
	src, err := PkgbuildDir()
	if err != nil {
		return nil, err
	}
	if _, err := exec.LookPath("makepkg"); err != nil {
		return nil, fmt.Errorf("sandbox: makepkg is not installed (run make deps): %w", err)
	}
	sum, err := hashTree(src)
	if err != nil {
		return nil, err
	}
	if cacheRoot == "" {
		cacheRoot = os.TempDir()
	}
	final := filepath.Join(cacheRoot, "clp-fixtures-"+sum[:16])
	lockf, err := os.OpenFile(final+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	defer lockf.Close()
	if err := syscall.Flock(int(lockf.Fd()), syscall.LOCK_EX); err != nil {
		return nil, err
	}
	defer syscall.Flock(int(lockf.Fd()), syscall.LOCK_UN)
	if f, err := loadFixtures(final); err == nil {
		return f, nil
	}
	work, err := os.MkdirTemp(cacheRoot, "clp-fixtures-build-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	out := filepath.Join(work, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		return nil, err
	}
	builder, err := buildUser()
	if err != nil {
		return nil, err
	}
	for base, versions := range FixtureVersions {
		for _, v := range versions {
			if log != nil {
				fmt.Fprintf(log, "building test package %s %s with makepkg (once; later runs reuse it)\n", base, v)
			}
			if err := makepkg(filepath.Join(src, base), work, out, v, builder); err != nil {
				return nil, fmt.Errorf("sandbox: build %s %s: %w", base, v, err)
			}
		}
	}
	os.RemoveAll(final)
	if err := os.Rename(out, final); err != nil {
		return nil, err
	}
	return loadFixtures(final)
}

func loadFixtures(dir string) (*Fixtures, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	f := &Fixtures{Dir: dir, files: map[string]string{}}
	for _, e := range ents {
		name := e.Name()
		if !strings.HasSuffix(name, ".pkg.tar.zst") {
			continue
		}
		// name-pkgver-pkgrel-arch.pkg.tar.zst
		parts := strings.Split(strings.TrimSuffix(name, ".pkg.tar.zst"), "-")
		if len(parts) < 4 {
			continue
		}
		key := strings.Join(parts[:len(parts)-1], "-")
		f.files[key] = filepath.Join(dir, name)
	}
	want := 0
	for base, vs := range FixtureVersions {
		n := 1
		if base == "nvidia-utils" {
			n = 2
		}
		want += n * len(vs)
	}
	if len(f.files) != want {
		return nil, fmt.Errorf("sandbox: %s has %d of %d fixtures", dir, len(f.files), want)
	}
	return f, nil
}

type builderID struct {
	uid, gid int
	name     string
}

// buildUser is who runs makepkg: makepkg refuses to run as root, so root
// builds as nobody.
func buildUser() (*builderID, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		return nil, fmt.Errorf("sandbox: running as root and there is no 'nobody' user to run makepkg as: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &builderID{uid: uid, gid: gid, name: u.Username}, nil
}

func makepkg(pkgbuildDir, work, out, version string, b *builderID) error {
	ver, rel, ok := strings.Cut(version, "-")
	if !ok {
		return fmt.Errorf("version %q has no pkgrel", version)
	}
	build, err := os.MkdirTemp(work, "b-")
	if err != nil {
		return err
	}
	pkgdest := filepath.Join(build, "pkgdest")
	for _, d := range []string{pkgdest, filepath.Join(build, "src"), filepath.Join(build, "build")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return err
		}
	}
	data, err := os.ReadFile(filepath.Join(pkgbuildDir, "PKGBUILD"))
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(build, "PKGBUILD"), data, 0o644); err != nil {
		return err
	}
	if b != nil {
		if err := filepath.WalkDir(build, func(p string, _ fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			return os.Lchown(p, b.uid, b.gid)
		}); err != nil {
			return err
		}
		// nobody must be able to reach build through work.
		os.Chmod(work, 0o755)
	}
	cmd := exec.Command("makepkg", "--nodeps", "--noconfirm", "--force", "--skipinteg", "--noprogressbar", "--nocolor")
	cmd.Dir = build
	cmd.Env = []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=" + build,
		"LANG=C",
		"PKGDEST=" + pkgdest,
		"SRCDEST=" + filepath.Join(build, "src"),
		"BUILDDIR=" + filepath.Join(build, "build"),
		"PKGEXT=.pkg.tar.zst",
		"PACKAGER=clp fixtures <fixtures@example.invalid>",
		"SOURCE_DATE_EPOCH=1700000000",
		"CLP_FIXTURE_PKGVER=" + ver,
		"CLP_FIXTURE_PKGREL=" + rel,
	}
	if b != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(b.uid), Gid: uint32(b.gid)}}
	}
	outBuf, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("makepkg: %v\n%s", err, outBuf)
	}
	ents, err := os.ReadDir(pkgdest)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if err := CopyFile(filepath.Join(pkgdest, e.Name()), filepath.Join(out, e.Name()), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func hashTree(dir string) (string, error) {
	h := sha256.New()
	// The builder's own code is part of what a build depends on.
	fmt.Fprintf(h, "builder-v1 %s\n", runtime.GOARCH)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		fmt.Fprintf(h, "%s %d\n", rel, len(data))
		h.Write(data)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil)), err
}

// CopyFile copies src to dst with mode perm, creating dst's directory.
func CopyFile(src, dst string, perm fs.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	return copyClose(out, in)
}

// copyClose copies in to out and closes out, keeping the first error.
func copyClose(out *os.File, in io.Reader) error {
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// BuildPackage builds one package from the PKGBUILD text pkgbuild with
// makepkg, as the fixtures are (as nobody when run as root), in a new
// folder under work, and returns the package file: for a test's own
// package, kept out of the fixtures every test builds.
func BuildPackage(pkgbuild, work string) (string, error) {
	if _, err := exec.LookPath("makepkg"); err != nil {
		return "", fmt.Errorf("sandbox: makepkg is not installed (run make deps): %w", err)
	}
	builder, err := buildUser()
	if err != nil {
		return "", err
	}
	src, err := os.MkdirTemp(work, "pkgbuild-")
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(src, "PKGBUILD"), []byte(pkgbuild), 0o644); err != nil {
		return "", err
	}
	out := filepath.Join(src, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		return "", err
	}
	if err := makepkg(src, src, out, "1-1", builder); err != nil {
		return "", err
	}
	files, err := filepath.Glob(filepath.Join(out, "*.pkg.tar.zst"))
	if err != nil || len(files) != 1 {
		return "", fmt.Errorf("sandbox: makepkg made %q (%v), want one package", files, err)
	}
	return files[0], nil
}
