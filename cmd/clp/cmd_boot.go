package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/pflag"

	"github.com/vincentos/clp/boot"
	"github.com/vincentos/clp/hooks"
	"github.com/vincentos/clp/internal/config"
	"github.com/vincentos/clp/internal/fsx"
	"github.com/vincentos/clp/patch"
)

type bootOptions struct {
	Settle time.Duration
}

func init() {
	registerOpts(&command{
		Name:    "boot",
		Summary: "the boot guard: status, disarm, mark-good",
		Usage:   usageText("boot"),
		Args:    exactArgs(1, "an action: status, disarm or mark-good"),
	}, func(fs *pflag.FlagSet, o *bootOptions) {
		fs.DurationVar(&o.Settle, "settle", 5*time.Second, "how long the display manager must run without a restart (check)")
	}, runBoot)
}

// bootGuard is the guard of the root clp works on.
func (e *Env) bootGuard(cfg *config.Config) *boot.Guard {
	return hooks.BootGuard(e.System(), cfg)
}

func runBoot(ctx context.Context, env *Env, o bootOptions, args []string) error {
	action := args[0]
	cfg, err := env.loadConfig()
	if err != nil {
		return err
	}
	g := env.bootGuard(cfg)
	damagedHint := func(err error) error {
		if errors.Is(err, boot.ErrDamaged) {
			return withHint(err, "'clp boot disarm' moves it aside (kept as boot-guard.json.damaged) and starts a disarmed guard")
		}
		return err
	}
	switch action {
	case "status":
		return bootStatus(env, g)
	case "disarm":
		g.Log = func(m string) { env.Warnf("%s", m) }
		st, err := g.Disarm(ctx, "disarmed by hand ('clp boot disarm')")
		if err != nil {
			return err
		}
		if env.JSON {
			return printJSON(env.Stdout, st)
		}
		fmt.Fprintln(env.Stdout, "the boot guard is disarmed; nothing was restored")
		return nil
	case "mark-good":
		st, err := g.MarkGood(ctx)
		if err != nil {
			return damagedHint(err)
		}
		if env.JSON {
			return printJSON(env.Stdout, st)
		}
		fmt.Fprintln(env.Stdout, "this boot is marked good; the boot guard is disarmed")
		return nil
	case "start":
		g.Log = func(m string) { fmt.Fprintf(env.Stdout, "clp boot guard: %s\n", m) }
		res, err := g.Start(ctx, newGuardRestorer(env))
		if err != nil {
			return damagedHint(err)
		}
		env.Debugf("boot guard start: %s", res.Action)
		return nil
	case "check":
		g.Log = func(m string) { fmt.Fprintf(env.Stdout, "clp boot guard: %s\n", m) }
		res, err := g.Check(ctx, boot.Systemctl{}, boot.CheckOptions{ChecksDir: env.System().Under("/etc/clp/boot-checks.d"), Root: env.System().Root, Settle: o.Settle})
		if err != nil {
			return damagedHint(err)
		}
		env.Debugf("boot guard check: %s %+v", res.Action, res.Verdict)
		return nil
	}
	return withHint(usageErrorf("unknown action %q", action), "see 'clp boot --help'")
}

func bootStatus(env *Env, g *boot.Guard) error {
	rep := g.Report()
	if !env.JSON {
		rep.Critical = nil
	} else {
		rep.Critical = g.Config.BootCritical
		if err := printJSON(env.Stdout, rep); err != nil {
			return err
		}
		if rep.Damaged != "" {
			return withCode(errors.New(rep.Damaged), ExitError)
		}
		return nil
	}
	if rep.Damaged != "" {
		return withHint(errors.New(rep.Damaged), "'clp boot disarm' moves it aside (kept as boot-guard.json.damaged) and starts a disarmed guard")
	}
	for _, f := range rep.Fields() {
		env.field(f.Name, "%s", f.Value)
	}
	return nil
}

// armGuard arms the boot guard after a transaction that changed packages
// (hooks.ArmBootGuard, which the post hook calls too). It never fails the
// transaction: a guard that cannot arm is a warning.
func armGuard(env *Env, tx boot.Transaction) {
	crit, err := hooks.ArmBootGuard(env.System(), tx)
	if err != nil {
		env.Warnf("boot guard: %v", err)
	}
	if crit != nil {
		fmt.Fprintln(armOut(env), hooks.ArmedMessage(crit))
	}
}

// armOut is where the boot guard's armed line goes: stdout, or stderr
// under --json.
func armOut(env *Env) io.Writer {
	if env.JSON {
		return env.Stderr
	}
	return env.Stdout
}

// guardProtects is the snapshot the boot guard may restore: retention
// keeps it.
func guardProtects(env *Env, cfg *config.Config) int {
	return env.bootGuard(cfg).Protects()
}

// guardRestorer is how the boot guard restores: a patch through the path
// of 'clp rollback', a snapshot through pkgtx's Restorer, unasked
// (restoreSnapshot).
type guardRestorer struct {
	env *Env
}

func newGuardRestorer(env *Env) *guardRestorer {
	e := *env
	e.NoConfirm, e.JSON = true, false
	// pacman's output and clp's go to the journal and the console (the
	// unit's stdout) and to CLP.log.
	if f, err := fsx.OpenFileUnder(env.System().Root, env.System().PatchLog(), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640); err == nil {
		e.Stdout = io.MultiWriter(env.Stdout, f)
		e.Stderr = io.MultiWriter(env.Stderr, f)
	}
	return &guardRestorer{env: &e}
}

func (r *guardRestorer) RollbackPatch(ctx context.Context, name string) (bool, error) {
	_, applied, err := r.env.appliedPatches(ctx)
	if err != nil {
		return false, err
	}
	if patch.FindApplied(applied, name) == nil {
		return false, nil
	}
	return true, runRollback(ctx, r.env, rollbackOptions{}, []string{name})
}

func (r *guardRestorer) RestoreSnapshot(ctx context.Context, id int) error {
	_, err := restoreSnapshot(ctx, r.env, id, "the boot guard")
	return err
}
