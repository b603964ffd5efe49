package main

import (
	"context"

	"github.com/spf13/pflag"

	"github.com/vincentos/clp/patch"
)

func init() {
	registerOpts(&command{
		Name:    "keygen",
		Summary: "make a minisign key pair for signing patches (for maintainers)",
		Usage:   usageText("keygen"),
		Args:    noArgs,
	}, func(fs *pflag.FlagSet, o *keygenOptions) {
		fs.StringVarP(&o.Base, "output", "o", "clp", "write `KEYBASE`.key and KEYBASE.pub")
		fs.BoolVar(&o.NoPassword, "no-password", false, "store the secret key unencrypted (tests, throwaway keys)")
	}, runKeygen)
}

type keygenOptions struct {
	Base       string
	NoPassword bool
}

// keygenResult is clp keygen's JSON.
type keygenResult struct {
	SecretKey string `json:"secret_key"`
	PublicKey string `json:"public_key"`
	KeyID     string `json:"key_id"`
	Encrypted bool   `json:"encrypted"`
}

func runKeygen(ctx context.Context, env *Env, opts keygenOptions, _ []string) error {
	if opts.Base == "" {
		return usageErrorf("-o needs a file name")
	}
	secPath, pubPath, err := patch.NewKeyPairPaths(opts.Base)
	if err != nil {
		return err
	}
	password := ""
	if !opts.NoPassword {
		if password, err = keyPassword(env, "password for the new secret key", true); err != nil {
			return err
		}
	}
	pub, err := patch.WriteKeyPair(secPath, pubPath, password)
	if err != nil {
		return err
	}
	res := keygenResult{SecretKey: secPath, PublicKey: pubPath, KeyID: patch.KeyID(pub.ID()), Encrypted: password != ""}
	if !res.Encrypted {
		env.Warnf("%s is not encrypted: keep it offline", secPath)
	}
	if env.JSON {
		return printJSON(env.Stdout, res)
	}
	enc := "encrypted"
	if !res.Encrypted {
		enc = "not encrypted"
	}
	env.field("secret key", "%s (%s)", secPath, enc)
	env.field("public key", "%s", pubPath)
	env.field("key id", "%s", res.KeyID)
	return nil
}
