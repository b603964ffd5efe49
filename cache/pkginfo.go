package cache

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"github.com/vincentos/clp/internal/fsx"
)

// PkgInfo is what a package says about itself in its .PKGINFO, the data
// pacman installs from (the file name is only a convention).
type PkgInfo struct {
	Name string
	Base string
	// Version is [epoch:]pkgver-pkgrel; .PKGINFO's pkgver carries all three.
	Version string
	Arch    string
	Desc    string
	Size    int64 // installed size in bytes
	// BuildDate is when makepkg built the package (zero if not said).
	BuildDate time.Time
	Depends   []string
	Provides  []string
	Conflicts []string
	Replaces  []string
	// Backup lists the files pacman keeps a user's changes of (backup=()).
	Backup []string
}

const (
	maxPKGINFO = 1 << 20
	// maxLeadEntries bounds how far into a package ReadPKGINFO looks.
	maxLeadEntries = 32
	// maxZstdWindow bounds decoder memory for a hostile file; zstd
	// --long=27 (what makepkg's default COMPRESSZST allows) needs 128 MiB.
	maxZstdWindow = 1 << 28
)

// ReadPKGINFO reads the .PKGINFO of the package file at path.
func ReadPKGINFO(path string) (*PkgInfo, error) { return ReadPKGINFOUnder("/", path) }

// ReadPKGINFOUnder is ReadPKGINFO of a file under the system root root,
// opened anchored to it (fsx.OpenUnder: a folder on the way swapped for a
// link out of the root makes it fail).
func ReadPKGINFOUnder(root, path string) (*PkgInfo, error) {
	f, err := fsx.OpenUnder(root, path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := ReadPKGINFOFrom(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return info, nil
}

// ReadPKGINFOFrom reads a .PKGINFO from a package stream. The compression
// is taken from the magic bytes, not the file name, so a misnamed file is
// still read. It stops as soon as .PKGINFO is read, and gives up at the
// first payload entry: makepkg writes the dot-files (.BUILDINFO, .MTREE,
// .PKGINFO) before the payload, so a package whose .PKGINFO comes later is
// not one makepkg made, and reading on would decompress the whole file.
func ReadPKGINFOFrom(r io.Reader) (*PkgInfo, error) {
	dec, done, err := decompress(r)
	if err != nil {
		return nil, err
	}
	defer done()
	tr := tar.NewReader(dec)
	for n := 0; n < maxLeadEntries; n++ {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("no .PKGINFO in package")
		}
		if err != nil {
			return nil, fmt.Errorf("read package: %w", err)
		}
		name := strings.TrimPrefix(h.Name, "./")
		if name == ".PKGINFO" {
			if h.Typeflag != tar.TypeReg {
				return nil, fmt.Errorf(".PKGINFO is not a regular file")
			}
			if h.Size > maxPKGINFO {
				return nil, fmt.Errorf(".PKGINFO is %d bytes, more than %d", h.Size, maxPKGINFO)
			}
			data, err := io.ReadAll(io.LimitReader(tr, maxPKGINFO))
			if err != nil {
				return nil, fmt.Errorf("read .PKGINFO: %w", err)
			}
			return ParsePKGINFO(data)
		}
		if !strings.HasPrefix(name, ".") {
			return nil, fmt.Errorf("no .PKGINFO before the first payload entry %q", h.Name)
		}
	}
	return nil, fmt.Errorf("no .PKGINFO in the first %d entries", maxLeadEntries)
}

// decompress reads a package stream through the decompressor its magic
// bytes name (not its file name); done releases the decoder.
func decompress(r io.Reader) (dec io.Reader, done func(), err error) {
	br := bufio.NewReader(r)
	magic, _ := br.Peek(6)
	done = func() {}
	switch {
	case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		var z *zstd.Decoder
		z, err = zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(maxZstdWindow))
		if err == nil {
			dec, done = z, z.Close
		}
	case bytes.HasPrefix(magic, []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}):
		dec, err = xz.NewReader(br)
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		var g *gzip.Reader
		g, err = gzip.NewReader(br)
		if err == nil {
			dec, done = g, func() { g.Close() }
		}
	case bytes.HasPrefix(magic, []byte("BZh")):
		dec = bzip2.NewReader(br)
	default:
		dec = br // an uncompressed .pkg.tar
	}
	if err != nil {
		return nil, nil, fmt.Errorf("open compressed package: %w", err)
	}
	return dec, done, nil
}

// ParsePKGINFO parses .PKGINFO content ("key = value" lines, "#" comments).
// pkgname, pkgver and arch are required and checked as makepkg checks them.
func ParsePKGINFO(data []byte) (*PkgInfo, error) {
	p := &PkgInfo{}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, " = ")
		if !ok {
			// "depend =" with an empty value has no space after "=".
			k, v, ok = strings.Cut(line, "=")
			if !ok {
				return nil, fmt.Errorf(".PKGINFO line %d: expected 'key = value', got %q", i+1, line)
			}
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "pkgname":
			p.Name = v
		case "pkgbase":
			p.Base = v
		case "pkgver":
			p.Version = v
		case "arch":
			p.Arch = v
		case "pkgdesc":
			p.Desc = v
		case "size":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return nil, fmt.Errorf(".PKGINFO line %d: size %q is not a byte count", i+1, v)
			}
			p.Size = n
		case "builddate":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return nil, fmt.Errorf(".PKGINFO line %d: builddate %q is not a Unix time", i+1, v)
			}
			p.BuildDate = time.Unix(n, 0).UTC()
		case "depend":
			p.Depends = append(p.Depends, v)
		case "provides":
			p.Provides = append(p.Provides, v)
		case "conflict":
			p.Conflicts = append(p.Conflicts, v)
		case "replaces":
			p.Replaces = append(p.Replaces, v)
		case "backup":
			p.Backup = append(p.Backup, v)
		}
	}
	if p.Name == "" || p.Version == "" || p.Arch == "" {
		return nil, fmt.Errorf(".PKGINFO lacks pkgname, pkgver or arch")
	}
	if err := checkName(p.Name); err != nil {
		return nil, fmt.Errorf(".PKGINFO: %w", err)
	}
	j := strings.LastIndexByte(p.Version, '-')
	if j < 0 {
		return nil, fmt.Errorf(".PKGINFO: pkgver %q has no pkgrel", p.Version)
	}
	if err := checkVersion(p.Version[:j]); err != nil {
		return nil, fmt.Errorf(".PKGINFO: %w", err)
	}
	if err := checkRel(p.Version[j+1:]); err != nil {
		return nil, fmt.Errorf(".PKGINFO: %w", err)
	}
	if err := checkArch(p.Arch); err != nil {
		return nil, fmt.Errorf(".PKGINFO: %w", err)
	}
	if p.Base == "" {
		p.Base = p.Name
	}
	return p, nil
}

// Inspect reads the .PKGINFO of a cached entry's file and returns the entry
// as pacman would see it. When the file name disagrees with .PKGINFO the
// returned entry carries .PKGINFO's name, version and arch, and Note says
// what the file name claimed: pacman installs what .PKGINFO says, so a
// renamed or mislabelled file must be listed as what it really is.
func Inspect(e Entry) (Entry, *PkgInfo, error) {
	if e.Dir == "" {
		return e, nil, fmt.Errorf("%s: not a local file", e.File)
	}
	info, err := ReadPKGINFO(e.Path())
	if err != nil {
		return e, nil, err
	}
	return reconcile(e, info), info, nil
}

func reconcile(e Entry, info *PkgInfo) Entry {
	if e.Name == info.Name && e.Version == info.Version && e.Arch == info.Arch {
		return e
	}
	claimed := "an unparsable name"
	if e.Name != "" {
		claimed = e.String()
	}
	e.Note = fmt.Sprintf("file name says %s but .PKGINFO says %s %s %s", claimed, info.Name, info.Version, info.Arch)
	e.Name, e.Version, e.Arch = info.Name, info.Version, info.Arch
	return e
}

// maxListEntries and maxListBytes bound ListFiles: a package with more
// entries, or longer names in all, is not one clp reinstalls.
const (
	maxListEntries = 1 << 20
	maxListBytes   = 64 << 20
)

// ListFiles reads the package file at path to its end and returns its
// .PKGINFO and the paths it installs, as pacman lists them in a local
// database entry's %FILES% (relative, a folder with a trailing "/",
// sorted by bytes); the dot-files (.PKGINFO, .MTREE, .INSTALL ...) are
// not installed and not listed.
func ListFiles(path string) (*PkgInfo, []string, error) { return ListFilesUnder("/", path) }

// ListFilesUnder is ListFiles of a file under the system root root, opened
// anchored to it.
func ListFilesUnder(root, path string) (*PkgInfo, []string, error) {
	f, err := fsx.OpenUnder(root, path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	dec, done, err := decompress(f)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	defer done()
	var info *PkgInfo
	var files []string
	total := 0
	tr := tar.NewReader(dec)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s: read package: %w", path, err)
		}
		name := strings.TrimPrefix(h.Name, "./")
		switch {
		case name == ".PKGINFO":
			if h.Typeflag != tar.TypeReg || h.Size > maxPKGINFO {
				return nil, nil, fmt.Errorf("%s: .PKGINFO is not a regular file of at most %d bytes", path, maxPKGINFO)
			}
			data, err := io.ReadAll(io.LimitReader(tr, maxPKGINFO))
			if err != nil {
				return nil, nil, fmt.Errorf("%s: read .PKGINFO: %w", path, err)
			}
			if info, err = ParsePKGINFO(data); err != nil {
				return nil, nil, fmt.Errorf("%s: %w", path, err)
			}
			continue
		case name == "" || strings.HasPrefix(name, "."):
			// libalpm installs no entry whose name starts with ".".
			continue
		}
		if h.Typeflag == tar.TypeDir && !strings.HasSuffix(name, "/") {
			name += "/"
		}
		total += len(name) + 1
		if len(files) >= maxListEntries || total > maxListBytes {
			return nil, nil, fmt.Errorf("%s: more than %d entries or %d bytes of names", path, maxListEntries, maxListBytes)
		}
		files = append(files, name)
	}
	if info == nil {
		return nil, nil, fmt.Errorf("%s: no .PKGINFO in package", path)
	}
	slices.Sort(files)
	return info, files, nil
}

// FileSums reads the package file at path to its end and returns the hex
// sha256 of each regular file of names it holds (relative paths, as
// ListFiles gives them).
func FileSums(path string, names []string) (map[string]string, error) {
	return FileSumsUnder("/", path, names)
}

// FileSumsUnder is FileSums of a file under the system root root, opened
// anchored to it.
func FileSumsUnder(root, path string, names []string) (map[string]string, error) {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	f, err := fsx.OpenUnder(root, path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec, done, err := decompress(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer done()
	out := map[string]string{}
	tr := tar.NewReader(dec)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: read package: %w", path, err)
		}
		name := strings.TrimPrefix(h.Name, "./")
		if !want[name] || h.Typeflag != tar.TypeReg {
			continue
		}
		sum := sha256.New()
		if _, err := io.Copy(sum, tr); err != nil {
			return nil, fmt.Errorf("%s: read %s: %w", path, name, err)
		}
		out[name] = hex.EncodeToString(sum.Sum(nil))
	}
}
