package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/vincentos/clp/testkit/sandbox"
)

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

// With colour on, clp status's fields line up exactly as without: the
// colour codes take no column.
func TestStatusAlignedWithColour(t *testing.T) {
	sandbox.RequireRoot(t)
	r, _ := sandbox.NewNVIDIA(t)
	var plain, coloured, errb bytes.Buffer
	if code := Main(context.Background(), []string{"--root", r.Dir, "--color", "never", "status"}, nil, &plain, &errb); code != 0 {
		t.Fatalf("status: exit %d\n%s", code, errb.String())
	}
	if code := Main(context.Background(), []string{"--root", r.Dir, "--color", "always", "status"}, nil, &coloured, &errb); code != 0 {
		t.Fatalf("status --color always: exit %d\n%s", code, errb.String())
	}
	if !ansi.MatchString(coloured.String()) {
		t.Fatalf("--color always printed no colour:\n%q", coloured.String())
	}
	if got := ansi.ReplaceAllString(coloured.String(), ""); got != plain.String() {
		t.Fatalf("with colour, stripped of its codes:\n%s\nwithout colour:\n%s", got, plain.String())
	}
	fields := 0
	for _, line := range strings.Split(plain.String(), "\n") {
		if i := strings.Index(line, ": "); i > 0 && !strings.HasPrefix(line, " ") {
			fields++
			if i != 16 {
				t.Errorf("field %q: colon at column %d, want 16", line, i)
			}
		}
	}
	if fields < 3 {
		t.Fatalf("status printed %d fields:\n%s", fields, plain.String())
	}
}

// The table writer pads on the text shown and colours after padding: the
// header's columns start where the rows' do, whatever the colour.
func TestTableColumnsWithColour(t *testing.T) {
	for _, colour := range []bool{false, true} {
		var out bytes.Buffer
		env := &Env{Stdout: &out, useColor: colour}
		tb := newTable("ID", "Name", "Description").alignRight(0)
		tb.row("7", "a-very-long-hook-name.hook", "first")
		tb.row("1234", "x", "é accents count as one column")
		tb.write(env)
		lines := strings.Split(strings.TrimRight(ansi.ReplaceAllString(out.String(), ""), "\n"), "\n")
		want := []string{
			"  ID  Name                        Description",
			"   7  a-very-long-hook-name.hook  first",
			"1234  x                           é accents count as one column",
		}
		if strings.Join(lines, "\n") != strings.Join(want, "\n") {
			t.Fatalf("colour %v:\n%s\nwant:\n%s", colour, strings.Join(lines, "\n"), strings.Join(want, "\n"))
		}
		if colour && !strings.HasPrefix(out.String(), "\x1b[1m  ID\x1b[0m") {
			t.Fatalf("the header is not bold after padding: %q", out.String())
		}
	}
}
