package main

import (
	"context"
	"io"
	"regexp"
	"sort"
	"strings"

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

// flagValueKinds maps a flag's value name (the back-quoted word of its
// usage: `DIR`) to what the shells offer for it.
var flagValueKinds = map[string]completion.Kind{
	"DIR":     completion.KindDir,
	"ROOT":    completion.KindDir,
	"FILE":    completion.KindFile,
	"PATH":    completion.KindFile,
	"KEYBASE": completion.KindFile,
	"PUB":     completion.KindPub,
	"KEY":     completion.KindKey,
	"PATCH":   completion.KindPatch,
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
		cc.Subs = subcommands(c)
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
			cf.Kind = flagValueKinds[name]
			if vs, ok := flagValues[f.Name]; ok {
				cf.Kind, cf.Values = completion.KindEnum, vs
			}
		}
		out = append(out, cf)
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Long < out[j].Long })
	return out
}

// actionWord is a lower-case action in a synopsis ("list", "install|remove").
var actionWord = regexp.MustCompile(`^[a-z][a-z0-9-]*(\|[a-z][a-z0-9-]*)*$`)

// subcommands reads the actions of a command from its synopsis: the word
// after the command name on the "clp NAME ..." lines under "Usage:", when
// it is lower case (upper case is a placeholder, brackets are options).
func subcommands(c *command) []string {
	seen := map[string]bool{}
	var out []string
	inUsage := false
	for _, line := range strings.Split(c.Usage, "\n") {
		t := strings.TrimSpace(line)
		if t == "Usage:" {
			inUsage = true
			continue
		}
		if !inUsage {
			continue
		}
		if t == "" {
			break
		}
		f := strings.Fields(t)
		if len(f) < 3 || f[0] != "clp" || f[1] != c.Name || !actionWord.MatchString(f[2]) {
			continue
		}
		for _, s := range strings.Split(f[2], "|") {
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
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
