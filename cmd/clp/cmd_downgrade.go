package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/vincentos/clp/boot"
	"github.com/vincentos/clp/pkgtx"
)

func init() {
	registerOpts(&command{
		Name:    "downgrade",
		Summary: "install older versions of packages from the cache or the archive",
		Usage:   usageText("downgrade"),
		Args:    minArgs(1, "at least one package name"),
	}, func(fs *pflag.FlagSet, o *downgradeOptions) {
		fs.StringVar(&o.To, "to", "", "install `VERSION` of every PKG (no menu)")
		fs.BoolVar(&o.LatestCached, "latest-cached", false, "the newest cached version older than the installed one")
		fs.BoolVar(&o.Pin, "pin", false, "pin the packages at the new version afterwards")
		fs.BoolVar(&o.CacheOnly, "cache-only", false, "do not ask the archive servers")
		fs.BoolVar(&o.Latest, "latest", false, "the newest version that matches (not the installed one), no menu")
		fs.BoolVar(&o.Oldest, "oldest", false, "the oldest version that matches, no menu")
		fs.BoolVarP(&o.DryRun, "dry-run", "n", false, "show the plan, change nothing")
	}, runDowngrade)
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
	pkgs, err := pkgtx.ParseArgs(args)
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
		if !p.Exact() {
			exact = false
		}
	}
	// A name read from the command line ends up in messages and in
	// pacman's arguments: no newline may forge a line.
	if err := pkgtx.CheckNames(names); err != nil {
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
	// A clp downgrade killed while its pacman ran left its record: what
	// that pacman may have left half written is mended first, as 'clp
	// recover' would (patches' commands finish an interrupted
	// transaction the same way), so the plan below starts from what is
	// really installed. Not for a dry run or a listing, which change
	// nothing.
	if !o.DryRun && !(env.JSON && !choose) {
		dg, err := recoverDowngrade(ctx, env)
		if err != nil {
			return err
		}
		if dg != nil {
			env.Warnf("found and finished %s", downgradeRecovered(dg))
		}
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
		out, err := d.Listings(ctx, pkgs)
		if err != nil {
			return err
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
		return pkgtx.ArchiveHint(err)
	}
	if !env.JSON {
		for _, l := range plan.Lines() {
			fmt.Fprintln(env.Stdout, l)
		}
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
	// A record left by a clp downgrade killed since the recovery above
	// is refused before anything is fetched (RunRecorded refuses too).
	if rec, err := pkgtx.ReadDowngradeRecord(h.Paths.Root, env.State()); err != nil {
		return err
	} else if rec != nil {
		return pkgtx.ErrDowngradeLeft(env.State())
	}
	if err := d.Fetch(ctx, plan); err != nil {
		return err
	}
	if err := d.Check(ctx, plan); err != nil {
		d.Discard(plan)
		return err
	}
	if err := d.RunRecorded(ctx, plan, "clp downgrade"); err != nil {
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

// chooseVersion picks the version of one package: --to, --latest-cached,
// --latest, --oldest, PKG=VERSION, or the menu.
func chooseVersion(ctx context.Context, env *Env, d *pkgtx.Downgrader, o downgradeOptions, p pkgtx.Arg) (string, error) {
	c, err := d.Choose(ctx, p, pkgtx.Pick{To: o.To, LatestCached: o.LatestCached, Latest: o.Latest, Oldest: o.Oldest, NoMenu: env.NoConfirm})
	if c != nil && c.Partial != nil {
		env.Warnf("%v; showing the cached versions only", c.Partial)
	}
	if c != nil && c.Listing != nil && c.Listing.ArchiveNone {
		fmt.Fprintf(env.Stderr, ":: the archive server has no %s (HTTP 404: an AUR or custom package?); listing the cache's versions\n", p.Name)
	}
	if err != nil {
		return "", err
	}
	if c.Version != "" {
		return c.Version, nil
	}
	vs := c.Menu
	fmt.Fprintf(env.Stderr, ":: Versions of %s (installed: %s):\n", env.bold(p.Name), pkgtx.OrNotInstalled(c.Listing.Installed))
	t := newTable("", "Version", "Where", "Date", "Size", "").alignRight(0, 4)
	for i, v := range vs {
		t.row(v.MenuRow(i + 1)...)
	}
	t.writeTo(env, env.Stderr)
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
			fmt.Fprintf(env.Stderr, "clp: %s %s is already installed; choose another version\n", p.Name, v.Version)
			continue
		}
		return v.Version, nil
	}
}
