package patch

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"math"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/vincentos/clp/internal/fsx"
)

// Limits bound what opening a .clp may cost and say where its files may
// land. The zero value of each field means its default (DefaultLimits).
type Limits struct {
	// MaxArchiveSize caps the .clp file itself (compressed).
	MaxArchiveSize int64
	// MaxEntries caps the number of entries (directories included).
	MaxEntries int
	// MaxEntrySize caps one entry's uncompressed size.
	MaxEntrySize int64
	// MaxTotalSize caps the sum of all entries' uncompressed sizes.
	MaxTotalSize int64
	// MaxRatio caps uncompressed/compressed size: per entry for zip (entries
	// of at least 1 MiB), for the whole stream for tar.gz.
	MaxRatio int64
	// MaxManifestSize caps PKGINFO.meta.
	MaxManifestSize int64
	// PathAllowed says whether a file action may target a path; nil means
	// clp.conf's defaults (config.Default().PathAllowed). Pass
	// (*config.Config).PathAllowed of the loaded clp.conf.
	PathAllowed func(string) bool
	// TempDir is where a tar.gz's larger payloads are spilled while the
	// archive is open, and where OpenVerified keeps its private copy of the
	// file. Both files are unlinked as soon as they are created, so nothing
	// is left behind even after a crash. "" means os.TempDir(); callers that
	// run as root should pass a root-owned directory such as /var/lib/clp/tmp.
	TempDir string
}

// DefaultLimits are generous for real patches (a package downgrade carries
// a few hundred MiB) and small enough to refuse a bomb quickly.
func DefaultLimits() Limits {
	return Limits{
		MaxArchiveSize:  4 << 30,
		MaxEntries:      10000,
		MaxEntrySize:    2 << 30,
		MaxTotalSize:    4 << 30,
		MaxRatio:        200,
		MaxManifestSize: 1 << 20,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxArchiveSize <= 0 {
		l.MaxArchiveSize = d.MaxArchiveSize
	}
	if l.MaxEntries <= 0 {
		l.MaxEntries = d.MaxEntries
	}
	if l.MaxEntrySize <= 0 {
		l.MaxEntrySize = d.MaxEntrySize
	}
	if l.MaxTotalSize <= 0 {
		l.MaxTotalSize = d.MaxTotalSize
	}
	if l.MaxRatio <= 0 {
		l.MaxRatio = d.MaxRatio
	}
	if l.MaxManifestSize <= 0 {
		l.MaxManifestSize = d.MaxManifestSize
	}
	if l.PathAllowed == nil {
		l.PathAllowed = defaultPathAllowed
	}
	return l
}

const (
	// ratioMinSize: small entries are exempt from the per-entry ratio cap,
	// where a few repeated lines legitimately compress very well and cannot
	// hurt; the total cap still bounds them.
	ratioMinSize = 1 << 20
	// tar.gz entries up to memEntryMax are held in memory, up to memTotalMax
	// in all; the rest go to the spill file.
	memEntryMax = 1 << 20
	memTotalMax = 64 << 20
)

// OpenFile opens and fully validates the .clp at path (see OpenReader). It
// does not check a signature: use OpenVerified for anything that came from
// outside. The returned Archive keeps the file open until Close; Open
// re-checks each entry's size and sha256 as it is read, so a file changed
// on disk after opening yields an error, never unvalidated bytes.
func OpenFile(path string, lim Limits) (Archive, error) {
	f, err := openPatchFile(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	a, err := openReader(f, st.Size(), lim)
	if err != nil {
		f.Close()
		return nil, err
	}
	a.closers = append(a.closers, f)
	return a, nil
}

// openPatchFile opens a .clp (or a file to sign) for reading: a regular
// file only, checked on the opened file, and never blocking on a FIFO (a
// plain open of one waits for a writer). Its size is checked by whoever
// reads it, against the limit of what it reads.
func openPatchFile(path string) (*os.File, error) {
	return fsx.OpenRegular(path, math.MaxInt64)
}

// OpenReader validates a .clp held in r (size bytes) and returns it as an
// Archive. It tells zip from tar.gz by their magic bytes, not by name.
// Everything is checked before it returns: entry names and types,
// duplicates, counts, sizes and ratios, PKGINFO.meta (parsed and validated),
// every payload's sha256 against the metadata, every file target against
// lim.PathAllowed, the scripts. Nothing is written to disk, except that
// tar.gz payloads over 1 MiB are spilled to an unlinked file in lim.TempDir
// because gzip cannot be read at random. r must stay readable until Close.
func OpenReader(r io.ReaderAt, size int64, lim Limits) (Archive, error) {
	return openReader(r, size, lim)
}

func openReader(r io.ReaderAt, size int64, lim Limits) (*archive, error) {
	return openReaderMode(r, size, lim, false)
}

// openReaderMode is openReader; with checkOnly, a tar.gz payload that would
// be spilled is hashed and dropped instead (the archive is checked exactly
// as openReader checks it, but such an entry cannot be opened afterwards):
// for CheckVerified, whose caller reads nothing but the manifest.
func openReaderMode(r io.ReaderAt, size int64, lim Limits, checkOnly bool) (*archive, error) {
	lim = lim.withDefaults()
	if size > lim.MaxArchiveSize {
		return nil, formatErr("", "archive is %d bytes, over the %d byte cap", size, lim.MaxArchiveSize)
	}
	var magic [4]byte
	n, _ := r.ReadAt(magic[:], 0)
	a := &archive{entries: map[string]*entry{}, lim: lim, folded: map[string]string{}, checkOnly: checkOnly}
	var err error
	switch {
	case n >= 4 && (string(magic[:]) == "PK\x03\x04" || string(magic[:]) == "PK\x05\x06"):
		err = a.readZip(r, size)
	case n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		err = a.readTarGz(io.NewSectionReader(r, 0, size), size)
	default:
		return nil, &FormatError{Problem: "not a .clp archive (neither zip nor tar.gz)"}
	}
	if err == nil {
		err = a.finish()
	}
	if err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

type archive struct {
	lim     Limits
	man     *Manifest
	names   []string
	entries map[string]*entry
	// folded maps a lower-cased name to the name first seen, to catch
	// entries that differ only in case (they collide on vfat /boot and
	// make "which PKGINFO.meta?" ambiguous).
	folded  map[string]string
	dirs    map[string]bool
	total   int64
	count   int
	closers []io.Closer

	spill    *os.File
	spillOff int64
	memTotal int64
	// checkOnly: see openReaderMode.
	checkOnly bool
}

type entry struct {
	name   string
	size   int64
	sha256 string
	// dropped: a tar.gz entry checked and not kept (see openReaderMode).
	dropped bool
	data    []byte      // small tar.gz entries
	ra      io.ReaderAt // spilled tar.gz entries (at off)
	off     int64
	zf      *zip.File
}

func (a *archive) Manifest() *Manifest { return a.man }

func (a *archive) Entries() []string { return append([]string(nil), a.names...) }

func (a *archive) Open(name string) (io.ReadCloser, error) {
	e, ok := a.entries[name]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	switch {
	case e.dropped:
		return nil, &FormatError{Entry: name, Problem: "not kept: the archive was opened only to be checked"}
	case e.data != nil || e.size == 0:
		return io.NopCloser(bytes.NewReader(e.data)), nil
	case e.ra != nil:
		return &checkedReader{r: io.NewSectionReader(e.ra, e.off, e.size), e: e, h: sha256.New()}, nil
	default:
		rc, err := e.zf.Open()
		if err != nil {
			return nil, &FormatError{Entry: name, Problem: "reopen", Err: err}
		}
		return &checkedReader{r: io.LimitReader(rc, e.size+1), c: rc, e: e, h: sha256.New()}, nil
	}
}

// checkedSHA256 is the sha256 Open's bytes of name are bound to: checked
// against the manifest when the archive was opened, and again as a
// file-backed entry is read back (checkedReader: a mismatch is a read
// error, at the latest at its end); an entry kept in memory is the very
// bytes that were hashed. A reader of Open need not hash them again.
func (a *archive) checkedSHA256(name string) (string, bool) {
	e, ok := a.entries[name]
	if !ok || e.dropped {
		return "", false
	}
	return e.sha256, true
}

func (a *archive) Close() error {
	var first error
	for i := len(a.closers) - 1; i >= 0; i-- {
		if err := a.closers[i].Close(); err != nil && first == nil {
			first = err
		}
	}
	a.closers = nil
	return first
}

// checkedReader re-verifies an entry as it is read again after opening, so
// that the bytes a caller gets are exactly the bytes that were validated.
type checkedReader struct {
	r io.Reader
	c io.Closer
	e *entry
	h hash.Hash
	n int64
}

func (c *checkedReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.h.Write(p[:n])
	c.n += int64(n)
	if c.n > c.e.size {
		return n, &FormatError{Entry: c.e.name, Problem: "changed since it was validated (longer)"}
	}
	if errors.Is(err, io.EOF) {
		if c.n != c.e.size || hex.EncodeToString(c.h.Sum(nil)) != c.e.sha256 {
			return n, &FormatError{Entry: c.e.name, Problem: "changed since it was validated"}
		}
	}
	return n, err
}

func (c *checkedReader) Close() error {
	if c.c != nil {
		return c.c.Close()
	}
	return nil
}

// addName checks one entry's name before any of its data is read, and
// records it. It returns the clean name ("" for the archive's own root
// directory) and whether the entry is a directory.
func (a *archive) addName(raw string, isDir bool) (string, error) {
	a.count++
	if a.count > a.lim.MaxEntries {
		return "", formatErr("", "more than %d entries", a.lim.MaxEntries)
	}
	clean, dirName, err := cleanEntryName(raw)
	if err != nil {
		return "", err
	}
	if clean == "" {
		if !isDir {
			return "", formatErr(raw, "a file cannot be the archive's root directory")
		}
		return "", nil
	}
	if dirName && !isDir {
		return "", formatErr(raw, "name ends in '/' but the entry is not a directory")
	}
	fold := strings.ToLower(clean)
	if prev, dup := a.folded[fold]; dup {
		if a.dirs[prev] && isDir {
			return "", nil // a directory listed twice is harmless
		}
		if prev == clean {
			if clean == ManifestName {
				return "", formatErr(raw, "second %s", ManifestName)
			}
			return "", formatErr(raw, "duplicate entry")
		}
		if strings.EqualFold(clean, ManifestName) {
			return "", formatErr(raw, "second %s (differs only in case from %q)", ManifestName, prev)
		}
		return "", formatErr(raw, "duplicate entry (differs only in case from %q)", prev)
	}
	a.folded[fold] = clean
	if a.dirs == nil {
		a.dirs = map[string]bool{}
	}
	if isDir {
		a.dirs[clean] = true
	}
	return clean, nil
}

// addData records a regular file's content, read from r (at most size
// bytes are expected; the caller's reader reports a size that lies).
func (a *archive) addFile(name string, size int64) error {
	if size < 0 {
		return formatErr(name, "negative size")
	}
	if size > a.lim.MaxEntrySize {
		return formatErr(name, "%d bytes, over the %d byte cap for one entry", size, a.lim.MaxEntrySize)
	}
	a.total += size
	if a.total > a.lim.MaxTotalSize {
		return formatErr(name, "entries add up to more than the %d byte cap", a.lim.MaxTotalSize)
	}
	return nil
}

func (a *archive) readZip(r io.ReaderAt, size int64) error {
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		// ErrInsecurePath (GODEBUG zipinsecurepath=0) is checked below by
		// clp's own rules, with a better message.
		return &FormatError{Problem: "malformed zip", Err: err}
	}
	if len(zr.File) > a.lim.MaxEntries {
		return formatErr("", "more than %d entries", a.lim.MaxEntries)
	}
	type pending struct {
		name string
		f    *zip.File
	}
	var files []pending
	// Every name and type first, so that a hostile archive is refused
	// before any of it is decompressed.
	for _, f := range zr.File {
		mode := f.Mode()
		isDir := mode.IsDir()
		if err := checkType(f.Name, mode); err != nil {
			return err
		}
		if f.Flags&0x1 != 0 {
			return formatErr(f.Name, "encrypted entries are not supported")
		}
		if f.Method != zip.Store && f.Method != zip.Deflate {
			return formatErr(f.Name, "unsupported compression method %d (use store or deflate)", f.Method)
		}
		name, err := a.addName(f.Name, isDir)
		if err != nil {
			return err
		}
		if isDir || name == "" {
			if f.UncompressedSize64 != 0 {
				return formatErr(f.Name, "directory entry holds data")
			}
			continue
		}
		if f.UncompressedSize64 > uint64(a.lim.MaxEntrySize) {
			return formatErr(f.Name, "%d bytes, over the %d byte cap for one entry", f.UncompressedSize64, a.lim.MaxEntrySize)
		}
		if err := a.addFile(f.Name, int64(f.UncompressedSize64)); err != nil {
			return err
		}
		if f.UncompressedSize64 >= ratioMinSize {
			if f.CompressedSize64 == 0 || f.UncompressedSize64/f.CompressedSize64 > uint64(a.lim.MaxRatio) {
				return formatErr(f.Name, "compression ratio over %d:1 (%d bytes from %d)", a.lim.MaxRatio, f.UncompressedSize64, f.CompressedSize64)
			}
		}
		files = append(files, pending{name, f})
	}
	for _, p := range files {
		rc, err := p.f.Open()
		if err != nil {
			return &FormatError{Entry: p.f.Name, Problem: "cannot read", Err: err}
		}
		declared := int64(p.f.UncompressedSize64)
		h := sha256.New()
		// Read one byte past the declared size, so that more data than
		// declared is seen here whatever the zip reader does.
		n, err := io.Copy(h, io.LimitReader(rc, declared+1))
		rc.Close()
		switch {
		case n > declared || errors.Is(err, zip.ErrFormat):
			// archive/zip returns ErrFormat on reading past the declared size.
			return formatErr(p.f.Name, "declared size %d is smaller than its data", declared)
		case errors.Is(err, io.ErrUnexpectedEOF) || err == nil && n < declared:
			return formatErr(p.f.Name, "declared size %d but only %d bytes of data (truncated, or a size that lies)", declared, n)
		case errors.Is(err, zip.ErrChecksum):
			return formatErr(p.f.Name, "crc32 mismatch (damaged archive)")
		case err != nil:
			return &FormatError{Entry: p.f.Name, Problem: "cannot read", Err: err}
		}
		e := &entry{name: p.name, size: n, sha256: hex.EncodeToString(h.Sum(nil)), zf: p.f}
		a.entries[p.name] = e
		a.names = append(a.names, p.name)
	}
	return nil
}

// checkType refuses anything but regular files and directories.
func checkType(name string, mode fs.FileMode) error {
	switch {
	case mode&fs.ModeSymlink != 0:
		return formatErr(name, "symbolic links are not allowed")
	case mode&(fs.ModeDevice|fs.ModeCharDevice) != 0:
		return formatErr(name, "device files are not allowed")
	case mode&fs.ModeNamedPipe != 0:
		return formatErr(name, "fifos are not allowed")
	case mode&fs.ModeSocket != 0:
		return formatErr(name, "sockets are not allowed")
	case mode&(fs.ModeType&^fs.ModeDir) != 0:
		return formatErr(name, "unsupported file type %v", mode.Type())
	}
	return nil
}

// countingReader counts the bytes gzip decompresses and stops at a cap, so
// that a gzip bomb is cut off rather than read to its end.
type countingReader struct {
	r   io.Reader
	n   int64
	max int64
}

var errStreamCap = errors.New("decompressed stream over cap")

func (c *countingReader) Read(p []byte) (int, error) {
	if c.n >= c.max {
		return 0, errStreamCap
	}
	if int64(len(p)) > c.max-c.n {
		p = p[:c.max-c.n]
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (a *archive) readTarGz(r io.Reader, size int64) error {
	zr, err := gzip.NewReader(bufio.NewReaderSize(r, 64<<10))
	if err != nil {
		return &FormatError{Problem: "malformed gzip", Err: err}
	}
	// Tar adds 512 bytes of header (more with long names) and padding per
	// entry; allow for that on top of the content cap.
	streamMax := a.lim.MaxTotalSize + int64(a.lim.MaxEntries+2)*2048 + 10240
	if ratioMax := size * a.lim.MaxRatio; size > 0 && ratioMax < streamMax && ratioMax >= 0 {
		streamMax = max(ratioMax, 1<<20) // small archives: the 1 MiB exemption
	}
	cr := &countingReader{r: zr, max: streamMax}
	tr := tar.NewReader(cr)
	streamErr := func(entry string, err error) error {
		if errors.Is(err, errStreamCap) {
			if cr.max < a.lim.MaxTotalSize {
				return formatErr("", "compression ratio over %d:1 (gzip stream of %d bytes expands past %d)", a.lim.MaxRatio, size, cr.max)
			}
			return formatErr("", "decompressed archive over the %d byte cap", a.lim.MaxTotalSize)
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return formatErr(entry, "archive is truncated")
		}
		return &FormatError{Entry: entry, Problem: "malformed tar.gz", Err: err}
	}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return streamErr("", err)
		}
		var isDir bool
		switch hdr.Typeflag {
		case tar.TypeReg: // the reader turns the old '\x00' type into TypeReg
		case tar.TypeDir:
			isDir = true
		case tar.TypeSymlink:
			return formatErr(hdr.Name, "symbolic links are not allowed")
		case tar.TypeLink:
			return formatErr(hdr.Name, "hard links are not allowed")
		case tar.TypeChar, tar.TypeBlock:
			return formatErr(hdr.Name, "device files are not allowed")
		case tar.TypeFifo:
			return formatErr(hdr.Name, "fifos are not allowed")
		case tar.TypeXGlobalHeader:
			continue // pax global header (git archive writes one); carries no file
		case tar.TypeGNUSparse:
			return formatErr(hdr.Name, "sparse files are not allowed")
		default:
			return formatErr(hdr.Name, "unsupported tar entry type %q", hdr.Typeflag)
		}
		name, err := a.addName(hdr.Name, isDir)
		if err != nil {
			return err
		}
		if isDir || name == "" {
			if hdr.Size != 0 {
				return formatErr(hdr.Name, "directory entry holds data")
			}
			continue
		}
		if err := a.addFile(hdr.Name, hdr.Size); err != nil {
			return err
		}
		e := &entry{name: name, size: hdr.Size}
		h := sha256.New()
		if hdr.Size <= memEntryMax && a.memTotal+hdr.Size <= memTotalMax {
			buf := bytes.NewBuffer(make([]byte, 0, hdr.Size))
			if _, err := io.Copy(io.MultiWriter(h, buf), tr); err != nil {
				return streamErr(hdr.Name, err)
			}
			e.data = buf.Bytes()
			a.memTotal += hdr.Size
		} else if a.checkOnly && !(hdr.Size <= a.lim.MaxManifestSize && path.Base(name) == ManifestName) {
			// Hashed as it streams by, as a spilled entry is; nothing is
			// kept (the manifest is, whatever its size: finish reads it).
			if _, err := io.Copy(h, tr); err != nil {
				return streamErr(hdr.Name, err)
			}
			e.dropped = true
		} else {
			if err := a.openSpill(); err != nil {
				return err
			}
			e.ra, e.off = a.spill, a.spillOff
			w := io.NewOffsetWriter(a.spill, a.spillOff)
			n, err := io.Copy(io.MultiWriter(h, w), tr)
			if err != nil {
				if errors.Is(err, errStreamCap) || errors.Is(err, io.ErrUnexpectedEOF) {
					return streamErr(hdr.Name, err)
				}
				return &FormatError{Entry: hdr.Name, Problem: "cannot spill to " + a.lim.TempDir, Err: err}
			}
			a.spillOff += n
		}
		e.sha256 = hex.EncodeToString(h.Sum(nil))
		a.entries[name] = e
		a.names = append(a.names, name)
	}
	// After the tar end blocks only zero padding may follow (tar and bsdtar
	// pad to a 10 KiB record); anything else would be data no one checked.
	var buf [4096]byte
	for {
		n, err := cr.Read(buf[:])
		for _, b := range buf[:n] {
			if b != 0 {
				return formatErr("", "trailing data after the end of the tar archive")
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return streamErr("", err)
		}
	}
	return nil
}

func (a *archive) openSpill() error {
	if a.spill != nil {
		return nil
	}
	f, err := os.CreateTemp(a.lim.TempDir, ".clp-spill-*")
	if err != nil {
		return fmt.Errorf("create spill file for tar.gz payloads: %w", err)
	}
	// Unlinked at once: no one else can open it by name, and a crash leaves
	// nothing behind.
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return fmt.Errorf("unlink spill file: %w", err)
	}
	a.spill = f
	a.closers = append(a.closers, f)
	return nil
}

// finish runs the checks that need the whole entry list: the single
// top-level folder some packagers add, file/directory clashes,
// PKGINFO.meta, the payloads and the scripts.
func (a *archive) finish() error {
	a.stripTopDir()
	sort.Strings(a.names)
	for _, n := range a.names {
		for p := n; strings.Contains(p, "/"); {
			p = p[:strings.LastIndex(p, "/")]
			if _, isFile := a.entries[p]; isFile {
				return formatErr(n, "its parent %q is a file", p)
			}
		}
	}
	me, ok := a.entries[ManifestName]
	if !ok {
		return formatErr("", "missing %s", ManifestName)
	}
	if me.size > a.lim.MaxManifestSize {
		return formatErr(ManifestName, "%d bytes, over the %d byte cap", me.size, a.lim.MaxManifestSize)
	}
	data, err := a.readAll(me)
	if err != nil {
		return err
	}
	m, err := ParseManifest(data)
	if err != nil {
		return err
	}
	if err := ValidateManifest(m, a.lim.PathAllowed); err != nil {
		return err
	}
	if err := a.findScripts(m); err != nil {
		return err
	}
	check := func(payload, sum, what string) error {
		e, ok := a.entries[payload]
		if !ok {
			return formatErr(payload, "named by %s but missing from the archive", what)
		}
		if e.sha256 != sum {
			return formatErr(payload, "sha256 is %s, but %s says %s", e.sha256, what, sum)
		}
		return nil
	}
	for _, f := range m.Files {
		if f.Payload != "" {
			if err := check(f.Payload, f.SHA256, fmt.Sprintf("%s %s", f.Op, f.Target)); err != nil {
				return err
			}
		}
	}
	for _, p := range m.Packages {
		if p.Payload != "" {
			if err := check(p.Payload, p.SHA256, fmt.Sprintf("downgrade %s", p.Name)); err != nil {
				return err
			}
		}
	}
	a.man = m
	return nil
}

func (a *archive) readAll(e *entry) ([]byte, error) {
	rc, err := a.Open(e.name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return nil, &FormatError{Entry: e.name, Problem: "cannot read", Err: err}
	}
	return data, nil
}

// stripTopDir handles an archive made with "tar czf x.clp CLP1250101/":
// when PKGINFO.meta is not at the top but every entry is under one folder
// that holds it, that folder is dropped from every name.
func (a *archive) stripTopDir() {
	if _, ok := a.entries[ManifestName]; ok || len(a.names) == 0 {
		return
	}
	top, _, ok := strings.Cut(a.names[0], "/")
	if !ok {
		return
	}
	if _, ok := a.entries[top+"/"+ManifestName]; !ok {
		return
	}
	for _, n := range a.names {
		if !strings.HasPrefix(n, top+"/") {
			return
		}
	}
	entries := map[string]*entry{}
	for i, n := range a.names {
		e := a.entries[n]
		e.name = strings.TrimPrefix(n, top+"/")
		entries[e.name] = e
		a.names[i] = e.name
	}
	a.entries = entries
}

// Script names the original tool and its docs used, in the order they are
// looked for when PKGINFO.meta does not name the scripts.
var (
	installScriptNames = []string{"Install-Script.ps1", "Install-Patch.ps1"}
	removeScriptNames  = []string{"Remove-Script.ps1", "Remove-Patch.ps1"}
)

func (a *archive) findScripts(m *Manifest) error {
	for _, s := range []struct {
		dst   *string
		names []string
		what  string
	}{{&m.InstallScript, installScriptNames, "install"}, {&m.RemoveScript, removeScriptNames, "remove"}} {
		if *s.dst != "" {
			if _, ok := a.entries[*s.dst]; !ok {
				return formatErr(*s.dst, "%s script named by %s but missing from the archive", s.what, ManifestName)
			}
			continue
		}
		var found []string
		for _, n := range s.names {
			if _, ok := a.entries[n]; ok {
				found = append(found, n)
			}
		}
		if len(found) > 1 {
			return formatErr(found[1], "second %s script beside %q; name the one to run in <Scripts>", s.what, found[0])
		}
		if len(found) == 1 {
			*s.dst = found[0]
		}
	}
	return nil
}
