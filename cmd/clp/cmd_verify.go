package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/vincentos/clp/internal/config"
	"github.com/vincentos/clp/patch"
)

func init() {
	// The options live in this closure, one set per command: no flag
	// is a package global.
	var verifyOpts verifyOptions
	register(&command{
		Name:    "verify",
		Summary: "check a patch's signature and contents without applying it",
		Usage:   usageText("verify"),
		Flags: func(fs *pflag.FlagSet) {
			verifyOpts = verifyOptions{}
			fs.StringArrayVarP(&verifyOpts.Keys, "key", "p", nil, "trust the public key `PUB` instead of /etc/clp/keys (repeatable)")
		},
		Args: exactArgs(1, "one patch file"),
		Run: func(ctx context.Context, env *Env, args []string) error {
			return runVerify(ctx, env, verifyOpts, args)
		},
	})
}

type verifyOptions struct {
	Keys []string
}

// verifyResult is clp verify's JSON.
type verifyResult struct {
	File           string `json:"file"`
	Signature      string `json:"signature"`
	KeyID          string `json:"key_id"`
	TrustedComment string `json:"trusted_comment"`
	SignedAt       string `json:"signed_at,omitempty"`
	Name           string `json:"name"`
	Version        string `json:"version"`
	Format         int    `json:"format"`
}

// verifyKeysDir is where a system keeps the public keys it trusts.
func verifyKeysDir(env *Env) string { return env.System().KeysDir() }

// verifyLimits are the limits and allowed paths of the system under --root
// (its clp.conf), for checking a patch as that system's 'clp apply' will.
func verifyLimits(env *Env) (patch.Limits, error) {
	cfg, err := config.LoadUnder(env.System().Root, env.System().ConfigPath())
	if err != nil {
		return patch.Limits{}, withHint(err, "fix "+env.System().ConfigPath())
	}
	return patch.Limits{PathAllowed: cfg.PathAllowed}, nil
}

// loadVerifyKeys reads the keys given with --key, or else the trusted ones.
func loadVerifyKeys(env *Env, given []string) ([]patch.PublicKey, string, error) {
	if len(given) > 0 {
		var keys []patch.PublicKey
		for _, p := range given {
			k, err := patch.ReadPublicKey(p)
			if err != nil {
				return nil, "", withHint(fmt.Errorf("public key: %w", err), "give a minisign public key file (KEYBASE.pub)")
			}
			keys = append(keys, k)
		}
		return keys, strings.Join(given, ", "), nil
	}
	dir := verifyKeysDir(env)
	keys, err := patch.LoadTrustedKeysIn(env.System().Root, dir)
	if err != nil {
		return nil, "", withHint(err, "fix or remove the broken key file in "+dir)
	}
	return keys, dir, nil
}

func runVerify(ctx context.Context, env *Env, opts verifyOptions, args []string) error {
	file := args[0]
	if err := checkPatchFile(file); err != nil {
		return err
	}
	keys, from, err := loadVerifyKeys(env, opts.Keys)
	if err != nil {
		return err
	}
	lim, err := verifyLimits(env)
	if err != nil {
		return err
	}
	m, v, err := patch.CheckVerified(file, file+patch.SigSuffix, keys, lim)
	if err != nil {
		return signatureError(err, file, from, len(keys))
	}
	res := verifyResult{File: file, Signature: file + patch.SigSuffix, KeyID: v.KeyID, TrustedComment: v.TrustedComment,
		SignedAt: signedAt(v.TrustedComment), Name: m.Name, Version: m.Version, Format: m.Format}
	if env.JSON {
		return printJSON(env.Stdout, res)
	}
	env.field("file", "%s", file)
	env.field("signature", "good, by trusted key %s", res.KeyID)
	env.field("trusted comment", "%s", res.TrustedComment)
	if res.SignedAt != "" {
		env.field("signed at", "%s", res.SignedAt)
	}
	env.field("patch", "%s %s (format %d): valid", m.Name, m.Version, m.Format)
	return nil
}

// signatureError gives a refused signature or patch its exit code (4) and
// the concrete next step.
func signatureError(err error, file, from string, nkeys int) error {
	var fe *patch.FormatError
	switch {
	case errors.Is(err, patch.ErrNoSignature):
		return withCode(withHint(err, "get "+file+patch.SigSuffix+" from where the patch came from, or sign it with 'clp sign'"), ExitVerify)
	case errors.Is(err, patch.ErrUntrustedKey):
		hint := "if you trust the key that signed it, copy its .pub file to " + from
		if nkeys == 0 {
			hint = "there are no trusted keys in " + from + ": copy the maintainers' .pub file there"
		}
		return withCode(withHint(err, hint), ExitVerify)
	case errors.Is(err, patch.ErrBadSignature):
		return withCode(withHint(err, "the patch or its signature was altered or damaged: get both again from their source"), ExitVerify)
	case errors.As(err, &fe):
		return withCode(err, ExitVerify)
	}
	return err
}

// signedAt reads the time out of minisign's trusted comment
// ("timestamp:1700000000\tfile:...").
func signedAt(comment string) string {
	for _, f := range strings.Split(comment, "\t") {
		if v, ok := strings.CutPrefix(f, "timestamp:"); ok {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				return time.Unix(n, 0).UTC().Format("2006-01-02 15:04:05 UTC")
			}
		}
	}
	return ""
}
