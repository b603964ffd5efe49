// Command clp-hook runs clp's pacman hooks (installed as
// /usr/lib/clp/clp-hook; the hook files call it). It is `clp hook
// pre|post|guard` without the rest of clp: the same code path
// (hooks.Run), linked without cgo, libalpm, TUF or HTTP, so that the three
// hooks every pacman transaction runs start in a few milliseconds.
//
// The one thing it cannot do alone is the guard of a pinned target, which
// needs the sync databases through libalpm: it then runs `clp hook guard`
// (the full binary, CLP_BIN or /usr/bin/clp) with the same flags and
// targets, and passes its exit code on.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/vincentos/clp/hooks"
	"github.com/vincentos/clp/pacman"
	"github.com/vincentos/clp/system"
)

// clpBin is the full clp, for the guard of a pinned target.
var clpBin = "/usr/bin/clp"

const usage = `usage: clp-hook [--root DIR] [--dbpath DIR] [--config FILE] [--state-dir DIR] [--debug] pre|post|guard

clp's pacman hook handlers (what 'clp hook' runs), for pacman's hook files;
the targets come on stdin, one a line (NeedsTargets).
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit codes, as clp's: 0 ok, 1 an error (the guard's refusal), 2 usage.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	// The standard flag package, not pflag: pflag imports net, and with
	// it the cgo resolver. It takes --root and -root, as clp's flags.
	fs := flag.NewFlagSet("clp-hook", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var o pacman.Options
	var stateDir string
	var dbg bool
	fs.StringVar(&o.Root, "root", "/", "")
	fs.StringVar(&o.Root, "r", "/", "")
	fs.StringVar(&o.DBPath, "dbpath", "", "")
	fs.StringVar(&o.DBPath, "b", "", "")
	fs.StringVar(&o.Config, "config", "", "")
	fs.Func("cachedir", "", func(s string) error { o.CacheDirs = append(o.CacheDirs, s); return nil })
	fs.StringVar(&stateDir, "state-dir", "", "")
	fs.BoolVar(&dbg, "debug", false, "")
	errorf := func(format string, a ...any) {
		for _, l := range strings.Split(fmt.Sprintf(format, a...), "\n") {
			fmt.Fprintf(stderr, "clp: error: %s\n", l)
		}
	}
	if err := fs.Parse(args); err != nil {
		errorf("%v", err)
		fmt.Fprint(stderr, usage)
		return 2
	}
	rest := fs.Args()
	if len(rest) != 1 || (rest[0] != "pre" && rest[0] != "post" && rest[0] != "guard") {
		errorf("expected pre, post or guard, got %q", strings.Join(rest, " "))
		fmt.Fprint(stderr, usage)
		return 2
	}
	root, err := filepath.Abs(o.Root)
	if err != nil {
		errorf("%v", err)
		return 2
	}
	o.Root = root
	// The guard's targets are kept: a pinned one sends them on to clp.
	in, err := io.ReadAll(io.LimitReader(stdin, 16<<20))
	if err != nil {
		in = nil
	}
	r := &hooks.Run{
		Sys:   system.New(o, stateDir),
		Stdin: bytes.NewReader(in),
		Say:   func(msg string) { fmt.Fprintln(stdout, msg) },
		Warnf: func(format string, a ...any) { fmt.Fprintf(stderr, "clp: warning: "+format+"\n", a...) },
		// The handlers' own warnings (a pin dropped, snapper or
		// retention trouble) reach pacman's output too.
		Reporter: hookReporter{stdout: stdout, stderr: stderr},
		Debugf: func(format string, a ...any) {
			if dbg {
				fmt.Fprintf(stderr, "clp: debug: "+format+"\n", a...)
			}
		},
	}
	err = r.Do(ctx, rest[0])
	if errors.Is(err, hooks.ErrNeedsDB) {
		// clp's own spelling of the flags (pflag takes no -root).
		argv := []string{"--root", o.Root}
		for _, f := range []struct{ name, v string }{{"--dbpath", o.DBPath}, {"--config", o.Config}, {"--state-dir", stateDir}} {
			if f.v != "" {
				argv = append(argv, f.name, f.v)
			}
		}
		for _, d := range o.CacheDirs {
			argv = append(argv, "--cachedir", d)
		}
		if dbg {
			argv = append(argv, "--debug")
		}
		return handOn(append(argv, "hook", rest[0]), in, stdout, stderr)
	}
	if err != nil {
		errorf("%v", err)
		var ns interface{ NextStep() string }
		if errors.As(err, &ns) && ns.NextStep() != "" {
			fmt.Fprintf(stderr, "clp: hint: %s\n", ns.NextStep())
		}
		return 1
	}
	return 0
}

// handOn runs clp with argv (the same flags, then hook guard) and the same
// targets: the guard of a pinned target needs libalpm.
func handOn(argv []string, targets []byte, stdout, stderr io.Writer) int {
	bin := clpBin
	if b := os.Getenv("CLP_BIN"); b != "" {
		bin = b
	}
	cmd := exec.Command(bin, argv...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(targets), stdout, stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return max(ee.ExitCode(), 1)
	}
	if err != nil {
		fmt.Fprintf(stderr, "clp: error: guard: a target is pinned and %s cannot run: %v\n", bin, err)
		fmt.Fprintf(stderr, "clp: hint: reinstall clp (pacman -S clp); the guard refuses every transaction of a pinned package until it can check the pin\n")
		return 1
	}
	return 0
}

// hookReporter prints what the hook handlers report: pacman shows a hook's
// output among its own lines. Progress is not drawn.
type hookReporter struct{ stdout, stderr io.Writer }

func (r hookReporter) Step(msg string)               { fmt.Fprintln(r.stdout, ":: "+msg) }
func (r hookReporter) Warn(msg string)               { fmt.Fprintln(r.stderr, "clp: warning: "+msg) }
func (r hookReporter) Progress(string, int64, int64) {}
