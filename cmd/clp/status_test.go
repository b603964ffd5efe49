package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/vincentos/clp/alpm"
	"github.com/vincentos/clp/status"
	"github.com/vincentos/clp/system"
	"github.com/vincentos/clp/testkit/sandbox"
)

// TestStatusJSONMatchesPacmanQ: what clp reads of the local database is exactly
// what the real pacman reports for the same root.
func TestStatusJSONMatchesPacmanQ(t *testing.T) {
	r, _ := sandbox.NewNVIDIA(t)
	var out, errb bytes.Buffer
	code := Main(context.Background(), []string{"--root", r.Dir, "status", "--json"}, nil, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var rep status.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	want, err := r.Query()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range rep.Packages.Installed {
		got[p.Name] = p.Version
	}
	if sandbox.Versions(got) != sandbox.Versions(want) || rep.Packages.Count != len(want) {
		t.Fatalf("clp status --json:\n%s\npacman -Q:\n%s", sandbox.Versions(got), sandbox.Versions(want))
	}
	if rep.Root != r.Dir || rep.DBPath != r.DBPath || rep.Config != r.Config {
		t.Fatalf("paths not taken under --root: %+v", rep)
	}
	if len(rep.CacheDirs) != 1 || rep.CacheDirs[0] != r.CacheDir {
		t.Fatalf("cachedirs %v, want [%s]", rep.CacheDirs, r.CacheDir)
	}
}

// status and --version report the pacman on PATH (the one clp runs) and the
// libalpm clp is linked with: on the pacman 7.1 leg of the tests, 7.1.0 and
// libalpm 16, on Debian's, 6.0.2 and 13.
func TestPacmanVersionMatchesBinary(t *testing.T) {
	out, err := exec.Command("pacman", "--version").Output()
	if err != nil {
		t.Skip("no pacman binary:", err)
	}
	m := regexp.MustCompile(`Pacman v(\S+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("cannot read pacman --version: %s", out)
	}
	got, path := system.PacmanVersion()
	if got != string(m[1]) {
		t.Fatalf("pacmanVersion() = %q, pacman --version says %q", got, m[1])
	}
	if want, _ := exec.LookPath("pacman"); path != want {
		t.Errorf("pacman path %q, want %q", path, want)
	}
	lib := regexp.MustCompile(`libalpm v(\S+)`).FindSubmatch(out)
	if lib == nil || string(lib[1]) != alpm.LibalpmVersion() {
		t.Errorf("clp links libalpm %s, the pacman it runs has %q", alpm.LibalpmVersion(), lib)
	}
	code, stdout, _ := runClp(t, "--version")
	if code != 0 || !strings.Contains(stdout, "pacman "+got+" ("+path+", libalpm "+alpm.LibalpmVersion()+")") {
		t.Errorf("clp --version (exit %d):\n%s\nwant pacman %s at %s, libalpm %s", code, stdout, got, path, alpm.LibalpmVersion())
	}
}
