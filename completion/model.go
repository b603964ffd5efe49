// Package completion writes clp's shell completion scripts (bash, zsh,
// fish) from a Model of its commands and flags, which cmd/clp reads from
// its command registry: the scripts cannot fall behind the commands.
//
// It must not know clp's commands itself (they come in the Model), read
// flags (cmd/clp turns its flag sets into the Model), print or exit. It
// knows what the shells offer for the value names clp's flags use
// (ValueKind) and how a synopsis names a command's actions (Actions).
package completion

import (
	"fmt"
	"io"
	"regexp"
	"strings"
)

// Kind is what a positional argument or a flag's value is, for the
// shells to offer.
type Kind int

const (
	KindNone    Kind = iota // free text: offer nothing
	KindFile                // any file
	KindDir                 // a directory
	KindPatch               // a .clp patch file
	KindApplied             // the name of an applied patch (clp list --json)
	KindPackage             // an installed package (pacman -Qq)
	KindPub                 // a minisign public key (*.pub)
	KindKey                 // a minisign secret key (*.key)
	KindCommand             // a clp command (clp help CMD)
	KindEnum                // one of Flag.Values
)

type Flag struct {
	Long, Short string
	Usage       string // the usage text with the value name unquoted
	ValueName   string // the value's name in the usage (`DIR`), or pflag's type name
	TakesArg    bool
	Repeatable  bool
	Kind        Kind
	Values      []string
}

type Command struct {
	Name    string
	Aliases []string
	Summary string
	Flags   []Flag
	// Subs are the actions a command dispatches on its first argument
	// (snapshot list|show|...), read from its synopsis.
	Subs []string
	Args Kind
	// Values are the words a KindCommand argument takes.
	Values []string
}

type Model struct {
	Globals  []Flag
	Commands []Command // visible commands and help, sorted by name
}

func (c Command) names() []string { return append([]string{c.Name}, c.Aliases...) }

// valued are the flags that take a value.
func valued(flags []Flag) []Flag {
	var out []Flag
	for _, f := range flags {
		if f.TakesArg {
			out = append(out, f)
		}
	}
	return out
}

// Write writes the completion script for shell.
func (m Model) Write(w io.Writer, shell string) error {
	switch shell {
	case "bash":
		return m.bash(w)
	case "zsh":
		return m.zsh(w)
	case "fish":
		return m.fish(w)
	}
	return fmt.Errorf("unknown shell %q: bash, zsh or fish", shell)
}

// valueKinds maps a flag's value name (the back-quoted word of its usage:
// `DIR`) to what the shells offer for it.
var valueKinds = map[string]Kind{
	"DIR":     KindDir,
	"ROOT":    KindDir,
	"FILE":    KindFile,
	"PATH":    KindFile,
	"KEYBASE": KindFile,
	"PUB":     KindPub,
	"KEY":     KindKey,
	"PATCH":   KindPatch,
}

// ValueKind is what the shells offer for a flag value named name (KindNone
// for a name they know nothing of).
func ValueKind(name string) Kind { return valueKinds[name] }

// actionWord is a lower-case action in a synopsis ("list", "install|remove").
var actionWord = regexp.MustCompile(`^[a-z][a-z0-9-]*(\|[a-z][a-z0-9-]*)*$`)

// Actions reads the actions of command name from its help text: the word
// after the command name on the "clp NAME ..." lines under "Usage:", when
// it is lower case (upper case is a placeholder, brackets are options).
func Actions(name, usage string) []string {
	seen := map[string]bool{}
	var out []string
	inUsage := false
	for _, line := range strings.Split(usage, "\n") {
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
		if len(f) < 3 || f[0] != "clp" || f[1] != name || !actionWord.MatchString(f[2]) {
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
