package main

import (
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vincentos/clp/alpm"
	"github.com/vincentos/clp/testkit/sandbox"
)

// glibc is what clp may still name in DT_NEEDED: the C library alone
// (libdl and libpthread are parts of it since glibc 2.34, stubs here).
var glibc = map[string]bool{"libc.so.6": true, "libdl.so.2": true, "libpthread.so.0": true}

// buildClp builds cmd/clp as the tests' leg builds it (tags, CGO_CFLAGS and
// CGO_LDFLAGS from the environment), env added.
func buildClpAt(t *testing.T, env ...string) string {
	t.Helper()
	return sandbox.GoBuildEnv(t, ".", filepath.Join(t.TempDir(), "clp"), env...)
}

// TestClpDoesNotLinkLibalpm: the clp binary names no libalpm, and no
// library of libalpm's, in DT_NEEDED (what `readelf -d` lists), and
// imports no alpm_ symbol: go-alpm's calls go to trampolines that dlopen
// libalpm on first use (third_party/go-alpm/load.c). Every clp command
// paid for loading libalpm's ~48 libraries at start before, whether it
// used libalpm or not.
func TestClpDoesNotLinkLibalpm(t *testing.T) {
	bin := buildClpAt(t)
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	libs, err := f.ImportedLibraries()
	if err != nil {
		t.Fatal(err)
	}
	if len(libs) == 0 {
		t.Fatal("no DT_NEEDED at all: not the cgo binary this test expects")
	}
	for _, l := range libs {
		if !glibc[l] {
			t.Errorf("clp needs %s at start (DT_NEEDED %v): only the C library may be loaded before a command runs", l, libs)
		}
	}
	syms, err := f.ImportedSymbols()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range syms {
		if strings.HasPrefix(s.Name, "alpm_") {
			t.Errorf("clp imports %s from a shared library: libalpm would be needed at start", s.Name)
		}
	}
	// Nor does it export the trampolines: libalpm, once loaded, would
	// bind its calls of its own functions to them.
	dyn, err := f.DynamicSymbols()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range dyn {
		if strings.HasPrefix(s.Name, "alpm_") {
			t.Errorf("clp exports %s", s.Name)
		}
	}
}

// TestLibalpmLoadedOnlyWhenUsed: the dynamic loader's own log (glibc's
// LD_DEBUG=files) shows no libalpm for a command that does not need it, and
// libalpm.so.N, the soname clp was built for, for one that does.
func TestLibalpmLoadedOnlyWhenUsed(t *testing.T) {
	bin := buildClpAt(t)
	dir := t.TempDir()
	r, err := sandbox.Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := sandbox.SynthesizeLocalDB(r.DBPath, 3); err != nil {
		t.Fatal(err)
	}
	cache := "/dev/null/clp-tests"
	loads := func(args ...string) string {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "LD_DEBUG=files", "XDG_CACHE_HOME="+cache)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("clp %v: %v\n%s", args, err, stderr.String())
		}
		return stderr.String()
	}
	if log := loads("help", "status"); strings.Contains(log, "libalpm") {
		t.Errorf("clp help status loaded libalpm:\n%s", log)
	}
	log := loads("--root", r.Dir, "snapshot", "diff", "--help")
	if strings.Contains(log, "libalpm") {
		t.Errorf("clp snapshot diff --help loaded libalpm:\n%s", log)
	}
	log = loads("--root", r.Dir, "pin", "synth-pkg-00001")
	if !strings.Contains(log, "file="+alpm.Soname()) {
		t.Errorf("clp pin did not load %s:\n%s", alpm.Soname(), log)
	}
	// --version and status show libalpm's version: with a cache directory,
	// libalpm is loaded for it once (system.LibalpmVersion), then no more
	// while the loader would find the same file.
	if _, err := os.Stat("/etc/ld.so.cache"); err != nil {
		t.Log("no /etc/ld.so.cache: the libalpm version is not cached here")
		return
	}
	cache = t.TempDir()
	for _, e := range []string{"LD_LIBRARY_PATH", "LD_PRELOAD", "LD_AUDIT", "GLIBC_TUNABLES"} {
		t.Setenv(e, "")
	}
	for i, want := range []bool{true, false, false} {
		args := []string{"--version"}
		if i == 2 {
			args = []string{"--root", r.Dir, "status"}
		}
		if log := loads(args...); strings.Contains(log, "file="+alpm.Soname()) != want {
			t.Errorf("run %d, clp %v: libalpm loaded: %v, want %v\n%s", i, args, !want, want, log)
		}
	}
}

// TestMissingLibalpm: a clp whose libalpm cannot be loaded (built for
// libalpm.so.999, which no system has: the soname is fixed at build time,
// and no environment variable can choose another) says so and exits 7, no
// usable installation, instead of crashing, both where the error reaches
// clp's error handling (pin, through alpm.Load) and where a libalpm call
// has no error to return (--version's libalpm version): and the root is
// left as it was.
func TestMissingLibalpm(t *testing.T) {
	cflags := []string{"-DGO_ALPM_SOMAJOR=999"}
	for _, f := range strings.Fields(os.Getenv("CGO_CFLAGS")) {
		if !strings.HasPrefix(f, "-DGO_ALPM_SOMAJOR=") { // the Makefile's
			cflags = append(cflags, f)
		}
	}
	bin := buildClpAt(t, "CGO_CFLAGS="+strings.Join(cflags, " "))
	dir := t.TempDir()
	r, err := sandbox.Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := sandbox.SynthesizeLocalDB(r.DBPath, 3); err != nil {
		t.Fatal(err)
	}
	before, err := sandbox.TreeState(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--root", r.Dir, "pin", "synth-pkg-00001"}, "clp: error: cannot load libalpm.so.999: libalpm.so.999: cannot open shared object file"},
		{[]string{"--root", r.Dir, "downgrade", "synth-pkg-00001", "--cache-only"}, "clp: error: cannot load libalpm.so.999: libalpm.so.999: cannot open shared object file"},
		{[]string{"--version"}, "clp: error: cannot load libalpm.so.999: libalpm.so.999: cannot open shared object file"},
	} {
		cmd := exec.Command(bin, c.args...)
		cmd.Env = append(os.Environ(), "XDG_CACHE_HOME=/dev/null/clp-tests")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		code := -1
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		if code != ExitNoSystem {
			t.Errorf("clp %v: exit %d (%v), want %d\n%s", c.args, code, err, ExitNoSystem, stderr.String())
		}
		if !strings.HasPrefix(stderr.String(), c.want) || !strings.Contains(stderr.String(), "clp: hint: libalpm comes with pacman; reinstall the pacman package\n") {
			t.Errorf("clp %v: stderr\n%s\nwant it to start with %q, then the hint", c.args, stderr.String(), c.want)
		}
	}
	after, err := sandbox.TreeState(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := before.Diff(after); len(d) != 0 {
		t.Errorf("the root changed: %v", d)
	}
}
