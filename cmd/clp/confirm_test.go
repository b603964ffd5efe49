package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestConfirmAnswers(t *testing.T) {
	for _, c := range []struct {
		name  string
		stdin io.Reader
		def   bool
		want  error
	}{
		{"no stdin", nil, true, errDeclined},
		{"empty stdin", strings.NewReader(""), true, errDeclined},
		{"Enter takes yes", strings.NewReader("\n"), true, nil},
		{"Enter takes no", strings.NewReader("\n"), false, errDeclined},
		{"y", strings.NewReader("y\n"), false, nil},
		{"YES without newline", strings.NewReader("YES"), false, nil},
		{"n", strings.NewReader("n\n"), true, errDeclined},
		{"anything else", strings.NewReader("sure\n"), true, errDeclined},
	} {
		t.Run(c.name, func(t *testing.T) {
			var stderr bytes.Buffer
			env := &Env{Stdin: c.stdin, Stderr: &stderr}
			if got := env.confirm(context.Background(), "Go?", c.def); got != c.want {
				t.Fatalf("confirm = %v, want %v", got, c.want)
			}
			if !strings.HasPrefix(stderr.String(), ":: Go? [") {
				t.Fatalf("the question was not asked: %q", stderr.String())
			}
		})
	}
}

func TestConfirmNoconfirmTakesTheDefault(t *testing.T) {
	env := &Env{Globals: Globals{NoConfirm: true}, Stdin: strings.NewReader("n\n"), Stderr: io.Discard}
	if err := env.confirm(context.Background(), "Go?", true); err != nil {
		t.Fatalf("--noconfirm, default yes: %v", err)
	}
	if err := env.confirm(context.Background(), "Go?", false); err != errDeclined {
		t.Fatalf("--noconfirm, default no: %v", err)
	}
}

// Answers given ahead on a pipe reach the prompts they are meant for: the
// menu's number, then the confirmation.
func TestPromptsShareOneReader(t *testing.T) {
	env := &Env{Stdin: strings.NewReader("2\ny\n"), Stderr: io.Discard}
	line, err := env.readLine(context.Background())
	if err != nil || line != "2\n" {
		t.Fatalf("menu read %q, %v", line, err)
	}
	if err := env.confirm(context.Background(), "Go?", false); err != nil {
		t.Fatalf("the confirmation lost its answer: %v", err)
	}
}

// An interrupt while waiting for an answer ends the wait at once: exit 130,
// no error about a cancelled context, and no quiet exit.
func TestConfirmInterrupted(t *testing.T) {
	r, w := io.Pipe()
	defer w.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var stderr bytes.Buffer
	env := &Env{Stdin: r, Stderr: &stderr}
	done := make(chan error, 1)
	go func() { done <- env.confirm(ctx, "Go?", true) }()
	cancel()
	err := <-done
	if !errors.Is(err, context.Canceled) || exitCode(err) != ExitInterrupted {
		t.Fatalf("confirm = %v (exit %d), want an interruption (exit %d)", err, exitCode(err), ExitInterrupted)
	}
	var out bytes.Buffer
	printError(&Env{Stderr: &out}, err)
	if got := out.String(); got != "clp: error: interrupted: nothing was changed\n" {
		t.Fatalf("printed %q", got)
	}
}

func TestDeclinedIsQuietExit1(t *testing.T) {
	if exitCode(errDeclined) != ExitError {
		t.Fatalf("exit %d, want %d", exitCode(errDeclined), ExitError)
	}
	var out bytes.Buffer
	printError(&Env{Stderr: &out}, errDeclined)
	if out.Len() != 0 {
		t.Fatalf("the answer no printed %q", out.String())
	}
}

func TestEditDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"aply", "apply", 1}, {"staus", "status", 1}, {"rolback", "rollback", 1},
		{"snapshto", "snapshot", 1}, {"stauts", "status", 1}, {"", "pin", 3},
		{"feed", "feed", 0}, {"xyzzy", "pin", 5},
	} {
		if got := editDistance(c.a, c.b); got != c.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}
