package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
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

// field prints an aligned "name: value" line, as pacman -Qi does. The
// name is padded before it is coloured: escape codes take no column.
func (e *Env) field(name, format string, a ...any) {
	fmt.Fprintf(e.Stdout, "%s: %s\n", e.bold(padRight(name, 16)), fmt.Sprintf(format, a...))
}

// table is every aligned listing's writer: columns sized on the text
// people see, two spaces apart, the header in bold. Colour is applied
// after padding, so it never shifts a column.
type table struct {
	header []string
	rows   [][]string
	// right marks columns aligned to the right (numbers).
	right map[int]bool
}

func newTable(header ...string) *table { return &table{header: header, right: map[int]bool{}} }

func (t *table) alignRight(cols ...int) *table {
	for _, c := range cols {
		t.right[c] = true
	}
	return t
}

func (t *table) row(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) write(e *Env) { t.writeTo(e, e.Stdout) }

// writeTo writes the table to w (a menu goes to stderr, as prompts do).
func (t *table) writeTo(e *Env, w io.Writer) {
	width := make([]int, len(t.header))
	for _, r := range append([][]string{t.header}, t.rows...) {
		for i, c := range r {
			if i < len(width) {
				width[i] = max(width[i], utf8.RuneCountInString(c))
			}
		}
	}
	line := func(cells []string, paint func(string) string) {
		var b strings.Builder
		for i, c := range cells {
			if i > 0 {
				b.WriteString("  ")
			}
			switch {
			case t.right[i]:
				c = strings.Repeat(" ", max(0, width[i]-utf8.RuneCountInString(c))) + c
			case i < len(cells)-1:
				c = padRight(c, width[i])
			}
			b.WriteString(paint(c))
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	line(t.header, e.bold)
	for _, r := range t.rows {
		line(r, func(s string) string { return s })
	}
}

// padRight pads s with spaces to n runes.
func padRight(s string, n int) string {
	return s + strings.Repeat(" ", max(0, n-utf8.RuneCountInString(s)))
}
