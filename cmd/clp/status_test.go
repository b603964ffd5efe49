package main

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/vincentos/clp/testkit/sandbox"
)

// TestStatusJSONMatchesPacmanQ: what clp reads through libalpm is exactly
// what the real pacman reports for the same root.
func TestStatusJSONMatchesPacmanQ(t *testing.T) {
	r, _ := sandbox.NewNVIDIA(t)
	var out, errb bytes.Buffer
	code := Main(context.Background(), []string{"--root", r.Dir, "status", "--json"}, nil, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var rep statusReport
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
