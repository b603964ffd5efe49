package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"aead.dev/minisign"
	"github.com/spf13/pflag"

	"github.com/vincentos/clp/patch"
)

func init() {
	// The options live in this closure, one set per command: no flag
	// is a package global.
	var showOpts showOptions
	register(&command{
		Name:    "show",
		Summary: "show what a patch holds and, with --diff, what it would change",
		Usage:   usageText("show"),
		Flags: func(fs *pflag.FlagSet) {
			showOpts = showOptions{}
			fs.BoolVar(&showOpts.Diff, "diff", false, "dry run against --root: check each target and show the diffs")
		},
		Args: exactArgs(1, "one patch file"),
		Run: func(ctx context.Context, env *Env, args []string) error {
			return runShow(ctx, env, showOpts, args)
		},
	})
}

type showOptions struct {
	Diff bool
}

// sigStatus is a patch's signature as clp show reports it.
type sigStatus struct {
	// Status is "trusted", "untrusted", "unsigned" or "bad".
	Status         string `json:"status"`
	KeyID          string `json:"key_id,omitempty"`
	TrustedComment string `json:"trusted_comment,omitempty"`
	// Detail is the reason for a status other than trusted.
	Detail string `json:"detail,omitempty"`
}

// showReport is clp show's JSON: the patch's description with the file
// and its signature.
type showReport struct {
	File      string    `json:"file"`
	Signature sigStatus `json:"signature"`
	*patch.Description
}

func runShow(ctx context.Context, env *Env, opts showOptions, args []string) error {
	file := args[0]
	if _, err := os.Stat(file); err != nil {
		return fmt.Errorf("patch %s: %w", file, errors.Unwrap(err))
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
	sig := checkSignature(env, file)
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

// checkSignature reports the signature of file against the trusted keys
// of the system under --root, never failing: what is wrong goes in Detail.
func checkSignature(env *Env, file string) sigStatus {
	sigPath := file + patch.SigSuffix
	raw, err := patch.ReadSigFile(sigPath)
	if errors.Is(err, os.ErrNotExist) {
		return sigStatus{Status: "unsigned", Detail: sigPath + " is missing"}
	}
	if err != nil {
		return sigStatus{Status: "bad", Detail: err.Error()}
	}
	var s minisign.Signature
	if err := s.UnmarshalText(bytes.TrimSpace(raw)); err != nil {
		return sigStatus{Status: "bad", Detail: sigPath + " is not a minisign signature"}
	}
	st := sigStatus{KeyID: patch.KeyID(s.KeyID), TrustedComment: s.TrustedComment}
	keys, err := patch.LoadTrustedKeysIn(env.System().Root, verifyKeysDir(env))
	if err != nil {
		st.Status, st.Detail = "untrusted", err.Error()
		return st
	}
	_, err = patch.VerifyFile(file, sigPath, keys)
	switch {
	case err == nil:
		st.Status = "trusted"
	case errors.Is(err, patch.ErrUntrustedKey):
		st.Status, st.Detail = "untrusted", "not in "+verifyKeysDir(env)
		// The comment of a signature from an unknown key proves nothing.
		st.TrustedComment = ""
	default:
		st.Status, st.Detail, st.TrustedComment = "bad", err.Error(), ""
	}
	return st
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
		switch p.Op {
		case patch.OpDowngrade:
			fmt.Fprintf(env.Stdout, "downgrade %s to %s\n", p.Name, p.Version)
			src := "from the pacman cache or the archive server"
			if p.Payload != "" {
				src = "in the patch as " + p.Payload
			}
			fmt.Fprintf(env.Stdout, "    file    %s (%s)\n", p.File, src)
			fmt.Fprintf(env.Stdout, "    sha256  %s\n", p.SHA256)
		case patch.OpPin:
			until := "until the patch is rolled back"
			if p.Until != "" {
				until = "until " + p.Until + " or later is available"
			}
			fmt.Fprintf(env.Stdout, "pin %s %s\n", p.Name, until)
		default:
			fmt.Fprintf(env.Stdout, "%s %s\n", p.Op, p.Name)
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
	fmt.Fprintf(env.Stdout, "%-8s %s\n", f.Op, f.Target)
	if f.Payload != "" {
		fmt.Fprintf(env.Stdout, "    payload %s\n", f.Payload)
	}
	if f.Expect != "" {
		fmt.Fprintf(env.Stdout, "    expect  %s\n", f.Expect)
	}
	if f.SHA256 != "" {
		fmt.Fprintf(env.Stdout, "    new     %s\n", f.SHA256)
	}
	var meta []string
	if f.Mode != "" {
		meta = append(meta, "mode "+f.Mode)
	}
	if f.Owner != "" {
		meta = append(meta, "owner "+f.Owner)
	}
	if f.Group != "" {
		meta = append(meta, "group "+f.Group)
	}
	if len(meta) > 0 {
		fmt.Fprintf(env.Stdout, "    set     %s\n", strings.Join(meta, ", "))
	}
	c := f.Check
	if c == nil {
		return
	}
	now := "absent"
	if c.Exists && c.SHA256 != "" {
		now = fmt.Sprintf("sha256 %s, mode %s, uid %d, gid %d", c.SHA256, c.Mode, c.UID, c.GID)
	} else if c.Exists {
		now = "present"
	}
	fmt.Fprintf(env.Stdout, "    now     %s\n", now)
	if c.Matches {
		fmt.Fprintf(env.Stdout, "    check   %s\n", env.green("ok"))
	} else {
		fmt.Fprintf(env.Stdout, "    check   %s: %s %s\n", env.yellow("CONFLICT"), f.Target, c.Problem)
	}
}

func showOrNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
