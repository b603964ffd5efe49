package nspawn

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Machine is one copy of the tree that boots in systemd-nspawn.
type Machine struct {
	// Dir is the tree on the host: files written there are seen inside
	// (between boots).
	Dir string
	// Name is the container's name (its hostname, no registration).
	Name string
	// Console is the file that collects the console of every boot.
	Console string

	tb     testing.TB
	cmd    *exec.Cmd
	leader int
	exited chan struct{}
}

var machineSeq atomic.Int64

// New copies the cached tree for one test. The copy is removed when the
// test ends.
func New(tb testing.TB) *Machine {
	tb.Helper()
	base := BaseTree(tb)
	dir, err := os.MkdirTemp(CacheDir(), "clp-nspawn-machine-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	tree := filepath.Join(dir, "tree")
	if out, err := exec.Command("cp", "-a", "--reflink=auto", base, tree).CombinedOutput(); err != nil {
		tb.Fatalf("copy the tree: %v: %s", err, out)
	}
	m := &Machine{
		Dir:     tree,
		Name:    fmt.Sprintf("clp-t%d-%d", os.Getpid()%100000, machineSeq.Add(1)),
		Console: filepath.Join(dir, "console.log"),
		tb:      tb,
	}
	tb.Cleanup(func() {
		if m.Running() {
			m.Unplug()
		}
		if tb.Failed() {
			data, _ := os.ReadFile(m.Console)
			tb.Logf("console of %s (last lines):\n%s", m.Name, tail(string(data), 60))
		}
	})
	return m
}

// Path is p inside the tree, on the host.
func (m *Machine) Path(p string) string { return filepath.Join(m.Dir, filepath.Clean("/"+p)) }

// Running reports whether the container runs.
func (m *Machine) Running() bool {
	if m.exited == nil {
		return false
	}
	select {
	case <-m.exited:
		return false
	default:
		return true
	}
}

// BootTimeout bounds a boot until systemd says running or degraded.
var BootTimeout = 90 * time.Second

// Boot boots the tree and waits until the boot is done ('systemctl
// is-system-running --wait'); it returns that state. A container that does
// not come up skips the test when it is the first boot of the process
// (nspawn cannot boot here), and fails it otherwise.
func (m *Machine) Boot() string {
	m.tb.Helper()
	if m.Running() {
		m.tb.Fatal("nspawn: Boot while the machine runs")
	}
	con, err := os.OpenFile(m.Console, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		m.tb.Fatal(err)
	}
	fmt.Fprintf(con, "=== boot %s\n", time.Now().Format(time.RFC3339))
	m.cmd = exec.Command("systemd-nspawn", "-q", "-D", m.Dir, "-M", m.Name, "-b",
		"--register=no", "--keep-unit", "--private-network", "--console=read-only")
	m.cmd.Stdin = nil
	m.cmd.Stdout, m.cmd.Stderr = con, con
	m.cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", "SYSTEMD_NSPAWN_TMPFS_TMP=1"}
	if err := m.cmd.Start(); err != nil {
		con.Close()
		m.tb.Fatalf("systemd-nspawn: %v", err)
	}
	m.exited = make(chan struct{})
	go func(cmd *exec.Cmd, c *os.File) {
		cmd.Wait()
		c.Close()
		close(m.exited)
	}(m.cmd, con)
	m.leader = 0
	deadline := time.Now().Add(BootTimeout)
	for m.leader == 0 && time.Now().Before(deadline) && m.Running() {
		m.leader = childOf(m.cmd.Process.Pid)
		if m.leader == 0 {
			time.Sleep(20 * time.Millisecond)
		}
	}
	if m.leader == 0 {
		m.cannotBoot("systemd-nspawn started no container")
	}
	for time.Now().Before(deadline) {
		if _, err := m.exec(5*time.Second, "test", "-S", "/run/systemd/private"); err == nil {
			break
		}
		if !m.Running() {
			m.cannotBoot("the container exited during boot")
		}
		time.Sleep(50 * time.Millisecond)
	}
	out, _ := m.exec(time.Until(deadline), "systemctl", "is-system-running", "--wait")
	state := strings.TrimSpace(out)
	if state != "running" && state != "degraded" {
		m.cannotBoot("systemd did not finish booting: " + state)
	}
	booted.Store(true)
	return state
}

var booted atomic.Bool

func (m *Machine) cannotBoot(why string) {
	m.tb.Helper()
	data, _ := os.ReadFile(m.Console)
	if m.Running() {
		m.Unplug()
	}
	if !booted.Load() {
		m.tb.Skipf("systemd-nspawn cannot boot a container here: %s\n%s", why, tail(string(data), 20))
	}
	m.tb.Fatalf("boot of %s: %s\n%s", m.Name, why, tail(string(data), 40))
}

// childOf finds the container's PID 1 below nspawn (pid): the descendant
// that is PID 1 of its own pid namespace (NSpid in /proc/PID/status ends
// in 1). nspawn forks an intermediate child first, which exits: taking
// just the first child could name a process that is about to vanish.
func childOf(pid int) int {
	for depth := 0; depth < 3; depth++ {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
		if err != nil {
			return 0
		}
		f := strings.Fields(string(data))
		if len(f) == 0 {
			return 0
		}
		child, _ := strconv.Atoi(f[0])
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", child))
		if err != nil {
			return 0
		}
		for _, line := range strings.Split(string(status), "\n") {
			if ns, ok := strings.CutPrefix(line, "NSpid:"); ok {
				ids := strings.Fields(ns)
				if len(ids) > 1 && ids[len(ids)-1] == "1" {
					return child
				}
			}
		}
		pid = child
	}
	return 0
}

// cleanEnv is the environment of every command run inside.
var cleanEnv = []string{"env", "-i", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=dumb", "LANG=C.UTF-8", "SYSTEMD_PAGER=", "SYSTEMD_COLORS=0"}

func (m *Machine) exec(timeout time.Duration, args ...string) (string, error) {
	if m.leader == 0 {
		return "", errors.New("nspawn: the machine is not running")
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	argv := append([]string{"-t", strconv.Itoa(m.leader), "-a"}, cleanEnv...)
	argv = append(argv, args...)
	cmd := exec.CommandContext(ctx, "nsenter", argv...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil {
		err = fmt.Errorf("%s: %w", strings.Join(args, " "), err)
	}
	return out.String(), err
}

// Exec runs a command inside (all namespaces of its PID 1, a clean
// environment) and returns its combined output.
func (m *Machine) Exec(args ...string) (string, error) { return m.exec(5*time.Minute, args...) }

// Must runs a command inside and fails the test when it fails.
func (m *Machine) Must(args ...string) string {
	m.tb.Helper()
	out, err := m.Exec(args...)
	if err != nil {
		m.tb.Fatalf("in %s: %v\n%s", m.Name, err, out)
	}
	return out
}

// Sh runs a shell command line inside.
func (m *Machine) Sh(script string) (string, error) { return m.Exec("sh", "-c", script) }

// Start runs a long-lived command inside, as a child of the test; it is
// killed at the end of the test (and dies with the container).
func (m *Machine) Start(args ...string) (*exec.Cmd, error) {
	argv := append([]string{"-t", strconv.Itoa(m.leader), "-a"}, cleanEnv...)
	cmd := exec.Command("nsenter", append(argv, args...)...)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	m.tb.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd, nil
}

// Poweroff shuts the machine down cleanly and waits for it.
func (m *Machine) Poweroff() {
	m.tb.Helper()
	m.exec(10*time.Second, "systemctl", "poweroff")
	select {
	case <-m.exited:
	case <-time.After(60 * time.Second):
		m.tb.Logf("%s did not power off in 60s: unplugging it", m.Name)
		m.Unplug()
	}
	m.leader = 0
}

// Unplug ends the machine at once, as holding the power button does:
// SIGKILL to its PID 1 kills every process in it, nothing is shut down or
// flushed.
func (m *Machine) Unplug() {
	if m.leader != 0 {
		syscall.Kill(m.leader, syscall.SIGKILL)
	}
	select {
	case <-m.exited:
	case <-time.After(20 * time.Second):
		m.cmd.Process.Kill()
		<-m.exited
	}
	m.leader = 0
}

// Reboot powers off and boots again; it returns the new boot's state.
func (m *Machine) Reboot() string {
	m.tb.Helper()
	m.Poweroff()
	return m.Boot()
}

// BootID is the running boot's id.
func (m *Machine) BootID() string {
	m.tb.Helper()
	return strings.TrimSpace(m.Must("cat", "/proc/sys/kernel/random/boot_id"))
}

// WaitUnit waits until unit's ActiveState is one of states and returns it.
func (m *Machine) WaitUnit(unit string, timeout time.Duration, states ...string) string {
	m.tb.Helper()
	deadline := time.Now().Add(timeout)
	var st string
	for time.Now().Before(deadline) {
		out, _ := m.exec(10*time.Second, "systemctl", "show", "-P", "ActiveState", unit)
		st = strings.TrimSpace(out)
		for _, s := range states {
			if st == s {
				return st
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	m.tb.Fatalf("%s: %s stayed %q for %s, want one of %v", m.Name, unit, st, timeout, states)
	return st
}
