package system

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

// What clp status shows of the host: the pacman binary's version and the
// update timer's state. Probing only reads; it never changes the host.

var pacmanVersionRE = regexp.MustCompile(`Pacman v(\S+)`)

// PacmanVersion is the version of the pacman binary clp runs (the host's,
// whatever --root says). That binary belongs to a package of the host: on
// an Arch-based host the pacman package, whose version its local database
// names (one directory listing); on Debian pacman-package-manager, in
// dpkg's status file. Otherwise (a source build, another PATH) it asks the
// binary, which costs a process start.
func PacmanVersion() string {
	// The package databases describe /usr/bin/pacman; only trust them for
	// the binary that will actually run.
	if bin, err := exec.LookPath("pacman"); err == nil {
		if real, err := filepath.EvalSymlinks(bin); err == nil && real == "/usr/bin/pacman" {
			if v := pacmanFromHostDB("/var/lib/pacman/local"); v != "" {
				return v
			}
			if v := pacmanFromDpkg("/var/lib/dpkg"); v != "" {
				return v
			}
		}
	}
	out, err := exec.Command("pacman", "--version").Output()
	if err != nil {
		return "not found"
	}
	if m := pacmanVersionRE.FindSubmatch(out); m != nil {
		return string(m[1])
	}
	return "unknown"
}

// TimerState asks systemd about core-livepatch-update.timer, only for the
// running system: a sandbox root's timer is not systemd's business.
func (s *System) TimerState() string {
	if s.Root != "/" {
		return "not checked (--root is not the running system)"
	}
	if _, err := os.Stat("/run/systemd/system"); err != nil {
		return "unknown (systemd is not running)"
	}
	out, _ := exec.Command("systemctl", "is-enabled", "core-livepatch-update.timer").Output()
	state := strings.TrimSpace(string(out))
	if state == "" {
		return "not installed"
	}
	active, _ := exec.Command("systemctl", "is-active", "core-livepatch-update.timer").Output()
	return state + ", " + strings.TrimSpace(string(active))
}

// pacmanFromHostDB finds the pacman package in a local database, as
// "pacman-VERSION-REL" directories; "" when there is none, or when the
// database does not own /usr/bin/pacman (then something else installed it).
func pacmanFromHostDB(local string) string {
	matches, _ := filepath.Glob(filepath.Join(local, "pacman-*"))
	for _, m := range matches {
		rest := strings.TrimPrefix(filepath.Base(m), "pacman-")
		// "pacman-contrib-1.10-1" is another package: a version has
		// exactly one dash (pkgver-pkgrel) and starts with a digit.
		if strings.Count(rest, "-") != 1 || rest == "" || rest[0] < '0' || rest[0] > '9' {
			continue
		}
		files, err := os.ReadFile(filepath.Join(m, "files"))
		if err != nil || !strings.Contains(string(files), "\nusr/bin/pacman\n") {
			continue
		}
		return rest[:strings.LastIndex(rest, "-")]
	}
	return ""
}

// pacmanFromDpkg finds the upstream version of the Debian package that
// owns /usr/bin/pacman ("6.0.2" for "6.0.2-3"); "" when dpkg does not know
// it.
func pacmanFromDpkg(dpkgDir string) string {
	const pkg = "pacman-package-manager"
	list, err := os.ReadFile(filepath.Join(dpkgDir, "info", pkg+".list"))
	if err != nil || !bytes.Contains(append([]byte{'\n'}, list...), []byte("\n/usr/bin/pacman\n")) {
		return ""
	}
	status, err := os.ReadFile(filepath.Join(dpkgDir, "status"))
	if err != nil {
		return ""
	}
	// status is large (every Debian package): search the bytes, copy
	// only the one stanza.
	head := []byte("Package: " + pkg + "\n")
	i := bytes.Index(status, append([]byte{'\n'}, head...))
	switch {
	case i >= 0:
		i++
	case bytes.HasPrefix(status, head):
		i = 0
	default:
		return ""
	}
	stanza := status[i:]
	if end := bytes.Index(stanza, []byte("\n\n")); end >= 0 {
		stanza = stanza[:end]
	}
	installed, version := false, ""
	for _, line := range strings.Split(string(stanza), "\n") {
		switch {
		case strings.HasPrefix(line, "Status: "):
			installed = strings.HasSuffix(line, " installed") && !strings.HasSuffix(line, "not-installed")
		case strings.HasPrefix(line, "Version: "):
			version = strings.TrimPrefix(line, "Version: ")
		}
	}
	if !installed || version == "" {
		return ""
	}
	if _, v, ok := strings.Cut(version, ":"); ok {
		version = v
	}
	if i := strings.LastIndex(version, "-"); i > 0 {
		version = version[:i]
	}
	return version
}
