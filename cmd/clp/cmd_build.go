package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
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

// safePatchName is docs/clp-format.md's rule for Name, so a default output
// file name made from it stays in the current directory.
var safePatchName = regexp.MustCompile(`^[A-Za-z0-9_+][A-Za-z0-9._+-]{0,63}$`)

func runBuild(ctx context.Context, env *Env, opts buildOptions, args []string) error {
	dir := args[0]
	fi, err := os.Stat(dir)
	if err != nil {
		return withHint(fmt.Errorf("patch folder %s: %w", dir, errors.Unwrap(err)), "give the folder that holds PKGINFO.meta")
	}
	if !fi.IsDir() {
		return withHint(fmt.Errorf("%s is not a folder", dir), "give the folder that holds PKGINFO.meta and the payloads, not a file")
	}
	metaPath := filepath.Join(dir, patch.ManifestName)
	meta, err := fsx.ReadFileCapped(metaPath, patch.DefaultLimits().MaxManifestSize)
	if errors.Is(err, fs.ErrNotExist) {
		return withCode(withHint(fmt.Errorf("%s has no %s", dir, patch.ManifestName),
			"write PKGINFO.meta first: docs/clp-format.md and clp-format(5) describe it"), ExitVerify)
	}
	if err != nil {
		return err
	}
	m, err := patch.ParseManifest(meta)
	if err != nil {
		return withCode(fmt.Errorf("%s: %w", metaPath, err), ExitVerify)
	}
	rootGiven := opts.flags != nil && opts.flags.Changed("root")
	if !rootGiven {
		for _, f := range m.Files {
			if f.Op != patch.OpAdd && (f.Expect == "" || f.Expect == "auto") {
				return withCode(withHint(
					fmt.Errorf("%s: %s %s: expect is %q and there is no system to hash it from", metaPath, f.Op, f.Target, f.Expect),
					"give --root / to hash this machine's current files, or --root DIR for a copy of the target system, or write the sha256"),
					ExitVerify)
			}
		}
	}
	out := opts.Output
	if out == "" {
		if !safePatchName.MatchString(m.Name) {
			return withCode(withHint(fmt.Errorf("%s: Name %q cannot name the patch file", metaPath, m.Name),
				"fix Name (A-Z a-z 0-9 . _ + -), or give -o FILE"), ExitVerify)
		}
		out = m.Name + ".clp"
	}
	if st, err := os.Stat(filepath.Dir(out)); err != nil || !st.IsDir() {
		return withHint(fmt.Errorf("cannot write %s: folder %s does not exist", out, filepath.Dir(out)), "create the folder, or give another -o FILE")
	}
	if st, err := os.Stat(out); err == nil && st.IsDir() {
		return withHint(fmt.Errorf("cannot write %s: it is a folder", out), "give -o FILE, a file name")
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
