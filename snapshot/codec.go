package snapshot

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"github.com/klauspost/compress/s2"
)

// A segment file is a sequence of records:
//
//	"CLP2" | uint32 length | uint32 crc32c(body) | body
//
// where body is one encoding byte then the payload: 'r' raw, 's' s2
// (github.com/klauspost/compress/s2) compressed. The first record of a
// segment is a full checkpoint, every later one a delta from the state the
// records before it build. The payload is text, one item a line:
//
//	clp-snapshot 2
//	id 42
//	full | delta
//	T<tab>target
//	+name<tab>version<tab>arch<tab>e|d    (full: every package; delta: added or changed)
//	-name                                 (delta: removed)
//
// Text, because it compresses well and a damaged record can be read by a
// person. Only payloads above compressMin are compressed: a hook's delta is
// a few hundred bytes that no compressor shrinks.
//
// Why s2 and not zstd (format 1): the hooks run in a fresh process each
// time, and there zstd's set-up dominated: about 1.3 ms to create a
// decoder and 7 ms for an encoder's first use, against 0.2 ms to decode and
// 2 ms to encode a 2,000-package checkpoint with s2, which keeps no state.
// s2 stores a checkpoint about three times bigger than zstd, which the
// disk goal absorbs (TestDiskUsage1000).
const (
	recMagic    = "CLP2"
	recHdrLen   = 12
	payloadHdr  = "clp-snapshot 2\n"
	maxRecord   = 64 << 20 // far above any real package set; guards a bad length
	compressMin = 1024

	encRaw = 'r'
	encS2  = 's'
)

// crcTable checksums segment records and index lines.
var crcTable = crc32.MakeTable(crc32.Castagnoli)

// record is one decoded segment record.
type record struct {
	id      int
	full    bool
	targets []string
	set     []Pkg    // full: the whole state; delta: added or changed, sorted
	removed []string // delta only, sorted
}

func reasonCode(r string) byte {
	if r == ReasonDependency {
		return 'd'
	}
	return 'e'
}

func encodeRecord(r *record) []byte {
	var b bytes.Buffer
	b.Grow(64 + 40*len(r.set) + 16*len(r.removed))
	b.WriteString(payloadHdr)
	b.WriteString("id ")
	b.WriteString(strconv.Itoa(r.id))
	if r.full {
		b.WriteString("\nfull\n")
	} else {
		b.WriteString("\ndelta\n")
	}
	for _, t := range r.targets {
		b.WriteString("T\t")
		b.WriteString(t)
		b.WriteByte('\n')
	}
	for _, p := range r.set {
		b.WriteByte('+')
		b.WriteString(p.Name)
		b.WriteByte('\t')
		b.WriteString(p.Version)
		b.WriteByte('\t')
		b.WriteString(p.Arch)
		b.WriteByte('\t')
		b.WriteByte(reasonCode(p.Reason))
		b.WriteByte('\n')
	}
	for _, n := range r.removed {
		b.WriteByte('-')
		b.WriteString(n)
		b.WriteByte('\n')
	}
	raw := b.Bytes()
	enc := byte(encRaw)
	if len(raw) > compressMin {
		if c := s2.EncodeBetter(nil, raw); len(c) < len(raw) {
			enc, raw = encS2, c
		}
	}
	out := make([]byte, recHdrLen+1, recHdrLen+1+len(raw))
	copy(out, recMagic)
	out[recHdrLen] = enc
	out = append(out, raw...)
	body := out[recHdrLen:]
	binary.LittleEndian.PutUint32(out[4:], uint32(len(body)))
	binary.LittleEndian.PutUint32(out[8:], crc32.Checksum(body, crcTable))
	return out
}

var errTorn = errors.New("truncated record (torn write)")

// frame reads the record framed at data[off:] and returns its body and the
// offset after it.
func frame(data []byte, off int) (body []byte, next int, err error) {
	if len(data)-off < recHdrLen {
		return nil, 0, errTorn
	}
	h := data[off : off+recHdrLen]
	if string(h[:4]) != recMagic {
		return nil, 0, fmt.Errorf("bad record magic %q (not a clp-snapshot 2 segment)", h[:4])
	}
	n := int(binary.LittleEndian.Uint32(h[4:]))
	if n > maxRecord || n < 1 {
		return nil, 0, fmt.Errorf("record length %d is implausible", n)
	}
	if len(data)-off-recHdrLen < n {
		return nil, 0, errTorn
	}
	body = data[off+recHdrLen : off+recHdrLen+n]
	if crc32.Checksum(body, crcTable) != binary.LittleEndian.Uint32(h[8:]) {
		return nil, 0, errors.New("record checksum mismatch")
	}
	return body, off + recHdrLen + n, nil
}

// decodeRecord parses a record body. The parse slices one string, so a
// 2,000-package checkpoint costs a handful of allocations, not thousands.
func decodeRecord(body []byte) (*record, error) {
	var s string
	switch body[0] {
	case encRaw:
		s = string(body[1:])
	case encS2:
		n, err := s2.DecodedLen(body[1:])
		if err != nil || n > maxRecord {
			return nil, fmt.Errorf("decompress record: bad length: %v", err)
		}
		raw, err := s2.Decode(nil, body[1:])
		if err != nil {
			return nil, fmt.Errorf("decompress record: %w", err)
		}
		// raw is this function's own buffer, never written again: the
		// string shares it instead of copying a checkpoint's 100 KiB
		// into fresh memory (page faults a hook pays for).
		s = unsafe.String(unsafe.SliceData(raw), len(raw))
	default:
		return nil, fmt.Errorf("record: unknown encoding %q", body[0])
	}
	if !strings.HasPrefix(s, payloadHdr) {
		return nil, errors.New("record has no clp-snapshot 2 header")
	}
	s = s[len(payloadHdr):]
	r := &record{}
	line := 0
	for len(s) > 0 {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			return nil, errors.New("record does not end with a newline")
		}
		l := s[:i]
		s = s[i+1:]
		line++
		switch {
		case line == 1:
			id, err := strconv.Atoi(strings.TrimPrefix(l, "id "))
			if err != nil || !strings.HasPrefix(l, "id ") {
				return nil, fmt.Errorf("record: bad id line %q", l)
			}
			r.id = id
		case line == 2:
			switch l {
			case "full":
				r.full = true
				// A checkpoint lists every package: size the slice once.
				r.set = make([]Pkg, 0, strings.Count(s, "\n"))
			case "delta":
			default:
				return nil, fmt.Errorf("record: bad kind line %q", l)
			}
		case strings.HasPrefix(l, "T\t"):
			r.targets = append(r.targets, l[2:])
		case strings.HasPrefix(l, "+"):
			p, ok := parsePkgLine(l[1:])
			if !ok {
				return nil, fmt.Errorf("record: bad package line %q", l)
			}
			r.set = append(r.set, p)
		case strings.HasPrefix(l, "-") && !r.full:
			r.removed = append(r.removed, l[1:])
		default:
			return nil, fmt.Errorf("record: unexpected line %q", l)
		}
	}
	if line < 2 {
		return nil, errors.New("record is empty")
	}
	return r, nil
}

// parsePkgLine parses "name<tab>version<tab>arch<tab>e|d".
func parsePkgLine(l string) (Pkg, bool) {
	var f [4]string
	for k := 0; k < 3; k++ {
		i := strings.IndexByte(l, '\t')
		if i < 0 {
			return Pkg{}, false
		}
		f[k], l = l[:i], l[i+1:]
	}
	f[3] = l
	if f[0] == "" || len(f[3]) != 1 || strings.IndexByte(f[3], '\t') >= 0 {
		return Pkg{}, false
	}
	reason := ReasonExplicit
	if f[3] == "d" {
		reason = ReasonDependency
	}
	return Pkg{Name: f[0], Version: f[1], Arch: f[2], Reason: reason}, true
}

// delta returns the packages of next that are new or changed against prev,
// and the names in prev that next no longer has. Both inputs are sorted.
func delta(prev, next []Pkg) (set []Pkg, removed []string) {
	i, j := 0, 0
	for i < len(prev) || j < len(next) {
		switch {
		case j == len(next) || (i < len(prev) && prev[i].Name < next[j].Name):
			removed = append(removed, prev[i].Name)
			i++
		case i == len(prev) || next[j].Name < prev[i].Name:
			set = append(set, next[j])
			j++
		default:
			if prev[i] != next[j] {
				set = append(set, next[j])
			}
			i++
			j++
		}
	}
	return set, removed
}

// replay builds the state after the records of a segment, up to and
// including the one at index upto.
type replay struct {
	base    []Pkg
	changes map[string]*Pkg // nil value: removed
}

func (rp *replay) apply(r *record) {
	if r.full {
		rp.base = r.set
		rp.changes = nil
		return
	}
	if len(r.set) == 0 && len(r.removed) == 0 {
		return
	}
	if rp.changes == nil {
		rp.changes = make(map[string]*Pkg, len(r.set)+len(r.removed))
	}
	for k := range r.set {
		rp.changes[r.set[k].Name] = &r.set[k]
	}
	for _, n := range r.removed {
		rp.changes[n] = nil
	}
}

// state returns the sorted package set. The base is merged with the changes
// once, at the end, rather than after every delta.
func (rp *replay) state() []Pkg {
	if len(rp.changes) == 0 {
		return rp.base
	}
	kept := make([]Pkg, 0, len(rp.base)+len(rp.changes))
	inBase := 0
	for _, p := range rp.base {
		c, ok := rp.changes[p.Name]
		if !ok {
			kept = append(kept, p)
			continue
		}
		inBase++
		if c != nil {
			kept = append(kept, *c)
		}
	}
	if inBase == len(rp.changes) {
		return kept
	}
	// Packages new to the base: sort the few of them and merge.
	var added []Pkg
	for n, c := range rp.changes {
		if c != nil {
			if _, found := slices.BinarySearchFunc(rp.base, n, func(p Pkg, n string) int { return strings.Compare(p.Name, n) }); !found {
				added = append(added, *c)
			}
		}
	}
	slices.SortFunc(added, byName)
	out := make([]Pkg, 0, len(kept)+len(added))
	i, j := 0, 0
	for i < len(kept) || j < len(added) {
		if j == len(added) || (i < len(kept) && kept[i].Name < added[j].Name) {
			out = append(out, kept[i])
			i++
		} else {
			out = append(out, added[j])
			j++
		}
	}
	return out
}
