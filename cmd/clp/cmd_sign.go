package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/vincentos/clp/internal/fsx"
	"io/fs"
	"os"
	"strings"

	"aead.dev/minisign"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/vincentos/clp/patch"
)

func init() {
	registerOpts(&command{
		Name:    "sign",
		Summary: "sign a .clp patch with a minisign key (for maintainers)",
		Usage:   usageText("sign"),
		Args:    exactArgs(1, "one patch file"),
	}, func(fs *pflag.FlagSet, o *signOptions) {
		fs.StringVarP(&o.Key, "key", "k", "clp.key", "the secret key `FILE`")
	}, runSign)
}

type signOptions struct {
	Key string
}

// signResult is clp sign's JSON.
type signResult struct {
	File           string `json:"file"`
	Signature      string `json:"signature"`
	KeyID          string `json:"key_id"`
	TrustedComment string `json:"trusted_comment"`
}

func runSign(ctx context.Context, env *Env, opts signOptions, args []string) error {
	file := args[0]
	if _, err := os.Stat(file); err != nil {
		return fmt.Errorf("patch %s: %w", file, errors.Unwrap(err))
	}
	keyData, err := fsx.ReadFileCapped(opts.Key, fsx.SmallFileMax)
	if errors.Is(err, fs.ErrNotExist) {
		return withHint(fmt.Errorf("secret key %s does not exist", opts.Key), "give the key with -k KEY, or make one with 'clp keygen'")
	}
	if err != nil {
		return fmt.Errorf("secret key: %w", err)
	}
	// Signing a broken patch only moves the refusal to every system that
	// receives it: check it first, with the default limits and allowed
	// paths (what the systems receiving it have, as for clp build).
	a, err := patch.OpenFile(file, patch.Limits{})
	if err != nil {
		return withCode(withHint(fmt.Errorf("not signing %s: %w", file, err), "fix the patch folder and run 'clp build' again"), ExitVerify)
	}
	a.Close()
	password := ""
	if minisign.IsEncrypted(bytes.TrimSpace(keyData)) {
		if password, err = keyPassword(env, "password for "+opts.Key, false); err != nil {
			return err
		}
	}
	priv, err := patch.ReadPrivateKey(opts.Key, password)
	if err != nil {
		return err
	}
	sigPath, v, err := patch.SignChecked(file, priv)
	if err != nil {
		return err
	}
	res := signResult{File: file, Signature: sigPath, KeyID: v.KeyID, TrustedComment: v.TrustedComment}
	if env.JSON {
		return printJSON(env.Stdout, res)
	}
	env.field("signed", "%s", file)
	env.field("signature", "%s", sigPath)
	env.field("key id", "%s", v.KeyID)
	env.field("trusted comment", "%s", v.TrustedComment)
	if at := signedAt(v.TrustedComment); at != "" {
		env.field("signed at", "%s", at)
	}
	return nil
}

// keyPassword gets the password of a secret key: from CLP_KEY_PASSWORD,
// else from the terminal without echo (asked twice when twice is set, for
// a new key), else as one line of stdin. An empty password is refused:
// for an unencrypted key, keygen has --no-password.
func keyPassword(env *Env, prompt string, twice bool) (string, error) {
	// An empty CLP_KEY_PASSWORD counts as unset: it is never a password.
	if pw := os.Getenv("CLP_KEY_PASSWORD"); pw != "" {
		return pw, nil
	}
	if f, ok := env.Stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		read := func(p string) (string, error) {
			fmt.Fprintf(env.Stderr, "%s: ", p)
			b, err := term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(env.Stderr)
			return string(b), err
		}
		pw, err := read(prompt)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		if pw == "" {
			return "", withHint(errors.New("empty password"), "type a password, or give --no-password to store the key unencrypted")
		}
		if twice {
			again, err := read("again")
			if err != nil {
				return "", fmt.Errorf("read password: %w", err)
			}
			if again != pw {
				return "", errors.New("the two passwords differ")
			}
		}
		return pw, nil
	}
	if env.Stdin == nil {
		return "", withHint(errors.New("no password: CLP_KEY_PASSWORD is not set and there is no terminal or stdin"), "set CLP_KEY_PASSWORD")
	}
	line, _ := bufio.NewReader(env.Stdin).ReadString('\n')
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", withHint(errors.New("no password: CLP_KEY_PASSWORD is empty or not set, and stdin gave none"),
			"set CLP_KEY_PASSWORD, or pipe the password in (keygen: or give --no-password)")
	}
	return line, nil
}
