package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/vincentos/clp/patch"
)

func init() {
	registerOpts(&command{
		Name:    "show",
		Summary: "show what a patch holds and, with --diff, what it would change",
		Usage:   usageText("show"),
		Args:    exactArgs(1, "one patch file"),
	}, func(fs *pflag.FlagSet, o *showOptions) {
		fs.BoolVar(&o.Diff, "diff", false, "dry run against --root: check each target and show the diffs")
	}, runShow)
}

type showOptions struct {
	Diff bool
}

// showReport is clp show's JSON: the patch's description with the file
// and its signature.
type showReport struct {
	File      string          `json:"file"`
	Signature patch.SigStatus `json:"signature"`
	*patch.Description
}

func runShow(ctx context.Context, env *Env, opts showOptions, args []string) error {
	file := args[0]
	if err := checkPatchFile(file); err != nil {
		return err
	}
	lim, err := verifyLimits(env)
	if err != nil {
		return err
	}
	a, err := patch.OpenFile(file, lim)
	if err != nil {
		return withCode(withHint(err, "this patch would be refused by 'clp apply' too; get it again, or fix it and 'clp build' it again"), ExitVerify)
	}
	defer a.Close()
	// The signature is only reported here: show reads the patch, it does
	// not act on it, so it need not take OpenVerified's private copy.
	sig := patch.CheckSignature(file, env.System().Root, verifyKeysDir(env))
	root := ""
	if opts.Diff {
		root = env.Root
	}
	d, err := patch.Describe(a, root)
	if err != nil {
		return err
	}
	rep := showReport{File: file, Signature: sig, Description: d}
	if env.JSON {
		return printJSON(env.Stdout, rep)
	}
	printShow(env, rep)
	return nil
}

func printShow(env *Env, rep showReport) {
	d := rep.Description
	env.field("name", "%s", d.Name)
	env.field("version", "%s", d.Version)
	if d.Description != "" {
		env.field("description", "%s", d.Description)
	}
	env.field("severity", "%s", d.Severity)
	env.field("author", "%s", showOrNone(d.Author))
	env.field("date", "%s", showOrNone(d.Date))
	format := "1 (clp)"
	if d.Format == 0 {
		format = "0 (original clpctl form: scripts only)"
	}
	env.field("format", "%s", format)
	if d.Architecture != "" {
		env.field("architecture", "%s", d.Architecture)
	}
	if len(d.AppliesTo) == 0 {
		env.field("applies to", "every system")
	} else {
		env.field("applies to", "%s", strings.Join(d.AppliesTo, ", "))
	}
	switch s := rep.Signature; s.Status {
	case "trusted":
		// The date, not minisign's raw timestamp; the full trusted
		// comment is in 'clp verify' and --json.
		when := ""
		if at := signedAt(s.TrustedComment); at != "" {
			when = " on " + at
		}
		env.field("signature", "%s", env.green("signed by trusted key "+s.KeyID)+when)
	case "untrusted":
		env.field("signature", "%s", env.yellow("signed by key "+s.KeyID+", which is not trusted")+" ("+s.Detail+")")
	case "unsigned":
		env.field("signature", "%s", env.yellow("unsigned")+" ("+s.Detail+")")
	default:
		env.field("signature", "%s", env.yellow("BAD")+" ("+s.Detail+")")
	}
	env.field("install script", "%s", showOrNone(d.InstallScript))
	env.field("remove script", "%s", showOrNone(d.RemoveScript))
	env.field("entries", "%d", len(d.Entries))

	fmt.Fprintf(env.Stdout, "\n%s\n", env.bold(fmt.Sprintf(":: file actions (%d)", len(d.Files))))
	for _, f := range d.Files {
		printFileAction(env, f)
	}
	fmt.Fprintf(env.Stdout, "\n%s\n", env.bold(fmt.Sprintf(":: package actions (%d)", len(d.Packages))))
	for _, p := range d.Packages {
		for _, l := range p.Lines() {
			fmt.Fprintln(env.Stdout, l)
		}
	}
	if d.DryRun == nil {
		return
	}
	fmt.Fprintf(env.Stdout, "\n%s\n", env.bold(":: dry run against "+d.DryRun.Root))
	switch {
	case len(d.Files) == 0:
		fmt.Fprintf(env.Stdout, "no file actions to check\n")
		if d.InstallScript != "" {
			fmt.Fprintf(env.Stdout, "what the install script %s changes cannot be shown before it runs\n", d.InstallScript)
		}
	case d.DryRun.Conflicts == 0:
		fmt.Fprintf(env.Stdout, "every target is as the patch expects\n")
	default:
		fmt.Fprintf(env.Stdout, "%s\n", env.yellow(fmt.Sprintf("%d of %d targets are not as the patch expects: clp apply would refuse", d.DryRun.Conflicts, len(d.Files))))
	}
	for _, f := range d.Files {
		switch {
		case f.Diff != "":
			fmt.Fprint(env.Stdout, "\n"+f.Diff)
		case f.DiffNote != "":
			fmt.Fprintf(env.Stdout, "\n%s: %s\n", f.Target, f.DiffNote)
		}
	}
}

func printFileAction(env *Env, f patch.FileDescription) {
	for _, l := range f.Lines() {
		fmt.Fprintln(env.Stdout, l)
	}
	switch c := f.Check; {
	case c == nil:
	case c.Matches:
		fmt.Fprintf(env.Stdout, "    check   %s\n", env.green("ok"))
	default:
		fmt.Fprintf(env.Stdout, "    check   %s: %s %s\n", env.yellow("CONFLICT"), f.Target, c.Problem)
	}
}

func showOrNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
