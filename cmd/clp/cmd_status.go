package main

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/vincentos/clp/alpm"
	"github.com/vincentos/clp/pacman"
	"github.com/vincentos/clp/pkgtx"
	"github.com/vincentos/clp/status"
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
	rep := status.Report{
		Version:        clpVersion(),
		LibalpmVersion: system.LibalpmVersion(alpm.Soname(), alpm.Loaded),
		StateDir:       env.State(),
		Patches:        []string{},
		Pins:           []string{},
		LastUpdate:     update.LastSummary(env.System().Root, env.State()),
		Timer:          env.System().TimerState(),
	}
	rep.PacmanVersion, rep.PacmanPath = system.PacmanVersion()
	stateErr := rep.FillState(eng, env.State())
	rep.Downgrade = downgradeLeft(env.System().Root, env.State())
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
		rep.Packages.Installed = make([]status.Package, 0, len(st.pkgs))
		for _, p := range st.pkgs {
			rep.Packages.Installed = append(rep.Packages.Installed, status.Package{Name: p.Name, Version: p.Version})
		}
		return rep.WriteJSON(env.Stdout)
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
	if rep.Downgrade != nil {
		env.field("interrupted", "%s", rep.Downgrade.Summary())
	}
	return nil
}

// downgradeLeft reads the record a killed clp downgrade left (nil when
// none, or when this user may not read clp's state). Status only reports
// it: clp recover, or the next clp downgrade, mends what it names.
func downgradeLeft(root, stateDir string) *status.DowngradeLeft {
	rec, err := pkgtx.ReadDowngradeRecord(root, stateDir)
	if rec == nil && err == nil || errors.Is(err, fs.ErrPermission) {
		return nil
	}
	d := &status.DowngradeLeft{Record: filepath.Join(stateDir, pkgtx.DowngradeRecordFile), Packages: []string{}}
	if err != nil {
		d.Problem = err.Error()
		return d
	}
	for _, m := range rec.Packages {
		s := m.Name + " " + m.To
		if m.From != "" {
			s = m.Name + " " + m.From + " -> " + m.To
		}
		d.Packages = append(d.Packages, s)
	}
	return d
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}
