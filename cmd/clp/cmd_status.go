package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/vincentos/clp/alpm"
	"github.com/vincentos/clp/hooks"
	"github.com/vincentos/clp/pacman"
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
	Version        string     `json:"clp_version"`
	PacmanVersion  string     `json:"pacman_version"`
	PacmanPath     string     `json:"pacman_path"`
	LibalpmVersion string     `json:"libalpm_version"`
	Root           string     `json:"root"`
	DBPath         string     `json:"dbpath"`
	Config         string     `json:"config"`
	CacheDirs      []string   `json:"cachedirs"`
	StateDir       string     `json:"state_dir"`
	Packages       statusPkgs `json:"packages"`
	Patches        []string   `json:"applied_patches"`
	Pins           []string   `json:"pins"`
	LastUpdate     string     `json:"last_update"`
	Timer          string     `json:"timer"`
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
	paths *pacman.Paths
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
		LibalpmVersion: alpm.LibalpmVersion(),
		StateDir:       env.State(),
		Patches:        []string{},
		Pins:           []string{},
		LastUpdate:     lastUpdateSummary(env),
		Timer:          timerState(env),
	}
	rep.PacmanVersion, rep.PacmanPath = pacmanVersion()
	stateErr := fillState(env, eng, &rep)
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
	env.field("pacman", "%s", pacmanLine(rep.PacmanVersion, rep.PacmanPath, rep.LibalpmVersion))
	env.field("root", "%s", rep.Root)
	env.field("packages", "%d installed", rep.Packages.Count)
	env.field("state", "%s", rep.StateDir)
	env.field("applied patches", "%s", listOrNone(rep.Patches))
	env.field("pins", "%s", listOrNone(rep.Pins))
	env.field("last update", "%s", rep.LastUpdate)
	env.field("update timer", "%s", rep.Timer)
	return nil
}

// pacmanLine says which pacman and libalpm clp runs with: "7.1.0
// (/usr/bin/pacman, libalpm 16.0.0)".
func pacmanLine(version, path, libalpm string) string {
	if path == "" {
		return fmt.Sprintf("%s (libalpm %s)", version, libalpm)
	}
	return fmt.Sprintf("%s (%s, libalpm %s)", version, path, libalpm)
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

var pacmanVersionRE = regexp.MustCompile(`Pacman v(\S+)`)

// pacmanVersion is the version of the pacman binary clp runs (the first
// on PATH, the host's whatever --root says), and where it is. On Vincent
// OS that is /usr/bin/pacman of the pacman package, whose version the
// host's own local database names (one directory listing, no process);
// any other binary (a source build in /opt, another distribution's
// package) is asked itself, since no database can vouch for it.
func pacmanVersion() (version, path string) {
	path, err := exec.LookPath("pacman")
	if err != nil {
		return "not found", ""
	}
	if real, err := filepath.EvalSymlinks(path); err == nil && real == "/usr/bin/pacman" {
		if v := pacmanFromHostDB("/var/lib/pacman/local"); v != "" {
			return v, path
		}
	}
	out, err := exec.Command(path, "--version").Output()
	if err != nil {
		return "unknown", path
	}
	if m := pacmanVersionRE.FindSubmatch(out); m != nil {
		return string(m[1]), path
	}
	return "unknown", path
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
