package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vincentos/clp/internal/fsx"
	"github.com/vincentos/clp/patch"
	"github.com/vincentos/clp/testkit/sandbox"
)

// runClp runs clp in-process and returns its exit code, stdout and stderr.
func runClp(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// TestShowDiffRealRoot: clp show --diff against a real pacman root (the
// NVIDIA sandbox, clp-testconf installed by pacman) reports the backup=()
// file a patch replaces as matching, shows its diff, flags it once the
// user edits it, and leaves the root exactly as it was.
func TestShowDiffRealRoot(t *testing.T) {
	r, _ := sandbox.NewNVIDIA(t)
	conf := fsx.UnderRoot(r.Dir, "/etc/clp-testconf.conf")
	old, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	newConf := append(append([]byte{}, old...), "# added by CLPTEST1\n"...)
	if err := os.WriteFile(filepath.Join(src, "clp-testconf.conf"), newConf, 0o644); err != nil {
		t.Fatal(err)
	}
	meta := `<?xml version="1.0" encoding="UTF-8"?>
<Package format="1">
  <Name>CLPTEST1</Name>
  <Version>1</Version>
  <Files>
    <Replace target="/etc/clp-testconf.conf" payload="clp-testconf.conf" sha256="auto" expect="auto"/>
  </Files>
</Package>
`
	if err := os.WriteFile(filepath.Join(src, "PKGINFO.meta"), []byte(meta), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "CLPTEST1.clp")
	if code, _, stderr := runClp(t, "--root", r.Dir, "build", src, "-o", out); code != 0 {
		t.Fatalf("build: exit %d: %s", code, stderr)
	}

	show := func() showReport {
		t.Helper()
		before := sandbox.MustTree(t, r.Dir)
		code, stdout, stderr := runClp(t, "--root", r.Dir, "show", out, "--diff", "--json")
		if code != 0 {
			t.Fatalf("show: exit %d: %s", code, stderr)
		}
		sandbox.AssertUnchanged(t, r.Dir, before)
		var rep showReport
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
			t.Fatalf("show --json: %v\n%s", err, stdout)
		}
		return rep
	}

	rep := show()
	if rep.Signature.Status != "unsigned" || rep.DryRun == nil || rep.DryRun.Conflicts != 0 || len(rep.Files) != 1 {
		t.Fatalf("show: %+v", rep)
	}
	f := rep.Files[0]
	wantDiff := patch.UnifiedDiff("a/etc/clp-testconf.conf", old, "b/etc/clp-testconf.conf", newConf)
	if f.Diff != wantDiff || !strings.Contains(f.Diff, "+# added by CLPTEST1\n") {
		t.Fatalf("diff:\n%s\nwant:\n%s", f.Diff, wantDiff)
	}
	if !f.Check.Matches || f.Check.SHA256 != fsx.SHA256Bytes(old) {
		t.Fatalf("check: %+v", f.Check)
	}

	// The user edits the file: the dry run says apply would refuse.
	if err := os.WriteFile(conf, []byte("edited\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rep = show()
	if rep.DryRun.Conflicts != 1 || rep.Files[0].Check.Matches || !strings.Contains(rep.Files[0].Check.Problem, "changed since the patch was made") {
		t.Fatalf("after an edit: %+v %+v", rep.DryRun, rep.Files[0].Check)
	}
	if !strings.Contains(rep.Files[0].Diff, "-edited\n") {
		t.Fatalf("diff from the edited file:\n%s", rep.Files[0].Diff)
	}
}

// TestShowJSONIsDescribe: clp show --json carries patch.Describe's
// description unchanged, with the file and signature beside it.
func TestShowJSONIsDescribe(t *testing.T) {
	sample := filepath.Join(testdataDir, "patches", "example.clp")
	code, stdout, stderr := runClp(t, "--root", t.TempDir(), "show", sample, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var got showReport
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatal(err)
	}
	a, err := patch.OpenFile(sample, patch.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	want, err := patch.Describe(a, "")
	if err != nil {
		t.Fatal(err)
	}
	wj, _ := json.Marshal(want)
	gj, _ := json.Marshal(got.Description)
	if !bytes.Equal(wj, gj) {
		t.Fatalf("show --json:\n%s\nDescribe:\n%s", gj, wj)
	}
	if got.File != sample || got.Signature.Status != "untrusted" || got.Signature.KeyID != "88E4AF2D4C03D92B" || got.Signature.TrustedComment != "" {
		t.Fatalf("file/signature: %q %+v", got.File, got.Signature)
	}
}
