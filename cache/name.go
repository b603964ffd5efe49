package cache

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// Entry is one package file: in a cache directory (Dir set) or on an archive
// server (URL set). Name, Version and Arch come from the file name unless
// Note says they were corrected from the package's own .PKGINFO.
type Entry struct {
	Name string
	// Version is the full version as pacman compares it:
	// [epoch:]pkgver-pkgrel.
	Version string
	Arch    string
	// File is the file's base name, decoded ("1:2.0" not "1%3A2.0").
	File string
	// Dir is the cache directory holding File ("" for an archive entry).
	Dir string
	// URL is where File was listed ("" for a cache entry); Server is the
	// archive base URL the listing came from.
	URL    string
	Server string
	// Sig reports that a detached signature File+".sig" sits beside it.
	Sig bool
	// Date and Size are the archive listing's date and size columns
	// (zero: unknown, or a cache entry).
	Date time.Time
	Size int64
	// Note, when set, says why Name/Version/Arch differ from what the
	// file name says (they were read from .PKGINFO, which pacman trusts).
	Note string
}

// Path is the file's path on disk ("" for an archive entry).
func (e Entry) Path() string {
	if e.Dir == "" {
		return ""
	}
	return filepath.Join(e.Dir, e.File)
}

// Where names the entry's source: its path or its URL.
func (e Entry) Where() string {
	if e.Dir != "" {
		return e.Path()
	}
	return e.URL
}

// String is "name version arch", the way pacman lists a package.
func (e Entry) String() string {
	return e.Name + " " + e.Version + " " + e.Arch
}

// Skip is a file that was not taken as a package, and why.
type Skip struct {
	File   string // path or URL
	Reason string
}

// Compressions are the package suffixes clp reads; pacman also knows lz4,
// lzo, lrz, lz and Z, which no Arch repository has shipped for years.
var compressions = []string{".pkg.tar.zst", ".pkg.tar.xz", ".pkg.tar.gz", ".pkg.tar.bz2", ".pkg.tar"}

const pkgTar = ".pkg.tar"

// ParseFileName splits "name-[epoch:]pkgver-pkgrel-arch.pkg.tar[.ext]" the
// way makepkg builds it. The version and arch are taken from the right,
// since pkgver, pkgrel and arch never contain a dash while names often do.
// Each part is checked against makepkg's own rules, so that a stray file
// ("foo.pkg.tar.zst.part", "download-1a2b") is reported, never misread.
func ParseFileName(file string) (Entry, error) {
	if strings.ContainsAny(file, "/\x00") {
		return Entry{}, fmt.Errorf("%q is not a plain file name", file)
	}
	if strings.HasSuffix(file, ".sig") {
		return Entry{}, fmt.Errorf("%q is a signature, not a package", file)
	}
	if strings.HasSuffix(file, ".part") {
		return Entry{}, fmt.Errorf("%q is a partial download", file)
	}
	i := strings.LastIndex(file, pkgTar)
	if i < 0 {
		return Entry{}, fmt.Errorf("%q is not a package file name (no .pkg.tar)", file)
	}
	ext := file[i:]
	known := false
	for _, c := range compressions {
		if ext == c {
			known = true
			break
		}
	}
	if !known {
		return Entry{}, fmt.Errorf("%q: unsupported package suffix %q", file, ext)
	}
	base := file[:i]
	var parts [3]string // arch, pkgrel, pkgver from the right
	for k := range parts {
		j := strings.LastIndexByte(base, '-')
		if j < 0 {
			return Entry{}, fmt.Errorf("%q: expected name-pkgver-pkgrel-arch%s", file, ext)
		}
		parts[k] = base[j+1:]
		base = base[:j]
	}
	name, ver, rel, arch := base, parts[2], parts[1], parts[0]
	if err := checkName(name); err != nil {
		return Entry{}, fmt.Errorf("%q: %w", file, err)
	}
	if err := checkVersion(ver); err != nil {
		return Entry{}, fmt.Errorf("%q: %w", file, err)
	}
	if err := checkRel(rel); err != nil {
		return Entry{}, fmt.Errorf("%q: %w", file, err)
	}
	if err := checkArch(arch); err != nil {
		return Entry{}, fmt.Errorf("%q: %w", file, err)
	}
	return Entry{Name: name, Version: ver + "-" + rel, Arch: arch, File: file}, nil
}

// checkName follows makepkg's lint_pkgname: alphanumerics and @._+-, not
// starting with a hyphen or a dot.
func checkName(s string) error {
	if s == "" {
		return fmt.Errorf("empty package name")
	}
	if s[0] == '-' || s[0] == '.' {
		return fmt.Errorf("package name %q starts with %q", s, s[0])
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && c != '@' && c != '.' && c != '_' && c != '+' && c != '-' {
			return fmt.Errorf("package name %q has invalid character %q", s, c)
		}
	}
	return nil
}

// checkVersion follows makepkg's lint_epoch and lint_pkgver: an optional
// all-digit epoch and a colon, then a pkgver without colon, slash, dash or
// whitespace.
func checkVersion(s string) error {
	ver := s
	if e, v, ok := strings.Cut(s, ":"); ok {
		if e == "" || !allDigits(e) {
			return fmt.Errorf("epoch %q is not a number", e)
		}
		ver = v
	}
	if ver == "" {
		return fmt.Errorf("empty pkgver in %q", s)
	}
	for i := 0; i < len(ver); i++ {
		c := ver[i]
		if c == ':' || c == '/' || c == '-' || c <= ' ' || c == 0x7f {
			return fmt.Errorf("pkgver %q has invalid character %q", ver, c)
		}
	}
	return nil
}

// checkRel follows makepkg's lint_pkgrel: digits, optionally ".digits".
func checkRel(s string) error {
	a, b, dot := strings.Cut(s, ".")
	if a == "" || !allDigits(a) || dot && (b == "" || !allDigits(b)) {
		return fmt.Errorf("pkgrel %q is not a number", s)
	}
	return nil
}

func checkArch(s string) error {
	if s == "" {
		return fmt.Errorf("empty arch")
	}
	for i := 0; i < len(s); i++ {
		if !isAlnum(s[i]) && s[i] != '_' {
			return fmt.Errorf("arch %q has invalid character %q", s, s[i])
		}
	}
	return nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isAlnum(c byte) bool { return isDigit(c) || isAlpha(c) }
