package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/vincentos/clp/alpm"
	"github.com/vincentos/clp/hooks"
	"github.com/vincentos/clp/patch"
)

func init() {
	register(&command{
		Name:    "status",
		Summary: "show the installation, clp's state and the update timer",
		Usage: `Usage:
  clp status [--json]

Shows the pacman and libalpm versions, the root, how many packages are
installed, and clp's own state: applied patches, pins, the last update and
the state of core-livepatch-update.timer.

With --json, prints the same as one JSON object, including every installed
package with its version (what 'pacman -Q' prints).

Examples:
  clp status
  clp --root /mnt status --json | jq .packages.count`,
		Args: noArgs,
		Run:  runStatus,
	})
}

// statusReport is clp status's JSON.
type statusReport struct {
	Version        string           `json:"clp_version"`
	PacmanVersion  string           `json:"pacman_version"`
	LibalpmVersion string           `json:"libalpm_version"`
	Root           string           `json:"root"`
	DBPath         string           `json:"dbpath"`
	Config         string           `json:"config"`
	CacheDirs      []string         `json:"cachedirs"`
	StateDir       string           `json:"state_dir"`
	Packages       statusPkgs       `json:"packages"`
	Patches        []string         `json:"applied_patches"`
	Pins           []string         `json:"pins"`
	LastUpdate     string           `json:"last_update"`
	Timer          string           `json:"timer"`
	BootGuard      bootStatusReport `json:"boot_guard"`
}

type statusPkgs struct {
	Count     int              `json:"count"`
	Installed []statusPkgEntry `json:"installed"`
}

type statusPkgEntry struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// installedState is what status reads from the local database.
type installedState struct {
	paths *alpm.Paths
	pkgs  []alpm.Package // --json only
	count int
	err   error
}

func runStatus(ctx context.Context, env *Env, args []string) error {
	// A crash's leftovers first: recovery may change packages.
	eng, _, err := env.openEngine(ctx, true)
	if err != nil {
		return err
	}
	// libalpm reads the database while this goroutine gathers the rest:
	// status runs often, and on two cores the overlap is most of its cost.
	installed := make(chan installedState, 1)
	go func() {
		var st installedState
		h, err := alpm.Open(env.AlpmOptions())
		if err != nil {
			st.err = err
			installed <- st
			return
		}
		defer h.Close()
		st.paths = h.Paths
		if env.JSON {
			st.pkgs, st.err = h.InstalledVersions()
			st.count = len(st.pkgs)
		} else {
			st.count, st.err = h.CountInstalled()
		}
		installed <- st
	}()
	rep := statusReport{
		Version:        clpVersion(),
		PacmanVersion:  pacmanVersion(),
		LibalpmVersion: alpm.LibalpmVersion(),
		StateDir:       env.State(),
		Patches:        []string{},
		Pins:           []string{},
		LastUpdate:     lastUpdateSummary(env),
		Timer:          timerState(env),
	}
	stateErr := fillState(env, eng, &rep)
	rep.BootGuard = readBootStatus(env.bootGuard(eng.Config))
	st := <-installed
	if st.err != nil {
		return st.err
	}
	if stateErr != nil {
		return stateErr
	}
	rep.Root, rep.DBPath, rep.Config, rep.CacheDirs = st.paths.Root, st.paths.DBPath, st.paths.Config, st.paths.CacheDirs
	rep.Packages.Count = st.count
	if env.JSON {
		rep.Packages.Installed = make([]statusPkgEntry, 0, len(st.pkgs))
		for _, p := range st.pkgs {
			rep.Packages.Installed = append(rep.Packages.Installed, statusPkgEntry{p.Name, p.Version})
		}
		return printJSON(env.Stdout, rep)
	}
	env.field("clp", "%s", rep.Version)
	env.field("pacman", "%s (libalpm %s)", rep.PacmanVersion, rep.LibalpmVersion)
	env.field("root", "%s", rep.Root)
	env.field("packages", "%d installed", rep.Packages.Count)
	env.field("state", "%s", rep.StateDir)
	env.field("applied patches", "%s", listOrNone(rep.Patches))
	env.field("pins", "%s", listOrNone(rep.Pins))
	env.field("last update", "%s", rep.LastUpdate)
	env.field("update timer", "%s", rep.Timer)
	env.field("boot guard", "%s", rep.BootGuard.Summary)
	return nil
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

var pacmanVersionRE = regexp.MustCompile(`Pacman v(\S+)`)

// pacmanVersion is the version of the pacman binary clp runs (the host's,
// whatever --root says). That binary belongs to a package of the host: on
// an Arch-based host the pacman package, whose version its local database
// names (one directory listing); on Debian pacman-package-manager, in
// dpkg's status file. Otherwise (a source build, another PATH) it asks the
// binary, which costs a process start.
func pacmanVersion() string {
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

// timerState asks systemd about core-livepatch-update.timer, only for the
// running system: a sandbox root's timer is not systemd's business.
func timerState(env *Env) string {
	if env.Root != "/" {
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

// fillState reads clp's own state: applied patches and pins. Reading never
// creates the state directory.
func fillState(env *Env, eng *patch.Engine, rep *statusReport) error {
	applied, err := eng.List()
	if err != nil {
		return err
	}
	for _, a := range applied {
		rep.Patches = append(rep.Patches, a.Name+" "+a.Version)
	}
	pins, err := hooks.LoadPins(env.State())
	if err != nil {
		return err
	}
	for _, p := range pins {
		s := p.Name
		if p.Version != "" {
			s += " " + p.Version
		}
		if p.Until != "" {
			s += " (until " + p.Until + ")"
		}
		rep.Pins = append(rep.Pins, s)
	}
	return nil
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
