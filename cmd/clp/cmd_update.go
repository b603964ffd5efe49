package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/vincentos/clp/hooks"
	"github.com/vincentos/clp/internal/config"
	"github.com/vincentos/clp/patch"
	"github.com/vincentos/clp/update"
)

type updateOptions struct {
	Check        bool
	IfConfigured bool
}

func init() {
	registerOpts(&command{
		Name:    "update",
		Summary: "fetch and apply new patches from the signed feed",
		Usage:   usageText("update"),
		Args:    noArgs,
	}, func(fs *pflag.FlagSet, o *updateOptions) {
		fs.BoolVar(&o.Check, "check", false, "only list new patches; download and change nothing")
		fs.BoolVar(&o.IfConfigured, "if-configured", false, "exit 0 with a message when no feed is configured")
	}, runUpdate)
}

func runUpdate(ctx context.Context, env *Env, o updateOptions, _ []string) error {
	if !o.Check {
		if err := preflight(ctx, env); err != nil {
			return err
		}
	}
	cfg, err := env.loadConfig()
	if err != nil {
		return err
	}
	if o.IfConfigured && !update.Configured(env.System(), cfg) {
		// Nothing was asked of any mirror: not recorded as the last update.
		msg := "skipped: no feed is configured"
		if env.JSON {
			return printJSON(env.Stdout, &update.Report{Check: o.Check, Policy: cfg.UpdatePolicy, Result: msg})
		}
		fmt.Fprintf(env.Stdout, "clp update: %s (no FeedMirror in %s); add 'FeedMirror = URL' there to turn the daily update on\n", msg, env.System().ConfigPath())
		return nil
	}
	app := &updateApplier{env: env, cfg: cfg}
	defer app.close()
	u := &update.Updater{Sys: env.System(), Config: cfg, Check: o.Check, Apply: app, Reporter: env.Reporter()}
	if !env.JSON {
		u.Observer = updatePrinter{env: env, check: o.Check, policy: cfg.UpdatePolicy}
	}
	rep, err := u.Run(ctx)
	if !o.Check && !errors.Is(err, update.ErrNotStarted) {
		if werr := update.Record(env.System().Root, env.State(), rep); werr != nil {
			env.Warnf("cannot record the last update: %v", werr)
		}
	}
	if env.JSON {
		if perr := printJSON(env.Stdout, rep); err == nil {
			err = perr
		}
	}
	return err
}

// updateApplier backs the updater with what 'clp apply' does.
type updateApplier struct {
	env   *Env
	cfg   *config.Config
	query *installedQuery
}

func (a *updateApplier) close() {
	if a.query != nil {
		a.query.Close()
	}
}

func (a *updateApplier) Apply(ctx context.Context, ar patch.Archive, trust, path string) error {
	_, err := applyOpened(ctx, a.env, a.cfg, applyOptions{}, ar, trust, path)
	return err
}

// Rollback rolls back an applied patch exactly as 'clp rollback NAME
// --noconfirm' does, recording reason in the history.
func (a *updateApplier) Rollback(ctx context.Context, name, reason string) error {
	eng, applied, err := a.env.appliedPatches(ctx)
	if err != nil {
		return err
	}
	rec := patch.FindApplied(applied, name)
	if rec == nil {
		return fmt.Errorf("patch %s is not applied", name)
	}
	if err := rollbackPatch(ctx, a.env, eng, rec, patch.RollbackOptions{Reason: reason}); err != nil {
		return err
	}
	// clp rollback prints its own line; here the update says it.
	a.env.Reporter().Step(fmt.Sprintf("patch %s %s rolled back", name, rec.Version))
	return nil
}

func (a *updateApplier) OpenSigned(path string) (patch.Archive, string, error) {
	return openPatch(a.env, a.cfg, path, false)
}

func (a *updateApplier) InstalledVersion(name string) (string, bool, error) {
	if a.query == nil {
		a.query = &installedQuery{env: a.env}
	}
	return a.query.InstalledVersion(name)
}

func (a *updateApplier) LockState(ctx context.Context) (func(), error) {
	l, err := a.env.stateLock(ctx)
	if err != nil {
		return nil, err
	}
	return func() { l.Release() }, nil
}

func (a *updateApplier) LiftPins(ctx context.Context) ([]hooks.Lifted, error) {
	// 'clp pins --check' prints its own lines; the update says it here.
	lifted, err := checkPins(ctx, a.env)
	for _, l := range lifted {
		a.env.Reporter().Step(fmt.Sprintf("pin of %s lifted: %s offers %s (at or above %s)", l.Pin.Name, l.Repo, l.Offered, l.Pin.Until))
	}
	return lifted, err
}

// updatePrinter prints what the updater finds, pacman-style.
type updatePrinter struct {
	env    *Env
	check  bool
	policy string
}

func (p updatePrinter) Listed(rep *update.Report, source, from string) {
	head, lines := rep.Listing(source, from, p.check, p.policy)
	if head == "" {
		return
	}
	fmt.Fprintf(p.env.Stdout, "%s %s\n", p.env.bold("::"), head)
	for _, l := range lines {
		fmt.Fprintln(p.env.Stdout, l)
	}
}

func (p updatePrinter) Read(rep *update.Report) {
	if !rep.HasNew() {
		fmt.Fprintln(p.env.Stdout, " there is nothing to do")
	}
}
