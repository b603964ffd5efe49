package system

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// On an Arch-based host the pacman binary's version comes from the host's
// local database without running it; only the package that owns
// /usr/bin/pacman counts.
func TestPacmanFromHostDB(t *testing.T) {
	local := t.TempDir()
	mk := func(dir, files string) {
		os.MkdirAll(filepath.Join(local, dir), 0o755)
		os.WriteFile(filepath.Join(local, dir, "files"), []byte(files), 0o644)
	}
	if v := pacmanFromHostDB(local); v != "" {
		t.Fatalf("empty db: %q", v)
	}
	mk("pacman-contrib-1.10.6-2", "%FILES%\nusr/bin/\nusr/bin/paccache\n")
	mk("pacman-mirrorlist-20250101-1", "%FILES%\netc/pacman.d/mirrorlist\n")
	if v := pacmanFromHostDB(local); v != "" {
		t.Fatalf("pacman-contrib is not pacman: %q", v)
	}
	mk("pacman-7.1.0.r9.g54d9411-2", "%FILES%\nusr/\nusr/bin/\nusr/bin/pacman\nusr/bin/pacman-conf\n")
	if v := pacmanFromHostDB(local); v != "7.1.0.r9.g54d9411" {
		t.Fatalf("got %q", v)
	}
}

// On Debian the pacman binary belongs to pacman-package-manager; its
// upstream version comes from dpkg's status file, only when dpkg says the
// package owns /usr/bin/pacman and is installed.
func TestPacmanFromDpkg(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "info"), 0o755)
	status := "Package: bash\nStatus: install ok installed\nVersion: 5.2.15-2\n\n" +
		"Package: pacman-package-manager\nStatus: install ok installed\nPriority: optional\nVersion: 1:6.0.2-3\n\n" +
		"Package: zsh\nStatus: install ok installed\nVersion: 5.9-4\n"
	os.WriteFile(filepath.Join(dir, "status"), []byte(status), 0o644)
	if v := pacmanFromDpkg(dir); v != "" {
		t.Fatalf("without the file list dpkg does not say it owns pacman: %q", v)
	}
	os.WriteFile(filepath.Join(dir, "info", "pacman-package-manager.list"), []byte("/.\n/usr\n/usr/bin\n/usr/bin/pacman\n/usr/bin/pacman-conf\n"), 0o644)
	if v := pacmanFromDpkg(dir); v != "6.0.2" {
		t.Fatalf("got %q, want 6.0.2", v)
	}
	os.WriteFile(filepath.Join(dir, "status"), []byte(strings.Replace(status, "install ok installed\nPriority", "deinstall ok config-files\nPriority", 1)), 0o644)
	if v := pacmanFromDpkg(dir); v != "" {
		t.Fatalf("a removed package must not count: %q", v)
	}
}

// Whatever source answers, status reports what the binary itself says.
func TestPacmanVersionMatchesBinary(t *testing.T) {
	out, err := exec.Command("pacman", "--version").Output()
	if err != nil {
		t.Skip("no pacman binary:", err)
	}
	m := pacmanVersionRE.FindSubmatch(out)
	if m == nil {
		t.Fatalf("cannot read pacman --version: %s", out)
	}
	if got := PacmanVersion(); got != string(m[1]) {
		t.Fatalf("PacmanVersion() = %q, pacman --version says %q", got, m[1])
	}
}
