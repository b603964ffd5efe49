package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/pflag"

	"github.com/vincentos/clp/hooks"
)

type hooksOptions struct {
	Dir string
}

func init() {
	registerOpts(&command{
		Name:    "hooks",
		Summary: "install, remove or check clp's pacman hooks",
		Usage:   usageText("hooks"),
		Args:    exactArgs(1, "install, remove or status"),
	}, func(fs *pflag.FlagSet, o *hooksOptions) {
		fs.StringVar(&o.Dir, "hookdir", "", "hook `DIR` (default: pacman.conf's first HookDir, under --root)")
	}, runHooks)
}

func hookDir(env *Env, o hooksOptions) (string, error) {
	if o.Dir != "" {
		return o.Dir, nil
	}
	p, err := env.System().Paths()
	if err != nil {
		return "", err
	}
	return p.HookDirs[0], nil
}

func runHooks(ctx context.Context, env *Env, o hooksOptions, args []string) error {
	dir, err := hookDir(env, o)
	if err != nil {
		return err
	}
	switch args[0] {
	case "install":
		// The hook files run clp-hook, which the package installs; a clp
		// copied by hand comes without it, and the guard (AbortOnFail)
		// would then stop every pacman transaction: refused before any
		// hook file is written.
		bin := env.System().Under(hooks.HookBinary)
		if st, err := os.Stat(bin); err != nil || !st.Mode().IsRegular() || st.Mode().Perm()&0o111 == 0 {
			return withCode(withHint(fmt.Errorf("%s is missing or not an executable file: clp's hook files run it, and pacman would fail every transaction without it", bin),
				"install clp's package (or 'make install'), then run 'clp hooks install' again"), ExitRefused)
		}
		if err := hooks.Install(env.System().Root, dir); err != nil {
			return err
		}
		if env.JSON {
			return printHooksStatus(env, dir)
		}
		fmt.Fprintf(env.Stdout, "installed clp's pacman hooks in %s\n", dir)
		return nil
	case "remove":
		removed, kept, err := hooks.Remove(env.System().Root, dir)
		if err != nil {
			return err
		}
		if env.JSON {
			if removed == nil {
				removed = []string{}
			}
			if kept == nil {
				kept = []string{}
			}
			return printJSON(env.Stdout, map[string][]string{"removed": removed, "kept": kept})
		}
		for _, p := range removed {
			fmt.Fprintf(env.Stdout, "removed %s\n", p)
		}
		for _, p := range kept {
			env.Warnf("kept %s: it is not clp's own hook file (or was edited)", p)
		}
		if len(removed) == 0 && len(kept) == 0 {
			fmt.Fprintf(env.Stdout, "no clp hooks in %s\n", dir)
		}
		return nil
	case "status":
		return printHooksStatus(env, dir)
	}
	return withHint(usageErrorf("unknown action %q: expected install, remove or status", args[0]), "see 'clp hooks --help'")
}

func printHooksStatus(env *Env, dir string) error {
	rep, err := hooks.ReadReport(env.System().Root, dir, env.System().Under(hooks.PackageHookDir))
	if err != nil {
		return err
	}
	if env.JSON {
		return printJSON(env.Stdout, rep)
	}
	t := newTable("Hook", "HookDir", "Package", "Runs")
	for _, r := range rep.Rows() {
		t.row(r...)
	}
	t.write(env)
	return nil
}
