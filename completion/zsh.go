package completion

import (
	"fmt"
	"io"
	"strings"
)

// description: brackets and colons are spec syntax.
func zshDesc(s string) string {
	r := strings.NewReplacer(`'`, `'\''`, `[`, `\[`, `]`, `\]`, `:`, `\:`, "\n", " ")
	return r.Replace(s)
}

func zshSpecs(flags []Flag) []string {
	var out []string
	for _, f := range flags {
		action := ""
		if f.TakesArg {
			action = ":" + strings.ToLower(f.Long) + ":" + zshAction(f.Kind, f.Values)
		}
		desc := "[" + zshDesc(f.Usage) + "]"
		rep := ""
		if f.Repeatable {
			rep = "*"
		}
		if f.Short != "" {
			excl := "(-" + f.Short + " --" + f.Long + ")"
			if f.Repeatable {
				excl = ""
			}
			out = append(out, fmt.Sprintf("'%s'%s{-%s,--%s}'%s%s'", excl, rep, f.Short, f.Long, desc, action))
		} else {
			out = append(out, fmt.Sprintf("'%s--%s%s%s'", rep, f.Long, desc, action))
		}
	}
	return out
}

func zshAction(k Kind, values []string) string {
	switch k {
	case KindFile:
		return "_files"
	case KindDir:
		return "_files -/"
	case KindPatch:
		return `_files -g "*.clp(-.)"`
	case KindPub:
		return `_files -g "*.pub(-.)"`
	case KindKey:
		return `_files -g "*.key(-.)"`
	case KindApplied:
		return "_clp_applied"
	case KindPackage:
		return "_clp_packages"
	case KindCommand:
		return "(" + strings.Join(values, " ") + ")"
	case KindEnum:
		return "(" + strings.Join(values, " ") + ")"
	}
	return " "
}

func (m Model) zsh(w io.Writer) error {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p("#compdef clp\n")
	p("# zsh completion for clp(1).\n")
	p("# "+generatedNote+"\n\n", "zsh", "#")
	p("_clp_applied() {\n")
	p("  local -a ctx names\n")
	p("  [[ -n ${opt_args[--root]-} ]] && ctx+=(--root ${opt_args[--root]})\n")
	p("  [[ -n ${opt_args[-r]-} ]] && ctx+=(--root ${opt_args[-r]})\n")
	p("  [[ -n ${opt_args[--state-dir]-} ]] && ctx+=(--state-dir ${opt_args[--state-dir]})\n")
	p("  names=(${(f)\"$(_call_program patches clp $ctx list --json 2>/dev/null | %s)\"})\n", listNamesSed)
	p("  _describe -t patches 'applied patch' names\n")
	p("}\n\n")
	p("_clp_packages() {\n")
	p("  local -a pkgs\n")
	p("  pkgs=(${(f)\"$(_call_program packages pacman -Qq 2>/dev/null)\"})\n")
	p("  _describe -t packages 'installed package' pkgs\n")
	p("}\n\n")
	p("_clp_commands() {\n  local -a cmds\n  cmds=(\n")
	for _, c := range m.Commands {
		for _, n := range c.names() {
			p("    '%s:%s'\n", n, zshDesc(c.Summary))
		}
	}
	p("  )\n  _describe -t commands 'clp command' cmds\n}\n\n")

	p("_clp() {\n")
	p("  local curcontext=$curcontext state line ret=1\n")
	p("  typeset -A opt_args\n")
	p("  local -a globals\n  globals=(\n")
	for _, s := range zshSpecs(m.Globals) {
		p("    %s\n", s)
	}
	p("  )\n")
	p("  _arguments -C -s $globals \\\n")
	p("    '1: :_clp_commands' \\\n")
	p("    '*:: :->args' && ret=0\n\n")
	p("  [[ $state == args ]] || return ret\n")
	p("  curcontext=${curcontext%%:*:*}:clp-$words[1]:\n")
	p("  case $words[1] in\n")
	for _, c := range m.Commands {
		p("    (%s)\n", strings.Join(c.names(), "|"))
		p("      _arguments -s $globals \\\n")
		for _, s := range zshSpecs(c.Flags) {
			p("        %s \\\n", s)
		}
		if len(c.Subs) > 0 {
			p("        '1:action:(%s)' \\\n", strings.Join(c.Subs, " "))
			p("        '*: :_files' && ret=0\n")
		} else if c.Args != KindNone {
			p("        '*:%s:%s' && ret=0\n", zshArgName(c.Args), zshAction(c.Args, c.Values))
		} else {
			p("        && ret=0\n")
		}
		p("      ;;\n")
	}
	p("  esac\n  return ret\n}\n\n")
	p("_clp \"$@\"\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func zshArgName(k Kind) string {
	switch k {
	case KindPatch:
		return "patch file"
	case KindApplied:
		return "applied patch"
	case KindPackage:
		return "package"
	case KindDir:
		return "directory"
	case KindCommand:
		return "command"
	}
	return "file"
}
