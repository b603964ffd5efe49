package completion

import (
	"fmt"
	"io"
	"strings"
)

// fishQuote single-quotes s for fish.
func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", " ").Replace(s) + "'"
}

func fishFlag(cond string, f Flag) string {
	var b strings.Builder
	b.WriteString("complete -c clp")
	if cond != "" {
		b.WriteString(" -n " + fishQuote(cond))
	}
	if f.Short != "" {
		b.WriteString(" -s " + f.Short)
	}
	b.WriteString(" -l " + f.Long)
	if f.TakesArg {
		switch f.Kind {
		case KindFile:
			b.WriteString(" -r -F")
		case KindNone:
			b.WriteString(" -x")
		default:
			b.WriteString(" -x -a " + fishQuote(fishArgs(f.Kind, f.Values)))
		}
	}
	b.WriteString(" -d " + fishQuote(f.Usage))
	return b.String()
}

func fishArgs(k Kind, values []string) string {
	switch k {
	case KindDir:
		return "(__fish_complete_directories)"
	case KindPatch:
		return "(__fish_complete_suffix .clp)"
	case KindPub:
		return "(__fish_complete_suffix .pub)"
	case KindKey:
		return "(__fish_complete_suffix .key)"
	case KindApplied:
		return "(__clp_applied)"
	case KindPackage:
		return "(pacman -Qq 2>/dev/null)"
	case KindCommand:
		return strings.Join(values, " ")
	case KindEnum:
		return strings.Join(values, " ")
	}
	return ""
}

func (m Model) fish(w io.Writer) error {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p("# fish completion for clp(1).\n")
	p("# "+generatedNote+"\n\n", "fish", "#")

	argFlags := flagWords(valued(m.Globals))
	p("# __clp_words prints the command and its positional arguments, skipping\n")
	p("# flags and the values of the flags that take one.\n")
	p("function __clp_words\n")
	p("    set -l toks (commandline -opc)\n")
	p("    set -e toks[1]\n")
	p("    set -l skip 0\n")
	p("    set -l cmd\n")
	p("    for t in $toks\n")
	p("        if test $skip = 1\n")
	p("            set skip 0\n")
	p("            continue\n")
	p("        end\n")
	p("        switch $t\n")
	p("            case %s\n", strings.Join(argFlags, " "))
	p("                set skip 1\n")
	p("            case '-*'\n")
	p("                if set -q cmd[1]; and __clp_takes_arg $cmd[1] $t\n")
	p("                    set skip 1\n")
	p("                end\n")
	p("            case '*'\n")
	p("                set -a cmd $t\n")
	p("        end\n")
	p("    end\n")
	p("    set -q cmd[1]; and printf '%%s\\n' $cmd\n")
	p("end\n\n")

	p("function __clp_takes_arg -a cmd flag\n")
	p("    switch $cmd\n")
	for _, c := range m.Commands {
		if ws := flagWords(valued(c.Flags)); len(ws) > 0 {
			p("        case %s\n            contains -- $flag %s\n            return\n", strings.Join(c.names(), " "), strings.Join(ws, " "))
		}
	}
	p("    end\n    return 1\nend\n\n")

	p("function __clp_needs_command\n")
	p("    set -l w (__clp_words)\n")
	p("    not set -q w[1]\n")
	p("end\n\n")
	p("# __clp_using CMD...: the command line's command is one of CMD.\n")
	p("function __clp_using\n")
	p("    set -l w (__clp_words)\n")
	p("    set -q w[1]; and contains -- $w[1] $argv\n")
	p("end\n\n")
	p("# __clp_needs_action CMD...: the command is one of CMD and has no argument yet.\n")
	p("function __clp_needs_action\n")
	p("    set -l w (__clp_words)\n")
	p("    set -q w[1]; and not set -q w[2]; and contains -- $w[1] $argv\n")
	p("end\n\n")
	p("function __clp_applied\n")
	p("    set -l ctx\n")
	p("    set -l toks (commandline -opc)\n")
	p("    for i in (seq (count $toks))\n")
	p("        switch $toks[$i]\n")
	p("            case --root -r --state-dir\n")
	p("                set -a ctx $toks[$i] $toks[(math $i + 1)]\n")
	p("            case '--root=*' '--state-dir=*'\n")
	p("                set -a ctx $toks[$i]\n")
	p("        end\n")
	p("    end\n")
	p("    command -q clp; or return\n")
	p("    command clp $ctx list --json 2>/dev/null | %s\n", listNamesSed)
	p("end\n\n")

	p("complete -c clp -f\n\n")
	p("# Global options.\n")
	for _, f := range m.Globals {
		p("%s\n", fishFlag("", f))
	}
	p("\n# Commands.\n")
	for _, c := range m.Commands {
		for _, n := range c.names() {
			p("complete -c clp -n __clp_needs_command -a %s -d %s\n", n, fishQuote(c.Summary))
		}
	}
	for _, c := range m.Commands {
		names := strings.Join(c.names(), " ")
		p("\n# clp %s\n", c.Name)
		for _, f := range c.Flags {
			p("%s\n", fishFlag("__clp_using "+names, f))
		}
		if len(c.Subs) > 0 {
			p("complete -c clp -n %s -a %s\n", fishQuote("__clp_needs_action "+names), fishQuote(strings.Join(c.Subs, " ")))
			continue
		}
		switch c.Args {
		case KindFile:
			p("complete -c clp -n %s -F\n", fishQuote("__clp_using "+names))
		case KindNone:
		default:
			p("complete -c clp -n %s -a %s\n", fishQuote("__clp_using "+names), fishQuote(fishArgs(c.Args, c.Values)))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
