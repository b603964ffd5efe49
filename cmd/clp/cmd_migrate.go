package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/spf13/pflag"

	"github.com/vincentos/clp/feed"
)

type migrateOptions struct {
	DryRun bool
}

func init() {
	registerOpts(&command{
		Name:    "migrate",
		Summary: "take over a machine that ran the original clpctl",
		Usage:   usageText("migrate"),
		Args:    noArgs,
	}, func(fs *pflag.FlagSet, o *migrateOptions) {
		fs.BoolVarP(&o.DryRun, "dry-run", "n", false, "show what would be recorded, change nothing")
	}, runMigrate)
}

// migrateReport is clp migrate's JSON.
type migrateReport struct {
	DryRun  bool     `json:"dry_run"`
	Adopted []string `json:"adopted"`
	// NoRemoveScript lists adopted patches clp cannot roll back.
	NoRemoveScript []string `json:"no_remove_script"`
	LegacyServers  []string `json:"legacy_servers"`
	LegacyAllowed  bool     `json:"legacy_feed_allowed"`
}

func runMigrate(ctx context.Context, env *Env, o migrateOptions, _ []string) error {
	eng, cfg, err := env.openEngine(ctx, !o.DryRun)
	if err != nil {
		return err
	}
	mig, err := eng.Migrate(ctx, o.DryRun)
	if err != nil {
		return err
	}
	rep := migrateReport{DryRun: o.DryRun, Adopted: mig.Adopted, NoRemoveScript: mig.NoRemoveScript, LegacyServers: []string{}, LegacyAllowed: cfg.AllowLegacyFeed}
	mirrors := env.System().Under(feed.LegacyMirrorsPath)
	if servers, err := feed.LegacyMirrors(env.System().Root, mirrors); err == nil {
		rep.LegacyServers = servers
	} else if !errors.Is(err, fs.ErrNotExist) {
		env.Warnf("%v", err)
	}
	if env.JSON {
		return printJSON(env.Stdout, rep)
	}
	verb := "recorded as applied"
	if o.DryRun {
		verb = "would be recorded as applied"
	}
	if len(rep.Adopted) == 0 {
		fmt.Fprintf(env.Stdout, ":: no patch installed by clpctl left to record in %s\n", env.System().OptDir())
	} else {
		fmt.Fprintf(env.Stdout, ":: %d patch(es) installed by clpctl %s:\n", len(rep.Adopted), verb)
		for _, n := range rep.Adopted {
			fmt.Fprintf(env.Stdout, "   %s\n", n)
		}
	}
	for _, n := range rep.NoRemoveScript {
		env.Warnf("%s has no remove script: clp cannot roll it back", n)
	}
	if len(rep.LegacyServers) > 0 {
		fmt.Fprintf(env.Stdout, ":: the original feed %s lists %d server(s):\n", mirrors, len(rep.LegacyServers))
		for _, s := range rep.LegacyServers {
			fmt.Fprintf(env.Stdout, "   %s\n", s)
		}
		if cfg.AllowLegacyFeed {
			fmt.Fprintln(env.Stdout, "   clp update reads it (AllowLegacyFeed = yes); each patch must be signed by a key in "+env.System().KeysDir())
		} else {
			fmt.Fprintf(env.Stdout, "   clp update ignores it: it is unsigned. To read it anyway (each patch must still be signed by a key in %s), set AllowLegacyFeed = yes in %s\n",
				env.System().KeysDir(), env.System().ConfigPath())
		}
	}
	return nil
}
