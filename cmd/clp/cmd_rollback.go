package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/vincentos/clp/patch"
)

type rollbackOptions struct {
	Force bool
}

func init() {
	registerOpts(&command{
		Name:    "rollback",
		Aliases: []string{"uninstall"},
		Summary: "undo an applied patch exactly",
		Usage:   usageText("rollback"),
		Args: func(args []string) error {
			if len(args) > 1 {
				return usageErrorf("expected at most one patch name")
			}
			return nil
		},
	}, func(fs *pflag.FlagSet, o *rollbackOptions) {
		fs.BoolVar(&o.Force, "force", false, "restore over files you changed, keeping your copy as FILE.clpsave")
	}, runRollback)
}

func runRollback(ctx context.Context, env *Env, o rollbackOptions, args []string) error {
	eng, applied, err := env.appliedPatches(ctx)
	if err != nil {
		return err
	}
	var name string
	if len(args) == 1 {
		name = args[0]
	} else {
		if len(applied) == 0 {
			return withCode(errors.New("no patch is applied"), ExitRefused)
		}
		name = applied[len(applied)-1].Name
	}
	rec := patch.FindApplied(applied, name)
	if rec == nil {
		return withCode(withHint(fmt.Errorf("patch %s is not applied", name), "'clp list' shows the applied patches"), ExitRefused)
	}
	if !env.JSON {
		fmt.Fprintf(env.Stdout, "%s rolling back %s %s\n", env.bold("::"), rec.Name, rec.Version)
		fmt.Fprint(env.Stdout, rec.UndoText())
		if err := env.confirm(ctx, "Roll back this patch?", true); err != nil {
			return err
		}
	}
	if err := rollbackPatch(ctx, env, eng, rec, patch.RollbackOptions{Force: o.Force}); err != nil {
		return err
	}
	if env.JSON {
		return printJSON(env.Stdout, map[string]any{"patch": name, "rolled_back": true})
	}
	fmt.Fprintf(env.Stdout, "%s patch %s rolled back\n", env.green("::"), name)
	return nil
}

// rollbackPatch is what 'clp rollback' does once confirmed, and what
// 'clp update' does for a patch the feed withdrew: the engine's rollback
// (files, scripts, packages and pins back) between the package snapshots.
func rollbackPatch(ctx context.Context, env *Env, eng *patch.Engine, rec *patch.Applied, opts patch.RollbackOptions) error {
	snap := beginPatchSnap(env, rec.Name)
	if err := eng.Rollback(ctx, rec.Name, opts); err != nil {
		return refusal(err, "")
	}
	snap.done("rolling back " + rec.Name + " " + rec.Version)
	return nil
}
