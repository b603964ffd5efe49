package cache

import (
	"archive/tar"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/vincentos/clp/testkit/sandbox"
)

// pacmanInfo is what real pacman (libalpm) reads from package files, one
// map per file, in one pacman run.
func pacmanInfo(t *testing.T, files ...string) []map[string]string {
	t.Helper()
	if _, err := exec.LookPath("pacman"); err != nil {
		t.Skip("pacman is not installed")
	}
	cmd := exec.Command("pacman", append([]string{"-Qip"}, files...)...)
	cmd.Env = append(os.Environ(), "LANG=C", "LC_ALL=C")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pacman -Qip: %v", err)
	}
	var res []map[string]string
	for _, block := range strings.Split(strings.TrimSpace(string(out)), "\n\n") {
		m := map[string]string{}
		for _, line := range strings.Split(block, "\n") {
			if k, v, ok := strings.Cut(line, " : "); ok {
				m[strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
		}
		res = append(res, m)
	}
	if len(res) != len(files) {
		t.Fatalf("pacman -Qip gave %d blocks for %d files", len(res), len(files))
	}
	return res
}

func joinOrNone(s []string) string {
	if len(s) == 0 {
		return "None"
	}
	return strings.Join(s, "  ")
}

// TestReadPKGINFOAgreesWithPacman reads every makepkg-built fixture, and
// the same packages recompressed as xz, gzip, bzip2 and plain tar, and
// checks each against what pacman itself reads from the file.
func TestReadPKGINFOAgreesWithPacman(t *testing.T) {
	dir := t.TempDir()
	files := sandbox.TestFixtures(t).All()
	// Every compression once is enough; the zstd fixtures are all read.
	src := fixture(t, "nvidia-dkms", sandbox.Good)
	base := strings.TrimSuffix(filepath.Base(src), ".zst")
	for _, comp := range []string{"xz", "gz", "bz2", ""} {
		dst := filepath.Join(dir, base)
		if comp != "" {
			dst += "." + comp
		}
		recompress(t, src, dst, comp)
		files = append(files, dst)
	}
	wants := pacmanInfo(t, files...)
	for i, f := range files {
		info, err := ReadPKGINFO(f)
		if err != nil {
			t.Errorf("ReadPKGINFO(%s): %v", f, err)
			continue
		}
		want := wants[i]
		got := map[string]string{
			"Name": info.Name, "Version": info.Version, "Architecture": info.Arch,
			"Depends On": joinOrNone(info.Depends), "Provides": joinOrNone(info.Provides),
			"Conflicts With": joinOrNone(info.Conflicts), "Replaces": joinOrNone(info.Replaces),
			"Description": info.Desc,
			// LANG=C: pacman prints the build date with %c.
			"Build Date": info.BuildDate.In(time.Local).Format("Mon Jan _2 15:04:05 2006"),
		}
		for k, v := range got {
			if want[k] != v {
				t.Errorf("%s: %s = %q, pacman says %q", filepath.Base(f), k, v, want[k])
			}
		}
	}
	info, err := ReadPKGINFO(fixture(t, "nvidia-dkms", sandbox.Good))
	if err != nil {
		t.Fatal(err)
	}
	if info.Base != "nvidia-utils" || info.Size != 47 || !slices.Equal(info.Depends, []string{"nvidia-utils=550.78"}) {
		t.Errorf("nvidia-dkms .PKGINFO = %+v", info)
	}
}

func TestReadPKGINFOEpoch(t *testing.T) {
	dir := t.TempDir()
	var files []string
	for _, comp := range []string{"zst", "xz", "gz", ""} {
		f := filepath.Join(dir, "foo-1:2.0-1-any.pkg.tar."+comp)
		files = append(files, f)
		buildPkg(t, f, "foo", "1:2.0-1", "any", comp, "conflict = bar<2", "provides = libfoo.so=1-64")
		info, err := ReadPKGINFO(f)
		if err != nil {
			t.Fatalf("%s: %v", comp, err)
		}
		if info.Version != "1:2.0-1" || info.Name != "foo" || info.Base != "foo" || info.Size != 6 ||
			!slices.Equal(info.Conflicts, []string{"bar<2"}) || !slices.Equal(info.Provides, []string{"libfoo.so=1-64"}) {
			t.Errorf("%s: %+v", comp, info)
		}
	}
	for i, want := range pacmanInfo(t, files...) {
		if want["Version"] != "1:2.0-1" {
			t.Errorf("%s: pacman says version %q", files[i], want["Version"])
		}
	}
}

func tarOf(t *testing.T, entries ...[2]string) []byte {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range entries {
		must(t, tw.WriteHeader(&tar.Header{Name: e[0], Mode: 0o644, Size: int64(len(e[1])), Typeflag: tar.TypeReg}))
		tw.Write([]byte(e[1]))
	}
	must(t, tw.Close())
	return b.Bytes()
}

func TestReadPKGINFORefuses(t *testing.T) {
	good := "pkgname = foo\npkgver = 1.0-1\narch = any\n"
	zst := func(data []byte) []byte {
		enc, _ := zstd.NewWriter(nil)
		return enc.EncodeAll(data, nil)
	}
	cases := []struct {
		name, why string
		data      []byte
	}{
		{"payload before .PKGINFO", `no .PKGINFO before the first payload entry "usr/bin/foo"`,
			tarOf(t, [2]string{".BUILDINFO", "x"}, [2]string{"usr/bin/foo", "x"}, [2]string{".PKGINFO", good})},
		{"no .PKGINFO at all", "no .PKGINFO in package", zst(tarOf(t, [2]string{".MTREE", "x"}))},
		{"not a package", "read package", []byte("this is not a tar file, not even close to 512 bytes")},
		{"truncated zstd", "read package", zst(tarOf(t, [2]string{".PKGINFO", good}))[:20]},
		{"bad gzip header", "open compressed package", []byte{0x1f, 0x8b, 0, 0, 0, 0}},
		{"lacks arch", "lacks pkgname, pkgver or arch", tarOf(t, [2]string{".PKGINFO", "pkgname = foo\npkgver = 1.0-1\n"})},
		{"bad pkgver", "pkgver \"1-0\" has invalid character", tarOf(t, [2]string{".PKGINFO", "pkgname = foo\npkgver = 1-0-1\narch = any\n"})},
		{"no pkgrel", "has no pkgrel", tarOf(t, [2]string{".PKGINFO", "pkgname = foo\npkgver = 1.0\narch = any\n"})},
		{"bad size", "size \"-3\" is not a byte count", tarOf(t, [2]string{".PKGINFO", good + "size = -3\n"})},
		{"bad line", "expected 'key = value'", tarOf(t, [2]string{".PKGINFO", good + "garbage\n"})},
	}
	for _, c := range cases {
		_, err := ReadPKGINFOFrom(bytes.NewReader(c.data))
		if err == nil || !strings.Contains(err.Error(), c.why) {
			t.Errorf("%s: got %v, want an error saying %q", c.name, err, c.why)
		}
	}
	// A dot-prefixed entry name ("./.PKGINFO", as some tools write) is fine.
	if _, err := ReadPKGINFOFrom(bytes.NewReader(tarOf(t, [2]string{"./.PKGINFO", good}))); err != nil {
		t.Errorf("./.PKGINFO: %v", err)
	}
}

func TestInspectTrustsPKGINFO(t *testing.T) {
	dir := t.TempDir()
	// A 560 package renamed to look like the good 550: pacman would install
	// 560, so clp must list it as 560 and say why.
	liar := "nvidia-utils-550.78-1-x86_64.pkg.tar.zst"
	copyFile(t, fixture(t, "nvidia-utils", sandbox.Broken), filepath.Join(dir, liar))
	e, err := ParseFileName(liar)
	must(t, err)
	e.Dir = dir
	got, info, err := Inspect(e)
	must(t, err)
	if got.Version != sandbox.Broken || info.Version != sandbox.Broken {
		t.Errorf("Inspect version = %q, want %q", got.Version, sandbox.Broken)
	}
	if want := "file name says nvidia-utils 550.78-1 x86_64 but .PKGINFO says nvidia-utils 560.35.03-1 x86_64"; got.Note != want {
		t.Errorf("Note = %q, want %q", got.Note, want)
	}
	// An honest file comes back unchanged.
	honest := filepath.Join(dir, "nvidia-utils-560.35.03-1-x86_64.pkg.tar.zst")
	copyFile(t, fixture(t, "nvidia-utils", sandbox.Broken), honest)
	e2, _ := ParseFileName(filepath.Base(honest))
	e2.Dir = dir
	if got, _, err := Inspect(e2); err != nil || got != e2 {
		t.Errorf("Inspect(honest) = %+v, %v", got, err)
	}
	if _, _, err := Inspect(Entry{File: liar, URL: "http://x/"}); err == nil || !strings.Contains(err.Error(), "not a local file") {
		t.Errorf("Inspect(archive entry) = %v", err)
	}
}

func FuzzParsePKGINFO(f *testing.F) {
	f.Add([]byte("pkgname = foo\npkgver = 1:1.0-1\narch = any\ndepend = bar>=2\n"))
	f.Add([]byte("pkgname=foo\npkgver=1.0-1\narch=x86_64\nsize = 12\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePKGINFO(data)
		if err != nil {
			return
		}
		// Whatever parses must make a valid file name.
		file := p.Name + "-" + p.Version + "-" + p.Arch + ".pkg.tar.zst"
		if _, err := ParseFileName(file); err != nil {
			t.Errorf("ParsePKGINFO accepted %+v but %s does not parse: %v", p, file, err)
		}
	})
}

func FuzzReadPKGINFOFrom(f *testing.F) {
	f.Add([]byte{0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0})
	f.Add([]byte{0xfd, '7', 'z', 'X', 'Z', 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		ReadPKGINFOFrom(bytes.NewReader(data)) // must not panic or hang
	})
}
