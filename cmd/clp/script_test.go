package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/vincentos/clp/testkit/sandbox"
)

func TestMain(m *testing.M) {
	// clp status and --version keep pacman's version in the user's cache
	// directory; the tests write nowhere outside their temporary
	// directories, so they get none (a file is no directory to create one
	// under). system's tests check the cache. go build, which some tests
	// run, keeps its own cache where it did (its default, spelt out).
	if os.Getenv("GOCACHE") == "" {
		if d, err := os.UserCacheDir(); err == nil {
			os.Setenv("GOCACHE", filepath.Join(d, "go-build"))
		}
	}
	os.Setenv("XDG_CACHE_HOME", "/dev/null/clp-tests")
	testscript.Main(m, map[string]func(){
		"clp": func() {
			os.Exit(Main(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
		},
	})
}

// TestScripts runs cmd/clp/testdata/script/*.txt: one behaviour each, with
// real pacman on sandbox roots. Extra commands:
//
//	mkroot DIR            an NVIDIA sandbox root at DIR (needs root)
//	mkroot-empty DIR      a root with an empty local database
//	treesnap NAME DIR     record DIR's full state (content, mode, owner, xattrs)
//	treecmp NAME DIR      fail unless DIR is exactly as recorded
//	exitcode N CMD ARGS   run CMD, fail unless it exits with N
//
// Condition [root] holds when the tests run as uid 0.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: false,
		Setup: func(e *testscript.Env) error {
			e.Setenv("NO_COLOR", "1")
			return nil
		},
		Condition: func(cond string) (bool, error) {
			if c, ok := scriptConds[cond]; ok {
				return c(), nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: scriptCmds,
	})
}

// scriptCmds are the extra testscript commands; other _test.go files add
// theirs from init.
var scriptCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"mkroot":       cmdMkroot,
	"mkroot-empty": cmdMkrootEmpty,
	"treesnap":     cmdTreesnap,
	"treecmp":      cmdTreecmp,
	"exitcode":     cmdExitcode,
	"cptestdata":   cmdCptestdata,
}

// scriptConds are the extra testscript conditions, extendable from init.
var scriptConds = map[string]func() bool{
	"root": func() bool { return os.Geteuid() == 0 },
}

// Scripts run in parallel: the fixtures are built once for all of them.
var (
	scriptFixturesOnce sync.Once
	scriptFixtures     *sandbox.Fixtures
	scriptFixturesErr  error
)

func cmdMkroot(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: mkroot DIR")
	}
	if os.Geteuid() != 0 {
		ts.Fatalf("mkroot needs root: guard the script with [!root] skip")
	}
	scriptFixturesOnce.Do(func() { scriptFixtures, scriptFixturesErr = sandbox.BuildFixtures("", nil) })
	ts.Check(scriptFixturesErr)
	r, err := sandbox.Create(ts.MkAbs(args[0]))
	ts.Check(err)
	f := scriptFixtures
	ts.Check(r.Install(append(f.Paths(sandbox.Broken, sandbox.NVIDIA...), f.Path("clp-testconf", "1.0-1"))...))
	ts.Check(r.Cache(f.Paths(sandbox.Good, sandbox.NVIDIA...)...))
}

func cmdMkrootEmpty(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: mkroot-empty DIR")
	}
	_, err := sandbox.Create(ts.MkAbs(args[0]))
	ts.Check(err)
}

func treeFile(ts *testscript.TestScript, name string) string {
	return filepath.Join(ts.Getenv("WORK"), ".tree-"+name+".json")
}

func cmdTreesnap(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: treesnap NAME DIR")
	}
	t, err := sandbox.TreeState(ts.MkAbs(args[1]), nil)
	ts.Check(err)
	data, err := json.Marshal(t)
	ts.Check(err)
	ts.Check(os.WriteFile(treeFile(ts, args[0]), data, 0o600))
}

func cmdTreecmp(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: treecmp NAME DIR")
	}
	data, err := os.ReadFile(treeFile(ts, args[0]))
	ts.Check(err)
	var before sandbox.Tree
	ts.Check(json.Unmarshal(data, &before))
	now, err := sandbox.TreeState(ts.MkAbs(args[1]), nil)
	ts.Check(err)
	d := before.Diff(now)
	if neg {
		if len(d) == 0 {
			ts.Fatalf("%s did not change", args[1])
		}
		return
	}
	if len(d) > 0 {
		for _, l := range d {
			ts.Logf("%s", l)
		}
		ts.Fatalf("%s changed", args[1])
	}
}

func cmdExitcode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exitcode N CMD [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		got = ee.ExitCode()
	} else if err != nil {
		ts.Fatalf("run %s: %v", args[1], err)
	}
	if got != want {
		ts.Fatalf("%s exited with %d, want %d", args[1], got, want)
	}
}

// cptestdata SRC DST copies a file or folder from the repository's testdata/
// into the script's work dir, keeping modes; a folder copied onto an
// existing folder merges into it.
func cmdCptestdata(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: cptestdata SRC DST")
	}
	src, err := filepath.Abs(filepath.Join("..", "..", "testdata", args[0]))
	ts.Check(err)
	dst := ts.MkAbs(args[1])
	ts.Check(os.MkdirAll(filepath.Dir(dst), 0o755))
	// Into an existing folder, copy the contents (cp would nest src in it).
	if st, err := os.Stat(dst); err == nil && st.IsDir() {
		src += "/."
	}
	out, err := exec.Command("cp", "-a", "--no-preserve=ownership", src, dst).CombinedOutput()
	if err != nil {
		ts.Fatalf("cp %s: %v\n%s", args[0], err, out)
	}
}
