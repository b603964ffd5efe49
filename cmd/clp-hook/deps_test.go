package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// forbidden are what the hook binary must not link: cgo and libalpm, the
// feed's TUF and signing stack, HTTP and the network. Every pacman
// transaction starts clp-hook three times; each of these costs start-up
// time (package init, shared libraries) for nothing a hook does.
var forbidden = []string{
	"github.com/Jguer/go-alpm/v2",
	"github.com/vincentos/clp/alpm",
	"github.com/theupdateframework/go-tuf/v2",
	"github.com/sigstore/",
	"github.com/google/go-containerregistry/",
	"google.golang.org/protobuf/",
	"net/http",
	"net",
	"crypto/tls",
	"github.com/vincentos/clp/feed",
	"github.com/vincentos/clp/update",
	"github.com/vincentos/clp/cache",
}

type dep struct {
	path     string
	standard bool
	cgo      bool
}

// deps lists the packages pkg links, as go list sees them with env.
func deps(t *testing.T, pkg string, env ...string) []dep {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}} {{.Standard}} {{len .CgoFiles}}", pkg)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %s: %v", pkg, err)
	}
	var ds []dep
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(l)
		ds = append(ds, dep{path: f[0], standard: f[1] == "true", cgo: f[2] != "0"})
	}
	return ds
}

// banned: p is a forbidden package, or below one ("net" alone: its
// subpackages such as net/netip are pure Go and cheap; net/http is listed).
func banned(p string) bool {
	for _, f := range forbidden {
		switch {
		case strings.HasSuffix(f, "/"):
			if strings.HasPrefix(p, f) {
				return true
			}
		case p == f, f != "net" && strings.HasPrefix(p, f+"/"):
			return true
		}
	}
	return false
}

// TestHookBinaryIsLean: clp-hook links none of the forbidden packages, and
// no package outside the standard library that needs cgo (the standard
// library's own cgo parts, os/user's, have pure-Go twins the build takes
// with CGO_ENABLED=0, as the Makefile builds it).
func TestHookBinaryIsLean(t *testing.T) {
	for _, env := range [][]string{nil, {"CGO_ENABLED=0"}} {
		for _, d := range deps(t, ".", env...) {
			if banned(d.path) {
				t.Errorf("%v: clp-hook links %s", env, d.path)
			}
			if d.cgo && !d.standard {
				t.Errorf("%v: clp-hook links %s, which needs cgo", env, d.path)
			}
		}
	}
}

// TestForbiddenCheckSeesClp: the same check finds the forbidden packages
// in clp itself (so an empty result above is not a broken go list).
func TestForbiddenCheckSeesClp(t *testing.T) {
	found := map[string]bool{}
	for _, d := range deps(t, "../clp") {
		if banned(d.path) {
			found[d.path] = true
		}
	}
	for _, want := range []string{"github.com/Jguer/go-alpm/v2", "net/http", "net", "github.com/vincentos/clp/alpm"} {
		if !found[want] {
			t.Errorf("the check does not see %s in clp (found %v)", want, found)
		}
	}
}
