package snapshot

import (
	"fmt"
	"hash/crc32"
	"hash/fnv"
	"strconv"
	"strings"
	"time"
)

// The index file, format 2. Every line is tab-separated fields followed by
// a tab and the crc32c of what precedes it (8 hex digits), so a line that a
// crash left complete but wrong is told from a good one:
//
//	clp-snapshot-index 2  NEXT  NEXTSEG  PENDING  CRC       the first line
//	a  ID  TIME  KIND  FLAGS  PAIR  COUNT  SEG  OFF  LEN  TARGETS  PATCH  DESCRIPTION  SNAPPERCONFIG  SNAPPERNUM  CRC
//	d  ID  CRC                                              deleted
//	o  ID  CRC                                              marked orphan
//	s  ID  SNAPPERCONFIG  SNAPPERNUM  CRC                   linked to snapper
//
// TIME is Unix nanoseconds; FLAGS is "-" or letters: o orphan, w a pre
// waiting for its post, c a post that ends the wait (see pair.go); TARGETS
// is targetsHash of the snapshot's targets (the targets themselves are in
// the record); free text (KIND, PATCH, DESCRIPTION, SNAPPERCONFIG) has
// backslash, tab, CR and newline escaped.
//
// Why not JSON (format 1): the hooks open the store on every pacman
// transaction, and decoding JSON by reflection cost more than the rest of
// the open; this parses by slicing one string.
const (
	indexMagic   = "clp-snapshot-index"
	indexVersion = 2

	opAdd     = "a"
	opDel     = "d"
	opOrphan  = "o"
	opSnapper = "s"

	flagOrphan  = 'o'
	flagWaiting = 'w' // a pre recorded by Pre: the pending pre from now on
	flagCloses  = 'c' // a post recorded by Post: no pending pre from now on
)

// endLine appends the checksum of line[start:] and the newline.
func endLine(b []byte, start int) []byte {
	sum := crc32.Checksum(b[start:], crcTable)
	b = append(b, '\t')
	const hex = "0123456789abcdef"
	for sh := 28; sh >= 0; sh -= 4 {
		b = append(b, hex[(sum>>uint(sh))&0xf])
	}
	return append(b, '\n')
}

func appendInt(b []byte, v int64) []byte {
	b = append(b, '\t')
	return strconv.AppendInt(b, v, 10)
}

func appendText(b []byte, v string) []byte {
	b = append(b, '\t')
	if !strings.ContainsAny(v, "\\\t\n\r") {
		return append(b, v...)
	}
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '\\':
			b = append(b, `\\`...)
		case '\t':
			b = append(b, `\t`...)
		case '\n':
			b = append(b, `\n`...)
		case '\r':
			b = append(b, `\r`...)
		default:
			b = append(b, c)
		}
	}
	return b
}

func unescape(v string) (string, bool) {
	if strings.IndexByte(v, '\\') < 0 {
		return v, true
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		if i++; i == len(v) {
			return "", false
		}
		switch v[i] {
		case '\\':
			b.WriteByte('\\')
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		default:
			return "", false
		}
	}
	return b.String(), true
}

func appendHeader(b []byte, next, nextSeg, pending int) []byte {
	start := len(b)
	b = append(b, indexMagic...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, indexVersion, 10)
	b = appendInt(b, int64(next))
	b = appendInt(b, int64(nextSeg))
	b = appendInt(b, int64(pending))
	return endLine(b, start)
}

func appendAdd(b []byte, e *entry, flags string) []byte {
	start := len(b)
	sn := &e.snap
	b = append(b, opAdd...)
	b = appendInt(b, int64(sn.ID))
	b = appendInt(b, sn.Time.UnixNano())
	b = appendText(b, sn.Kind)
	if sn.Orphan {
		flags += string(flagOrphan)
	}
	if flags == "" {
		flags = "-"
	}
	b = append(b, '\t')
	b = append(b, flags...)
	b = appendInt(b, int64(sn.PairID))
	b = appendInt(b, int64(sn.Count))
	b = appendInt(b, int64(e.loc.Seg))
	b = appendInt(b, e.loc.Off)
	b = appendInt(b, int64(e.loc.Len))
	b = append(b, '\t')
	b = strconv.AppendUint(b, e.tgt, 16)
	b = appendText(b, sn.Patch)
	b = appendText(b, sn.Description)
	if sn.Snapper != nil {
		b = appendText(b, sn.Snapper.Config)
		b = appendInt(b, int64(sn.Snapper.Number))
	} else {
		b = append(b, "\t\t0"...)
	}
	return endLine(b, start)
}

func appendIDLine(b []byte, op string, id int) []byte {
	start := len(b)
	b = append(b, op...)
	b = appendInt(b, int64(id))
	return endLine(b, start)
}

func appendSnapperLine(b []byte, id int, ref SnapperRef) []byte {
	start := len(b)
	b = append(b, opSnapper...)
	b = appendInt(b, int64(id))
	b = appendText(b, ref.Config)
	b = appendInt(b, int64(ref.Number))
	return endLine(b, start)
}

// targetsHash identifies a normalized target list. The index keeps it
// rather than the list, which for a full upgrade is every package.
func targetsHash(targets []string) uint64 {
	h := fnv.New64a()
	for _, t := range targets {
		h.Write([]byte(t))
		h.Write([]byte{'\n'})
	}
	return h.Sum64()
}

// checkedFields verifies a line's checksum and splits it into fields.
func checkedFields(l string, into []string) ([]string, bool) {
	i := strings.LastIndexByte(l, '\t')
	if i < 0 || len(l)-i-1 != 8 {
		return nil, false
	}
	sum, err := strconv.ParseUint(l[i+1:], 16, 32)
	if err != nil || uint32(sum) != crc32.Checksum([]byte(l[:i]), crcTable) {
		return nil, false
	}
	l = l[:i]
	f := into[:0]
	for {
		j := strings.IndexByte(l, '\t')
		if j < 0 {
			return append(f, l), true
		}
		f = append(f, l[:j])
		l = l[j+1:]
	}
}

// applyHeader reads the first line. A format this code does not know is an
// error, never a store to start afresh: the next writer would cut it.
func (s *Store) applyHeader(l string) error {
	var buf [8]string
	f, ok := checkedFields(l, buf[:])
	if !ok || !strings.HasPrefix(l, indexMagic+" ") || len(f) != 4 {
		if strings.HasPrefix(l, indexMagic+" ") && !strings.HasPrefix(l, fmt.Sprintf("%s %d\t", indexMagic, indexVersion)) {
			return fmt.Errorf("format %q is not %s %d, which this clp reads", strings.SplitN(l, "\t", 2)[0], indexMagic, indexVersion)
		}
		return fmt.Errorf("first line is not a %s %d header (damaged, or written by another program)", indexMagic, indexVersion)
	}
	if f[0] != fmt.Sprintf("%s %d", indexMagic, indexVersion) {
		return fmt.Errorf("format %q is not %s %d, which this clp reads", f[0], indexMagic, indexVersion)
	}
	var n [3]int
	for k := range n {
		v, err := strconv.Atoi(f[k+1])
		if err != nil || v < 0 {
			return fmt.Errorf("header field %d %q is not a number", k+2, f[k+1])
		}
		n[k] = v
	}
	s.next, s.nextSeg, s.pending = max(s.next, n[0]), max(s.nextSeg, n[1]), n[2]
	return nil
}

// indexLine is one parsed line after the header.
type indexLine struct {
	op      string
	id      int    // d, o, s
	e       entry  // a
	flags   string // a
	snapper SnapperRef
}

func parseIndexLine(l string) (il indexLine, ok bool) {
	var buf [16]string
	f, ok := checkedFields(l, buf[:])
	if !ok || len(f) < 2 {
		return il, false
	}
	il.op = f[0]
	id, err := strconv.Atoi(f[1])
	if err != nil || id <= 0 {
		return il, false
	}
	il.id = id
	switch il.op {
	case opDel, opOrphan:
		return il, len(f) == 2
	case opSnapper:
		if len(f) != 4 {
			return il, false
		}
		conf, ok := unescape(f[2])
		num, err := strconv.Atoi(f[3])
		if !ok || err != nil {
			return il, false
		}
		il.snapper = SnapperRef{Config: conf, Number: num}
		return il, true
	case opAdd:
	default:
		return il, false
	}
	if len(f) != 15 {
		return il, false
	}
	var nums [6]int64
	for k, fi := range [6]int{2, 5, 6, 7, 8, 9} {
		if nums[k], err = strconv.ParseInt(f[fi], 10, 64); err != nil || nums[k] < 0 {
			return il, false
		}
	}
	tgt, err := strconv.ParseUint(f[10], 16, 64)
	if err != nil {
		return il, false
	}
	var text [4]string
	for k, fi := range [4]int{3, 11, 12, 13} {
		if text[k], ok = unescape(f[fi]); !ok {
			return il, false
		}
	}
	snum, err := strconv.Atoi(f[14])
	if err != nil || text[0] == "" || f[4] == "" {
		return il, false
	}
	il.flags = f[4]
	sn := Snapshot{
		ID:          id,
		Time:        time.Unix(0, nums[0]),
		Kind:        text[0],
		Orphan:      strings.IndexByte(il.flags, flagOrphan) >= 0,
		PairID:      int(nums[1]),
		Count:       int(nums[2]),
		Patch:       text[1],
		Description: text[2],
	}
	if text[3] != "" || snum != 0 {
		sn.Snapper = &SnapperRef{Config: text[3], Number: snum}
	}
	il.e = entry{snap: sn, tgt: tgt, loc: loc{Seg: int(nums[3]), Off: nums[4], Len: int(nums[5])}}
	return il, il.e.loc.Seg > 0
}

// applyPending updates the pending pre for an add line.
func (s *Store) applyPending(il indexLine) {
	switch {
	case strings.IndexByte(il.flags, flagWaiting) >= 0:
		s.pending = il.e.snap.ID
	case strings.IndexByte(il.flags, flagCloses) >= 0:
		s.pending = 0
	}
}
