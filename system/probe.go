package system

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/vincentos/clp/internal/fsx"
)

// What clp status shows of the host: the pacman binary's version and the
// update timer's state. Probing only reads the host; the one thing it may
// write is clp's own cache of a pacman binary's version and of libalpm's,
// in the user's cache directory (vcache.go, libalpm.go).

// pacmanVersionRE is compiled on first use: every clp and clp-hook start
// would pay for it, and only a pacman binary no database vouches for asks.
var pacmanVersionRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`Pacman v(\S+)`) })

// PacmanVersion is the version of the pacman binary clp runs (the first
// on PATH, the host's whatever --root says), and where it is. On Vincent
// OS that is /usr/bin/pacman of the pacman package, whose version the
// host's own local database names (one directory listing, no process);
// any other binary (a source build in /opt, another distribution's
// package) is asked itself, since no database can vouch for it.
func PacmanVersion() (version, path string) {
	path, err := exec.LookPath("pacman")
	if err != nil {
		return "not found", ""
	}
	if real, err := filepath.EvalSymlinks(path); err == nil && real == "/usr/bin/pacman" {
		if v := pacmanFromHostDB("/var/lib/pacman/local"); v != "" {
			return v, path
		}
	}
	key := binaryKey(path)
	if v := readVersionCache(key); v != "" {
		return v, path
	}
	out, err := exec.Command(path, "--version").Output()
	if err != nil {
		return "unknown", path
	}
	if m := pacmanVersionRE().FindSubmatch(out); m != nil {
		writeVersionCache(key, string(m[1]))
		return string(m[1]), path
	}
	return "unknown", path
}

// PacmanLine says which pacman and libalpm clp runs with: "7.1.0
// (/usr/bin/pacman, libalpm 16.0.0)".
func PacmanLine(version, path, libalpm string) string {
	if path == "" {
		return fmt.Sprintf("%s (libalpm %s)", version, libalpm)
	}
	return fmt.Sprintf("%s (%s, libalpm %s)", version, path, libalpm)
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
		files, err := fsx.ReadFileCapped(filepath.Join(m, "files"), fsx.StateFileMax)
		if err != nil || !strings.Contains(string(files), "\nusr/bin/pacman\n") {
			continue
		}
		return rest[:strings.LastIndex(rest, "-")]
	}
	return ""
}
