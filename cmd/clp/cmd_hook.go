package main

import (
	"context"
	"fmt"

	"github.com/vincentos/clp/hooks"
	"github.com/vincentos/clp/snapshot"
)

func init() {
	register(&command{
		Name:    "hook",
		Summary: "pacman hook handlers (run by pacman, not by hand)",
		Usage:   usageText("hook"),
		Hidden:  true,
		Args:    exactArgs(1, "pre, post or guard"),
		Run:     runHook,
	})
}

func runHook(ctx context.Context, env *Env, args []string) error {
	r := &hooks.Run{
		Sys: env.System(), Stdin: env.Stdin, Reporter: env.Reporter(), Debugf: env.Debugf, Warnf: env.Warnf,
		Say: func(msg string) { fmt.Fprintln(armOut(env), msg) },
		Open: func() (hooks.VersionDB, error) {
			db, err := env.openDB()
			if err != nil {
				return nil, err
			}
			return db, nil
		},
	}
	if a := args[0]; a != "pre" && a != "post" && a != "guard" {
		return usageErrorf("unknown hook %q: expected pre, post or guard", a)
	}
	return r.Do(ctx, args[0])
}

func snapshotDir(env *Env) string { return hooks.SnapshotDir(env.State()) }

// retention is clp.conf's SnapshotKeep, sparing the snapshots of the
// patches still applied (hooks.Retention, which the hooks use too).
func (e *Env) retention() snapshot.Retention { return hooks.Retention(e.System()) }
