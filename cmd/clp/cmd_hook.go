package main

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"

	"github.com/vincentos/clp/hooks"
	"github.com/vincentos/clp/patch"
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
	targets, err := hooks.ReadTargets(env.Stdin)
	if err != nil && args[0] != "guard" {
		env.Warnf("hook %s: read targets: %v", args[0], err)
	}
	h := &hooks.Handler{
		Root: env.Root, Pacman: env.System().Pacman, StateDir: env.State(), Patch: os.Getenv(hooks.EnvPatch),
		Retention: env.retention(), Reporter: env.Reporter(), Debugf: env.Debugf,
		AfterPost: func(post snapshot.Snapshot, targets []string) { armFromHook(env, post, targets) },
		Open: func() (hooks.VersionDB, error) {
			db, err := env.openDB()
			if err != nil {
				return nil, err
			}
			return db, nil
		},
	}
	switch args[0] {
	case "pre", "post":
		if os.Getenv(hooks.EnvSkip) == "1" {
			return nil
		}
		// A hook is a short process that allocates a few megabytes: a
		// garbage collection would cost more (a few ms, on every pacman
		// transaction) than it frees. The limit still collects should a
		// huge store make the hook grow.
		debug.SetGCPercent(-1)
		debug.SetMemoryLimit(256 << 20)
		if err := h.Snapshot(ctx, args[0], targets); err != nil {
			// A snapshot is worth less than the user's transaction:
			// never fail it.
			env.Warnf("no %s-transaction snapshot recorded: %v", args[0], err)
		}
		return nil
	case "guard":
		if err != nil {
			return fmt.Errorf("guard: read targets: %w", err)
		}
		return h.Guard(targets)
	}
	return usageErrorf("unknown hook %q: expected pre, post or guard", args[0])
}

func snapshotDir(env *Env) string { return hooks.SnapshotDir(env.State()) }

// retention is clp.conf's SnapshotKeep, sparing the snapshots of the
// patches still applied.
func (e *Env) retention() snapshot.Retention {
	return snapshot.Retention{
		Keep: func() (int, error) {
			cfg, err := e.System().Config()
			if err != nil {
				return 0, err
			}
			return cfg.SnapshotKeep, nil
		},
		Applied: func() ([]string, error) {
			list, err := (&patch.Engine{StateDir: e.State()}).List()
			names := make([]string, len(list))
			for i, a := range list {
				names[i] = a.Name
			}
			return names, err
		},
		Protect: func() int {
			cfg, err := e.System().Config()
			if err != nil {
				return 0
			}
			return guardProtects(e, cfg)
		},
	}
}
