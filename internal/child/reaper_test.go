package child

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestReaperHelper is the "clp" of TestReaperEndsGrandchildrenWhenClpDies:
// it runs a shell as a tracked child and is SIGKILLed while it runs.
func TestReaperHelper(t *testing.T) {
	script := os.Getenv("CLP_CHILD_TEST_FAKE_CLP")
	if script == "" {
		t.Skip("run by TestReaperEndsGrandchildrenWhenClpDies")
	}
	cmd := exec.CommandContext(context.Background(), "sh", "-c", script)
	cmd.Stdout = os.Stdout
	Run(Dir{}, Record{What: "script"}, cmd)
	os.Exit(0)
}

// A clp SIGKILLed while its child runs: the child dies with it (its
// parent-death signal), and so, at once, without waiting for the next clp,
// do the child's own children, the one still in its process group and the
// one that left it with setsid: the reaper ends them.
func TestReaperEndsGrandchildrenWhenClpDies(t *testing.T) {
	if _, err := exec.LookPath("setsid"); err != nil {
		t.Skip("no setsid")
	}
	tag := strconv.Itoa(os.Getpid())
	script := fmt.Sprintf("sleep 3001.%[1]s & setsid sleep 3002.%[1]s & echo started; exec sleep 3003.%[1]s", tag)
	fake := exec.Command(os.Args[0], "-test.run=^TestReaperHelper$")
	fake.Env = append(os.Environ(), "CLP_CHILD_TEST_FAKE_CLP="+script)
	out, err := fake.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := fake.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, pid := range tagged(tag) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	line, _ := bufio.NewReader(out).ReadString('\n')
	if line != "started\n" {
		fake.Process.Kill()
		t.Fatalf("the child did not start: %q", line)
	}
	// All three sleeps run (the background ones may need a moment).
	deadline := time.Now().Add(5 * time.Second)
	for len(tagged(tag)) < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := len(tagged(tag)); n != 3 {
		fake.Process.Kill()
		t.Fatalf("%d of the 3 processes run", n)
	}
	fake.Process.Kill()
	fake.Wait()
	deadline = time.Now().Add(5 * time.Second)
	for len(tagged(tag)) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if left := tagged(tag); len(left) > 0 {
		t.Fatalf("5 s after clp was killed, its child's processes still run: %v", left)
	}
}

// tagged lists the live processes whose command line ends in the test's
// tag (the three sleeps).
func tagged(tag string) []int {
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || zombie(pid) {
			continue
		}
		cl, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.HasSuffix(strings.TrimRight(string(cl), "\x00"), "."+tag) && strings.HasPrefix(string(cl), "sleep\x00300") {
			out = append(out, pid)
		}
	}
	return out
}
