package child

import (
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The reaper: a child's own children (a pacman hook's, a script's
// background job, even one that left the process group with setsid) carry
// the marker but no parent-death signal, so a clp killed while they run
// would leave them running until the next clp ends them (EndLeftovers).
// Each tracked child therefore has a reaper beside it: clp's own binary,
// re-executed (/proc/self/exe, the very binary running, even if an
// upgrade replaced its file) in its own session, reading a pipe that only
// clp holds. When the child ends, clp writes reaperDone and the reaper
// exits. When clp dies, the pipe closes without that word, and the reaper
// at once ends every process carrying the child's marker, with the
// process groups they lead, until none is left; then it exits too. A
// reaper that cannot start changes nothing else: the next clp still ends
// the leftovers before it recovers.

// reaperArg is the argument that makes a binary linking this package a
// reaper (init, before the program's own main).
const reaperArg = "__clp-child-reaper"

// reaperDone is what clp writes to a reaper whose child ended normally.
const reaperDone = "done"

// reaperWait bounds how long a reaper keeps ending marked processes.
const reaperWait = 10 * time.Second

func init() {
	if len(os.Args) == 3 && os.Args[1] == reaperArg && validToken(os.Args[2]) {
		os.Exit(reap(os.Stdin, os.Args[2]))
	}
}

// reap waits for clp's word on r; without it (clp died), it ends every
// process carrying token.
func reap(r io.Reader, token string) int {
	// A terminal's signals are for clp, not for its reaper.
	signal.Ignore(syscall.SIGINT, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGPIPE)
	b, _ := io.ReadAll(io.LimitReader(r, 64))
	if string(b) == reaperDone {
		return 0
	}
	endMarked(map[string]bool{token: true}, reaperWait)
	return 0
}

// endMarked SIGKILLs every live process carrying one of tokens, and the
// process group each leads, until none is left or wait has passed. It
// returns the processes it ended and those still alive at the end.
func endMarked(tokens map[string]bool, wait time.Duration) (ended map[int]bool, left []int) {
	ended = map[int]bool{}
	deadline := time.Now().Add(wait)
	for {
		pids := Marked(tokens)
		if len(pids) == 0 {
			return ended, nil
		}
		for _, pid := range pids {
			if pgid, err := syscall.Getpgid(pid); err == nil && pgid == pid {
				syscall.Kill(-pid, syscall.SIGKILL)
			}
			syscall.Kill(pid, syscall.SIGKILL)
			ended[pid] = true
		}
		if time.Now().After(deadline) {
			return ended, pids
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startReaper starts the reaper of the child marked token; stop tells it
// the child ended and waits for it. It must be called from the OS thread
// that starts the child (Run locks it), though the reaper needs no
// parent-death signal: the pipe's end is its signal.
func startReaper(token string) (stop func()) {
	pr, pw, err := os.Pipe()
	if err != nil {
		return func() {}
	}
	cmd := exec.Command("/proc/self/exe", reaperArg, token)
	cmd.Stdin = pr
	cmd.Env = withoutMarker(os.Environ())
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		return func() {}
	}
	pr.Close()
	return func() {
		io.WriteString(pw, reaperDone)
		pw.Close()
		cmd.Wait()
	}
}

// withoutMarker is env without a marker clp itself may carry (a clp run by
// a pacman hook of a clp): the reaper must not be taken for a child.
func withoutMarker(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if len(kv) > len(EnvVar) && kv[:len(EnvVar)+1] == EnvVar+"=" {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// Reapers lists the live reapers of the children marked by tokens (what a
// test kills to stand for a reaper that died with clp).
func Reapers(tokens map[string]bool) []int {
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || zombie(pid) {
			continue
		}
		cl, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(cl), "\x00"), "\x00")
		if len(args) == 3 && args[1] == reaperArg && tokens[args[2]] {
			out = append(out, pid)
		}
	}
	return out
}
