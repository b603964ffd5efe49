package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"

	"github.com/vincentos/clp/alpm"
	"github.com/vincentos/clp/boot"
	"github.com/vincentos/clp/hooks"
	"github.com/vincentos/clp/pacman"
	"github.com/vincentos/clp/patch"
	"github.com/vincentos/clp/system"
	"github.com/vincentos/clp/update"
)

func init() {
	register(&command{
		Name:    "status",
		Summary: "show the installation, clp's state and the update timer",
		Usage:   usageText("status"),
		Args:    noArgs,
		Run:     runStatus,
	})
}

// statusReport is clp status's JSON.
type statusReport struct {
	Version        string      `json:"clp_version"`
	PacmanVersion  string      `json:"pacman_version"`
	PacmanPath     string      `json:"pacman_path"`
	LibalpmVersion string      `json:"libalpm_version"`
	Root           string      `json:"root"`
	DBPath         string      `json:"dbpath"`
	Config         string      `json:"config"`
	CacheDirs      []string    `json:"cachedirs"`
	StateDir       string      `json:"state_dir"`
	Packages       statusPkgs  `json:"packages"`
	Patches        []string    `json:"applied_patches"`
	Pins           []string    `json:"pins"`
	LastUpdate     string      `json:"last_update"`
	Timer          string      `json:"timer"`
	BootGuard      boot.Report `json:"boot_guard"`
	// Fleet is what configuration management collects: applied patches
	// with their sequence numbers, pending, phased-out and withdrawn
	// patches, the last update and its result.
	Fleet *update.Fleet `json:"fleet"`
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
	pkgs  []alpm.Package
	count int
	err   error
}

func runStatus(ctx context.Context, env *Env, args []string) error {
	// A crash's leftovers first: recovery may change packages.
	eng, _, err := env.openEngine(ctx, true)
	if err != nil {
		return err
	}
	// The database is read while this goroutine gathers the rest: status
	// runs often, and on two cores the overlap is most of its cost.
	installed := make(chan installedState, 1)
	go func() {
		var st installedState
		st.paths, st.err = env.System().Paths()
		if st.err == nil {
			st.pkgs, st.err = alpm.InstalledVersionsAt(st.paths)
			st.count = len(st.pkgs)
		}
		installed <- st
	}()
	rep := statusReport{
		Version:        clpVersion(),
		LibalpmVersion: alpm.LibalpmVersion(),
		StateDir:       env.State(),
		Patches:        []string{},
		Pins:           []string{},
		LastUpdate:     update.LastSummary(env.State()),
		Timer:          env.System().TimerState(),
	}
	rep.PacmanVersion, rep.PacmanPath = system.PacmanVersion()
	stateErr := fillState(env, eng, &rep)
	rep.BootGuard = env.bootGuard(eng.Config).Report()
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
		return printStatusJSON(env.Stdout, rep)
	}
	env.field("clp", "%s", rep.Version)
	env.field("pacman", "%s", system.PacmanLine(rep.PacmanVersion, rep.PacmanPath, rep.LibalpmVersion))
	env.field("root", "%s", rep.Root)
	env.field("packages", "%d installed", rep.Packages.Count)
	env.field("state", "%s", rep.StateDir)
	env.field("applied patches", "%s", listOrNone(rep.Patches))
	env.field("pins", "%s", listOrNone(rep.Pins))
	env.field("withdrawn", "%s", rep.Fleet.WithdrawnSummary())
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
	history, err := eng.History()
	if err != nil {
		return err
	}
	if rep.Fleet, err = update.ReadFleet(env.State(), applied, history); err != nil {
		return err
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

// installedKey is the one line printJSON writes for an empty-marked
// Packages.Installed (null, at its depth): the only place where a line
// holds exactly this (a string cannot hold a line break).
const installedKey = "\n    \"installed\": null\n"

// printStatusJSON prints rep as printJSON does, byte for byte, but writes
// the installed packages' list itself: through encoding/json, reflection
// and the re-indentation of 2,000 entries cost more than the rest of clp
// status --json. Each name and version is still quoted by encoding/json.
func printStatusJSON(w io.Writer, rep statusReport) error {
	pkgs := rep.Packages.Installed
	if len(pkgs) == 0 {
		return printJSON(w, rep)
	}
	rep.Packages.Installed = nil
	var head bytes.Buffer
	if err := printJSON(&head, rep); err != nil {
		return err
	}
	out := head.Bytes()
	i := bytes.Index(out, []byte(installedKey))
	if i < 0 || bytes.Count(out, []byte(installedKey)) != 1 {
		rep.Packages.Installed = pkgs
		return printJSON(w, rep)
	}
	buf := make([]byte, 0, len(out)+len(pkgs)*96)
	buf = append(buf, out[:i]...)
	buf = append(buf, "\n    \"installed\": ["...)
	for k, p := range pkgs {
		if k > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, "\n      {\n        \"name\": "...)
		buf = appendJSONString(buf, p.Name)
		buf = append(buf, ",\n        \"version\": "...)
		buf = appendJSONString(buf, p.Version)
		buf = append(buf, "\n      }"...)
	}
	buf = append(buf, "\n    ]\n"...)
	buf = append(buf, out[i+len(installedKey):]...)
	_, err := w.Write(buf)
	return err
}

// appendJSONString appends s quoted as encoding/json quotes it (HTML
// characters escaped, as printJSON's encoder does); plain ASCII, what
// package names and versions are made of, is quoted without it.
func appendJSONString(buf []byte, s string) []byte {
	plain := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			plain = false
			break
		}
	}
	if plain {
		buf = append(buf, '"')
		buf = append(buf, s...)
		return append(buf, '"')
	}
	q, _ := json.Marshal(s)
	return append(buf, q...)
}
