package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/vincentos/clp/alpm"
	"github.com/vincentos/clp/pacman"
	"github.com/vincentos/clp/system"
)

// version is set by the build (-ldflags "-X main.version=...").
var version = ""

func clpVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "0.1.0-dev"
}

// Globals are the flags every command takes.
type Globals struct {
	Root      string
	DBPath    string
	Config    string
	CacheDirs []string
	StateDir  string
	NoConfirm bool
	JSON      bool
	Color     string
	Debug     bool
}

func (g *Globals) register(fs *pflag.FlagSet) {
	fs.StringVarP(&g.Root, "root", "r", "/", "operate on the installation at `DIR`")
	fs.StringVarP(&g.DBPath, "dbpath", "b", "", "pacman database `DIR` (default: from pacman.conf, under --root)")
	fs.StringVar(&g.Config, "config", "", "pacman.conf `FILE` (default: <root>/etc/pacman.conf)")
	fs.StringArrayVar(&g.CacheDirs, "cachedir", nil, "package cache `DIR` (repeatable; default: pacman.conf's)")
	fs.StringVar(&g.StateDir, "state-dir", "", "clp's state `DIR` (default: <root>/var/lib/clp)")
	fs.BoolVar(&g.NoConfirm, "noconfirm", false, "do not ask for confirmation")
	fs.BoolVar(&g.JSON, "json", false, "print machine-readable JSON on stdout")
	fs.StringVar(&g.Color, "color", "auto", "colorize output: `WHEN` is auto, always or never")
	fs.BoolVar(&g.Debug, "debug", false, "print debugging details on stderr")
}

// Env is what a command runs with.
type Env struct {
	Globals
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// stdin buffers Stdin for prompts and menus (see readLine).
	stdin *bufio.Reader
	// useColor is resolved from --color, NO_COLOR and the terminal.
	useColor bool
	sys      *system.System
}

// System is the installation this run manages, built once from the global
// flags (after setup made --root absolute).
func (e *Env) System() *system.System {
	if e.sys == nil {
		o := pacman.Options{Root: e.Root, DBPath: e.DBPath, Config: e.Config, CacheDirs: e.CacheDirs}
		e.sys = system.New(o, e.StateDir)
	}
	return e.sys
}

// State is clp's state directory.
func (e *Env) State() string { return e.System().StateDir }

// Debugf prints on stderr with --debug.
func (e *Env) Debugf(format string, a ...any) {
	if e.Debug {
		fmt.Fprintf(e.Stderr, "clp: debug: "+format+"\n", a...)
	}
}

// Warnf prints a warning on stderr.
func (e *Env) Warnf(format string, a ...any) {
	fmt.Fprintf(e.Stderr, "clp: warning: "+format+"\n", a...)
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// command is one clp subcommand. Each lives in its own cmd_*.go file and
// registers itself from init.
type command struct {
	Name    string
	Aliases []string
	Summary string
	// Usage is the hand-written help: synopsis, description, examples.
	Usage string
	// Flags registers the command's own flags.
	Flags func(fs *pflag.FlagSet)
	// Run does the work. args are the positional arguments.
	Run func(ctx context.Context, env *Env, args []string) error
	// Args checks the number of positional arguments (nil: any).
	Args func(args []string) error
	// Hidden commands are not listed in `clp help` (hook handlers).
	Hidden bool
}

var commands = map[string]*command{}

func register(c *command) {
	for _, n := range append([]string{c.Name}, c.Aliases...) {
		if _, dup := commands[n]; dup {
			panic("clp: command registered twice: " + n)
		}
		commands[n] = c
	}
}

func exactArgs(n int, what string) func([]string) error {
	return func(args []string) error {
		if len(args) != n {
			return usageErrorf("expected %s, got %d argument(s)", what, len(args))
		}
		return nil
	}
}

func minArgs(n int, what string) func([]string) error {
	return func(args []string) error {
		if len(args) < n {
			return usageErrorf("expected %s", what)
		}
		return nil
	}
}

func noArgs(args []string) error {
	if len(args) > 0 {
		return usageErrorf("unexpected argument %q", args[0])
	}
	return nil
}

// Main runs clp with args and returns the exit code. It is main without
// os.Exit, so the testscript tests run it in-process.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	env := &Env{Stdin: stdin, Stdout: stdout, Stderr: stderr}
	err := run(ctx, env, args)
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, errHelpShown) {
		return ExitOK
	}
	printError(env, err)
	return exitCode(err)
}

var errHelpShown = errors.New("help shown")

func run(ctx context.Context, env *Env, args []string) error {
	global := pflag.NewFlagSet("clp", pflag.ContinueOnError)
	global.SetInterspersed(false)
	global.SetOutput(io.Discard)
	env.Globals.register(global)
	showVersion := global.BoolP("version", "V", false, "print the version")
	showHelp := global.BoolP("help", "h", false, "show help")
	if err := global.Parse(args); err != nil {
		return usageErrorf("%v", err)
	}
	rest := global.Args()
	if *showVersion {
		v, path := system.PacmanVersion()
		fmt.Fprintf(env.Stdout, "clp %s\npacman %s\n", clpVersion(), system.PacmanLine(v, path, system.LibalpmVersion(alpm.Soname(), alpm.Loaded)))
		return nil
	}
	if *showHelp || len(rest) == 0 {
		if len(rest) == 0 && !*showHelp {
			printMainUsage(env.Stderr)
			return usageErrorf("no command given")
		}
		printMainUsage(env.Stdout)
		return nil
	}
	name := rest[0]
	if name == "help" {
		return runHelp(env, rest[1:])
	}
	cmd, ok := commands[name]
	if !ok {
		return withHint(usageErrorf("unknown command %q", name), suggest(name))
	}
	// Registering the globals again on the command's flag set resets them
	// to their defaults, so carry over what came before the command first.
	before := globalsAsArgs(global)
	fs := pflag.NewFlagSet("clp "+cmd.Name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	env.Globals.register(fs)
	if err := fs.Parse(before); err != nil {
		return usageErrorf("%v", err)
	}
	if cmd.Flags != nil {
		cmd.Flags(fs)
	}
	help := fs.BoolP("help", "h", false, "show help")
	if err := fs.Parse(rest[1:]); err != nil {
		return withHint(usageErrorf("%v", err), "see 'clp "+cmd.Name+" --help'")
	}
	if *help {
		printCommandUsage(env.Stdout, cmd, fs)
		return errHelpShown
	}
	if err := env.setup(); err != nil {
		return err
	}
	pos := fs.Args()
	if cmd.Args != nil {
		if err := cmd.Args(pos); err != nil {
			return withHint(err, "see 'clp "+cmd.Name+" --help'")
		}
	}
	return cmd.Run(ctx, env, pos)
}

// globalsAsArgs turns the global flags given before the command back into
// arguments, so the command's flag set (which also knows them) sees them.
func globalsAsArgs(fs *pflag.FlagSet) []string {
	var out []string
	fs.Visit(func(f *pflag.Flag) {
		if f.Name == "version" || f.Name == "help" {
			return
		}
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			for _, v := range sv.GetSlice() {
				out = append(out, "--"+f.Name+"="+v)
			}
			return
		}
		out = append(out, "--"+f.Name+"="+f.Value.String())
	})
	return out
}

func (e *Env) setup() error {
	switch e.Color {
	case "always":
		e.useColor = true
	case "never":
		e.useColor = false
	case "auto":
		e.useColor = os.Getenv("NO_COLOR") == "" && isTerminal(e.Stdout)
	default:
		return usageErrorf("--color must be auto, always or never, not %q", e.Color)
	}
	if e.Root == "" {
		e.Root = "/"
	}
	abs, err := filepath.Abs(e.Root)
	if err != nil {
		return err
	}
	e.Root = abs
	// A root that is a file (or a device) is no installation: every
	// command would fail on a path under it with a confusing "not a
	// directory"; say so once, as for a missing root.
	if st, err := os.Stat(abs); err == nil && !st.IsDir() {
		return withCode(withHint(fmt.Errorf("root %s is not a directory", abs), "check --root: it must be an existing directory holding an installation"), ExitNoSystem)
	}
	return nil
}

func suggest(name string) string {
	var names []string
	for n, c := range commands {
		if c.Hidden {
			continue
		}
		if strings.HasPrefix(n, name) || strings.HasPrefix(name, n) || editDistance(name, n) <= maxTypos(n) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	if len(names) > 0 {
		return "did you mean " + strings.Join(names, " or ") + "? 'clp help' lists the commands"
	}
	return "'clp help' lists the commands"
}

// maxTypos is how many edits a misspelling of name may have and still be
// suggested: one for short names, two from six letters on.
func maxTypos(name string) int {
	if len(name) >= 6 {
		return 2
	}
	return 1
}

// editDistance is the optimal string alignment distance between a and b:
// insertions, deletions, substitutions and swaps of two neighbours each
// count one ("aply", "staus" and "rolback" are one from their commands).
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
