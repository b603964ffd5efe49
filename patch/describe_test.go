package patch

import (
	"crypto/rand"
	"encoding/base64"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/vincentos/clp/internal/fsx"
	"github.com/vincentos/clp/testkit/sandbox"
)

// descRoot copies the sample example-root (the system the example patch
// expects) into a temporary directory.
func descRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	src := filepath.Join(samplesDir, "example-root", "opt", "CLP")
	dst := filepath.Join(root, "opt", "CLP")
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"modified-file.txt", "removed-file.txt"} {
		data, err := os.ReadFile(filepath.Join(src, n))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, n), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func descOpen(t *testing.T, path string) Archive {
	t.Helper()
	a, err := OpenFile(path, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// descBuild builds a format 1 patch from a PKGINFO.meta and payload files,
// with expect="auto" resolved against root.
func descBuild(t *testing.T, meta string, files map[string][]byte, root string) Archive {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ManifestName), []byte(meta), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(t.TempDir(), "p.clp")
	if err := Build(dir, out, BuildOptions{Root: root}); err != nil {
		t.Fatal(err)
	}
	return descOpen(t, out)
}

func descMeta(files string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<Package format="1">
  <Name>CLPTEST</Name>
  <Version>1</Version>
  <Files>
` + files + `
  </Files>
</Package>
`
}

func TestDescribeWithoutRoot(t *testing.T) {
	for _, sample := range []string{"example.clp", "example-zip.clp"} {
		t.Run(sample, func(t *testing.T) {
			d, err := Describe(descOpen(t, filepath.Join(samplesDir, sample)), "")
			if err != nil {
				t.Fatal(err)
			}
			if d.Name != "CLP0250101" || d.Version != "1" || d.Format != 1 || d.Severity != "normal" ||
				d.Author != "Your Name" || d.Date != "2025-01-01" || d.Architecture != "x86_64" {
				t.Fatalf("metadata: %+v", d)
			}
			if d.DryRun != nil {
				t.Fatalf("a description without a root has a dry run: %+v", d.DryRun)
			}
			want := []FileDescription{
				{Op: OpAdd, Target: "/opt/CLP/new-file.txt", Payload: "tmp/example-patch/new-file.txt",
					SHA256: "f9c00485e78f9669b283d043a232b6e85d12caf1d4ced9534ccbb8f4c8d34286", Mode: "0644", Owner: "root", Group: "root"},
				{Op: OpReplace, Target: "/opt/CLP/modified-file.txt", Payload: "tmp/example-patch/modified-file.txt",
					SHA256: "78dc67058525eb5697fd0640367e48eec5befe97db3c9dc22cbbf7d7fd88d5e2", Expect: "e27c7a813e3d491ee992edf8ba83c59a0ef39adc5481d5d2f45e33172d0b686f"},
				{Op: OpRemove, Target: "/opt/CLP/removed-file.txt", Expect: "cec6097a093c5704a01d6fc02f548d4e28b3c5f1ff134e4f562c4110d642f0ee"},
			}
			if !reflect.DeepEqual(d.Files, want) {
				t.Fatalf("files:\n got %+v\nwant %+v", d.Files, want)
			}
			if len(d.Packages) != 0 || len(d.AppliesTo) != 0 || d.InstallScript != "" {
				t.Fatalf("unexpected packages, conditions or scripts: %+v", d)
			}
			wantEntries := []string{"PKGINFO.meta", "tmp/example-patch/modified-file.txt", "tmp/example-patch/new-file.txt"}
			if !reflect.DeepEqual(d.Entries, wantEntries) {
				t.Fatalf("entries %q, want %q", d.Entries, wantEntries)
			}
		})
	}
}

func TestDescribeLegacy(t *testing.T) {
	d, err := Describe(descOpen(t, filepath.Join(samplesDir, "legacy-ini.clp")), descRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	if d.Format != 0 || d.InstallScript != "Install-Patch.ps1" || d.RemoveScript != "Remove-Patch.ps1" || len(d.Files) != 0 {
		t.Fatalf("legacy patch: %+v", d)
	}
	if d.DryRun == nil || d.DryRun.Conflicts != 0 {
		t.Fatalf("dry run of a patch without file actions: %+v", d.DryRun)
	}
}

// TestDescribeDryRun checks the example patch against the system it
// expects: every action matches, and the diffs are exactly diff -u's.
func TestDescribeDryRun(t *testing.T) {
	root := descRoot(t)
	before := sandbox.MustTree(t, root)
	d, err := Describe(descOpen(t, filepath.Join(samplesDir, "example.clp")), root)
	if err != nil {
		t.Fatal(err)
	}
	sandbox.AssertUnchanged(t, root, before)
	if d.DryRun == nil || d.DryRun.Root != root || d.DryRun.Conflicts != 0 {
		t.Fatalf("dry run: %+v", d.DryRun)
	}
	wantDiffs := []string{
		"--- /dev/null\n+++ b/opt/CLP/new-file.txt\n@@ -0,0 +1 @@\n+This file is new: added by the example patch.\n",
		"--- a/opt/CLP/modified-file.txt\n+++ b/opt/CLP/modified-file.txt\n@@ -1 +1 @@\n-This is the original modified-file.txt.\n+This file was modified by the example patch.\n",
		"--- a/opt/CLP/removed-file.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-This file is removed by the example patch.\n",
	}
	for i, f := range d.Files {
		if f.Check == nil || !f.Check.Matches || f.Check.Problem != "" {
			t.Errorf("%s: check %+v, want a match", f.Target, f.Check)
		}
		if normalizeHunks(f.Diff) != wantDiffs[i] {
			t.Errorf("%s: diff\n%s\nwant\n%s", f.Target, f.Diff, wantDiffs[i])
		}
	}
	if c := d.Files[1].Check; !c.Exists || c.SHA256 != d.Files[1].Expect || c.Mode != "0644" {
		t.Errorf("replace target check: %+v", c)
	}
	if d.Files[0].Check.Exists {
		t.Errorf("add target reported as existing")
	}
}

// normalizeHunks writes "@@ -1,1 +1,1 @@" as diff -u does ("@@ -1 +1 @@"),
// so the expectations above read as the familiar tool prints them.
func normalizeHunks(d string) string {
	var out []string
	for _, l := range strings.SplitAfter(d, "\n") {
		if strings.HasPrefix(l, "@@ ") {
			l = strings.ReplaceAll(l, ",1 ", " ")
		}
		out = append(out, l)
	}
	return strings.Join(out, "")
}

// TestDescribeConflicts: a system that is not what the patch expects is
// reported action by action (what apply would refuse), still with the diff
// from what is there now, and nothing is changed.
func TestDescribeConflicts(t *testing.T) {
	root := descRoot(t)
	sys := func(p string) string { return fsx.UnderRoot(root, p) }
	if err := os.WriteFile(sys("/opt/CLP/modified-file.txt"), []byte("edited by the user\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(sys("/opt/CLP/modified-file.txt"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sys("/opt/CLP/new-file.txt"), []byte("already here\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(sys("/opt/CLP/removed-file.txt")); err != nil {
		t.Fatal(err)
	}
	before := sandbox.MustTree(t, root)
	d, err := Describe(descOpen(t, filepath.Join(samplesDir, "example.clp")), root)
	if err != nil {
		t.Fatal(err)
	}
	sandbox.AssertUnchanged(t, root, before)
	if d.DryRun.Conflicts != 3 {
		t.Fatalf("conflicts = %d, want 3", d.DryRun.Conflicts)
	}
	add, rep, rem := d.Files[0], d.Files[1], d.Files[2]
	mustHave := func(what, s string, subs ...string) {
		t.Helper()
		for _, sub := range subs {
			if !strings.Contains(s, sub) {
				t.Errorf("%s: %q does not say %q", what, s, sub)
			}
		}
	}
	mustHave("add", add.Check.Problem, "exists already", "apply refuses", "/opt/CLP/new-file.txt.clpsave")
	mustHave("add diff", add.Diff, "--- a/opt/CLP/new-file.txt", "-already here", "+This file is new")
	mustHave("replace", rep.Check.Problem, "has sha256 "+fsx.SHA256Bytes([]byte("edited by the user\n")), "expects "+rep.Expect, ".clpsave")
	mustHave("replace diff", rep.Diff, "-edited by the user", "+This file was modified")
	if rep.Check.Mode != "0600" {
		t.Errorf("replace target mode %q, want 0600", rep.Check.Mode)
	}
	mustHave("remove", rem.Check.Problem, "does not exist", "expects to remove it")
	if rem.Diff != "" || rem.Check.Exists {
		t.Errorf("remove of a missing file: diff %q, check %+v", rem.Diff, rem.Check)
	}
}

// TestDescribeDoesNotFollowLinks: a target, or a directory above it, that
// is a symbolic link is reported and never read, so a dry run cannot show
// a file outside the root.
func TestDescribeDoesNotFollowLinks(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(outside, []byte("outside the root\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Run("target", func(t *testing.T) {
		root := descRoot(t)
		p := fsx.UnderRoot(root, "/opt/CLP/modified-file.txt")
		os.Remove(p)
		if err := os.Symlink(outside, p); err != nil {
			t.Fatal(err)
		}
		d, err := Describe(descOpen(t, filepath.Join(samplesDir, "example.clp")), root)
		if err != nil {
			t.Fatal(err)
		}
		f := d.Files[1]
		if f.Check.Matches || !strings.Contains(f.Check.Problem, "is a symbolic link, not a regular file") || f.Diff != "" || f.Check.SHA256 != "" {
			t.Fatalf("symlinked target: %+v diff %q", f.Check, f.Diff)
		}
	})
	t.Run("parent", func(t *testing.T) {
		root := t.TempDir()
		if err := os.MkdirAll(filepath.Join(root, "opt"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Dir(outside), filepath.Join(root, "opt", "CLP")); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(outside, filepath.Join(filepath.Dir(outside), "modified-file.txt")); err != nil {
			t.Fatal(err)
		}
		d, err := Describe(descOpen(t, filepath.Join(samplesDir, "example.clp")), root)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range d.Files {
			if f.Check.Matches || !strings.Contains(f.Check.Problem, "parent /opt/CLP is a symbolic link, not a directory") {
				t.Errorf("%s: %+v", f.Target, f.Check)
			}
			if strings.Contains(f.Diff, "outside the root") {
				t.Errorf("%s: the dry run read through the link:\n%s", f.Target, f.Diff)
			}
		}
	})
}

func TestDescribeBinaryLargeAndMode(t *testing.T) {
	root := t.TempDir()
	sys := func(p string) string { return fsx.UnderRoot(root, p) }
	if err := os.MkdirAll(sys("/usr/lib/x"), 0o755); err != nil {
		t.Fatal(err)
	}
	big := func() []byte {
		b := make([]byte, MaxDiffSize*3/4+1)
		rand.Read(b)
		// Text (base64 lines), and random, so that it does not compress past
		// the ratio cap; over MaxDiffSize once encoded.
		s := base64.StdEncoding.EncodeToString(b)
		var out strings.Builder
		for len(s) > 76 {
			out.WriteString(s[:76] + "\n")
			s = s[76:]
		}
		return []byte(out.String() + s + "\n")
	}
	write := func(p string, data []byte, mode os.FileMode) {
		if err := os.WriteFile(sys(p), data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(sys(p), mode); err != nil {
			t.Fatal(err)
		}
	}
	write("/usr/lib/x/blob.bin", []byte("\x7fELF\x00\x00old"), 0o755)
	write("/usr/lib/x/big.txt", big(), 0o644)
	write("/usr/lib/x/tool", []byte("#!/bin/sh\n"), os.ModeSetuid|0o755)
	a := descBuild(t, descMeta(`
    <Replace target="/usr/lib/x/blob.bin" payload="blob.bin" sha256="auto" expect="auto"/>
    <Replace target="/usr/lib/x/big.txt" payload="big.txt" sha256="auto" expect="auto"/>
    <Mode target="/usr/lib/x/tool" expect="auto" mode="0755"/>
    <Add target="/usr/lib/x/same.txt" payload="same.txt" sha256="auto"/>`),
		map[string][]byte{"blob.bin": []byte("\x7fELF\x00\x00new"), "big.txt": []byte("small now\n"), "same.txt": nil}, root)
	before := sandbox.MustTree(t, root)
	d, err := Describe(a, root)
	if err != nil {
		t.Fatal(err)
	}
	sandbox.AssertUnchanged(t, root, before)
	if d.DryRun.Conflicts != 0 {
		t.Fatalf("conflicts: %+v", d.Files)
	}
	if f := d.Files[0]; f.Diff != "" || f.DiffNote != "binary file differs" {
		t.Errorf("binary: diff %q note %q", f.Diff, f.DiffNote)
	}
	if f := d.Files[1]; f.Diff != "" || f.DiffNote != "file too large to show a diff" {
		t.Errorf("large: diff %q note %q", f.Diff, f.DiffNote)
	}
	if f := d.Files[2]; f.Diff != "" || f.DiffNote != "" || f.Check.Mode != "4755" || f.Mode != "0755" {
		t.Errorf("mode: %+v check %+v", f, f.Check)
	}
	// Adding an empty file is a change even with no lines to show.
	if f := d.Files[3]; f.Diff != "" || f.Check.Exists || !f.Check.Matches {
		t.Errorf("empty add: %+v check %+v", f, f.Check)
	}
}

func TestDescribeAppliesToAndPackages(t *testing.T) {
	dir := t.TempDir()
	meta := `<?xml version="1.0" encoding="UTF-8"?>
<Package format="1">
  <Name>CLP1250601</Name>
  <Version>1</Version>
  <Severity>critical</Severity>
  <AppliesTo>
    <Architecture>x86_64</Architecture>
    <Installed name="nvidia-utils" version=">=560"/>
    <Installed name="linux"/>
    <NotInstalled name="nvidia-open"/>
  </AppliesTo>
  <Packages>
    <Downgrade name="nvidia-utils" version="550.78-1" file="nvidia-utils-550.78-1-x86_64.pkg.tar.zst" sha256="` + strings.Repeat("ab", 32) + `"/>
    <Pin name="nvidia-utils" until="560.35.03-2"/>
  </Packages>
</Package>
`
	if err := os.WriteFile(filepath.Join(dir, ManifestName), []byte(meta), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "p.clp")
	if err := Build(dir, out, BuildOptions{}); err != nil {
		t.Fatal(err)
	}
	d, err := Describe(descOpen(t, out), "")
	if err != nil {
		t.Fatal(err)
	}
	wantApplies := []string{"architecture x86_64", "nvidia-utils >=560 installed", "linux installed", "nvidia-open not installed"}
	if !reflect.DeepEqual(d.AppliesTo, wantApplies) {
		t.Errorf("applies to %q, want %q", d.AppliesTo, wantApplies)
	}
	wantPkgs := []PackageDescription{
		{Op: OpDowngrade, Name: "nvidia-utils", Version: "550.78-1", File: "nvidia-utils-550.78-1-x86_64.pkg.tar.zst", SHA256: strings.Repeat("ab", 32)},
		{Op: OpPin, Name: "nvidia-utils", Until: "560.35.03-2"},
	}
	if !reflect.DeepEqual(d.Packages, wantPkgs) {
		t.Errorf("packages %+v, want %+v", d.Packages, wantPkgs)
	}
	if d.Severity != "critical" {
		t.Errorf("severity %q", d.Severity)
	}
}
