package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/vincentos/clp/feed"
	"github.com/vincentos/clp/patch"
	"github.com/vincentos/clp/update"
)

type feedOptions struct {
	Sequence uint64
	Severity string
	Expires  string
	Phase    int
	Reason   string
}

func init() {
	registerOpts(&command{
		Name:    "feed",
		Summary: "publish patches in a signed feed (for maintainers)",
		Usage:   usageText("feed"),
		Args:    minArgs(2, "a subcommand (init, add, phase, withdraw, rotate, timestamp, resign) and the feed folder"),
	}, func(fs *pflag.FlagSet, o *feedOptions) {
		fs.Uint64Var(&o.Sequence, "sequence", 0, "feed sequence number `N` for add (default: one more than the highest)")
		fs.StringVar(&o.Severity, "severity", "", "severity `S` for add: critical, important, normal or low, as in the patch format (default: the patch's)")
		fs.StringVar(&o.Expires, "expires", "", "timestamp lifetime `DURATION` for timestamp (default: 1d)")
		fs.StringVar(&o.Reason, "reason", "", "why the patch is withdrawn, `TEXT` for withdraw (shown on every machine)")
		fs.IntVar(&o.Phase, "phase", -1, "rollout percentage `N` for add, 0 to 100 (default: 100, every machine)")
	}, runFeed)
}

func runFeed(_ context.Context, env *Env, o feedOptions, args []string) error {
	sub, dir := args[0], args[1]
	want := map[string]int{"add": 3, "phase": 4, "withdraw": 3, "rotate": 3}[sub]
	if want == 0 {
		want = 2
	}
	if len(args) != want {
		return usageErrorf("clp feed %s takes %d argument(s), got %d", sub, want-1, len(args)-1)
	}
	if sub != "add" && (o.Sequence != 0 || o.Severity != "" || o.Phase != -1) {
		return usageErrorf("--sequence, --severity and --phase go with clp feed add")
	}
	if sub != "withdraw" && o.Reason != "" {
		return usageErrorf("--reason goes with clp feed withdraw")
	}
	if sub != "timestamp" && o.Expires != "" {
		return usageErrorf("--expires goes with clp feed timestamp")
	}
	switch sub {
	case "init":
		if err := feed.Init(dir, feed.InitOptions{}); err != nil {
			return withHint(err, "pick an empty folder; an existing feed's keys are never overwritten")
		}
		anchor := filepath.Join(dir, "repository", "metadata", "1.root.json")
		if env.JSON {
			return printJSON(env.Stdout, map[string]string{"feed": dir, "root": anchor, "keys": filepath.Join(dir, "keys")})
		}
		fmt.Fprintf(env.Stdout, ":: feed created in %s\n", dir)
		fmt.Fprintf(env.Stdout, "   trust anchor: %s (ship it as %s)\n", anchor, feed.ShippedRootPath)
		fmt.Fprintf(env.Stdout, "   publish:      %s/\n", filepath.Join(dir, "repository"))
		env.Warnf("move %s offline now; only targets, snapshot and timestamp keys belong on this host", filepath.Join(dir, "keys", "root.pem"))
		return nil
	case "add":
		return feedAdd(env, o, dir, args[2])
	case "phase":
		pct, err := strconv.Atoi(args[3])
		if err != nil {
			return usageErrorf("clp feed phase: %q is not a percentage from 0 to 100", args[3])
		}
		if err := feed.SetPhase(dir, args[2], pct, feed.ResignOptions{}); err != nil {
			return err
		}
		return feedDone(env, dir, fmt.Sprintf("%s rolled out to %d%% of machines; targets, snapshot and timestamp re-signed", args[2], pct))
	case "withdraw":
		if o.Reason == "" {
			return withHint(usageErrorf("clp feed withdraw needs --reason TEXT"), "say why in a few words: every machine shows it in clp status and clp history")
		}
		if err := feed.Withdraw(dir, args[2], o.Reason, feed.ResignOptions{}); err != nil {
			return err
		}
		return feedDone(env, dir, args[2]+" withdrawn; targets, snapshot and timestamp re-signed")
	case "rotate":
		res, err := feed.Rotate(dir, args[2], feed.RotateOptions{})
		if err != nil {
			return err
		}
		if env.JSON {
			return printJSON(env.Stdout, map[string]any{"feed": dir, "rotated": args[2], "root_version": res.RootVersion, "retired_key": res.Retired, "resigned": res.Resigned})
		}
		fmt.Fprintf(env.Stdout, ":: new %s key; root.json version %d lists it in place of the old one\n", args[2], res.RootVersion)
		if len(res.Resigned) > 0 {
			fmt.Fprintf(env.Stdout, "   re-signed with new versions: %s\n", strings.Join(res.Resigned, ", "))
		}
		fmt.Fprintf(env.Stdout, "   publish %s/ (metadata/%d.root.json before metadata/timestamp.json)\n", filepath.Join(dir, "repository"), res.RootVersion)
		env.Warnf("the old %s key is now %s: clients refuse what it signs; destroy it", args[2], res.Retired)
		if args[2] == "root" {
			env.Warnf("move the new %s offline again", filepath.Join(dir, "keys", "root.pem"))
		}
		return nil
	case "timestamp":
		d, err := feed.ParseLifetime(o.Expires)
		if err != nil {
			return usageErrorf("--expires: %v", err)
		}
		if err := feed.Timestamp(dir, d); err != nil {
			return err
		}
		return feedDone(env, dir, "timestamp re-signed")
	case "resign":
		if err := feed.Resign(dir, feed.ResignOptions{}); err != nil {
			return err
		}
		return feedDone(env, dir, "targets, snapshot and timestamp re-signed")
	}
	return withHint(usageErrorf("unknown feed subcommand %q", sub), "use init, add, phase, withdraw, rotate, timestamp or resign")
}

func feedDone(env *Env, dir, what string) error {
	if env.JSON {
		return printJSON(env.Stdout, map[string]string{"feed": dir, "result": what})
	}
	fmt.Fprintf(env.Stdout, ":: %s in %s; publish %s/\n", what, dir, filepath.Join(dir, "repository"))
	return nil
}

// feedAdd fills the target's signed metadata from the patch itself, so
// what a client filters on (name, architecture, package conditions) cannot
// drift from what the engine checks when it applies the patch.
func feedAdd(env *Env, o feedOptions, dir, path string) error {
	a, err := patch.OpenFile(path, patch.DefaultLimits())
	if err != nil {
		return withCode(withHint(fmt.Errorf("%s: %w", path, err), "publish only patches 'clp build' made and 'clp verify' accepts"), ExitVerify)
	}
	meta := update.TargetMeta(a.Manifest())
	a.Close()
	meta.Sequence = o.Sequence
	if o.Severity != "" {
		meta.Severity = o.Severity
	}
	if o.Phase != -1 {
		meta.Phase = &o.Phase
	}
	meta, err = feed.AddPublished(dir, path, meta, feed.ResignOptions{})
	if err != nil {
		return err
	}
	if env.JSON {
		return printJSON(env.Stdout, map[string]any{"feed": dir, "added": meta.Name + ".clp", "meta": meta})
	}
	phase := feed.DefaultPhase
	if meta.Phase != nil {
		phase = *meta.Phase
	}
	fmt.Fprintf(env.Stdout, ":: added %s to %s (sequence %d, severity %s, rollout %d%%)\n", meta.Name, dir, meta.Sequence, meta.Severity, phase)
	fmt.Fprintf(env.Stdout, "   publish %s/ (targets first, metadata/timestamp.json last)\n", filepath.Join(dir, "repository"))
	return nil
}
