package patch

// The malformed-input corpus: testdata/corpus/<case>.clp, one file per
// refusal, and testdata/corpus/INDEX.txt giving each file's limits and the
// error text it must produce. The files are made by corpusCases below;
// `go test ./patch -run TestCorpusUpToDate -update` writes them again.

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/corpus and testdata/patches")

const corpusDir = "../testdata/corpus"

var fixedTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

type tarEnt struct {
	name string
	typ  byte
	body []byte
	link string
}

func reg(name, body string) tarEnt { return tarEnt{name: name, typ: tar.TypeReg, body: []byte(body)} }

func mkTarGz(t testing.TB, ents ...tarEnt) []byte {
	var b bytes.Buffer
	gz, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	tw := tar.NewWriter(gz)
	for _, e := range ents {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: 0o644, Size: int64(len(e.body)),
			Linkname: e.link, ModTime: fixedTime, Format: tar.FormatGNU}
		if e.typ != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatalf("tar %q: %v", e.name, err)
		}
		tw.Write(e.body)
	}
	tw.Close()
	gz.Close()
	return b.Bytes()
}

type zipEnt struct {
	name string
	mode fs.FileMode
	body []byte
	// raw entries are written with CreateRaw: declared sizes, flags and
	// method exactly as given, data as given.
	raw      bool
	declared uint64
	flags    uint16
	method   uint16
}

func zreg(name, body string) zipEnt { return zipEnt{name: name, body: []byte(body)} }

func mkZip(t testing.TB, ents ...zipEnt) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, e := range ents {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: fixedTime}
		if e.mode != 0 {
			h.SetMode(e.mode)
		} else {
			h.SetMode(0o644)
		}
		if e.raw {
			h.Method = e.method
			h.Flags = e.flags
			h.CRC32 = crc32.ChecksumIEEE(e.body)
			h.CompressedSize64 = uint64(len(e.body))
			h.UncompressedSize64 = e.declared
			w, err := zw.CreateRaw(h)
			if err != nil {
				t.Fatal(err)
			}
			w.Write(e.body)
			continue
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(e.body)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func sum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

const helloBody = "hello=world\n"

// metaXML is a valid format 1 PKGINFO.meta with the given <Files> body.
func metaXML(files string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<Package format="1">
  <Name>CLP0250101</Name>
  <Version>1</Version>
  <Architecture>x86_64</Architecture>
  <Description>corpus</Description>
  <Files>
` + files + `
  </Files>
</Package>
`
}

var goodFiles = `    <Add target="/etc/hello.conf" payload="files/hello.conf" sha256="` + sum(helloBody) + `" mode="0644"/>`

var goodMeta = metaXML(goodFiles)

// withMeta is a good archive's entries with PKGINFO.meta replaced.
func withMeta(meta string, extra ...tarEnt) []tarEnt {
	return append([]tarEnt{reg(ManifestName, meta), reg("files/hello.conf", helloBody)}, extra...)
}

type corpusCase struct {
	name   string
	limits string // "-" or key=value,... (maxentries, maxtotal, maxentry, maxmeta, maxarchive)
	want   string
	data   func(t testing.TB) []byte
}

func tgz(ents ...tarEnt) func(testing.TB) []byte {
	return func(t testing.TB) []byte { return mkTarGz(t, ents...) }
}

func zp(ents ...zipEnt) func(testing.TB) []byte {
	return func(t testing.TB) []byte { return mkZip(t, ents...) }
}

func metaCase(name, want, meta string) corpusCase {
	return corpusCase{name, "-", want, tgz(withMeta(meta)...)}
}

func filesCase(name, want, files string) corpusCase {
	return metaCase(name, want, metaXML(files))
}

func corpusCases() []corpusCase {
	zgood := []zipEnt{zreg(ManifestName, goodMeta), zreg("files/hello.conf", helloBody)}
	many := withMeta(goodMeta)
	for i := 0; i < 20; i++ {
		many = append(many, reg(fmt.Sprintf("extra/%02d", i), "x"))
	}
	zeros := strings.Repeat("\x00", 4<<20)
	return []corpusCase{
		// Entry names.
		{"abs-path", "-", `entry "/etc/passwd": absolute path`, tgz(withMeta(goodMeta, reg("/etc/passwd", "root::0:0::/:/bin/sh\n"))...)},
		{"dotdot", "-", `entry "../etc/passwd": path escapes the patch`, tgz(withMeta(goodMeta, reg("../etc/passwd", "x"))...)},
		{"dotdot-inner-zip", "-", `entry "files/../../x": path escapes the patch`, zp(append(zgood, zreg("files/../../x", "x"))...)},
		{"backslash", "-", `entry "files\\evil": backslash in name`, tgz(withMeta(goodMeta, reg(`files\evil`, "x"))...)},
		{"nul-name-zip", "-", `NUL character in name`, zp(append(zgood, zreg("files/a\x00b", "x"))...)},
		{"control-char", "-", `entry "files/a\nb": control character in name`, tgz(withMeta(goodMeta, reg("files/a\nb", "x"))...)},
		{"root-as-file-zip", "-", `a file cannot be the archive's root directory`, zp(append(zgood, zreg(".", "x"))...)},
		// Entry types.
		{"symlink", "-", `entry "files/link": symbolic links are not allowed`, tgz(withMeta(goodMeta, tarEnt{name: "files/link", typ: tar.TypeSymlink, link: "/etc/shadow"})...)},
		{"symlink-zip", "-", `entry "files/link": symbolic links are not allowed`, zp(append(zgood, zipEnt{name: "files/link", mode: fs.ModeSymlink | 0o777, body: []byte("/etc/shadow")})...)},
		{"hardlink", "-", `entry "files/link": hard links are not allowed`, tgz(withMeta(goodMeta, tarEnt{name: "files/link", typ: tar.TypeLink, link: "files/hello.conf"})...)},
		{"chardev", "-", `entry "files/null": device files are not allowed`, tgz(withMeta(goodMeta, tarEnt{name: "files/null", typ: tar.TypeChar})...)},
		{"blockdev", "-", `entry "files/sda": device files are not allowed`, tgz(withMeta(goodMeta, tarEnt{name: "files/sda", typ: tar.TypeBlock})...)},
		{"fifo", "-", `entry "files/fifo": fifos are not allowed`, tgz(withMeta(goodMeta, tarEnt{name: "files/fifo", typ: tar.TypeFifo})...)},
		{"fifo-zip", "-", `entry "files/fifo": fifos are not allowed`, zp(append(zgood, zipEnt{name: "files/fifo", mode: fs.ModeNamedPipe | 0o644})...)},
		{"unknown-tar-type", "-", `entry "files/odd": unsupported tar entry type 'Q'`, tgz(withMeta(goodMeta, tarEnt{name: "files/odd", typ: 'Q'})...)},
		{"encrypted-zip", "-", `entry "files/secret": encrypted entries are not supported`, zp(append(zgood, zipEnt{name: "files/secret", raw: true, body: []byte("xxxx"), declared: 4, flags: 1})...)},
		{"zip-method", "-", `entry "files/bz": unsupported compression method 12`, zp(append(zgood, zipEnt{name: "files/bz", raw: true, body: []byte("BZh9"), declared: 4, method: 12})...)},
		// Duplicates and clashes.
		{"duplicate", "-", `entry "files/hello.conf": duplicate entry`, tgz(withMeta(goodMeta, reg("files/hello.conf", helloBody))...)},
		{"duplicate-dot", "-", `entry "files/./hello.conf": duplicate entry`, tgz(withMeta(goodMeta, reg("files/./hello.conf", "other\n"))...)},
		{"duplicate-case-zip", "-", `entry "files/Hello.conf": duplicate entry (differs only in case from "files/hello.conf")`, zp(append(zgood, zreg("files/Hello.conf", "x"))...)},
		{"file-parent-clash", "-", `entry "files/hello.conf/x": its parent "files/hello.conf" is a file`, tgz(withMeta(goodMeta, reg("files/hello.conf/x", "x"))...)},
		// Caps.
		{"too-many-entries", "maxentries=10", `more than 10 entries`, tgz(many...)},
		{"total-size", "maxtotal=4096", `entries add up to more than the 4096 byte cap`, tgz(withMeta(goodMeta, reg("files/big", strings.Repeat("x", 5000)))...)},
		{"entry-size", "maxentry=1000", `entry "files/big": 5000 bytes, over the 1000 byte cap for one entry`, tgz(withMeta(goodMeta, reg("files/big", strings.Repeat("x", 5000)))...)},
		{"ratio-zip", "-", `entry "files/zeros": compression ratio over 200:1`, zp(append(zgood, zreg("files/zeros", zeros))...)},
		{"ratio-targz", "-", `compression ratio over 200:1`, tgz(withMeta(goodMeta, reg("files/zeros", zeros))...)},
		{"manifest-size", "maxmeta=100", `entry "PKGINFO.meta": `, tgz(withMeta(goodMeta)...)},
		{"archive-size", "maxarchive=100", `archive is `, tgz(withMeta(goodMeta)...)},
		{"size-lies-zip", "-", `entry "files/liar": declared size 5 is smaller than its data`, zp(append(zgood, zipEnt{name: "files/liar", raw: true, body: []byte(strings.Repeat("A", 100)), declared: 5})...)},
		{"size-lies-short-zip", "-", `entry "files/liar": declared size 1000 but only 100 bytes`, zp(append(zgood, zipEnt{name: "files/liar", raw: true, body: []byte(strings.Repeat("A", 100)), declared: 1000})...)},
		// Not an archive, damaged archives.
		{"not-archive", "-", `not a .clp archive (neither zip nor tar.gz)`, func(testing.TB) []byte { return []byte("[Package]\nName=CLP0250101\n") }},
		{"truncated-targz", "-", `archive is truncated`, func(t testing.TB) []byte {
			b := mkTarGz(t, withMeta(goodMeta, reg("files/pad", strings.Repeat("abcdefghij", 2000)))...)
			return b[:len(b)/2]
		}},
		{"truncated-zip", "-", `malformed zip`, func(t testing.TB) []byte { b := mkZip(t, zgood...); return b[:len(b)-30] }},
		{"tar-trailing-data", "-", `trailing data after the end of the tar archive`, func(t testing.TB) []byte {
			var raw bytes.Buffer
			tw := tar.NewWriter(&raw)
			for _, e := range withMeta(goodMeta) {
				tw.WriteHeader(&tar.Header{Name: e.name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(e.body)), ModTime: fixedTime})
				tw.Write(e.body)
			}
			tw.Close()
			raw.WriteString("#!/bin/sh\nrm -rf /\n")
			var b bytes.Buffer
			gz := gzip.NewWriter(&b)
			gz.Write(raw.Bytes())
			gz.Close()
			return b.Bytes()
		}},
		// PKGINFO.meta presence.
		{"missing-pkginfo", "-", `missing PKGINFO.meta`, tgz(reg("files/hello.conf", helloBody))},
		{"second-pkginfo", "-", `entry "PKGINFO.meta": second PKGINFO.meta`, tgz(withMeta(goodMeta, reg(ManifestName, goodMeta))...)},
		{"second-pkginfo-case-zip", "-", `entry "pkginfo.META": second PKGINFO.meta (differs only in case`, zp(append(zgood, zreg("pkginfo.META", goodMeta))...)},
		// XML strictness.
		{"xml-trailing", "-", `trailing data after </Package>`, metaCase("", "", goodMeta+"garbage\n").data},
		{"xml-second-root", "-", `trailing data after </Package>: a second root element <Package>`, metaCase("", "", goodMeta+"<Package/>\n").data},
		{"xml-unknown-element", "-", `unknown element <Evil> in <Package>`, metaCase("", "", strings.Replace(goodMeta, "<Version>", "<Evil/><Version>", 1)).data},
		{"xml-unknown-attr", "-", `<Add>: unknown attribute "exec"`, filesCase("", "", strings.Replace(goodFiles, "<Add ", `<Add exec="/bin/sh" `, 1)).data},
		{"xml-doctype", "-", `DOCTYPE and other <!...> directives are not allowed`, metaCase("", "", `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>`+strings.SplitN(goodMeta, "\n", 2)[1]).data},
		{"xml-format-2", "-", `<Package format="2">: unsupported format`, metaCase("", "", strings.Replace(goodMeta, `format="1"`, `format="2"`, 1)).data},
		{"xml-malformed", "-", `malformed xml`, metaCase("", "", strings.Replace(goodMeta, "</Name>", "</Nam>", 1)).data},
		{"xml-namespace", "-", `namespaced element`, metaCase("", "", strings.Replace(goodMeta, "<Version>1</Version>", `<x:Version xmlns:x="urn:x">1</x:Version>`, 1)).data},
		{"xml-twice", "-", `<Name> given twice`, metaCase("", "", strings.Replace(goodMeta, "<Version>", "<Name>B</Name><Version>", 1)).data},
		{"xml-format0-actions", "-", `unknown element <Files> in a format 0 PKGINFO.meta`, metaCase("", "", strings.Replace(goodMeta, ` format="1"`, "", 1)).data},
		{"xml-not-utf8", "-", `not valid utf-8`, metaCase("", "", strings.Replace(goodMeta, "corpus", "corp\xffus", 1)).data},
		// PKGINFO.meta values.
		{"bad-name", "-", `Name: "-rf" is not a valid patch name`, metaCase("", "", strings.Replace(goodMeta, "CLP0250101", "-rf", 1)).data},
		{"bad-name-path", "-", `Name: "../x" is not a valid patch name`, metaCase("", "", strings.Replace(goodMeta, "CLP0250101", "../x", 1)).data},
		{"bad-version", "-", `Version: "1 2" is not a valid version`, metaCase("", "", strings.Replace(goodMeta, "<Version>1<", "<Version>1 2<", 1)).data},
		{"bad-severity", "-", `Severity: "urgent" is not`, metaCase("", "", strings.Replace(goodMeta, "<Version>", "<Severity>urgent</Severity><Version>", 1)).data},
		{"bad-sha", "-", `sha256 "XYZ" is not a lower-case hex sha256`, filesCase("", "", `<Add target="/etc/hello.conf" payload="files/hello.conf" sha256="XYZ"/>`).data},
		{"bad-expect", "-", `expect "` + strings.ToUpper(sum("x")) + `" is not a lower-case hex sha256`, filesCase("", "", `<Replace target="/etc/hello.conf" payload="files/hello.conf" sha256="`+sum(helloBody)+`" expect="`+strings.ToUpper(sum("x"))+`"/>`).data},
		{"unknown-op", "-", `unknown element <Chmod> in <Files>`, filesCase("", "", `<Chmod target="/etc/hello.conf" mode="4755"/>`).data},
		{"bad-mode", "-", `mode "0999" is not octal permission bits`, filesCase("", "", strings.Replace(goodFiles, `mode="0644"`, `mode="0999"`, 1)).data},
		{"bad-owner", "-", `owner "root;rm" is not a user/group name or number`, filesCase("", "", strings.Replace(goodFiles, `mode="0644"`, `owner="root;rm"`, 1)).data},
		{"add-with-expect", "-", `expect does not apply to add`, filesCase("", "", strings.Replace(goodFiles, `mode="0644"`, `expect="`+sum("x")+`"`, 1)).data},
		{"replace-no-expect", "-", `expect missing`, filesCase("", "", `<Replace target="/etc/hello.conf" payload="files/hello.conf" sha256="`+sum(helloBody)+`"/>`).data},
		{"remove-with-payload", "-", `payload does not apply to remove`, filesCase("", "", `<Remove target="/etc/hello.conf" payload="files/hello.conf" expect="`+sum("x")+`"/>`).data},
		{"duplicate-target", "-", `target already changed by Files[0]`, filesCase("", "", goodFiles+`<Mode target="/etc/hello.conf" expect="`+sum("x")+`" mode="0600"/>`).data},
		{"target-relative", "-", `target "etc/hello.conf" is not a clean absolute path`, filesCase("", "", strings.Replace(goodFiles, `"/etc/hello.conf"`, `"etc/hello.conf"`, 1)).data},
		{"target-dotdot", "-", `target "/etc/../root/.ssh/authorized_keys" is not a clean absolute path`, filesCase("", "", strings.Replace(goodFiles, `"/etc/hello.conf"`, `"/etc/../root/.ssh/authorized_keys"`, 1)).data},
		{"target-proc", "-", `target "/proc/sys/kernel/modprobe" is outside the paths a patch may change`, filesCase("", "", strings.Replace(goodFiles, `"/etc/hello.conf"`, `"/proc/sys/kernel/modprobe"`, 1)).data},
		{"target-clp-state", "-", `target "/var/lib/clp/applied.json" is outside the paths`, filesCase("", "", strings.Replace(goodFiles, `"/etc/hello.conf"`, `"/var/lib/clp/applied.json"`, 1)).data},
		{"target-home", "-", `target "/root/.bashrc" is outside the paths`, filesCase("", "", strings.Replace(goodFiles, `"/etc/hello.conf"`, `"/root/.bashrc"`, 1)).data},
		{"payload-not-clean", "-", `payload "./files/hello.conf" is not a clean entry name`, filesCase("", "", strings.Replace(goodFiles, `"files/hello.conf"`, `"./files/hello.conf"`, 1)).data},
		{"sha-mismatch", "-", `entry "files/hello.conf": sha256 is ` + sum(helloBody) + `, but add /etc/hello.conf says ` + sum("x"), filesCase("", "", strings.Replace(goodFiles, sum(helloBody), sum("x"), 1)).data},
		{"payload-missing", "-", `entry "files/other.conf": named by add /etc/hello.conf but missing from the archive`, filesCase("", "", strings.Replace(goodFiles, `"files/hello.conf"`, `"files/other.conf"`, 1)).data},
		{"downgrade-bad-sha", "-", `Packages[0] (downgrade nvidia-utils): sha256 "abc"`, metaCase("", "", strings.Replace(goodMeta, "</Package>", `<Packages><Downgrade name="nvidia-utils" version="550.78-1" file="nvidia-utils-550.78-1-x86_64.pkg.tar.zst" sha256="abc"/></Packages></Package>`, 1)).data},
		{"downgrade-bad-version", "-", `version "latest" is not an exact pacman version`, metaCase("", "", strings.Replace(goodMeta, "</Package>", `<Packages><Downgrade name="nvidia-utils" version="latest" file="nvidia-utils-550.78-1-x86_64.pkg.tar.zst" sha256="`+sum("p")+`"/></Packages></Package>`, 1)).data},
		{"downgrade-file-mismatch", "-", `file "nvidia-dkms-550.78-1-x86_64.pkg.tar.zst" does not match nvidia-utils-550.78-1`, metaCase("", "", strings.Replace(goodMeta, "</Package>", `<Packages><Downgrade name="nvidia-utils" version="550.78-1" file="nvidia-dkms-550.78-1-x86_64.pkg.tar.zst" sha256="`+sum("p")+`"/></Packages></Package>`, 1)).data},
		{"pin-bad-name", "-", `"Nvidia Utils" is not a valid package name`, metaCase("", "", strings.Replace(goodMeta, "</Package>", `<Packages><Pin name="Nvidia Utils"/></Packages></Package>`, 1)).data},
		{"applies-bad-constraint", "-", `version constraint "~>560" is not one of`, metaCase("", "", strings.Replace(goodMeta, "</Package>", `<AppliesTo><Installed name="nvidia-utils" version="~>560"/></AppliesTo></Package>`, 1)).data},
		// INI form.
		{"ini-unknown-key", "-", `line 3: unknown key "Exec"`, metaCase("", "", "[Package]\nName=CLP0250101\nExec=/bin/sh\n").data},
		{"ini-no-section", "-", `line 1: "Name=CLP0250101" before the [Package] section`, metaCase("", "", "Name=CLP0250101\n").data},
		{"ini-missing-name", "-", `Name: missing`, metaCase("", "", "[Package]\nVersion=1\n").data},
		// Scripts.
		{"script-missing", "-", `entry "install.sh": install script named by PKGINFO.meta but missing`, metaCase("", "", strings.Replace(goodMeta, "</Package>", `<Scripts><Install>install.sh</Install></Scripts></Package>`, 1)).data},
		{"two-install-scripts", "-", `entry "Install-Patch.ps1": second install script beside "Install-Script.ps1"`, tgz(withMeta(goodMeta, reg("Install-Script.ps1", "Write-Host a\n"), reg("Install-Patch.ps1", "Write-Host b\n"))...)},
	}
}

// parseLimits reads the INDEX.txt limits column.
func parseLimits(t testing.TB, s string) Limits {
	var l Limits
	if s == "-" {
		return l
	}
	for _, kv := range strings.Split(s, ",") {
		k, v, _ := strings.Cut(kv, "=")
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatalf("limits %q: %v", s, err)
		}
		switch k {
		case "maxentries":
			l.MaxEntries = int(n)
		case "maxtotal":
			l.MaxTotalSize = n
		case "maxentry":
			l.MaxEntrySize = n
		case "maxmeta":
			l.MaxManifestSize = n
		case "maxarchive":
			l.MaxArchiveSize = n
		default:
			t.Fatalf("limits: unknown key %q", k)
		}
	}
	return l
}

func TestCorpusUpToDate(t *testing.T) {
	var index bytes.Buffer
	index.WriteString("# Malformed .clp files: name, limits (- for defaults), error text each must produce.\n")
	index.WriteString("# Generated by patch/validate_corpus_test.go (go test ./patch -run TestCorpusUpToDate -update).\n")
	seen := map[string]bool{}
	for _, c := range corpusCases() {
		if seen[c.name] {
			t.Fatalf("case %s twice", c.name)
		}
		seen[c.name] = true
		data := c.data(t)
		fmt.Fprintf(&index, "%s.clp\t%s\t%s\n", c.name, c.limits, strconv.Quote(c.want))
		p := filepath.Join(corpusDir, c.name+".clp")
		if *update {
			if err := os.MkdirAll(corpusDir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		old, err := os.ReadFile(p)
		if err != nil || !bytes.Equal(old, data) {
			t.Errorf("%s is not what the generator makes (run with -update): %v", p, err)
		}
	}
	p := filepath.Join(corpusDir, "INDEX.txt")
	if *update {
		if err := os.WriteFile(p, index.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if old, err := os.ReadFile(p); err != nil || !bytes.Equal(old, index.Bytes()) {
		t.Errorf("%s is out of date (run with -update): %v", p, err)
	}
}

type indexRow struct {
	file, limits, want string
}

func readIndex(t testing.TB) []indexRow {
	f, err := os.Open(filepath.Join(corpusDir, "INDEX.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []indexRow
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.SplitN(line, "\t", 3)
		if len(parts) != 3 {
			t.Fatalf("INDEX.txt: bad line %q", line)
		}
		want, err := strconv.Unquote(parts[2])
		if err != nil {
			t.Fatalf("INDEX.txt: %q: %v", line, err)
		}
		rows = append(rows, indexRow{parts[0], parts[1], want})
	}
	return rows
}

// TestCorpus opens every corpus file, from disk, as zip or tar.gz by its
// bytes, and checks the refusal: a *FormatError with the expected text, the
// input unchanged and nothing left in the temporary directory.
func TestCorpus(t *testing.T) {
	rows := readIndex(t)
	if len(rows) < len(corpusCases()) {
		t.Fatalf("INDEX.txt lists %d cases, the generator %d", len(rows), len(corpusCases()))
	}
	for _, r := range rows {
		t.Run(strings.TrimSuffix(r.file, ".clp"), func(t *testing.T) {
			t.Parallel()
			p := filepath.Join(corpusDir, r.file)
			before, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			lim := parseLimits(t, r.limits)
			tmp := t.TempDir()
			lim.TempDir = tmp
			a, err := OpenFile(p, lim)
			if err == nil {
				a.Close()
				t.Fatalf("opened; want refusal %q", r.want)
			}
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Errorf("error is %T, not *FormatError: %v", err, err)
			}
			if !strings.Contains(err.Error(), r.want) {
				t.Errorf("error\n  %v\nwant it to contain\n  %s", err, r.want)
			}
			after, _ := os.ReadFile(p)
			if !bytes.Equal(before, after) {
				t.Error("input file changed")
			}
			if left, _ := os.ReadDir(tmp); len(left) != 0 {
				t.Errorf("left %d files in the temporary directory", len(left))
			}
			// The same bytes through OpenReader must be refused the same way.
			if _, err2 := OpenReader(bytes.NewReader(before), int64(len(before)), lim); err2 == nil || err2.Error() != err.Error() {
				t.Errorf("OpenReader: %v, OpenFile: %v", err2, err)
			}
			// Opened only to be checked (clp verify, CheckVerified): the
			// same refusal.
			if a3, err3 := openReaderMode(bytes.NewReader(before), int64(len(before)), lim, true); err3 == nil || err3.Error() != err.Error() {
				if a3 != nil {
					a3.Close()
				}
				t.Errorf("checkOnly: %v, OpenFile: %v", err3, err)
			}
		})
	}
}

// TestCorpusGoodBaseIsGood makes sure the refusals come from the one
// thing each case breaks: the archive they all start from opens.
func TestCorpusGoodBaseIsGood(t *testing.T) {
	for _, data := range [][]byte{mkTarGz(t, withMeta(goodMeta)...), mkZip(t, zreg(ManifestName, goodMeta), zreg("files/hello.conf", helloBody))} {
		a, err := OpenReader(bytes.NewReader(data), int64(len(data)), Limits{TempDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		if got := a.Manifest().Files[0].Target; got != "/etc/hello.conf" {
			t.Errorf("target %q", got)
		}
		a.Close()
	}
}

// TestValidSHA256AsRegexp: validSHA256 and validTxID say what sha256RE
// and txIDRE say.
func TestValidSHA256AsRegexp(t *testing.T) {
	hex := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for _, s := range []string{"", hex, hex[:63], hex + "0", strings.ToUpper(hex), hex[:63] + "g", hex[:63] + "\n",
		"\n" + hex[:63], hex[:63] + "é"[:1], strings.Repeat("f", 64), strings.Repeat("0", 64), hex[:32] + " " + hex[:31]} {
		if got, want := validSHA256(s), sha256RE.MatchString(s); got != want {
			t.Errorf("validSHA256(%q) = %v, sha256RE says %v", s, got, want)
		}
	}
	for _, s := range []string{"", hex[:16], hex[:15], hex[:17], strings.ToUpper(hex[:16]), hex[:15] + "g", hex[:15] + "\n", "-" + hex[:15]} {
		if got, want := validTxID(s), txIDRE.MatchString(s); got != want {
			t.Errorf("validTxID(%q) = %v, txIDRE says %v", s, got, want)
		}
	}
}
