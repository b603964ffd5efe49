package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/vincentos/clp/patch"
	"github.com/vincentos/clp/testkit/sandbox"
)

// Script commands for the nvidia_patch, rollback_refusals and recover
// scripts:
//
//	cachebroken DIR             also cache the installed 560.35.03-1 driver
//	                            files in DIR's package cache, as on a real
//	                            machine (pacman keeps what it installed)
//	mknvidiapatch OUT.clp KEY   build testdata/patches/nvidia-fix against the
//	                            fixture files (each @FILE@ placeholder
//	                            becomes that file's sha256) with the real
//	                            'clp build', and sign it with 'clp sign -k KEY'
func init() {
	scriptCmds["cachebroken"] = cmdCachebroken
	scriptCmds["mknvidiapatch"] = cmdMknvidiapatch
	scriptCmds["treecmp-except"] = cmdTreecmpExcept
}

// treecmp-except NAME DIR GLOB... is treecmp leaving out the paths (relative
// to DIR, slash-separated, path.Match patterns; a match drops its subtree)
// that the script's comment justifies.
func cmdTreecmpExcept(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 3 {
		ts.Fatalf("usage: treecmp-except NAME DIR GLOB...")
	}
	skip := func(rel string) bool {
		for _, g := range args[2:] {
			if ok, _ := path.Match(g, rel); ok {
				return true
			}
		}
		return false
	}
	data, err := os.ReadFile(treeFile(ts, args[0]))
	ts.Check(err)
	var before sandbox.Tree
	ts.Check(json.Unmarshal(data, &before))
	for rel := range before {
		for p := rel; p != "." && p != "/" && p != ""; p = path.Dir(p) {
			if skip(p) {
				delete(before, rel)
				break
			}
		}
	}
	now, err := sandbox.TreeState(ts.MkAbs(args[1]), skip)
	ts.Check(err)
	if d := before.Diff(now); len(d) > 0 {
		for _, l := range d {
			ts.Logf("%s", l)
		}
		ts.Fatalf("%s changed", args[1])
	}
}

func cmdCachebroken(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: cachebroken DIR")
	}
	ts.Check(scriptRoot(ts.MkAbs(args[0])).Cache(fixtures(ts).Paths(sandbox.Broken, sandbox.NVIDIA...)...))
}

func cmdMknvidiapatch(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: mknvidiapatch OUT.clp KEYFILE")
	}
	srcDir := filepath.Join(testdataDir, "patches", "nvidia-fix")
	meta, err := os.ReadFile(filepath.Join(srcDir, "PKGINFO.meta"))
	ts.Check(err)
	f := fixtures(ts)
	for _, n := range sandbox.NVIDIA {
		p := f.Path(n, sandbox.Good)
		meta = []byte(strings.ReplaceAll(string(meta), "@"+filepath.Base(p)+"@", fileSHA256(ts, p)))
	}
	if strings.Contains(string(meta), ".pkg.tar.zst@") {
		ts.Fatalf("placeholder left in PKGINFO.meta:\n%s", meta)
	}
	conf, err := os.ReadFile(filepath.Join(srcDir, "files", "nvidia-clp.conf"))
	ts.Check(err)
	src := ts.MkAbs("nvidia-fix-src")
	ts.Check(os.MkdirAll(filepath.Join(src, "files"), 0o755))
	ts.Check(os.WriteFile(filepath.Join(src, "PKGINFO.meta"), meta, 0o644))
	ts.Check(os.WriteFile(filepath.Join(src, "files", "nvidia-clp.conf"), conf, 0o644))
	ts.Check(ts.Exec("clp", "build", src, "-o", ts.MkAbs(args[0])))
	ts.Check(ts.Exec("clp", "sign", ts.MkAbs(args[0]), "-k", ts.MkAbs(args[1])))
}

func fileSHA256(ts *testscript.TestScript, path string) string {
	fh, err := os.Open(path)
	ts.Check(err)
	defer fh.Close()
	h := sha256.New()
	_, err = io.Copy(h, fh)
	ts.Check(err)
	return hex.EncodeToString(h.Sum(nil))
}

// clpState leaves out what a command legitimately writes besides the
// system: clp's own state (journal, history, lock) and the logs.
func clpState(rel string) bool {
	return rel == "var/lib/clp" || rel == "var/log"
}

// sleepPatch builds an unsigned patch that adds /etc/gap-sleep.conf and
// whose install script writes its pid to marker, then sleeps: a transaction
// that stays open until the test interrupts it. The sandbox root has no
// /bin/sh, so the script runs on the host (see patch/script.go) and can
// write marker, which lies outside the root.
func sleepPatch(t *testing.T, marker string) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(src, "files"), 0o755))
	must(os.WriteFile(filepath.Join(src, "PKGINFO.meta"), []byte(`<?xml version="1.0" encoding="UTF-8"?>
<Package format="1">
  <Name>CLPGAPSLEEP</Name>
  <Version>1</Version>
  <Architecture>x86_64</Architecture>
  <Description>Test patch whose install script sleeps until it is interrupted</Description>
  <Author>clp tests</Author>
  <Date>2025-06-01</Date>
  <Severity>normal</Severity>
  <Files>
    <Add target="/etc/gap-sleep.conf" payload="files/gap-sleep.conf" sha256="auto" mode="0644" owner="root" group="root"/>
  </Files>
  <Scripts>
    <Install>install.sh</Install>
  </Scripts>
</Package>
`), 0o644))
	must(os.WriteFile(filepath.Join(src, "files", "gap-sleep.conf"), []byte("written by the patch\n"), 0o644))
	// The pid is written to a temporary name and renamed, so the test never
	// reads half of it; exec makes the pid that of the sleep.
	script := "#!/bin/sh\necho $$ > " + marker + ".tmp\nmv " + marker + ".tmp " + marker + "\nexec sleep 30\n"
	must(os.WriteFile(filepath.Join(src, "install.sh"), []byte(script), 0o755))
	out := filepath.Join(dir, "CLPGAPSLEEP.clp")
	must(patch.Build(src, out, patch.BuildOptions{}))
	return out
}

// startSleeping starts the real clp binary applying sleepPatch on root and
// returns once the install script runs, with the script's pid.
func startSleeping(t *testing.T, bin, root string) (*exec.Cmd, *bytes.Buffer, int) {
	t.Helper()
	marker := filepath.Join(t.TempDir(), "script-started")
	p := sleepPatch(t, marker)
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "--root", root, "apply", "--noconfirm", "--allow-unsigned", p)
	cmd.Stderr = &stderr
	cmd.Stdout = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Waiting for the script, not timing anything: the deadline only stops
	// a broken clp from hanging the test.
	deadline := time.Now().Add(30 * time.Second)
	for {
		if data, err := os.ReadFile(marker); err == nil {
			pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
			if err != nil {
				t.Fatalf("marker: %v", err)
			}
			// The script's group outlives a SIGKILLed clp: end it whatever
			// happens.
			t.Cleanup(func() { syscall.Kill(-pid, syscall.SIGKILL) })
			return cmd, &stderr, pid
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("the install script never started; clp said:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func runBin(t *testing.T, bin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// TestGapsSubprocess drives the real clp binary (main.go's signal handling
// is only there): a clp killed mid-apply is finished by the next command,
// and SIGTERM rolls an apply back with exit 130.
func TestGapsSubprocess(t *testing.T) {
	sandbox.RequireRoot(t)
	bin := sandbox.GoBuild(t, ".", filepath.Join(t.TempDir(), "clp"))

	t.Run("killed", func(t *testing.T) {
		r := sandbox.New(t)
		before := mustTreeSkip(t, r.Dir)
		cmd, _, _ := startSleeping(t, bin, r.Dir)
		if _, err := os.Stat(filepath.Join(r.Dir, "etc/gap-sleep.conf")); err != nil {
			t.Fatalf("the patch's file is not in place while its script runs: %v", err)
		}
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()

		out, errs, code := runBin(t, bin, "--root", r.Dir, "list")
		if code != 0 {
			t.Fatalf("list after the crash: exit %d\n%s", code, errs)
		}
		if !strings.Contains(errs, "clp: warning: an interrupted transaction was found and finished (see 'clp history')") {
			t.Fatalf("no recovery warning:\n%s", errs)
		}
		if !strings.Contains(out, "no patches applied") {
			t.Fatalf("list after recovery:\n%s", out)
		}
		if d := before.Diff(mustTreeSkip(t, r.Dir)); len(d) > 0 {
			t.Fatalf("root not as before the apply:\n%s", strings.Join(d, "\n"))
		}
		out, errs, code = runBin(t, bin, "--root", r.Dir, "recover")
		if code != 0 || strings.TrimSpace(out) != "nothing to recover" || errs != "" {
			t.Fatalf("recover after recovery: exit %d\n%s%s", code, out, errs)
		}
		out, _, _ = runBin(t, bin, "--root", r.Dir, "history")
		if !strings.Contains(out, "CLPGAPSLEEP") {
			t.Fatalf("history does not show the recovered transaction:\n%s", out)
		}
	})

	t.Run("sigterm", func(t *testing.T) {
		r := sandbox.New(t)
		before := mustTreeSkip(t, r.Dir)
		cmd, stderr, pid := startSleeping(t, bin, r.Dir)
		cmd.Process.Signal(syscall.SIGTERM)
		err := cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != ExitInterrupted {
			t.Fatalf("clp after SIGTERM: %v, want exit %d\n%s", err, ExitInterrupted, stderr)
		}
		msg := stderr.String()
		if !strings.Contains(msg, "clp: error: interrupted: apply CLPGAPSLEEP failed") ||
			!strings.Contains(msg, "rolled back, the system is as it was before") {
			t.Fatalf("the error does not say interrupted and rolled back:\n%s", msg)
		}
		// clp kills the script's whole group before it exits.
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("the install script (pid %d) outlived clp: %v", pid, err)
		}
		if d := before.Diff(mustTreeSkip(t, r.Dir)); len(d) > 0 {
			t.Fatalf("root not rolled back:\n%s", strings.Join(d, "\n"))
		}
		out, errs, code := runBin(t, bin, "--root", r.Dir, "recover")
		if code != 0 || strings.TrimSpace(out) != "nothing to recover" {
			t.Fatalf("recover after an interrupted apply: exit %d\n%s%s", code, out, errs)
		}
	})
}

func mustTreeSkip(t *testing.T, dir string) sandbox.Tree {
	t.Helper()
	tr, err := sandbox.TreeState(dir, clpState)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// nvidiaRoot is the black-screen root with no archive server (no network),
// the 560 driver cached as pacman leaves it.
func nvidiaRoot(t *testing.T) *sandbox.Root {
	t.Helper()
	r, f := sandbox.NewNVIDIA(t)
	if err := r.Cache(f.Paths(sandbox.Broken, sandbox.NVIDIA...)...); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(r.Dir, "etc/clp"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(r.Dir, "etc/clp/clp.conf"), []byte("[options]\nArchiveServer =\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return r
}

func runMain(args ...string) (string, string, int) {
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, nil, &out, &errb)
	return out.String(), errb.String(), code
}

// A held pacman db.lck: exit 3, the lock file named, nothing changed.
// In-process so that lockWait can be short.
func TestGapsDowngradeLocked(t *testing.T) {
	sandbox.RequireRoot(t)
	r := nvidiaRoot(t)
	old := lockWait
	lockWait = 300 * time.Millisecond
	t.Cleanup(func() { lockWait = old })
	lck := filepath.Join(r.DBPath, "db.lck")
	if err := os.WriteFile(lck, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// clp takes its own lock (var/lib/clp/lock, made on first use) before
	// pacman's: the system is what must not change.
	before := mustTreeSkip(t, r.Dir)
	_, errs, code := runMain("--root", r.Dir, "downgrade", "nvidia-utils", "--to", "550.78-1", "--noconfirm")
	if code != ExitLocked {
		t.Fatalf("exit %d, want %d\n%s", code, ExitLocked, errs)
	}
	if !strings.Contains(errs, "clp: error: ") || !strings.Contains(errs, lck) {
		t.Fatalf("error does not name %s:\n%s", lck, errs)
	}
	if d := before.Diff(mustTreeSkip(t, r.Dir)); len(d) > 0 {
		t.Fatalf("root changed:\n%s", strings.Join(d, "\n"))
	}
	if _, err := os.Stat(lck); err != nil {
		t.Fatalf("the other pacman's lock is gone: %v", err)
	}
}

// pacman itself fails (a file the 550 package installs is already there,
// owned by nobody): exit 6, and pacman's transaction changes nothing.
func TestGapsDowngradePacmanFails(t *testing.T) {
	sandbox.RequireRoot(t)
	r := nvidiaRoot(t)
	stray := filepath.Join(r.Dir, "usr/lib/libnvidia-glcore.so.550.78")
	if err := os.WriteFile(stray, []byte("left by a manual install\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// pacman.log records the failed transaction: that is its job; clp's
	// lock (var/lib/clp/lock) is made on first use. The stray file, the
	// packages and pacman's database must stay as they were.
	skip := func(rel string) bool { return rel == "var/log/pacman.log" || rel == "var/lib/clp" }
	before, err := sandbox.TreeState(r.Dir, skip)
	if err != nil {
		t.Fatal(err)
	}
	out, errs, code := runMain("--root", r.Dir, "downgrade", "nvidia-utils", "--to", "550.78-1", "--noconfirm")
	if code != ExitPacman {
		t.Fatalf("exit %d, want %d\n%s", code, ExitPacman, errs)
	}
	if !strings.Contains(errs, "clp: error: pacman -U nvidia-utils nvidia-dkms: pacman exited with status 1") {
		t.Fatalf("error does not say pacman failed:\n%s", errs)
	}
	// pacman's own message names the file (on stdout or stderr: clp passes
	// both through).
	if !strings.Contains(out+errs, "libnvidia-glcore.so.550.78 exists in filesystem") {
		t.Fatalf("pacman's own message (the conflicting file) is not shown:\n%s%s", out, errs)
	}
	after, err := sandbox.TreeState(r.Dir, skip)
	if err != nil {
		t.Fatal(err)
	}
	if d := before.Diff(after); len(d) > 0 {
		t.Fatalf("root changed:\n%s", strings.Join(d, "\n"))
	}
}

// --latest-cached picks the newest cached version older than the installed
// one (550.78-1, not the cached 560.35.03-1), and brings nvidia-dkms along.
func TestGapsDowngradeLatestCached(t *testing.T) {
	sandbox.RequireRoot(t)
	r := nvidiaRoot(t)
	out, errs, code := runMain("--root", r.Dir, "downgrade", "nvidia-utils", "--latest-cached", "--noconfirm")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	for _, want := range []string{"nvidia-utils", "nvidia-dkms"} {
		if !strings.Contains(out, want) || !strings.Contains(out, "560.35.03-1 -> 550.78-1") {
			t.Fatalf("plan does not show %s 560.35.03-1 -> 550.78-1:\n%s", want, out)
		}
	}
	q, err := r.Query()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"nvidia-utils": "550.78-1", "nvidia-dkms": "550.78-1", "nvidia-settings": "560.35.03-1", "clp-testconf": "1.0-1"}
	if sandbox.Versions(q) != sandbox.Versions(want) {
		t.Fatalf("installed:\n%s\nwant:\n%s", sandbox.Versions(q), sandbox.Versions(want))
	}
}

// A cached file that is not the package its name claims (a 550.78 package
// renamed to 540.0): pkgtx's check refuses it as a failed verification,
// exit 4, before pacman runs, and nothing changes.
func TestGapsDowngradeCheckFails(t *testing.T) {
	sandbox.RequireRoot(t)
	r := nvidiaRoot(t)
	for _, n := range []string{"nvidia-settings"} {
		data, err := os.ReadFile(filepath.Join(r.CacheDir, n+"-550.78-1-x86_64.pkg.tar.zst"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(r.CacheDir, n+"-540.0-1-x86_64.pkg.tar.zst"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	skip := func(rel string) bool { return rel == "var/lib/clp" }
	before, err := sandbox.TreeState(r.Dir, skip)
	if err != nil {
		t.Fatal(err)
	}
	_, errs, code := runMain("--root", r.Dir, "downgrade", "nvidia-settings", "--to", "540.0-1", "--noconfirm")
	if code != ExitVerify {
		t.Fatalf("exit %d, want %d\n%s", code, ExitVerify, errs)
	}
	if !strings.Contains(errs, "the file holds nvidia-settings 550.78-1, not nvidia-settings 540.0-1") {
		t.Fatalf("error does not say what the file holds:\n%s", errs)
	}
	after, err := sandbox.TreeState(r.Dir, skip)
	if err != nil {
		t.Fatal(err)
	}
	if d := before.Diff(after); len(d) > 0 {
		t.Fatalf("root changed:\n%s", strings.Join(d, "\n"))
	}
}
