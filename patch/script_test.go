package patch

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

// pwsh cannot be installed on the test machines: check that a .ps1 is
// started with the right argv, directory and environment by swapping the
// runner. The real runner is exercised by the shell-script tests.
func TestPs1ArgvDirEnv(t *testing.T) {
	root := t.TempDir()
	makeRoot(t, root)
	e := newEngine(root, nil)
	e.Config.ScriptTimeoutSec = 42
	var got []*scriptCommand
	old := runCommand
	runCommand = func(ctx context.Context, c *scriptCommand) error {
		got = append(got, c)
		c.Output.Write([]byte("hello from pwsh\n"))
		return nil
	}
	defer func() { runCommand = old }()
	a := fixtureArchive("CLP1250101")
	a.m.InstallScript, a.m.RemoveScript = "Install-Script.ps1", "Remove-Script.ps1"
	a.files["Install-Script.ps1"] = []byte("\xef\xbb\xbfWrite-Host 'hi'\r\n")
	a.files["Remove-Script.ps1"] = []byte("Write-Host 'bye'\n")
	if err := applyArchive(t, e, a, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := e.Rollback(context.Background(), "CLP1250101", RollbackOptions{}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d script runs, want 2", len(got))
	}
	dir := filepath.Join(root, "opt/CLP/CLP1250101")
	for i, script := range []string{"Install-Script.ps1", "Remove-Script.ps1"} {
		c := got[i]
		// On the host the script is named from its folder, opened inside
		// the root (anchor.go).
		if want := []string{"pwsh", "-NoProfile", "-NonInteractive", "-File", "./" + script}; !reflect.DeepEqual(c.Argv, want) {
			t.Errorf("argv = %q, want %q", c.Argv, want)
		}
		if c.Dir != dir || c.Chroot != "" || c.Timeout != 42*time.Second {
			t.Errorf("dir %q chroot %q timeout %v", c.Dir, c.Chroot, c.Timeout)
		}
		env := append([]string(nil), c.Env...)
		sort.Strings(env)
		want := []string{"CLP_PATCH_DIR=" + dir, "CLP_PATCH_NAME=CLP1250101", "CLP_ROOT=" + root, "LANG=C",
			"PATH=/usr/local/sbin:/usr/local/bin:/usr/bin:/usr/sbin:/bin:/sbin"}
		if !reflect.DeepEqual(env, want) {
			t.Errorf("env = %q, want %q", env, want)
		}
	}
	if log := string(mustRead(t, e.LogPath)); strings.Count(log, "hello from pwsh") != 2 {
		t.Fatalf("log:\n%s", log)
	}
}

func TestScriptInterpreterChoice(t *testing.T) {
	root := t.TempDir()
	e := newEngine(root, nil)
	dir := filepath.Join(root, "opt/CLP/X")
	os.MkdirAll(dir, 0o755)
	for _, c := range []struct{ name, head, want string }{
		{"a.sh", "echo no shebang\n", "/bin/sh " + dir + "/a.sh"},
		{"b.ps1", "Write-Host x\n", "pwsh -NoProfile -NonInteractive -File " + dir + "/b.ps1"},
		{"c.ps1", "#!/usr/bin/env pwsh\nWrite-Host x\n", "/usr/bin/env pwsh " + dir + "/c.ps1"},
		{"d", "#!/bin/bash -eu\r\necho\n", "/bin/bash -eu " + dir + "/d"},
		{"e.sh", "#! /bin/sh\n", "/bin/sh " + dir + "/e.sh"},
	} {
		p := filepath.Join(dir, c.name)
		os.WriteFile(p, []byte(c.head), 0o644)
		cmd, err := e.scriptCommand("X", dir, p)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(cmd.Argv, " "); got != c.want {
			t.Errorf("%s: argv %q, want %q", c.name, got, c.want)
		}
	}
}

// A real shell script, run on the host (the root has no /bin/sh, so no
// chroot): it sees exactly the documented environment and its folder.
func TestScriptRealEnvironmentWithoutChroot(t *testing.T) {
	root := t.TempDir()
	makeRoot(t, root)
	e := newEngine(root, nil)
	if e.useChroot() {
		t.Fatal("a root without /bin/sh must not be chrooted into")
	}
	a := fixtureArchive("E1")
	a.m.InstallScript = "Install-Patch.sh"
	a.files["Install-Patch.sh"] = []byte("env > backup/env\npwd > backup/pwd\n")
	if err := applyArchive(t, e, a, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "opt/CLP/E1")
	checkScriptEnv(t, dir, dir, root)
}

// As root, with a root that has /bin/sh, the script runs chrooted: it sees
// /opt/CLP/<name> and CLP_ROOT=/.
func TestScriptRealChroot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("chroot needs root")
	}
	root := t.TempDir()
	makeRoot(t, root)
	installShell(t, root)
	e := newEngine(root, nil)
	if !e.useChroot() {
		t.Fatal("expected a chroot for a root with /bin/sh")
	}
	pre := snapshot(t, root, stateSkip...)
	a := fixtureArchive("E2")
	a.m.InstallScript = "Install-Patch.sh"
	a.files["Install-Patch.sh"] = []byte("#!/bin/sh\nexport -p > backup/env\npwd > backup/pwd\ntest -f /etc/clp-test/modified.conf\n")
	if err := applyArchive(t, e, a, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	checkScriptEnv(t, filepath.Join(root, "opt/CLP/E2"), "/opt/CLP/E2", "/")
	if err := e.Rollback(context.Background(), "E2", RollbackOptions{}); err != nil {
		t.Fatal(err)
	}
	sameTree(t, "after rollback", pre, snapshot(t, root, stateSkip...))
}

// checkScriptEnv reads what a script wrote to backup/env and backup/pwd.
func checkScriptEnv(t *testing.T, hostDir, seenDir, seenRoot string) {
	t.Helper()
	if got := strings.TrimSpace(string(mustRead(t, filepath.Join(hostDir, "backup/pwd")))); got != seenDir {
		t.Fatalf("script ran in %q, want %q", got, seenDir)
	}
	env := string(mustRead(t, filepath.Join(hostDir, "backup/env")))
	for _, want := range []string{"CLP_PATCH_NAME=", "CLP_PATCH_DIR=" + seenDir, "CLP_ROOT=" + seenRoot, "LANG=C", "PATH=" + scriptPATH} {
		w := strings.ReplaceAll(want, "=", "='")
		if !strings.Contains(env, want) && !strings.Contains(env, w) {
			t.Errorf("script environment lacks %s:\n%s", want, env)
		}
	}
	for _, leak := range []string{"HOME=", "GOPATH", "USER=", crashEnv} {
		if strings.Contains(env, leak) {
			t.Errorf("script environment leaks %s:\n%s", leak, env)
		}
	}
}

func TestScriptMissingInterpreter(t *testing.T) {
	root := t.TempDir()
	makeRoot(t, root)
	e := newEngine(root, nil)
	pre := snapshot(t, root, stateSkip...)
	a := fixtureArchive("M1")
	a.m.InstallScript = "Install-Script.ps1"
	a.files["Install-Script.ps1"] = []byte("Write-Host 'hi'\n")
	err := applyArchive(t, e, a, ApplyOptions{})
	mustContain(t, err, "pwsh is not installed", "rolled back")
	sameTree(t, "after missing pwsh", pre, snapshot(t, root, stateSkip...))
}
