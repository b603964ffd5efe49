package main

import (
	"context"
	"errors"
	"os"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/vincentos/clp/internal/fsx"
	"github.com/vincentos/clp/patch"
)

func init() {
	registerOpts(&command{
		Name:    "build",
		Summary: "make a .clp patch from a folder (for maintainers)",
		Usage:   usageText("build"),
		Args:    exactArgs(1, "one folder"),
	}, func(fs *pflag.FlagSet, o *buildOptions) {
		o.flags = fs
		fs.StringVarP(&o.Output, "output", "o", "", "write the patch to `FILE` (default: <Name>.clp)")
		fs.BoolVar(&o.Zip, "zip", false, "write a zip archive instead of tar.gz")
	}, runBuild)
}

type buildOptions struct {
	Output string
	Zip    bool
	// flags tells whether --root was given: the global --root defaults
	// to /, but build must not hash this machine's files unless asked.
	flags *pflag.FlagSet
}

// buildResult is clp build's JSON.
type buildResult struct {
	Path    string `json:"path"`
	SHA256  string `json:"sha256"`
	Size    int64  `json:"size"`
	Name    string `json:"name"`
	Version string `json:"version"`
	Format  int    `json:"format"`
	Archive string `json:"archive"`
}

func runBuild(ctx context.Context, env *Env, opts buildOptions, args []string) error {
	dir := args[0]
	rootGiven := opts.flags != nil && opts.flags.Changed("root")
	m, out, err := patch.CheckBuild(dir, opts.Output, rootGiven)
	if err != nil {
		return err
	}
	bopts := patch.BuildOptions{Zip: opts.Zip}
	if rootGiven {
		bopts.Root = env.Root
		// A downgrade's sha256="auto" without a payload is hashed from
		// this system's package cache.
		if p, err := env.System().Paths(); err == nil {
			bopts.CacheDirs = p.CacheDirs
		}
	}
	if err := patch.Build(dir, out, bopts); err != nil {
		return classifyBuildError(err)
	}
	sum, err := fsx.SHA256File(out)
	if err != nil {
		return err
	}
	st, err := os.Stat(out)
	if err != nil {
		return err
	}
	res := buildResult{Path: out, SHA256: sum, Size: st.Size(), Name: m.Name, Version: m.Version, Format: m.Format, Archive: "tar.gz"}
	if opts.Zip {
		res.Archive = "zip"
	}
	if _, err := os.Stat(out + patch.SigSuffix); err == nil {
		env.Warnf("%s%s is the signature of the previous build and no longer matches: sign the patch again", out, patch.SigSuffix)
	}
	if env.JSON {
		return printJSON(env.Stdout, res)
	}
	env.field("patch", "%s", res.Path)
	env.field("name", "%s %s (format %d, %s, %d bytes)", res.Name, res.Version, res.Format, res.Archive, res.Size)
	env.field("sha256", "%s", res.SHA256)
	return nil
}

// classifyBuildError gives a failed build its exit code: a patch that does
// not validate is exit 4 (nothing is written), while a system failure
// (disk full, no permission) is an ordinary error.
func classifyBuildError(err error) error {
	for _, sys := range []error{syscall.ENOSPC, syscall.EDQUOT, syscall.EROFS, syscall.EACCES, syscall.EPERM, syscall.EIO} {
		if errors.Is(err, sys) {
			return err
		}
	}
	return withCode(withHint(err, "fix the folder and build again; docs/clp-format.md lists every rule"), ExitVerify)
}
