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
		fmt.Fprintf(w, "\nOptions:\n%s", own.FlagUsages())
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
