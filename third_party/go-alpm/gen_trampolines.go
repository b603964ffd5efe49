//go:build ignore

// gen_trampolines writes trampolines_six.c or trampolines_next.c: for every
// libalpm function this package calls (an identifier in its Go and C
// sources, for the build tag given, that alpm.h or alpm_list.h declares as
// a function), a definition with the header's own prototype that loads
// libalpm on first use (go_alpm_sym, load.c) and calls the library's
// function. The header is read through the C preprocessor, so the
// prototypes are the compiler's; a definition that disagrees with the
// header it is compiled against does not compile.
//
//	go run gen_trampolines.go -tag six -I /usr/include -o trampolines_six.c
//	go run gen_trampolines.go -tag next -I /opt/clp-pacman-7.1/include -o trampolines_next.c
//
// -check compares instead of writing (the tests run it against the header
// the build sees).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

func main() {
	tag := flag.String("tag", "six", "go-alpm's build: six (libalpm 13) or next (libalpm 14 and newer)")
	inc := flag.String("I", "", "directory holding alpm.h (empty: the compiler's default)")
	out := flag.String("o", "", "file to write")
	check := flag.Bool("check", false, "fail when -o differs from what would be written")
	dir := flag.String("src", ".", "go-alpm's source directory")
	flag.Parse()
	if *tag != "six" && *tag != "next" || *out == "" {
		fmt.Fprintln(os.Stderr, "usage: gen_trampolines -tag six|next [-I dir] -o file [-check]")
		os.Exit(2)
	}
	b, err := generate(*dir, *tag, *inc)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen_trampolines:", err)
		os.Exit(1)
	}
	if *check {
		old, err := os.ReadFile(*out)
		if err != nil || !bytes.Equal(old, b) {
			fmt.Fprintf(os.Stderr, "gen_trampolines: %s is not what this header gives (%v); run go generate\n", *out, err)
			os.Exit(1)
		}
		return
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gen_trampolines:", err)
		os.Exit(1)
	}
}

var ident = regexp.MustCompile(`\balpm_[a-z0-9_]+`)

// used is every alpm_ identifier in the package's sources for tag.
func used(dir, tag string) (map[string]bool, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for _, f := range files {
		base := filepath.Base(f)
		if strings.HasPrefix(base, "trampolines_") || strings.HasSuffix(base, "_test.go") || base == "gen_trampolines.go" {
			continue
		}
		switch filepath.Ext(base) {
		case ".go", ".c", ".h":
		default:
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		src := string(b)
		if c := constraint(src); c == "next" && tag != "next" || c == "!next" && tag == "next" {
			continue
		}
		for _, n := range ident.FindAllString(src, -1) {
			names[n] = true
		}
	}
	return names, nil
}

// constraint is the file's //go:build line ("" for none).
func constraint(src string) string {
	for _, l := range strings.Split(src, "\n") {
		if v, ok := strings.CutPrefix(l, "//go:build "); ok {
			return strings.TrimSpace(v)
		}
		if l != "" && !strings.HasPrefix(l, "//") {
			return ""
		}
	}
	return ""
}

type proto struct{ ret, name, params string }

var attr = regexp.MustCompile(`__attribute__\s*\(\((?:[^()]|\([^()]*\))*\)\)`)

// declared is every function alpm.h and alpm_list.h declare, as the
// preprocessor gives them.
func declared(inc string) (map[string]proto, map[string]bool, error) {
	args := []string{"-E", "-P", "-x", "c", "-"}
	if inc != "" {
		args = append(args, "-I", inc)
	}
	cc := os.Getenv("CC")
	if cc == "" {
		cc = "gcc"
	}
	cmd := exec.Command(cc, args...)
	cmd.Stdin = strings.NewReader("#include <alpm.h>\n#include <alpm_list.h>\n")
	cmd.Stderr = os.Stderr
	pp, err := cmd.Output()
	if err != nil {
		return nil, nil, fmt.Errorf("%s -E: %w", cc, err)
	}
	// The header's own declarations only: the preprocessed text is those
	// of the system headers it includes too, which never name alpm_.
	text := attr.ReplaceAllString(string(pp), "")
	var stmts []string
	depth, start := 0, 0
	for i, c := range text {
		switch c {
		case '{':
			depth++
		case '}':
			depth--
		case ';':
			if depth == 0 {
				stmts = append(stmts, strings.Join(strings.Fields(text[start:i]), " "))
				start = i + 1
			}
		}
	}
	typedefs := map[string]bool{}
	fns := map[string]proto{}
	decl := regexp.MustCompile(`^(?:extern )?(.*?\W)(alpm_[a-z0-9_]+) ?\((.*)\)$`)
	for _, s := range stmts {
		if strings.HasPrefix(s, "typedef ") {
			if m := regexp.MustCompile(`(\w+)\)? ?(?:\(.*\))?$`).FindStringSubmatch(s); m != nil {
				typedefs[m[1]] = true
			}
			if m := regexp.MustCompile(`\(\*(\w+)\)`).FindStringSubmatch(s); m != nil {
				typedefs[m[1]] = true
			}
			continue
		}
		m := decl.FindStringSubmatch(s)
		if m == nil || strings.Contains(m[1], "(") {
			continue
		}
		fns[m[2]] = proto{ret: strings.TrimSpace(m[1]), name: m[2], params: m[3]}
	}
	return fns, typedefs, nil
}

var keywords = map[string]bool{"void": true, "char": true, "short": true, "int": true, "long": true,
	"float": true, "double": true, "signed": true, "unsigned": true, "_Bool": true, "const": true,
	"volatile": true, "struct": true, "enum": true, "union": true}

// splitParams splits a parameter list at its top-level commas.
func splitParams(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, c := range s {
		switch c {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	return append(out, strings.TrimSpace(s[start:]))
}

var word = regexp.MustCompile(`\w+$`)

// named gives parameter p the name n: its own name replaced, or n added.
func named(p, n string, typedefs map[string]bool) (string, error) {
	if strings.Contains(p, "(") {
		fp := regexp.MustCompile(`\(\s*\*\s*(\w*)\s*\)`)
		if !fp.MatchString(p) {
			return "", fmt.Errorf("parameter %q: not understood", p)
		}
		return fp.ReplaceAllString(p, "(*"+n+")"), nil
	}
	if strings.Contains(p, "[") {
		return "", fmt.Errorf("parameter %q: arrays are not handled", p)
	}
	last := word.FindString(p)
	fields := strings.Fields(strings.ReplaceAll(p, "*", " * "))
	isName := last != "" && len(fields) > 1 && !keywords[last] && !typedefs[last] &&
		fields[len(fields)-2] != "struct" && fields[len(fields)-2] != "enum" && fields[len(fields)-2] != "union"
	if isName {
		return strings.TrimSpace(p[:len(p)-len(last)]) + " " + n, nil
	}
	return p + " " + n, nil
}

func generate(dir, tag, inc string) ([]byte, error) {
	names, err := used(dir, tag)
	if err != nil {
		return nil, err
	}
	fns, typedefs, err := declared(inc)
	if err != nil {
		return nil, err
	}
	var list []proto
	for n := range names {
		if p, ok := fns[n]; ok {
			list = append(list, p)
		}
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("no libalpm function found (is alpm.h under -I?)")
	}
	sort.Slice(list, func(i, j int) bool { return list[i].name < list[j].name })

	var b bytes.Buffer
	cons := "!next"
	if tag == "next" {
		cons = "next"
	}
	fmt.Fprintf(&b, "//go:build %s\n\n", cons)
	fmt.Fprintf(&b, "// Code generated by gen_trampolines.go -tag %s; DO NOT EDIT.\n", tag)
	b.WriteString(`//
// One trampoline per libalpm function go-alpm calls: the first call loads
// libalpm (load.c), every call goes to the library's function. They are
// hidden, so that the executable does not export them and libalpm's calls
// of its own functions stay inside libalpm.

#pragma GCC visibility push(hidden)
#include <alpm.h>
#include <alpm_list.h>
#include "load.h"

`)
	fmt.Fprintf(&b, "enum { GO_ALPM_NSYMS = %d };\n", len(list))
	b.WriteString("static void *go_alpm_fns[GO_ALPM_NSYMS];\n")
	for i, p := range list {
		if strings.HasSuffix(p.params, "...") {
			return nil, fmt.Errorf("%s takes variable arguments: no trampoline can forward them", p.name)
		}
		var params, args []string
		if p.params != "void" && p.params != "" {
			for j, q := range splitParams(p.params) {
				n := fmt.Sprintf("a%d", j)
				s, err := named(q, n, typedefs)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", p.name, err)
				}
				params = append(params, s)
				args = append(args, n)
			}
		} else {
			params = []string{"void"}
		}
		call := fmt.Sprintf("((__typeof__(&%s))go_alpm_sym(&go_alpm_fns[%d], \"%s\"))(%s)", p.name, i, p.name, strings.Join(args, ", "))
		fmt.Fprintf(&b, "\n%s %s(%s) {\n", p.ret, p.name, strings.Join(params, ", "))
		if p.ret == "void" {
			fmt.Fprintf(&b, "\t%s;\n}\n", call)
		} else {
			fmt.Fprintf(&b, "\treturn %s;\n}\n", call)
		}
	}
	b.WriteString("\n#pragma GCC visibility pop\n")
	return b.Bytes(), nil
}
