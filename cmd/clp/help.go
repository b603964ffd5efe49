package main

import (
	"embed"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/pflag"
)

// The help of clp and of each command is prose written by hand, with
// examples: it lives in usage/<command>.txt, read into the binary.
//
//go:embed usage/*.txt
var usageFiles embed.FS

// usageText is the help of a command (or "clp": the main help).
func usageText(name string) string {
	b, err := usageFiles.ReadFile("usage/" + name + ".txt")
	if err != nil {
		panic("clp: no help text for " + name)
	}
	return string(b)
}

// mainUsage is 'clp help'; %s takes the list of commands.
var mainUsage = usageText("clp")

func printMainUsage(w io.Writer) {
	var names []string
	for n, c := range commands {
		if n == c.Name && !c.Hidden {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		c := commands[n]
		line := n
		if len(c.Aliases) > 0 {
			line += " (" + strings.Join(c.Aliases, ", ") + ")"
		}
		fmt.Fprintf(&b, "  %-22s %s\n", line, c.Summary)
	}
	fmt.Fprintf(w, mainUsage, b.String())
}

func printCommandUsage(w io.Writer, c *command, fs *pflag.FlagSet) {
	fmt.Fprintf(w, "clp %s - %s\n\n", c.Name, c.Summary)
	fmt.Fprint(w, strings.TrimSpace(c.Usage)+"\n")
	own := pflag.NewFlagSet("", pflag.ContinueOnError)
	if c.Flags != nil {
		c.Flags(own)
	}
	if own.HasFlags() {
		fmt.Fprintf(w, "\nOptions:\n%s", flagUsages(own))
	}
	if len(c.Aliases) > 0 {
		fmt.Fprintf(w, "\nAliases: %s\n", strings.Join(c.Aliases, ", "))
	}
	fmt.Fprint(w, "\nGlobal options: see 'clp help'.\n")
}

func runHelp(env *Env, args []string) error {
	if len(args) == 0 {
		printMainUsage(env.Stdout)
		return nil
	}
	c, ok := commands[args[0]]
	if !ok {
		return withHint(usageErrorf("unknown command %q", args[0]), suggest(args[0]))
	}
	printCommandUsage(env.Stdout, c, nil)
	return nil
}

// flagUsages lists a command's options as pacman's help does: a switch is
// just its name (pflag's own listing adds "[=true|false]" to every one),
// an option with a value shows the value's name; the texts line up.
func flagUsages(fs *pflag.FlagSet) string {
	type entry struct{ names, usage string }
	var entries []entry
	width := 0
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		names := "    "
		if f.Shorthand != "" {
			names = "-" + f.Shorthand + ", "
		}
		names += "--" + f.Name
		varname, usage := pflag.UnquoteUsage(f)
		if f.Value.Type() != "bool" && varname != "" {
			names += " " + varname
		}
		entries = append(entries, entry{names, usage})
		width = max(width, len(names))
	})
	var b strings.Builder
	for _, e := range entries {
		fmt.Fprintf(&b, "  %-*s   %s\n", width, e.names, e.usage)
	}
	return b.String()
}
