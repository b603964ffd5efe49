package main

import (
	"bufio"
	"fmt"
	"strings"
)

// confirm asks a pacman-style yes/no question on stderr and reads stdin.
// --noconfirm answers the default; so does a closed or empty stdin, which
// is what the timer and scripts have.
func (e *Env) confirm(question string, def bool) bool {
	if e.NoConfirm {
		return def
	}
	hint := "[Y/n]"
	if !def {
		hint = "[y/N]"
	}
	fmt.Fprintf(e.Stderr, ":: %s %s ", question, hint)
	if e.Stdin == nil {
		fmt.Fprintln(e.Stderr)
		return def
	}
	line, err := bufio.NewReader(e.Stdin).ReadString('\n')
	if err != nil && line == "" {
		fmt.Fprintln(e.Stderr)
		return def
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "":
		return def
	case "y", "yes":
		return true
	default:
		return false
	}
}
