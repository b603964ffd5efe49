package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/vincentos/clp/patch"
	"github.com/vincentos/clp/testkit/sandbox"
)

// The interactive paths on a real terminal: clp runs on a pseudo-terminal
// as it would in a user's shell, answers are typed, and Ctrl-C is the
// terminal's own interrupt character (the line discipline sends SIGINT to
// clp's process group), not a signal sent by the test.

// ptyTerm is clp running on a pseudo-terminal, with everything it printed.
type ptyTerm struct {
	cmd  *exec.Cmd
	pty  *os.File
	mu   sync.Mutex
	out  bytes.Buffer
	read chan struct{} // closed when the terminal's output ends
}

func startTerm(t *testing.T, bin string, args ...string) *ptyTerm {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "NO_COLOR=1", "TERM=dumb")
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 120})
	if err != nil {
		t.Fatal(err)
	}
	tm := &ptyTerm{cmd: cmd, pty: f, read: make(chan struct{})}
	go func() {
		defer close(tm.read)
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			tm.mu.Lock()
			tm.out.Write(buf[:n])
			tm.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		f.Close()
	})
	return tm
}

func (tm *ptyTerm) text() string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return tm.out.String()
}

// waitFor waits until the output matches re and returns the match. The
// deadline only stops a broken clp from hanging the test; nothing is timed.
func (tm *ptyTerm) waitFor(t *testing.T, re string) []string {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if m := rx.FindStringSubmatch(tm.text()); m != nil {
			return m
		}
		select {
		case <-tm.read:
			if m := rx.FindStringSubmatch(tm.text()); m != nil {
				return m
			}
			t.Fatalf("clp ended without printing %q:\n%s", re, tm.text())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("clp never printed %q:\n%s", re, tm.text())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (tm *ptyTerm) typeIn(t *testing.T, s string) {
	t.Helper()
	if _, err := io.WriteString(tm.pty, s); err != nil {
		t.Fatal(err)
	}
}

// exit waits for clp and returns its exit code. A clp still running after
// two minutes (one that ignores Ctrl-C waits forever) is killed and fails
// the test.
func (tm *ptyTerm) exit(t *testing.T) int {
	t.Helper()
	stuck := time.AfterFunc(2*time.Minute, func() { tm.cmd.Process.Kill() })
	err := tm.cmd.Wait()
	if !stuck.Stop() {
		t.Fatalf("clp did not end and was killed:\n%s", tm.text())
	}
	<-tm.read
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0
}

// ptyPatch builds an unsigned patch that adds /etc/pty-test.conf.
func ptyPatch(t *testing.T) string {
	t.Helper()
	src := filepath.Join(t.TempDir(), "src")
	if err := os.MkdirAll(filepath.Join(src, "files"), 0o755); err != nil {
		t.Fatal(err)
	}
	meta := `<?xml version="1.0" encoding="UTF-8"?>
<Package format="1">
  <Name>CLPPTY</Name>
  <Version>1</Version>
  <Architecture>x86_64</Architecture>
  <Description>Test patch for the terminal prompts</Description>
  <Author>clp tests</Author>
  <Date>2025-06-01</Date>
  <Severity>normal</Severity>
  <Files>
    <Add target="/etc/pty-test.conf" payload="files/pty-test.conf" sha256="auto" mode="0644" owner="root" group="root"/>
  </Files>
</Package>
`
	if err := os.WriteFile(filepath.Join(src, "PKGINFO.meta"), []byte(meta), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "files", "pty-test.conf"), []byte("from the patch\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "CLPPTY.clp")
	if err := patch.Build(src, out, patch.BuildOptions{}); err != nil {
		t.Fatal(err)
	}
	return out
}

// Ctrl-C at the apply prompt: clp stops at once with exit 130 and changes
// nothing; y on the terminal applies.
func TestPromptTerminalApply(t *testing.T) {
	sandbox.RequireRoot(t)
	bin := buildClp(t, t.TempDir())
	r := sandbox.New(t)
	p := ptyPatch(t)
	before := mustTreeSkip(t, r.Dir)

	tm := startTerm(t, bin, "--root", r.Dir, "apply", "--allow-unsigned", p)
	tm.waitFor(t, `Apply this patch\? \[Y/n\] `)
	tm.typeIn(t, "\x03") // Ctrl-C
	if code := tm.exit(t); code != ExitInterrupted {
		t.Fatalf("Ctrl-C at the prompt: exit %d, want %d\n%s", code, ExitInterrupted, tm.text())
	}
	if !regexp.MustCompile(`clp: error: interrupted: nothing was changed`).MatchString(tm.text()) {
		t.Fatalf("Ctrl-C at the prompt does not say nothing changed:\n%s", tm.text())
	}
	if diff := before.Diff(mustTreeSkip(t, r.Dir)); len(diff) > 0 {
		t.Fatalf("Ctrl-C at the prompt changed the root:\n%s", diff)
	}

	tm = startTerm(t, bin, "--root", r.Dir, "apply", "--allow-unsigned", p)
	tm.waitFor(t, `Apply this patch\? \[Y/n\] `)
	tm.typeIn(t, "y\r")
	if code := tm.exit(t); code != 0 {
		t.Fatalf("y at the prompt: exit %d\n%s", code, tm.text())
	}
	if _, err := os.Stat(filepath.Join(r.Dir, "etc/pty-test.conf")); err != nil {
		t.Fatalf("y at the prompt did not apply: %v\n%s", err, tm.text())
	}
}

// The downgrade menu on a terminal: bad input asks again, Ctrl-C at the
// confirmation stops with 130 and nothing changed, a number and Enter
// downgrade with real pacman.
func TestDowngradeMenuTerminal(t *testing.T) {
	sandbox.RequireRoot(t)
	bin := buildClp(t, t.TempDir())
	r := nvidiaRoot(t)
	before := mustTreeSkip(t, r.Dir)

	tm := startTerm(t, bin, "--root", r.Dir, "downgrade", "nvidia-utils")
	tm.waitFor(t, `Enter a number \(default: none\): `)
	tm.typeIn(t, "x\r")
	tm.waitFor(t, `"x" is not a number from 1 to \d+; try again`)
	n := tm.waitFor(t, `(\d+)\) +550\.78-1 +cache +\d{4}-\d\d-\d\d +[\d.]+ (B|KiB)`)[1]
	tm.typeIn(t, n+"\r")
	tm.waitFor(t, `Proceed with installation\? \[Y/n\] `)
	tm.typeIn(t, "\x03")
	if code := tm.exit(t); code != ExitInterrupted {
		t.Fatalf("Ctrl-C at the confirmation: exit %d, want %d\n%s", code, ExitInterrupted, tm.text())
	}
	if diff := before.Diff(mustTreeSkip(t, r.Dir)); len(diff) > 0 {
		t.Fatalf("Ctrl-C at the confirmation changed the root:\n%s", diff)
	}

	tm = startTerm(t, bin, "--root", r.Dir, "downgrade", "nvidia-utils")
	tm.waitFor(t, `Enter a number \(default: none\): `)
	tm.typeIn(t, n+"\r")
	tm.waitFor(t, `Proceed with installation\? \[Y/n\] `)
	tm.typeIn(t, "\r") // Enter: the default, yes
	tm.waitFor(t, `Pin nvidia-utils 550\.78-1, nvidia-dkms 550\.78-1, so that updates leave them there\? \[y/N\] `)
	tm.typeIn(t, "y\r")
	tm.waitFor(t, `:: pinned nvidia-utils, nvidia-dkms`)
	if code := tm.exit(t); code != 0 {
		t.Fatalf("downgrade from the menu: exit %d\n%s", code, tm.text())
	}
	q, err := r.Query()
	if err != nil {
		t.Fatal(err)
	}
	if q["nvidia-utils"] != sandbox.Good {
		t.Fatalf("nvidia-utils is %s after the menu's downgrade, want %s\n%s", q["nvidia-utils"], sandbox.Good, tm.text())
	}
}
