package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/vincentos/clp/alpm"
	"github.com/vincentos/clp/internal/lock"
	"github.com/vincentos/clp/pacman"
)

// Exit codes. They are part of clp's interface (docs/cli.md): scripts and
// the update timer act on them.
const (
	ExitOK          = 0
	ExitError       = 1   // any other failure
	ExitUsage       = 2   // bad command line
	ExitLocked      = 3   // clp's lock or pacman's db.lck is held
	ExitVerify      = 4   // a signature, hash or archive check failed
	ExitRefused     = 5   // the system is not as the patch expects; nothing was changed
	ExitPacman      = 6   // pacman failed (its own message is above)
	ExitNoSystem    = 7   // no usable installation: missing root, no local database, unreadable pacman.conf, damaged state, no libalpm
	ExitInterrupted = 130 // SIGINT or SIGTERM; any change was rolled back
)

// cliError carries a hint and an exit code along an error chain.
type cliError struct {
	err  error
	hint string
	code int
	// quiet errors print nothing (the answer no at a prompt, as pacman).
	quiet bool
}

func (e *cliError) Error() string { return e.err.Error() }
func (e *cliError) Unwrap() error { return e.err }

func withHint(err error, hint string) error {
	if err == nil {
		return nil
	}
	return &cliError{err: err, hint: hint}
}

func withCode(err error, code int) error {
	if err == nil {
		return nil
	}
	return &cliError{err: err, code: code}
}

func usageErrorf(format string, a ...any) error {
	return &cliError{err: fmt.Errorf(format, a...), code: ExitUsage}
}

// exitCode picks the documented code for an error: an explicit one wins,
// else it is derived from the kind of error.
func exitCode(err error) int {
	var ce *cliError
	for e := err; errors.As(e, &ce); e = ce.err {
		if ce.code != 0 {
			return ce.code
		}
	}
	var lockHeld *pacman.LockHeldError
	var pacmanErr *pacman.PacmanError
	var noLibalpm *alpm.LoadError
	switch {
	case errors.Is(err, context.Canceled):
		return ExitInterrupted
	case errors.Is(err, lock.ErrHeld), errors.As(err, &lockHeld):
		return ExitLocked
	case errors.As(err, &pacmanErr):
		return ExitPacman
	case errors.Is(err, pacman.ErrNoRoot), errors.Is(err, alpm.ErrNoLocalDB), errors.Is(err, pacman.ErrConfig), errors.As(err, &noLibalpm):
		return ExitNoSystem
	}
	return domainExitCode(err)
}

// hintFor finds a hint attached anywhere in the chain, or a default one for
// well-known errors.
func hintFor(err error) string {
	var ce *cliError
	for e := err; errors.As(e, &ce); e = ce.err {
		if ce.hint != "" {
			return ce.hint
		}
	}
	if h := domainHint(err); h != "" {
		return h
	}
	var lockHeld *pacman.LockHeldError
	var noLibalpm *alpm.LoadError
	switch {
	case errors.As(err, &noLibalpm):
		// The message load.c prints when a call that cannot fail finds no
		// libalpm says the same.
		return "libalpm comes with pacman; reinstall the pacman package"
	case errors.Is(err, pacman.ErrNoRoot):
		return "check --root: it must be an existing directory holding an installation"
	case errors.Is(err, alpm.ErrNoLocalDB):
		return "check --root and --dbpath: they must point at an installation pacman manages"
	case errors.Is(err, pacman.ErrConfig):
		return "check --config (or <root>/etc/pacman.conf); 'pacman-conf --config FILE' shows what pacman reads"
	case errors.As(err, &lockHeld):
		return "wait for the other package manager to finish; if none is running, remove " + lockHeld.Lockfile
	case errors.Is(err, lock.ErrHeld):
		return "another clp is running; wait for it to finish"
	case errors.Is(err, context.Canceled):
		return ""
	}
	return ""
}

func printError(env *Env, err error) {
	var ce *cliError
	if errors.As(err, &ce) && ce.quiet {
		return
	}
	msg := err.Error()
	if errors.Is(err, context.Canceled) {
		msg = "interrupted: " + msg
	}
	for _, line := range strings.Split(msg, "\n") {
		fmt.Fprintf(env.Stderr, "clp: error: %s\n", line)
	}
	if h := hintFor(err); h != "" {
		fmt.Fprintf(env.Stderr, "clp: hint: %s\n", h)
	}
}
