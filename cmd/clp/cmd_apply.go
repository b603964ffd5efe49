package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/pflag"

	"github.com/vincentos/clp/boot"
	"github.com/vincentos/clp/internal/config"
	"github.com/vincentos/clp/internal/fsx"
	"github.com/vincentos/clp/patch"
)

type applyOptions struct {
	AllowUnsigned bool
	Force         bool
	DryRun        bool
	// Needed skips a patch whose name and version are already applied.
	Needed bool
}

func init() {
	registerOpts(&command{
		Name:    "apply",
		Aliases: []string{"install"},
		Summary: "apply signed .clp patches",
		Usage:   usageText("apply"),
		Args:    minArgs(1, "at least one patch file"),
	}, func(fs *pflag.FlagSet, o *applyOptions) {
		fs.BoolVar(&o.AllowUnsigned, "allow-unsigned", false, "apply a patch without a trusted signature (never do this for a patch you did not make)")
		fs.BoolVar(&o.Force, "force", false, "replace files you changed, keeping your copy as FILE.clpsave")
		fs.BoolVarP(&o.DryRun, "dry-run", "n", false, "check and show the plan, change nothing")
		fs.BoolVar(&o.Needed, "needed", false, "skip a patch already applied (same name and version) instead of refusing it")
	}, runApply)
}

func runApply(ctx context.Context, env *Env, o applyOptions, files []string) error {
	if err := preflight(ctx, env); err != nil {
		return err
	}
	cfg, err := env.loadConfig()
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := applyOne(ctx, env, cfg, o, f); err != nil {
			return err
		}
	}
	return nil
}

// checkPatchFile refuses, before anything opens it, a patch path that is
// missing, a folder (a patch folder: clp build makes the .clp) or no
// regular file (a FIFO would block the open, a device never end): exit 1
// for apply, show and verify alike.
func checkPatchFile(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("patch %s: %w", path, errors.Unwrap(err))
	}
	if st.IsDir() {
		return withHint(fmt.Errorf("%s is a directory, not a .clp file", path), "make one with 'clp build "+path+"'")
	}
	if !st.Mode().IsRegular() {
		return &fsx.NotRegularError{Path: path, Mode: st.Mode()}
	}
	return nil
}

// openPatch verifies a patch's signature before anything in it is parsed,
// unless the user allowed unsigned patches on the command line.
func openPatch(env *Env, cfg *config.Config, path string, allowUnsigned bool) (patch.Archive, string, error) {
	lim := patch.DefaultLimits()
	lim.PathAllowed = cfg.PathAllowed
	if err := checkPatchFile(path); err != nil {
		return nil, "", err
	}
	// Large entries spill into unlinked temporary files: in clp's own
	// root-owned state dir where it exists; never created here, since a
	// refused patch must leave the system unchanged.
	if st, err := os.Stat(env.State()); err == nil && st.IsDir() {
		lim.TempDir = env.State()
	}
	sig := path + patch.SigSuffix
	keysDir := env.System().KeysDir()
	keys, err := patch.LoadTrustedKeysIn(env.System().Root, keysDir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, "", withCode(err, ExitVerify)
	}
	_, statErr := os.Stat(sig)
	if statErr != nil && allowUnsigned {
		env.Warnf("%s is not signed; applying it because of --allow-unsigned", path)
		a, err := patch.OpenFile(path, lim)
		if err != nil {
			return nil, "", withCode(err, ExitVerify)
		}
		return a, "unsigned", nil
	}
	a, v, err := patch.OpenVerified(path, sig, keys, lim)
	if err != nil {
		switch {
		case errors.Is(err, patch.ErrNoSignature):
			return nil, "", withCode(withHint(err, "patches must be signed by a key in "+keysDir+"; pass --allow-unsigned only for a patch you made yourself"), ExitVerify)
		case errors.Is(err, patch.ErrUntrustedKey):
			return nil, "", withCode(withHint(err, "add the publisher's public key to "+keysDir+" if you trust it"), ExitVerify)
		}
		return nil, "", withCode(err, ExitVerify)
	}
	return a, "signed by key " + v.KeyID, nil
}

func applyOne(ctx context.Context, env *Env, cfg *config.Config, o applyOptions, path string) error {
	a, trust, err := openPatch(env, cfg, path, o.AllowUnsigned)
	if err != nil {
		return err
	}
	defer a.Close()
	res, err := applyOpened(ctx, env, cfg, o, a, trust, path)
	if err != nil {
		return err
	}
	if env.JSON {
		return printJSON(env.Stdout, res)
	}
	return nil
}

// applyResult is what applying one patch tells --json.
type applyResult struct {
	Patch   string      `json:"patch"`
	Version string      `json:"version"`
	Trust   string      `json:"trust"`
	Plan    *patch.Plan `json:"plan"`
	Applied bool        `json:"applied"`
	// Skipped: --needed found it already applied.
	Skipped bool `json:"skipped,omitempty"`
}

// applyOpened plans and applies a patch that is open and already trusted
// (by its minisign signature, --allow-unsigned, or the feed): the part of
// 'clp apply' after openPatch, shared with clp update so a feed patch goes
// through exactly what a hand-carried one does. In text mode it prints the
// plan and asks; with --json it prints nothing and the caller prints the
// result.
func applyOpened(ctx context.Context, env *Env, cfg *config.Config, o applyOptions, a patch.Archive, trust, path string) (*applyResult, error) {
	eng, err := env.engine(cfg)
	if err != nil {
		return nil, err
	}
	q := &installedQuery{env: env}
	defer q.Close()
	m := a.Manifest()
	applied, err := eng.List()
	if err != nil {
		return nil, err
	}
	if ap := patch.FindApplied(applied, m.Name); ap != nil {
		if o.Needed && ap.Version == m.Version {
			// As pacman -S --needed: a warning, nothing done, success.
			env.Warnf("%s %s is already applied -- skipping", m.Name, m.Version)
			return &applyResult{Patch: m.Name, Version: m.Version, Trust: trust, Skipped: true}, nil
		}
		return nil, withCode(withHint(fmt.Errorf("patch %s is already applied (version %s)", m.Name, ap.Version),
			"'clp apply --needed' skips a patch already applied; 'clp rollback "+m.Name+"' undoes it"), ExitRefused)
	}
	plan, err := eng.Plan(ctx, a, patch.ApplyOptions{Force: o.Force, Installed: q})
	if err != nil {
		return nil, refusal(err, "see what the patch expects with 'clp show --diff "+path+"'")
	}
	res := &applyResult{Patch: m.Name, Version: m.Version, Trust: trust, Plan: plan}
	if !env.JSON {
		fmt.Fprintf(env.Stdout, "%s %s %s (%s)\n", env.bold("::"), env.bold("patch"), env.bold(m.Name+" "+m.Version), trust)
		fmt.Fprint(env.Stdout, plan.String())
		for _, w := range plan.Warnings {
			env.Warnf("%s", w)
		}
	}
	if o.DryRun {
		return res, nil
	}
	if !env.JSON {
		if err := env.confirm(ctx, "Apply this patch?", true); err != nil {
			return nil, err
		}
	}
	snap := beginPatchSnap(env, m.Name)
	if err := eng.Apply(ctx, a, plan); err != nil {
		return nil, refusal(err, "")
	}
	snap.done("applying " + m.Name + " " + m.Version)
	armGuard(env, boot.Transaction{Source: "clp apply", Patch: m.Name})
	res.Applied = true
	if !env.JSON {
		fmt.Fprintf(env.Stdout, "%s patch %s applied; undo it with 'clp rollback %s'\n", env.green("::"), m.Name, m.Name)
	}
	return res, nil
}

// refusal gives an engine error its exit code: a plan the system does not
// match is a refusal (nothing changed); cancellation and locks keep theirs.
func refusal(err error, hint string) error {
	if code := exitCode(err); code != ExitError {
		return err
	}
	if errors.Is(err, patch.ErrUnfinished) {
		// Past the commit point something did change: not exit 5.
		return err
	}
	return withCode(withHint(err, hint), ExitRefused)
}
