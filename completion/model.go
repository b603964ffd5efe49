// Package completion writes clp's shell completion scripts (bash, zsh,
// fish) from a Model of its commands and flags, which cmd/clp reads from
// its command registry: the scripts cannot fall behind the commands.
//
// It must not know clp's commands itself (they come in the Model), read
// flags (cmd/clp turns its flag sets into the Model), print or exit.
package completion

import (
	"fmt"
	"io"
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
