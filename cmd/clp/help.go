package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/pflag"
)

const mainUsage = `clp - Core LivePatch for Vincent OS

Usage:
  clp [global options] <command> [options] [arguments]

clp applies signed .clp patches that fix critical system files and hold
packages at known-good versions, snapshots the system around every change,
and rolls any of it back.

Commands:
%s
Global options (before or after the command):
  -r, --root DIR        operate on the installation at DIR (default /)
  -b, --dbpath DIR      pacman database (default: pacman.conf's, under --root)
      --config FILE     pacman.conf (default <root>/etc/pacman.conf)
      --cachedir DIR    package cache (repeatable; default: pacman.conf's)
      --state-dir DIR   clp's state (default <root>/var/lib/clp)
      --noconfirm       do not ask for confirmation
      --json            print machine-readable JSON on stdout
      --color WHEN      auto, always or never (NO_COLOR is honoured)
      --debug           print debugging details on stderr
  -V, --version         print clp's and libalpm's versions
  -h, --help            show this help

Examples:
  clp status
  clp --root /mnt status --json
  clp help status

Run 'clp help <command>' for a command's options and examples.
`

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
