package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// errDeclined is the answer no: like pacman, clp then exits 1 and prints
// no error (the user knows what they answered).
var errDeclined = &cliError{err: errors.New("declined: nothing was changed"), code: ExitError, quiet: true}

// errPromptInterrupted is Ctrl-C (SIGINT) or SIGTERM at a prompt or menu:
// clp stops at once with exit 130, before changing anything.
type errPromptInterrupted struct{}

func (errPromptInterrupted) Error() string     { return "nothing was changed" }
func (errPromptInterrupted) Is(err error) bool { return err == context.Canceled }

// confirm asks a pacman-style yes/no question on stderr and reads one line
// of stdin. It returns nil for yes, errDeclined for no, and
// errPromptInterrupted when clp is interrupted while waiting.
//
//   - --noconfirm answers the default (the timer and scripts use it).
//   - An empty line (Enter) answers the default, as in pacman.
//   - No input at all (stdin closed, /dev/null, no terminal) answers no:
//     nobody agreed to anything.
//   - Anything but y or yes is no.
func (e *Env) confirm(ctx context.Context, question string, def bool) error {
	if e.NoConfirm {
		if def {
			return nil
		}
		return errDeclined
	}
	hint := "[Y/n]"
	if !def {
		hint = "[y/N]"
	}
	fmt.Fprintf(e.Stderr, ":: %s %s ", question, hint)
	line, err := e.readLine(ctx)
	if err != nil {
		fmt.Fprintln(e.Stderr)
		if errors.Is(err, context.Canceled) {
			return err
		}
		return errDeclined
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "":
		if def {
			return nil
		}
	case "y", "yes":
		return nil
	}
	return errDeclined
}

// readLine reads one line of stdin for a prompt or menu. It returns io.EOF
// when there is no input, and errPromptInterrupted as soon as ctx ends
// (Ctrl-C): a blocked read must not keep clp waiting. All prompts of one
// run share one buffered reader, so answers given ahead on a pipe ("1\ny\n")
// reach the prompts they are meant for.
func (e *Env) readLine(ctx context.Context) (string, error) {
	if e.Stdin == nil {
		return "", io.EOF
	}
	if e.stdin == nil {
		e.stdin = bufio.NewReader(e.Stdin)
	}
	type result struct {
		line string
		err  error
	}
	ch := make(chan result, 1)
	in := e.stdin
	go func() {
		line, err := in.ReadString('\n')
		ch <- result{line, err}
	}()
	select {
	case r := <-ch:
		if r.line != "" && !e.stdinIsTerminal() {
			// A terminal echoes what is typed; an answer from a pipe
			// shows in the output too, so a log reads as a dialogue.
			fmt.Fprintln(e.Stderr, strings.TrimRight(r.line, "\r\n"))
		}
		if r.err != nil && r.line != "" {
			return r.line, nil // a last line without its newline
		}
		return r.line, r.err
	case <-ctx.Done():
		// The reading goroutine stays blocked; clp is about to exit and
		// no other prompt follows an interrupted one.
		e.stdin = nil
		return "", errPromptInterrupted{}
	}
}

func (e *Env) stdinIsTerminal() bool {
	f, ok := e.Stdin.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
