package nspawn

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// What goes into the tree. Changing any of it changes the cache key.
const (
	Suite   = "bookworm"
	Variant = "minbase"
	// MachineID is fixed: no "first boot" on every boot, and one journal
	// across boots.
	MachineID = "c1b0b0075e5e4a1f9c3d2e1f0a9b8c7d"
	// customizeVersion names the customization below; bump it when that
	// changes.
	customizeVersion = "clp-nspawn-tree-v1"
)

// Packages are installed into the tree: systemd as PID 1, dbus, Debian's
// pacman (libalpm 13, which the clp built on this host loads), and zstd for
// pacman's package files.
var Packages = []string{"systemd", "systemd-sysv", "dbus", "pacman-package-manager", "zstd"}

// CacheDir is where trees are kept ($CLP_NSPAWN_CACHE, made when
// missing, else /var/tmp).
func CacheDir() string {
	if d := os.Getenv("CLP_NSPAWN_CACHE"); d != "" {
		// An error shows at the first file made in it, naming the path.
		_ = os.MkdirAll(d, 0o755)
		return d
	}
	return "/var/tmp"
}

// Mirror finds the Debian mirror this machine's apt is configured with, as
// scripts/check-libalpm16.sh does.
func Mirror() (string, error) {
	re := regexp.MustCompile(`(?m)^(?:URIs:|deb)\s+(\S+/debian/?)(?:\s|$)`)
	var files []string
	files = append(files, "/etc/apt/sources.list")
	more, _ := filepath.Glob("/etc/apt/sources.list.d/*")
	files = append(files, more...)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if m := re.FindSubmatch(data); m != nil {
			return string(m[1]), nil
		}
	}
	return "", errors.New("no Debian mirror in this machine's apt sources (/etc/apt/sources.list*)")
}

// Key is the cache key of a tree from mirror.
func Key(mirror string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s\n%s\n%s\n%s\n", customizeVersion, Suite, Variant, strings.Join(Packages, ","), mirror, MachineID)
	h.Write([]byte(pacmanConf))
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Requirements skips tb unless nspawn tests can run here.
func Requirements(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("needs root: systemd-nspawn boots a container only as root (CI runs as root)")
	}
	for _, c := range []string{"systemd-nspawn", "mmdebstrap", "nsenter", "systemd-machine-id-setup"} {
		if _, err := exec.LookPath(c); err != nil {
			tb.Skipf("%s is not installed (make deps installs systemd-container and mmdebstrap)", c)
		}
	}
	if testing.Short() {
		tb.Skip("nspawn boots are not short (-short)")
	}
}

var (
	treeOnce sync.Once
	treeDir  string
	treeErr  error
	treeSkip string
)

// BaseTree returns the cached tree, building it first when it is not
// there. It skips tb where it cannot be built or booted.
func BaseTree(tb testing.TB) string {
	tb.Helper()
	Requirements(tb)
	treeOnce.Do(func() {
		mirror, err := Mirror()
		if err != nil {
			treeSkip = err.Error()
			return
		}
		treeDir, treeErr = buildTree(mirror, func(f string, a ...any) { tb.Logf(f, a...) })
	})
	if treeSkip != "" {
		tb.Skip(treeSkip)
	}
	if treeErr != nil {
		tb.Fatal(treeErr)
	}
	return treeDir
}

// pacmanConf is the tree's pacman.conf: the system's paths, and no
// signature checks (the fixture packages are not signed; the keyring would
// need network).
const pacmanConf = `# pacman.conf of the clp nspawn test tree
[options]
HoldPkg     = pacman glibc
Architecture = auto
SigLevel    = Never
LocalFileSigLevel = Never
`

// lockCache takes the flock of the cache entry final (final.lock), on
// which concurrent test processes serialize.
func lockCache(final string) (unlock func(), err error) {
	lockf, err := os.OpenFile(final+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(lockf.Fd()), syscall.LOCK_EX); err != nil {
		lockf.Close()
		return nil, err
	}
	return func() {
		syscall.Flock(int(lockf.Fd()), syscall.LOCK_UN)
		lockf.Close()
	}, nil
}

// buildTree builds the tree for mirror into CacheDir unless it is there.
// Concurrent test processes serialize on an flock; a tree is renamed into
// place only when complete.
func buildTree(mirror string, logf func(string, ...any)) (string, error) {
	final := filepath.Join(CacheDir(), "clp-nspawn-tree-"+Key(mirror))
	unlock, err := lockCache(final)
	if err != nil {
		return "", err
	}
	defer unlock()
	if _, err := os.Stat(filepath.Join(final, "etc/clp-nspawn-tree")); err == nil {
		return final, nil
	}
	work, err := os.MkdirTemp(CacheDir(), "clp-nspawn-build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(work)
	tree := filepath.Join(work, "tree")
	start := time.Now()
	cmd := exec.Command("mmdebstrap", "--quiet", "--variant="+Variant, "--include="+strings.Join(Packages, ","), Suite, tree, mirror)
	cmd.Env = append(os.Environ(), "LANG=C.UTF-8", "DEBIAN_FRONTEND=noninteractive")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("mmdebstrap %s from %s: %v\n%s", Suite, mirror, err, tail(string(out), 30))
	}
	if err := customize(tree); err != nil {
		return "", err
	}
	logf("built the nspawn tree %s in %s", final, time.Since(start).Round(time.Second))
	os.RemoveAll(final)
	if err := os.Rename(tree, final); err != nil {
		return "", err
	}
	return final, nil
}

// customize makes the tree bootable the same way every time.
func customize(tree string) error {
	files := map[string]string{
		"etc/machine-id":  MachineID + "\n",
		"etc/pacman.conf": pacmanConf,
		"etc/hostname":    "clp-test\n",
		// The journal persists across boots: tests read earlier boots.
		"etc/systemd/journald.conf.d/clp-test.conf": "[Journal]\nStorage=persistent\n",
		"etc/clp-nspawn-tree":                       customizeVersion + "\n",
	}
	for _, d := range []string{"var/lib/pacman/local", "var/lib/pacman/sync", "var/cache/pacman/pkg", "var/log/journal", "etc/systemd/journald.conf.d"} {
		if err := os.MkdirAll(filepath.Join(tree, d), 0o755); err != nil {
			return err
		}
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(tree, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
