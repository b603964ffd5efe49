package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/vincentos/clp/boot"
	"github.com/vincentos/clp/internal/lock"
	"github.com/vincentos/clp/pacman"
	"github.com/vincentos/clp/pkgtx"
	"github.com/vincentos/clp/snapshot"
)

func init() {
	// The options live in this closure, one set per command: no flag
	// is a package global.
	var downgradeOpts downgradeOptions
	register(&command{
		Name:    "downgrade",
		Summary: "install older versions of packages from the cache or the archive",
		Usage:   usageText("downgrade"),
		Flags: func(fs *pflag.FlagSet) {
			fs.StringVar(&downgradeOpts.To, "to", "", "install `VERSION` of every PKG (no menu)")
			fs.BoolVar(&downgradeOpts.LatestCached, "latest-cached", false, "the newest cached version older than the installed one")
			fs.BoolVar(&downgradeOpts.Pin, "pin", false, "pin the packages at the new version afterwards")
			fs.BoolVar(&downgradeOpts.CacheOnly, "cache-only", false, "do not ask the archive servers")
			fs.BoolVar(&downgradeOpts.Latest, "latest", false, "the newest version that matches (not the installed one), no menu")
			fs.BoolVar(&downgradeOpts.Oldest, "oldest", false, "the oldest version that matches, no menu")
			fs.BoolVarP(&downgradeOpts.DryRun, "dry-run", "n", false, "show the plan, change nothing")
		},
		Args: minArgs(1, "at least one package name"),
		Run: func(ctx context.Context, env *Env, args []string) error {
			return runDowngrade(ctx, env, downgradeOpts, args)
		},
	})
}

type downgradeOptions struct {
	To           string
	LatestCached bool
	Pin          bool
	CacheOnly    bool
	Latest       bool
	Oldest       bool
	DryRun       bool
}

// pkgArg is one PKG argument: a name and an optional version constraint
// ("nvidia-utils>=550", "nvidia-utils<560", "nvidia-utils=550.78").
type pkgArg struct {
	Name       string
	Constraint string
}

func parsePkgArgs(args []string) ([]pkgArg, error) {
	var out []pkgArg
	seen := map[string]bool{}
	for _, a := range args {
		name, c := a, ""
		if i := strings.IndexAny(a, "<>="); i >= 0 {
			name, c = a[:i], a[i:]
			op := strings.TrimRight(c, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.:_+-~")
			switch op {
			case "=", ">=", "<=", ">", "<":
			default:
				return nil, usageErrorf("%q: a version constraint is =, >=, <=, > or < and a version (nvidia-utils>=550)", a)
			}
			if c == op {
				return nil, usageErrorf("%q: the constraint names no version", a)
			}
		}
		if name == "" {
			return nil, usageErrorf("%q names no package", a)
		}
		if seen[name] {
			return nil, usageErrorf("%s is named twice", name)
		}
		seen[name] = true
		out = append(out, pkgArg{name, c})
	}
	return out, nil
}

// pacmanRunner runs pacman for this command: its output goes to the
// terminal, or to stderr with --json so stdout stays JSON.
func (e *Env) pacmanRunner(p *pacman.Paths) *pacman.Runner {
	out := e.Stdout
	if e.JSON {
		out = e.Stderr
	}
	return &pacman.Runner{Paths: p, LockWait: lockWait, Stdout: out, Stderr: e.Stderr, Children: e.State(),
		Waiting: func(lf string) { e.Warnf("waiting for pacman's lock %s", lf) },
		// A db.lck older than this boot belongs to no running pacman: it
		// was left by a crash, or came back with a rolled-back snapshot.
		RemoveStale:  snapshot.RemoveStaleDBLock,
		StaleRemoved: func(lf string) { e.Warnf("removed %s: it predates this boot, so no pacman holds it", lf) },
	}
}

// stateLock takes clp's single-writer lock in the state directory.
func (e *Env) stateLock(ctx context.Context) (*lock.Lock, error) {
	if err := os.MkdirAll(e.State(), 0o755); err != nil {
		return nil, fmt.Errorf("create state directory: %w", err)
	}
	l, err := lock.Acquire(ctx, filepath.Join(e.State(), "lock"), lockWait)
	if err != nil {
		return nil, fmt.Errorf("another clp is running: %w", err)
	}
	return l, nil
}

// downgradeResult is clp downgrade's JSON after a change.
type downgradeResult struct {
	Moves  []*pkgtx.Move `json:"moves"`
	Pinned []string      `json:"pinned"`
	DryRun bool          `json:"dry_run,omitempty"`
}

func runDowngrade(ctx context.Context, env *Env, o downgradeOptions, args []string) error {
	var picks []string
	for _, p := range []struct {
		on   bool
		name string
	}{{o.To != "", "--to"}, {o.LatestCached, "--latest-cached"}, {o.Latest, "--latest"}, {o.Oldest, "--oldest"}} {
		if p.on {
			picks = append(picks, p.name)
		}
	}
	if len(picks) > 1 {
		return usageErrorf("%s cannot be used together: each picks the version", strings.Join(picks, " and "))
	}
	pkgs, err := parsePkgArgs(args)
	if err != nil {
		return err
	}
	exact := true
	var names []string
	for _, p := range pkgs {
		names = append(names, p.Name)
		if o.To != "" && p.Constraint != "" {
			return usageErrorf("--to and %s%s cannot be used together: both name the version", p.Name, p.Constraint)
		}
		if !strings.HasPrefix(p.Constraint, "=") {
			exact = false
		}
	}
	// A name read from the command line ends up in messages and in
	// pacman's arguments: no newline may forge a line.
	if err := checkPackageNames(names); err != nil {
		return err
	}
	choose := len(picks) > 0 || exact
	if env.NoConfirm && !choose && !env.JSON {
		return usageErrorf("--noconfirm needs --to VERSION, --latest, --oldest, --latest-cached or PKG=VERSION: there is no menu to answer")
	}
	cfg, err := env.loadConfig()
	if err != nil {
		return err
	}
	h, err := env.openDB()
	if err != nil {
		return err
	}
	defer h.Close()
	d := pkgtx.New(h, h.Paths, env.pacmanRunner(h.Paths), cfg, env.State(), env.Reporter())
	if o.CacheOnly {
		d.Servers = nil
	}

	if env.JSON && !choose {
		var out []*pkgtx.Listing
		for _, p := range pkgs {
			l, err := d.List(ctx, p.Name, true)
			if err != nil {
				return archiveHint(err)
			}
			if l.Versions, err = l.Match(p.Constraint); err != nil {
				return usageErrorf("%s%s: %v", p.Name, p.Constraint, err)
			}
			if l.Versions == nil {
				l.Versions = []pkgtx.Version{}
			}
			out = append(out, l)
		}
		return printJSON(env.Stdout, out)
	}

	var targets []pkgtx.Target
	for _, p := range pkgs {
		v, err := chooseVersion(ctx, env, d, o, p)
		if err != nil {
			return err
		}
		targets = append(targets, pkgtx.Target{Name: p.Name, Version: v})
	}
	plan, err := d.Plan(ctx, targets)
	if err != nil {
		return archiveHint(err)
	}
	if !env.JSON {
		printPlan(env, plan)
	}
	if o.DryRun {
		if env.JSON {
			return printJSON(env.Stdout, downgradeResult{Moves: plan.Moves, Pinned: []string{}, DryRun: true})
		}
		fmt.Fprintln(env.Stdout, ":: dry run: nothing was changed")
		return nil
	}
	if err := env.confirm(ctx, "Proceed with installation?", true); err != nil {
		return err
	}
	l, err := env.stateLock(ctx)
	if err != nil {
		return err
	}
	defer l.Release()
	if err := d.Fetch(ctx, plan); err != nil {
		return err
	}
	if err := d.Check(ctx, plan); err != nil {
		d.Discard(plan)
		return err
	}
	if err := d.Run(ctx, plan, "clp downgrade"); err != nil {
		d.Discard(plan)
		return withHint(err, "pacman's own message is above; nothing was changed by clp")
	}
	armGuard(env, boot.Transaction{Source: "clp downgrade", Packages: plan.Names()})
	pinned, err := d.Repin(plan, o.Pin)
	if err != nil {
		return err
	}
	if env.JSON {
		if pinned == nil {
			pinned = []string{}
		}
		return printJSON(env.Stdout, downgradeResult{Moves: plan.Moves, Pinned: pinned})
	}
	if len(pinned) < len(plan.Moves) && !o.Pin && !env.JSON {
		// As the AUR downgrade offers IgnorePkg: no (the default, and
		// --noconfirm's answer) leaves them to the next update.
		var what []string
		for _, m := range plan.Moves {
			what = append(what, m.Name+" "+m.To)
		}
		switch err := env.confirm(ctx, fmt.Sprintf("Pin %s, so that updates leave them there?", strings.Join(what, ", ")), false); {
		case err == nil:
			if pinned, err = d.Repin(plan, true); err != nil {
				return err
			}
		case !errors.Is(err, errDeclined):
			return err
		}
	}
	if len(pinned) > 0 {
		fmt.Fprintf(env.Stdout, ":: pinned %s (clp unpin releases them)\n", strings.Join(pinned, ", "))
	}
	return nil
}

// archiveHint adds the way out of an archive failure.
func archiveHint(err error) error {
	var ae *pkgtx.ArchiveError
	if errors.As(err, &ae) {
		return withHint(err, "check ArchiveServer in clp.conf and the network; --cache-only or --latest-cached choose from the cache alone")
	}
	var me *pkgtx.MissingError
	if errors.As(err, &me) {
		return withHint(err, "'clp downgrade "+me.Name+" --json' lists the versions that are available")
	}
	return err
}

// chooseVersion picks the version of one package: --to, --latest-cached,
// --latest, --oldest, PKG=VERSION, or the menu.
func chooseVersion(ctx context.Context, env *Env, d *pkgtx.Downgrader, o downgradeOptions, p pkgArg) (string, error) {
	name := p.Name
	if o.To != "" {
		return o.To, nil
	}
	if o.LatestCached {
		l, err := d.List(ctx, name, false)
		if err != nil {
			return "", err
		}
		if l.Versions, err = l.Match(p.Constraint); err != nil {
			return "", usageErrorf("%s%s: %v", name, p.Constraint, err)
		}
		v, ok := l.LatestCachedBelowInstalled()
		if !ok {
			return "", withHint(fmt.Errorf("no cached version of %s%s is older than the installed %s", name, p.Constraint, orNotInstalled(l.Installed)),
				"'clp downgrade "+name+"' lists the archive's versions too")
		}
		return v.Version, nil
	}
	l, err := d.List(ctx, name, true)
	if err != nil {
		var ae *pkgtx.ArchiveError
		if !errors.As(err, &ae) {
			return "", err
		}
		if _, ok := l.LatestCachedBelowInstalled(); !ok {
			return "", archiveHint(err)
		}
		env.Warnf("%v; showing the cached versions only", err)
	}
	if l.ArchiveNone {
		fmt.Fprintf(env.Stderr, ":: the archive server has no %s (HTTP 404: an AUR or custom package?); listing the cache's versions\n", name)
	}
	if len(l.Versions) == 0 {
		if l.ArchiveNone {
			return "", fmt.Errorf("no version of %s found in the cache, and the archive server has none", name)
		}
		return "", archiveHint(fmt.Errorf("no version of %s found in the cache or on the archive server", name))
	}
	all := len(l.Versions)
	vs, err := l.Match(p.Constraint)
	if err != nil {
		return "", usageErrorf("%s%s: %v", name, p.Constraint, err)
	}
	var others []pkgtx.Version // what can be chosen: not the installed one
	for _, v := range vs {
		if !v.Installed {
			others = append(others, v)
		}
	}
	if len(others) == 0 {
		return "", withHint(fmt.Errorf("no version of %s%s other than the installed %s (of %d found)", name, p.Constraint, orNotInstalled(l.Installed), all),
			"'clp downgrade "+name+" --json' lists every version found")
	}
	switch {
	case o.Latest:
		return others[0].Version, nil
	case o.Oldest:
		return others[len(others)-1].Version, nil
	case strings.HasPrefix(p.Constraint, "=") && len(others) == 1:
		return others[0].Version, nil
	case strings.HasPrefix(p.Constraint, "=") && env.NoConfirm:
		return "", fmt.Errorf("%s%s matches %d versions; name the pkgrel too (%s=%s)", name, p.Constraint, len(others), name, others[0].Version)
	}
	printMenu(env, name, l, vs)
	// Like the AUR downgrade: bad input asks again; no input (Enter, or
	// none at all) chooses nothing and changes nothing.
	for {
		fmt.Fprintf(env.Stderr, ":: Enter a number (default: none): ")
		line, err := env.readLine(ctx)
		if errors.Is(err, context.Canceled) {
			fmt.Fprintln(env.Stderr)
			return "", err
		}
		if line = strings.TrimSpace(line); line == "" {
			if err != nil {
				fmt.Fprintln(env.Stderr)
			}
			return "", errDeclined
		}
		n, aerr := strconv.Atoi(line)
		if aerr != nil || n < 1 || n > len(vs) {
			fmt.Fprintf(env.Stderr, "clp: %q is not a number from 1 to %d; try again\n", line, len(vs))
			continue
		}
		v := vs[n-1]
		if v.Installed {
			fmt.Fprintf(env.Stderr, "clp: %s %s is already installed; choose another version\n", name, v.Version)
			continue
		}
		return v.Version, nil
	}
}

// printMenu lists vs, numbered from 1: where each version is, its build
// date and size when known, and whether it is or was installed.
func printMenu(env *Env, name string, l *pkgtx.Listing, vs []pkgtx.Version) {
	fmt.Fprintf(env.Stderr, ":: Versions of %s (installed: %s):\n", env.bold(name), orNotInstalled(l.Installed))
	t := newTable("", "Version", "Where", "Date", "Size", "").alignRight(0, 4)
	for i, v := range vs {
		var marks []string
		if v.Installed {
			marks = append(marks, "installed")
		}
		if v.InstalledBefore {
			marks = append(marks, "installed before")
		}
		var where []string
		if v.Cached != "" {
			where = append(where, "cache")
		}
		if v.URL != "" {
			where = append(where, "archive")
		}
		date, size := "-", "-"
		if v.Date != nil {
			date = v.Date.Local().Format("2006-01-02")
		}
		if v.Size > 0 {
			size = humanBytes(v.Size)
		}
		mark := ""
		if len(marks) > 0 {
			mark = "[" + strings.Join(marks, ", ") + "]"
		}
		t.row(fmt.Sprintf("%d)", i+1), v.Version, strings.Join(where, ", "), date, size, mark)
	}
	t.writeTo(env, env.Stderr)
}

// humanBytes prints a size as pacman does: 1024-based, two decimals.
func humanBytes(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	f := float64(n)
	i := 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	return fmt.Sprintf("%.2f %s", f, units[i])
}

func orNotInstalled(v string) string {
	if v == "" {
		return "not installed"
	}
	return v
}

func printPlan(env *Env, p *pkgtx.Plan) {
	fmt.Fprintf(env.Stdout, ":: %d package(s) in one transaction:\n", len(p.Moves))
	for _, m := range p.Moves {
		fmt.Fprintf(env.Stdout, "   %-24s %s -> %s\n", m.Name, orNotInstalled(m.From), m.To)
		fmt.Fprintf(env.Stdout, "   %-24s from %s\n", "", m.Source)
		if m.Why != "requested" {
			fmt.Fprintf(env.Stdout, "   %-24s because %s\n", "", m.Why)
		}
	}
}
