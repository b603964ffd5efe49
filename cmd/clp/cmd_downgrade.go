package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
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
			fs.StringVar(&downgradeOpts.To, "to", "", "install `VERSION`")
			fs.BoolVar(&downgradeOpts.LatestCached, "latest-cached", false, "the newest cached version older than the installed one")
			fs.BoolVar(&downgradeOpts.Pin, "pin", false, "pin the packages afterwards")
			fs.BoolVar(&downgradeOpts.CacheOnly, "cache-only", false, "do not ask the archive servers")
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
}

func runDowngrade(ctx context.Context, env *Env, o downgradeOptions, names []string) error {
	if err := checkPackageNames(names); err != nil {
		return err
	}
	if o.To != "" && o.LatestCached {
		return usageErrorf("--to and --latest-cached cannot be used together")
	}
	choose := o.To != "" || o.LatestCached
	if env.NoConfirm && !choose && !env.JSON {
		return usageErrorf("--noconfirm needs --to VERSION or --latest-cached: there is no menu to answer")
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
		for _, n := range names {
			l, err := d.List(ctx, n, true)
			if err != nil {
				return archiveHint(err)
			}
			out = append(out, l)
		}
		return printJSON(env.Stdout, out)
	}

	var targets []pkgtx.Target
	in := bufio.NewReader(stdinOrEmpty(env.Stdin))
	for _, n := range names {
		v, err := chooseVersion(ctx, env, d, o, n, in)
		if err != nil {
			return err
		}
		targets = append(targets, pkgtx.Target{Name: n, Version: v})
	}
	plan, err := d.Plan(ctx, targets)
	if err != nil {
		return archiveHint(err)
	}
	if !env.JSON {
		printPlan(env, plan)
	}
	if !env.confirm("Proceed with installation?", true) {
		return withCode(errors.New("cancelled: nothing changed"), ExitRefused)
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
		return err
	}
	if err := d.Run(ctx, plan, "clp downgrade"); err != nil {
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
	if len(pinned) > 0 {
		fmt.Fprintf(env.Stdout, ":: pinned %s (clp unpin releases them)\n", strings.Join(pinned, ", "))
	}
	return nil
}

func stdinOrEmpty(r io.Reader) io.Reader {
	if r == nil {
		return strings.NewReader("")
	}
	return r
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
// or the menu.
func chooseVersion(ctx context.Context, env *Env, d *pkgtx.Downgrader, o downgradeOptions, name string, in *bufio.Reader) (string, error) {
	if o.To != "" {
		return o.To, nil
	}
	if o.LatestCached {
		l, err := d.List(ctx, name, false)
		if err != nil {
			return "", err
		}
		v, ok := l.LatestCachedBelowInstalled()
		if !ok {
			return "", withHint(fmt.Errorf("no cached version of %s is older than the installed %s", name, orNotInstalled(l.Installed)),
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
	if len(l.Versions) == 0 {
		return "", archiveHint(fmt.Errorf("no version of %s found in the cache or on the archive server", name))
	}
	fmt.Fprintf(env.Stderr, ":: Versions of %s (installed: %s):\n", env.bold(name), orNotInstalled(l.Installed))
	for i, v := range l.Versions {
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
		mark := ""
		if len(marks) > 0 {
			mark = " [" + strings.Join(marks, ", ") + "]"
		}
		fmt.Fprintf(env.Stderr, "%4d) %-20s %s%s\n", i+1, v.Version, strings.Join(where, ", "), mark)
	}
	fmt.Fprintf(env.Stderr, ":: Enter a number (default: none): ")
	line, _ := in.ReadString('\n')
	if line = strings.TrimSpace(line); line == "" {
		fmt.Fprintln(env.Stderr)
		return "", withCode(errors.New("no version chosen: nothing changed"), ExitRefused)
	}
	n, err := strconv.Atoi(line)
	if err != nil || n < 1 || n > len(l.Versions) {
		return "", usageErrorf("%q is not a number from 1 to %d", line, len(l.Versions))
	}
	v := l.Versions[n-1]
	if v.Installed {
		return "", withCode(fmt.Errorf("%s %s is already installed: nothing changed", name, v.Version), ExitRefused)
	}
	return v.Version, nil
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
