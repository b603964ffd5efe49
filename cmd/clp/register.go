package main

import (
	"context"

	"github.com/spf13/pflag"
)

// registerOpts registers c with its options O: flags registers them on a
// flag set, run gets them as parsed. The options live in this closure, one
// set per command: no flag is a package global.
func registerOpts[O any](c *command, flags func(fs *pflag.FlagSet, o *O), run func(ctx context.Context, env *Env, o O, args []string) error) {
	var o O
	c.Flags = func(fs *pflag.FlagSet) { flags(fs, &o) }
	c.Run = func(ctx context.Context, env *Env, args []string) error { return run(ctx, env, o, args) }
	register(c)
}
