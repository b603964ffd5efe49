package patch

// Sample patches in testdata/patches, made by this file (run with -update
// to write them again): the wiki's example in format 1 as tar.gz and zip,
// and two in the original tool's forms. test-key.{pub,key} is a key for
// tests only (unencrypted, published: never trust it on a real system) and
// example.clp.minisig its signature over example.clp.

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

const samplesDir = "../testdata/patches"

const legacyInstall = `#!/usr/bin/pwsh
# Patch Creator: Your Name
$patchFiles=("tmp/example-patch/new-file.txt", "tmp/example-patch/modified-file.txt")
Start-Transcript -Path "/var/log/CLP.log" -Append
mkdir backup
Copy-Item -Path "/opt/CLP/modified-file.txt" -Destination backup
Copy-Item -Path "tmp/example-patch/new-file.txt" -Destination "/opt/CLP/new-file.txt"
Copy-Item -Path "tmp/example-patch/modified-file.txt" -Destination "/opt/CLP/modified-file.txt" -Force
Remove-Item -Path "/opt/CLP/removed-file.txt" -Force
Stop-Transcript
exit 0
`

const legacyRemove = `#!/usr/bin/pwsh
Start-Transcript -Path "/var/log/CLP.log" -Append
Copy-Item -Path "backup/modified-file.txt" -Destination "/opt/CLP/modified-file.txt"
Remove-Item -Path "/opt/CLP/new-file.txt"
Stop-Transcript
`

func legacyEntries(t testing.TB, prefix string) []tarEnt {
	read := func(p string) string {
		b, err := os.ReadFile(filepath.Join(samplesDir, "example", p))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	return []tarEnt{
		{name: prefix, typ: '5'},
		reg(prefix+"Install-Patch.ps1", legacyInstall),
		reg(prefix+ManifestName, "[Package]\r\nName=CLP0250101\r\nVersion=1\r\nArchitechture=x86_64\r\nDescription=Example patch in the original INI form\r\n"),
		reg(prefix+"Remove-Patch.ps1", legacyRemove),
		reg(prefix+"tmp/example-patch/modified-file.txt", read("tmp/example-patch/modified-file.txt")),
		reg(prefix+"tmp/example-patch/new-file.txt", read("tmp/example-patch/new-file.txt")),
	}
}

// samples returns every generated sample file by name.
func samples(t testing.TB) map[string][]byte {
	out := map[string][]byte{}
	tmp := t.TempDir()
	for _, z := range []bool{false, true} {
		name := "example.clp"
		if z {
			name = "example-zip.clp"
		}
		p := filepath.Join(tmp, name)
		err := Build(filepath.Join(samplesDir, "example"), p, BuildOptions{Zip: z, Root: filepath.Join(samplesDir, "example-root")})
		if err != nil {
			t.Fatal(err)
		}
		out[name], _ = os.ReadFile(p)
	}
	// The original packager's form: tar.gz of the patch folder itself.
	out["legacy-ini.clp"] = mkTarGz(t, legacyEntries(t, "CLP0250101/")...)
	// The original docs' form: zip, XML without format, *-Script.ps1.
	var z []zipEnt
	for _, e := range legacyEntries(t, "")[1:] {
		switch e.name {
		case ManifestName:
			e.body = []byte("<Package>\n  <Name>CLP0250102</Name>\n  <Version>1</Version>\n  <Architecture>x86_64</Architecture>\n  <Description>Example patch in the original XML form</Description>\n</Package>\n")
		case "Install-Patch.ps1":
			e.name = "Install-Script.ps1"
		case "Remove-Patch.ps1":
			e.name = "Remove-Script.ps1"
		}
		z = append(z, zipEnt{name: e.name, body: e.body})
	}
	out["legacy-xml.clp"] = mkZip(t, z...)
	return out
}

func TestSamplesUpToDate(t *testing.T) {
	for name, data := range samples(t) {
		p := filepath.Join(samplesDir, name)
		if *update {
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if old, err := os.ReadFile(p); err != nil || !bytes.Equal(old, data) {
			t.Errorf("%s differs from what Build makes now (run with -update; Build must be reproducible): %v", p, err)
		}
	}
	if *update {
		keyPath := filepath.Join(samplesDir, "test-key.key")
		if _, err := os.Stat(keyPath); err != nil {
			pub, priv, _ := GenerateKey()
			if err := WritePublicKey(filepath.Join(samplesDir, "test-key.pub"), pub); err != nil {
				t.Fatal(err)
			}
			if err := WritePrivateKey(keyPath, priv, ""); err != nil {
				t.Fatal(err)
			}
		}
		priv, err := ReadPrivateKey(keyPath, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := SignFile(filepath.Join(samplesDir, "example.clp"), priv); err != nil {
			t.Fatal(err)
		}
	}
}

func readEntries(t testing.TB, a Archive) map[string]string {
	m := map[string]string{}
	for _, n := range a.Entries() {
		rc, err := a.Open(n)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		m[n] = string(b)
	}
	return m
}

func TestSamplesOpen(t *testing.T) {
	lim := Limits{TempDir: t.TempDir()}
	open := func(name string) Archive {
		a, err := OpenFile(filepath.Join(samplesDir, name), lim)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Cleanup(func() { a.Close() })
		return a
	}
	tgz, zp := open("example.clp"), open("example-zip.clp")
	m := tgz.Manifest()
	want := &Manifest{
		Format: 1, Name: "CLP0250101", Version: "1", Architecture: "x86_64",
		Description: "Example patch: adds new-file.txt, modifies modified-file.txt, removes removed-file.txt",
		Author:      "Your Name", Date: "2025-01-01", Severity: SeverityNormal,
		Files: []FileAction{
			{Op: OpAdd, Target: "/opt/CLP/new-file.txt", Payload: "tmp/example-patch/new-file.txt",
				SHA256: "f9c00485e78f9669b283d043a232b6e85d12caf1d4ced9534ccbb8f4c8d34286", Mode: "0644", Owner: "root", Group: "root"},
			{Op: OpReplace, Target: "/opt/CLP/modified-file.txt", Payload: "tmp/example-patch/modified-file.txt",
				SHA256: "78dc67058525eb5697fd0640367e48eec5befe97db3c9dc22cbbf7d7fd88d5e2",
				Expect: "e27c7a813e3d491ee992edf8ba83c59a0ef39adc5481d5d2f45e33172d0b686f"},
			{Op: OpRemove, Target: "/opt/CLP/removed-file.txt", Expect: "cec6097a093c5704a01d6fc02f548d4e28b3c5f1ff134e4f562c4110d642f0ee"},
		},
	}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("manifest\n%+v\nwant\n%+v", m, want)
	}
	if !reflect.DeepEqual(zp.Manifest(), m) {
		t.Error("zip and tar.gz forms differ in manifest")
	}
	if a, b := readEntries(t, tgz), readEntries(t, zp); !reflect.DeepEqual(a, b) {
		t.Error("zip and tar.gz forms differ in content")
	}

	ini := open("legacy-ini.clp")
	im := ini.Manifest()
	if im.Format != 0 || im.Name != "CLP0250101" || im.Architecture != "x86_64" || im.InstallScript != "Install-Patch.ps1" || im.RemoveScript != "Remove-Patch.ps1" {
		t.Errorf("legacy INI manifest %+v", im)
	}
	wantNames := []string{"Install-Patch.ps1", ManifestName, "Remove-Patch.ps1", "tmp/example-patch/modified-file.txt", "tmp/example-patch/new-file.txt"}
	if got := ini.Entries(); !reflect.DeepEqual(got, wantNames) {
		t.Errorf("entries %q (top folder not stripped?)", got)
	}
	xm := open("legacy-xml.clp").Manifest()
	if xm.Format != 0 || xm.Name != "CLP0250102" || xm.InstallScript != "Install-Script.ps1" || xm.RemoveScript != "Remove-Script.ps1" {
		t.Errorf("legacy XML manifest %+v", xm)
	}

	// The test key verifies the committed signature.
	keys, err := LoadTrustedKeys(samplesDir)
	if err != nil || len(keys) != 1 {
		t.Fatalf("test key: %v", err)
	}
	p := filepath.Join(samplesDir, "example.clp")
	if _, err := VerifyFile(p, p+SigSuffix, keys); err != nil {
		t.Error(err)
	}
}

// The real bsdtar (what an admin would use to look inside) reads what
// Build writes, in both forms, and sees exactly the entries clp sees.
func TestBuildReadByBsdtar(t *testing.T) {
	bsdtar, err := exec.LookPath("bsdtar")
	if err != nil {
		t.Skip("bsdtar not installed")
	}
	for _, name := range []string{"example.clp", "example-zip.clp"} {
		out := run(t, ".", bsdtar, "-tf", filepath.Join(samplesDir, name))
		got := strings.Fields(out)
		sort.Strings(got)
		want := []string{ManifestName, "tmp/example-patch/modified-file.txt", "tmp/example-patch/new-file.txt"}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: bsdtar lists %q", name, got)
		}
	}
}

func copyTree(t testing.TB, src, dst string) {
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if info.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, info.Mode())
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestBuildFromBsdtarFolder(t *testing.T) {
	bsdtar, err := exec.LookPath("bsdtar")
	if err != nil {
		t.Skip("bsdtar not installed")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "CLP0250101")
	copyTree(t, filepath.Join(samplesDir, "example"), src)
	// Fill the hashes as Build would, then pack with bsdtar: "./" prefixes.
	built := filepath.Join(dir, "built.clp")
	if err := Build(src, built, BuildOptions{Root: filepath.Join(samplesDir, "example-root")}); err != nil {
		t.Fatal(err)
	}
	a, _ := OpenFile(built, Limits{})
	meta, _ := a.Open(ManifestName)
	b, _ := io.ReadAll(meta)
	a.Close()
	os.WriteFile(filepath.Join(src, ManifestName), b, 0o644)
	for _, args := range [][]string{
		{"-czf", filepath.Join(dir, "dot.clp"), "-C", src, "."},
		{"-czf", filepath.Join(dir, "top.clp"), "-C", dir, "CLP0250101"},
		{"--format", "zip", "-cf", filepath.Join(dir, "zip.clp"), "-C", src, "."},
	} {
		run(t, dir, bsdtar, args...)
		p := args[1]
		if args[0] == "--format" {
			p = args[3]
		}
		a, err := OpenFile(p, Limits{TempDir: t.TempDir()})
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(p), err)
			continue
		}
		if len(a.Manifest().Files) != 3 {
			t.Errorf("%s: %d file actions", filepath.Base(p), len(a.Manifest().Files))
		}
		a.Close()
	}
}

func TestBuildRefusals(t *testing.T) {
	root := filepath.Join(samplesDir, "example-root")
	cases := []struct {
		name string
		edit func(dir string)
		root string
		want string
	}{
		{"symlink", func(d string) { os.Symlink("/etc/shadow", filepath.Join(d, "link")) }, root, "only regular files can go into a patch"},
		{"stale-sha", func(d string) {
			replaceIn(t, filepath.Join(d, ManifestName), `payload="tmp/example-patch/new-file.txt" sha256="auto"`, `payload="tmp/example-patch/new-file.txt" sha256="`+sum("old")+`"`)
		}, root, "has sha256 f9c00485"},
		{"expect-auto-without-root", func(string) {}, "", `expect is "auto"; give the hash, or a root`},
		{"expect-auto-target-missing", func(string) {}, t.TempDir(), `replace /opt/CLP/modified-file.txt: expect="auto": open`},
		{"payload-missing", func(d string) { os.Remove(filepath.Join(d, "tmp/example-patch/new-file.txt")) }, root, `payload "tmp/example-patch/new-file.txt"`},
		{"target-not-allowed", func(d string) {
			replaceIn(t, filepath.Join(d, ManifestName), `"/opt/CLP/new-file.txt"`, `"/run/evil"`)
		}, root, `target "/run/evil" is outside the paths`},
		{"no-pkginfo", func(d string) { os.Remove(filepath.Join(d, ManifestName)) }, root, "PKGINFO.meta: no such file"},
		{"bad-xml", func(d string) { replaceIn(t, filepath.Join(d, ManifestName), "</Package>", "</Package><x/>") }, root, "trailing data"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			src := filepath.Join(dir, "src")
			copyTree(t, filepath.Join(samplesDir, "example"), src)
			c.edit(src)
			outDir := filepath.Join(dir, "out")
			os.Mkdir(outDir, 0o755)
			err := Build(src, filepath.Join(outDir, "x.clp"), BuildOptions{Root: c.root})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Build: %v; want %q", err, c.want)
			}
			if left, _ := os.ReadDir(outDir); len(left) != 0 {
				t.Errorf("left %d files in the output folder", len(left))
			}
		})
	}
}

func replaceIn(t testing.TB, p, old, new string) {
	b, err := os.ReadFile(p)
	if err != nil || !bytes.Contains(b, []byte(old)) {
		t.Fatalf("%s: %q not found (%v)", p, old, err)
	}
	os.WriteFile(p, bytes.Replace(b, []byte(old), []byte(new), 1), 0o644)
}

// Build keeps executable bits, leaves the output out of its own input, and
// writes a format 0 PKGINFO.meta unchanged.
func TestBuildDetails(t *testing.T) {
	dir := t.TempDir()
	meta := "[Package]\nName=CLP1251124\nVersion=1\nArchitecture=x86_64\nDescription=install missing pacman keys\n"
	os.WriteFile(filepath.Join(dir, ManifestName), []byte(meta), 0o644)
	os.WriteFile(filepath.Join(dir, "Install-Patch.ps1"), []byte("pacman-key --populate\n"), 0o755)
	out := filepath.Join(dir, "CLP1251124.clp")
	if err := Build(dir, out, BuildOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := Build(dir, out, BuildOptions{}); err != nil { // out is inside dir now
		t.Fatal(err)
	}
	a, err := OpenFile(out, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	got := readEntries(t, a)
	if got[ManifestName] != meta || len(got) != 2 || a.Manifest().InstallScript != "Install-Patch.ps1" {
		t.Errorf("entries %q", a.Entries())
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	a, err := OpenFile(filepath.Join(samplesDir, "example.clp"), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	m := *a.Manifest()
	m.AppliesTo = AppliesTo{Architectures: []string{"x86_64"}, Packages: []PackageCondition{
		{Name: "nvidia-utils", Constraint: ">=560"}, {Name: "nvidia-open", Absent: true}}}
	m.Packages = []PackageAction{
		{Op: OpDowngrade, Name: "nvidia-utils", Version: "550.78-1", File: "nvidia-utils-550.78-1-x86_64.pkg.tar.zst", SHA256: sum("pkg")},
		{Op: OpPin, Name: "nvidia-utils", Until: "560.35.03-2"},
	}
	m.InstallScript, m.RemoveScript = "install.sh", "remove.sh"
	m.Description = `quotes " and <angles> & ampersands`
	data, err := MarshalManifest(&m)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseManifest(data)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if !reflect.DeepEqual(back, &m) {
		t.Errorf("round trip\n%+v\nwant\n%+v\n%s", back, &m, data)
	}
	if err := ValidateManifest(back, nil); err != nil {
		t.Error(err)
	}
}
