package main

import (
	"context"
	"io"
	"sort"

	"github.com/spf13/pflag"

	"github.com/vincentos/clp/completion"
)

// The shell completions are generated from the command registry and each
// command's flags, so they cannot fall behind the commands: the committed
// copies in dist/completions are checked against this generator by
// TestCompletions (and rewritten by 'go test ./cmd/clp -run TestCompletions
// -update' or 'make completions').

func init() {
	register(&command{
		Name:    "completion",
		Summary: "print a shell completion script",
		Usage:   usageText("completion"),
		Hidden:  true,
		Args:    exactArgs(1, "bash, zsh or fish"),
		Run: func(ctx context.Context, env *Env, args []string) error {
			return writeCompletion(env.Stdout, args[0])
		},
	})
}

func writeCompletion(w io.Writer, shell string) error {
	switch shell {
	case "bash", "zsh", "fish":
		return completionModel().Write(w, shell)
	}
	return usageErrorf("unknown shell %q: bash, zsh or fish", shell)
}

// positionalArgs says what each command's positional arguments are. A
// command not listed here gets file completion: the shells' default.
var positionalArgs = map[string]completion.Kind{
	"apply":     completion.KindPatch,
	"show":      completion.KindPatch,
	"verify":    completion.KindPatch,
	"sign":      completion.KindPatch,
	"rollback":  completion.KindApplied,
	"build":     completion.KindDir,
	"downgrade": completion.KindPackage,
	"pin":       completion.KindPackage,
	"unpin":     completion.KindPackage,
	"help":      completion.KindCommand,
}

// flagValues lists the allowed values of enumerated flags, by flag name.
var flagValues = map[string][]string{
	"color": {"auto", "always", "never"},
}

// completionModel reads the registry: every visible command with the flags
// its Flags function registers on a fresh flag set, and the global flags.
func completionModel() completion.Model {
	var m completion.Model
	gfs := pflag.NewFlagSet("clp", pflag.ContinueOnError)
	var g Globals
	g.register(gfs)
	gfs.BoolP("version", "V", false, "print clp's and libalpm's versions")
	gfs.BoolP("help", "h", false, "show help")
	m.Globals = compFlags(gfs)

	var names []string
	for n, c := range commands {
		if n == c.Name && !c.Hidden {
			names = append(names, n)
		}
	}
	names = append(names, "help")
	sort.Strings(names)
	for _, n := range names {
		if n == "help" {
			m.Commands = append(m.Commands, completion.Command{Name: "help", Summary: "show the help of clp or of a command", Args: completion.KindCommand, Values: helpTopics()})
			continue
		}
		c := commands[n]
		cc := completion.Command{Name: c.Name, Aliases: append([]string(nil), c.Aliases...), Summary: c.Summary, Args: completion.KindFile}
		if k, ok := positionalArgs[c.Name]; ok {
			cc.Args = k
		} else if c.Args != nil && c.Args([]string{"x"}) != nil {
			cc.Args = completion.KindNone // a command that takes no arguments
		}
		if c.Flags != nil {
			fs := pflag.NewFlagSet(c.Name, pflag.ContinueOnError)
			c.Flags(fs)
			cc.Flags = compFlags(fs)
		}
		cc.Subs = completion.Actions(c.Name, c.Usage)
		sort.Strings(cc.Aliases)
		m.Commands = append(m.Commands, cc)
	}
	return m
}

func compFlags(fs *pflag.FlagSet) []completion.Flag {
	var out []completion.Flag
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		name, usage := pflag.UnquoteUsage(f)
		cf := completion.Flag{Long: f.Name, Short: f.Shorthand, Usage: usage, ValueName: name}
		_, isSlice := f.Value.(pflag.SliceValue)
		cf.Repeatable = isSlice
		cf.TakesArg = f.Value.Type() != "bool" && f.NoOptDefVal == ""
		if cf.TakesArg {
			cf.Kind = completion.ValueKind(name)
			if vs, ok := flagValues[f.Name]; ok {
				cf.Kind, cf.Values = completion.KindEnum, vs
			}
		}
		out = append(out, cf)
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Long < out[j].Long })
	return out
}

// helpTopics are the names 'clp help' takes.
func helpTopics() []string {
	var out []string
	for n, c := range commands {
		if !c.Hidden {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}
