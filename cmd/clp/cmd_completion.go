package main

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"

	"github.com/spf13/pflag"
)

// The shell completions are generated from the command registry and each
// command's flags, so they cannot fall behind the commands: the committed
// copies in dist/completions are checked against this generator by
// TestCompletions (and rewritten by 'go test ./cmd/clp -run TestCompletions
// -update' or 'make completions').

func init() {
	register(&command{
		Name:    "completion",
		Summary: "print a shell completion script",
		Usage: `Usage:
  clp completion bash|zsh|fish

Prints the completion script for the shell on stdout. The clp package
installs them already (bash-completion, zsh site-functions and fish vendor
completions); this is for a clp installed by hand:

Examples:
  clp completion bash > ~/.local/share/bash-completion/completions/clp
  clp completion zsh > ~/.zfunc/_clp
  clp completion fish > ~/.config/fish/completions/clp.fish`,
		Hidden: true,
		Args:   exactArgs(1, "bash, zsh or fish"),
		Run: func(ctx context.Context, env *Env, args []string) error {
			return writeCompletion(env.Stdout, args[0])
		},
	})
}

func writeCompletion(w io.Writer, shell string) error {
	m := completionModel()
	switch shell {
	case "bash":
		return m.bash(w)
	case "zsh":
		return m.zsh(w)
	case "fish":
		return m.fish(w)
	}
	return usageErrorf("unknown shell %q: bash, zsh or fish", shell)
}

// argKind is what a positional argument or a flag's value is, for the
// shells to offer.
type argKind int

const (
	argNone    argKind = iota // free text: offer nothing
	argFile                   // any file
	argDir                    // a directory
	argPatch                  // a .clp patch file
	argApplied                // the name of an applied patch (clp list --json)
	argPackage                // an installed package (pacman -Qq)
	argPub                    // a minisign public key (*.pub)
	argKey                    // a minisign secret key (*.key)
	argCommand                // a clp command (clp help CMD)
	argEnum                   // one of compFlag.Values
)

// positionalArgs says what each command's positional arguments are. A
// command not listed here gets file completion: the shells' default.
var positionalArgs = map[string]argKind{
	"apply":     argPatch,
	"show":      argPatch,
	"verify":    argPatch,
	"sign":      argPatch,
	"rollback":  argApplied,
	"build":     argDir,
	"downgrade": argPackage,
	"pin":       argPackage,
	"unpin":     argPackage,
	"help":      argCommand,
}

// flagValueKinds maps a flag's value name (the back-quoted word of its
// usage: `DIR`) to what the shells offer for it.
var flagValueKinds = map[string]argKind{
	"DIR":     argDir,
	"ROOT":    argDir,
	"FILE":    argFile,
	"PATH":    argFile,
	"KEYBASE": argFile,
	"PUB":     argPub,
	"KEY":     argKey,
	"PATCH":   argPatch,
}

// flagValues lists the allowed values of enumerated flags, by flag name.
var flagValues = map[string][]string{
	"color": {"auto", "always", "never"},
}

type compFlag struct {
	Long, Short string
	Usage       string // the usage text with the value name unquoted
	ValueName   string // the value's name in the usage (`DIR`), or pflag's type name
	TakesArg    bool
	Repeatable  bool
	Kind        argKind
	Values      []string
}

type compCommand struct {
	Name    string
	Aliases []string
	Summary string
	Flags   []compFlag
	// Subs are the actions a command dispatches on its first argument
	// (snapshot list|show|...), read from its synopsis.
	Subs []string
	Args argKind
}

type compModel struct {
	Globals  []compFlag
	Commands []compCommand // visible commands and help, sorted by name
}

func (c compCommand) names() []string { return append([]string{c.Name}, c.Aliases...) }

// completionModel reads the registry: every visible command with the flags
// its Flags function registers on a fresh flag set, and the global flags.
func completionModel() compModel {
	var m compModel
	gfs := pflag.NewFlagSet("clp", pflag.ContinueOnError)
	var g Globals
	g.register(gfs)
	gfs.BoolP("version", "V", false, "print clp's and libalpm's versions")
	gfs.BoolP("help", "h", false, "show help")
	m.Globals = compFlags(gfs)

	var names []string
	for n, c := range commands {
		if n == c.Name && !c.Hidden {
			names = append(names, n)
		}
	}
	names = append(names, "help")
	sort.Strings(names)
	for _, n := range names {
		if n == "help" {
			m.Commands = append(m.Commands, compCommand{Name: "help", Summary: "show the help of clp or of a command", Args: argCommand})
			continue
		}
		c := commands[n]
		cc := compCommand{Name: c.Name, Aliases: append([]string(nil), c.Aliases...), Summary: c.Summary, Args: argFile}
		if k, ok := positionalArgs[c.Name]; ok {
			cc.Args = k
		} else if c.Args != nil && c.Args([]string{"x"}) != nil {
			cc.Args = argNone // a command that takes no arguments
		}
		if c.Flags != nil {
			fs := pflag.NewFlagSet(c.Name, pflag.ContinueOnError)
			c.Flags(fs)
			cc.Flags = compFlags(fs)
		}
		cc.Subs = subcommands(c)
		sort.Strings(cc.Aliases)
		m.Commands = append(m.Commands, cc)
	}
	return m
}

func compFlags(fs *pflag.FlagSet) []compFlag {
	var out []compFlag
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		name, usage := pflag.UnquoteUsage(f)
		cf := compFlag{Long: f.Name, Short: f.Shorthand, Usage: usage, ValueName: name}
		_, isSlice := f.Value.(pflag.SliceValue)
		cf.Repeatable = isSlice
		cf.TakesArg = f.Value.Type() != "bool" && f.NoOptDefVal == ""
		if cf.TakesArg {
			cf.Kind = flagValueKinds[name]
			if vs, ok := flagValues[f.Name]; ok {
				cf.Kind, cf.Values = argEnum, vs
			}
		}
		out = append(out, cf)
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Long < out[j].Long })
	return out
}

// actionWord is a lower-case action in a synopsis ("list", "install|remove").
var actionWord = regexp.MustCompile(`^[a-z][a-z0-9-]*(\|[a-z][a-z0-9-]*)*$`)

// subcommands reads the actions of a command from its synopsis: the word
// after the command name on the "clp NAME ..." lines under "Usage:", when
// it is lower case (upper case is a placeholder, brackets are options).
func subcommands(c *command) []string {
	seen := map[string]bool{}
	var out []string
	inUsage := false
	for _, line := range strings.Split(c.Usage, "\n") {
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
		if len(f) < 3 || f[0] != "clp" || f[1] != c.Name || !actionWord.MatchString(f[2]) {
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

const generatedNote = "Generated by 'clp completion %s' from clp's commands and flags: do not\n%s edit; run 'make completions' (TestCompletions fails when this is stale)."

// listNamesSed pulls the patch names out of 'clp list --json' (an array of
// objects, indented by two spaces per level: printJSON).
const listNamesSed = `sed -n 's/^    "name": "\(.*\)",$/\1/p'`

func (m compModel) bash(w io.Writer) error {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p("# bash completion for clp(1)                             -*- shell-script -*-\n")
	p("# "+generatedNote+"\n\n", "bash", "#")

	p("# _clp_applied prints the applied patches of the system the command line\n")
	p("# names (--root, --state-dir).\n")
	p("_clp_applied()\n{\n")
	p("    command clp \"$@\" list --json 2>/dev/null | %s\n}\n\n", listNamesSed)

	p("# _clp_takes_arg COMMAND FLAG: does FLAG take a separate value?\n")
	p("_clp_takes_arg()\n{\n    case $2 in\n")
	if pat := bashFlagPattern(m.Globals, true); pat != "" {
		p("        %s) return 0 ;;\n", pat)
	}
	p("    esac\n    case $1 in\n")
	for _, c := range m.Commands {
		if pat := bashFlagPattern(c.Flags, true); pat != "" {
			p("        %s)\n            case $2 in %s) return 0 ;; esac ;;\n", strings.Join(c.names(), "|"), pat)
		}
	}
	p("    esac\n    return 1\n}\n\n")

	p("_clp()\n{\n")
	p("    local cur prev words cword split\n")
	p("    _init_completion -s || return\n\n")
	p("    local i w cmd='' npos=0 ctx=()\n")
	p("    for ((i = 1; i < cword; i++)); do\n")
	p("        w=${words[i]}\n")
	p("        case $w in\n")
	p("            --root | -r | --state-dir)\n")
	p("                ctx+=(\"$w\" \"${words[i + 1]}\")\n")
	p("                ((i++))\n")
	p("                continue\n")
	p("                ;;\n")
	p("            --root=* | --state-dir=*)\n")
	p("                ctx+=(\"$w\")\n")
	p("                continue\n")
	p("                ;;\n")
	p("            -*)\n")
	p("                [[ $w != *=* ]] && _clp_takes_arg \"$cmd\" \"$w\" && ((i++))\n")
	p("                continue\n")
	p("                ;;\n")
	p("        esac\n")
	p("        if [[ -z $cmd ]]; then\n")
	p("            cmd=$w\n")
	p("        else\n")
	p("            ((npos++))\n")
	p("        fi\n")
	p("    done\n\n")

	// Values of flags.
	p("    case $prev in\n")
	for _, f := range m.Globals {
		if f.TakesArg {
			p("        %s)\n            %s\n            return\n            ;;\n", bashFlagPattern([]compFlag{f}, true), bashAction(f.Kind, f.Values))
		}
	}
	p("    esac\n")
	p("    case $cmd in\n")
	for _, c := range m.Commands {
		var arms []string
		for _, f := range c.Flags {
			if f.TakesArg {
				arms = append(arms, fmt.Sprintf("                %s)\n                    %s\n                    return\n                    ;;\n", bashFlagPattern([]compFlag{f}, true), bashAction(f.Kind, f.Values)))
			}
		}
		if len(arms) > 0 {
			p("        %s)\n            case $prev in\n%s            esac\n            ;;\n", strings.Join(c.names(), "|"), strings.Join(arms, ""))
		}
	}
	p("    esac\n")
	p("    $split && return\n\n")

	// Flags.
	p("    if [[ $cur == -* ]]; then\n")
	p("        local flags='%s'\n", strings.Join(flagWords(m.Globals), " "))
	p("        case $cmd in\n")
	for _, c := range m.Commands {
		if len(c.Flags) > 0 {
			p("            %s) flags+=' %s' ;;\n", strings.Join(c.names(), "|"), strings.Join(flagWords(c.Flags), " "))
		}
	}
	p("        esac\n")
	p("        COMPREPLY=($(compgen -W \"$flags\" -- \"$cur\"))\n")
	p("        return\n")
	p("    fi\n\n")

	// Commands and positional arguments.
	p("    if [[ -z $cmd ]]; then\n")
	p("        COMPREPLY=($(compgen -W '%s' -- \"$cur\"))\n", strings.Join(m.commandWords(), " "))
	p("        return\n")
	p("    fi\n")
	p("    case $cmd in\n")
	for _, c := range m.Commands {
		if len(c.Subs) > 0 {
			p("        %s)\n", strings.Join(c.names(), "|"))
			p("            if ((npos == 0)); then\n")
			p("                COMPREPLY=($(compgen -W '%s' -- \"$cur\"))\n", strings.Join(c.Subs, " "))
			p("            fi\n")
			p("            ;;\n")
			continue
		}
		p("        %s)\n            %s\n            ;;\n", strings.Join(c.names(), "|"), bashAction(c.Args, nil))
	}
	p("        *)\n            _filedir\n            ;;\n")
	p("    esac\n")
	p("} &&\n    complete -F _clp clp\n\n# ex: filetype=sh\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func (m compModel) commandWords() []string {
	var out []string
	for _, c := range m.Commands {
		out = append(out, c.names()...)
	}
	sort.Strings(out)
	return out
}

// bashFlagPattern is a case pattern matching the flags (only those taking
// a value when withArg).
func bashFlagPattern(flags []compFlag, withArg bool) string {
	var alts []string
	for _, f := range flags {
		if withArg && !f.TakesArg {
			continue
		}
		alts = append(alts, "--"+f.Long)
		if f.Short != "" {
			alts = append(alts, "-"+f.Short)
		}
	}
	return strings.Join(alts, " | ")
}

func flagWords(flags []compFlag) []string {
	var out []string
	for _, f := range flags {
		out = append(out, "--"+f.Long)
		if f.Short != "" {
			out = append(out, "-"+f.Short)
		}
	}
	return out
}

func bashAction(k argKind, values []string) string {
	switch k {
	case argFile:
		return "_filedir"
	case argDir:
		return "_filedir -d"
	case argPatch:
		return "_filedir clp"
	case argPub:
		return "_filedir pub"
	case argKey:
		return "_filedir key"
	case argApplied:
		return `COMPREPLY=($(compgen -W "$(_clp_applied "${ctx[@]}")" -- "$cur"))`
	case argPackage:
		return `COMPREPLY=($(compgen -W "$(pacman -Qq 2>/dev/null)" -- "$cur"))`
	case argCommand:
		return `COMPREPLY=($(compgen -W '` + strings.Join(visibleCommandNames(), " ") + `' -- "$cur"))`
	case argEnum:
		return `COMPREPLY=($(compgen -W '` + strings.Join(values, " ") + `' -- "$cur"))`
	}
	return "COMPREPLY=()"
}

// visibleCommandNames are the names 'clp help' takes.
func visibleCommandNames() []string {
	var out []string
	for n, c := range commands {
		if !c.Hidden {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// zshQuote escapes s for the inside of a single-quoted _arguments spec
// description: brackets and colons are spec syntax.
func zshDesc(s string) string {
	r := strings.NewReplacer(`'`, `'\''`, `[`, `\[`, `]`, `\]`, `:`, `\:`, "\n", " ")
	return r.Replace(s)
}

func zshSpecs(flags []compFlag) []string {
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

func zshAction(k argKind, values []string) string {
	switch k {
	case argFile:
		return "_files"
	case argDir:
		return "_files -/"
	case argPatch:
		return `_files -g "*.clp(-.)"`
	case argPub:
		return `_files -g "*.pub(-.)"`
	case argKey:
		return `_files -g "*.key(-.)"`
	case argApplied:
		return "_clp_applied"
	case argPackage:
		return "_clp_packages"
	case argCommand:
		return "(" + strings.Join(visibleCommandNames(), " ") + ")"
	case argEnum:
		return "(" + strings.Join(values, " ") + ")"
	}
	return " "
}

func (m compModel) zsh(w io.Writer) error {
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
		} else if c.Args != argNone {
			p("        '*:%s:%s' && ret=0\n", zshArgName(c.Args), zshAction(c.Args, nil))
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

func zshArgName(k argKind) string {
	switch k {
	case argPatch:
		return "patch file"
	case argApplied:
		return "applied patch"
	case argPackage:
		return "package"
	case argDir:
		return "directory"
	case argCommand:
		return "command"
	}
	return "file"
}

// fishQuote single-quotes s for fish.
func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", " ").Replace(s) + "'"
}

func fishFlag(cond string, f compFlag) string {
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
		case argFile:
			b.WriteString(" -r -F")
		case argNone:
			b.WriteString(" -x")
		default:
			b.WriteString(" -x -a " + fishQuote(fishArgs(f.Kind, f.Values)))
		}
	}
	b.WriteString(" -d " + fishQuote(f.Usage))
	return b.String()
}

func fishArgs(k argKind, values []string) string {
	switch k {
	case argDir:
		return "(__fish_complete_directories)"
	case argPatch:
		return "(__fish_complete_suffix .clp)"
	case argPub:
		return "(__fish_complete_suffix .pub)"
	case argKey:
		return "(__fish_complete_suffix .key)"
	case argApplied:
		return "(__clp_applied)"
	case argPackage:
		return "(pacman -Qq 2>/dev/null)"
	case argCommand:
		return strings.Join(visibleCommandNames(), " ")
	case argEnum:
		return strings.Join(values, " ")
	}
	return ""
}

func (m compModel) fish(w io.Writer) error {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p("# fish completion for clp(1).\n")
	p("# "+generatedNote+"\n\n", "fish", "#")

	var argFlags []string
	for _, f := range m.Globals {
		if f.TakesArg {
			argFlags = append(argFlags, flagWords([]compFlag{f})...)
		}
	}
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
		var ws []string
		for _, f := range c.Flags {
			if f.TakesArg {
				ws = append(ws, flagWords([]compFlag{f})...)
			}
		}
		if len(ws) > 0 {
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
		case argFile:
			p("complete -c clp -n %s -F\n", fishQuote("__clp_using "+names))
		case argNone:
		default:
			p("complete -c clp -n %s -a %s\n", fishQuote("__clp_using "+names), fishQuote(fishArgs(c.Args, nil)))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
