package main

import (
	"encoding/json"
	"fmt"
	"io"
)

// printJSON writes v as indented JSON: the --json form of every command.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// bold and friends colour a string when colour is on.
func (e *Env) paint(code, s string) string {
	if !e.useColor {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

func (e *Env) bold(s string) string   { return e.paint("1", s) }
func (e *Env) green(s string) string  { return e.paint("1;32", s) }
func (e *Env) yellow(s string) string { return e.paint("1;33", s) }

// field prints an aligned "name: value" line, as pacman -Qi does.
func (e *Env) field(name, format string, a ...any) {
	fmt.Fprintf(e.Stdout, "%-16s: %s\n", e.bold(name), fmt.Sprintf(format, a...))
}
