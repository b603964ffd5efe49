package snapshot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vincentos/clp/internal/fsx"
	"github.com/vincentos/clp/internal/lock"
)

// Layout of the store directory:
//
//	index          append-only lines: a format header, then the metadata and
//	               record location of every snapshot, deletions, and later
//	               metadata changes (see indexfmt.go)
//	seg-NNNNNNNN   append-only segment: a full checkpoint, then deltas
//	.lock          flock taken by every writer
//
// Why append-only: Create runs in a pacman hook on every transaction, so it
// must cost one small append to two files, not a rewrite of history. A crash
// can only tear the tail of the file being appended; the index line is
// written after the record it points to is on disk, so an index entry never
// points at a record that was not durable, and a torn index line is ignored
// (and cut off by the next writer). A segment whose tail is torn is never
// appended to again: the next snapshot starts a new segment.
//
// The pre snapshot waiting for its post is not a file of its own (format 1
// kept a "pending-pre" marker, written by rename with two more fsyncs per
// hook): it is state the index lines build, so it changes in the same
// append as the snapshot that sets or clears it (see pair.go).
const (
	indexName = "index"
	lockName  = ".lock"
	segPrefix = "seg-"
)

var (
	// checkpointEvery bounds the records in a segment, hence what Get and
	// Create must replay; a segment is also closed early when its deltas
	// outgrow its checkpoint (big upgrades), so space stays near one
	// checkpoint per segment.
	// (A variable so tests can make segments short.)
	checkpointEvery = 64
)

// syncFile makes an appended file durable. fdatasync, not fsync: an append
// changes the size, which fdatasync writes, and nothing else about the
// inode matters. Only the disk-usage test, which measures bytes and not
// durability, replaces it.
var syncFile = func(f *os.File) error {
	return ignoringEINTR(func() error { return unix.Fdatasync(int(f.Fd())) })
}

func ignoringEINTR(fn func() error) error {
	for {
		if err := fn(); err != unix.EINTR {
			return err
		}
	}
}

// Store is a snapshot store in one directory. A Store is not safe for use by
// several goroutines; several processes may share a directory (writers take
// an flock and reload what others wrote).
type Store struct {
	dir string
	// root is the system root dir is under: every file operation of the
	// store is resolved inside it (fsx's *Under helpers), so a folder on
	// the way swapped for a link out of the root makes it fail.
	root string

	// LockWait is how long a writer waits for another writer.
	LockWait time.Duration

	entries  []entry // sorted by ID
	next     int     // next ID to assign
	nextSeg  int
	pending  int   // the pre waiting for its post, 0 for none (see pair.go)
	lines    int   // lines in the index, for compaction
	goodEnd  int64 // end of the last well-formed index line
	idxFile  fileID
	problems []error

	// tail caches the decoded last segment, so that a hook's Tail and the
	// Create after it decode it once.
	tail *tailCache
}

type tailCache struct {
	seg                        int
	size                       int64
	state                      []Pkg
	count, fullSize, deltaSize int
	ok                         bool
}

type entry struct {
	snap Snapshot // metadata only
	loc  loc
	tgt  uint64 // targetsHash of the snapshot's targets, for pairing
}

type loc struct {
	Seg int
	Off int64
	Len int
}

type fileID struct {
	ino   uint64
	size  int64
	mtime int64
}

func (s *Store) statID(path string) (fileID, error) {
	fi, err := fsx.StatUnder(s.root, path)
	if err != nil {
		return fileID{}, err
	}
	st := fi.Sys().(*syscall.Stat_t)
	return fileID{ino: st.Ino, size: st.Size, mtime: st.Mtim.Nano()}, nil
}

// Open opens (creating if needed) the store in dir. Damage it finds (a torn
// index line, a segment shorter than its records) does not fail Open: the
// snapshots it affects are reported by Problems and fail on Get, the others
// stay readable. An index in a format Open does not know fails it, so that
// nothing is written over it.
func Open(dir string) (*Store, error) { return OpenUnder("/", dir) }

// OpenUnder is Open for dir under the system root root: the store's files
// are read and written inside root (see Store.root).
func OpenUnder(root, dir string) (*Store, error) {
	if err := fsx.MkdirAllUnder(root, dir, 0o755); err != nil {
		return nil, fmt.Errorf("create snapshot directory: %w", err)
	}
	s := &Store{dir: dir, root: root, LockWait: 30 * time.Second}
	if err := s.load(); err != nil {
		return nil, err
	}
	return s, nil
}

// Dir returns the store's directory.
func (s *Store) Dir() string { return s.dir }

// Problems lists the damage Open found. Empty for a healthy store.
func (s *Store) Problems() []error { return slices.Clone(s.problems) }

func (s *Store) indexPath() string { return filepath.Join(s.dir, indexName) }

func (s *Store) segPath(n int) string {
	return filepath.Join(s.dir, segName(n))
}

func segName(n int) string {
	b := make([]byte, 0, len(segPrefix)+8)
	b = append(b, segPrefix...)
	d := strconv.Itoa(n)
	for i := len(d); i < 8; i++ {
		b = append(b, '0')
	}
	return string(append(b, d...))
}

func (s *Store) load() error {
	*s = Store{dir: s.dir, root: s.root, LockWait: s.LockWait, next: 1, nextSeg: 1}
	path := s.indexPath()
	// A regular file of a bounded size: a FIFO or a device put there
	// cannot block the hooks, nor a huge file exhaust memory.
	f, err := fsx.OpenRegularUnder(s.root, path, fsx.StateFileMax)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read snapshot index: %w", err)
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return fmt.Errorf("read snapshot index %s: %w", path, err)
	}
	s.idxFile = fileID{ino: st.Ino, size: st.Size, mtime: st.Mtim.Nano()}
	data := make([]byte, st.Size)
	if _, err := io.ReadFull(f, data); err != nil {
		return fmt.Errorf("read snapshot index %s: %w", path, err)
	}
	// One string for the whole file: every field parsed from it is a
	// substring, not an allocation.
	text := string(data)
	byID := make(map[int]int, strings.Count(text, "\n"))
	var pos int64
	lineNo := 0
	var bad []int // damaged line numbers after the last good line
	for len(text) > 0 {
		lineNo++
		i := strings.IndexByte(text, '\n')
		var l string
		complete := i >= 0
		if complete {
			l, text = text[:i], text[i+1:]
		} else {
			l, text = text, ""
		}
		pos += int64(len(l)) + 1
		if lineNo == 1 {
			if !complete {
				// A crash while the index was being created: nothing
				// was recorded yet.
				bad = append(bad, lineNo)
				continue
			}
			if err := s.applyHeader(l); err != nil {
				return fmt.Errorf("snapshot index %s: %w", path, err)
			}
		} else if !complete || !s.applyLine(l, byID) {
			bad = append(bad, lineNo)
			continue
		}
		for _, n := range bad {
			s.problems = append(s.problems, fmt.Errorf("%s: line %d is damaged and was skipped", path, n))
		}
		bad = nil
		s.goodEnd = pos
		s.lines++
	}
	if len(bad) > 0 {
		// Only the tail can be torn by a crash; the next writer cuts it.
		s.problems = append(s.problems, fmt.Errorf("%s: line %d is incomplete (a torn write): the change it recorded is lost", path, bad[0]))
	}
	s.entries = slices.DeleteFunc(s.entries, func(e entry) bool { return e.snap.ID == 0 })
	s.checkSegments()
	return nil
}

// applyLine folds one index line into the in-memory state. It reports
// whether the line made sense.
func (s *Store) applyLine(l string, byID map[int]int) bool {
	il, ok := parseIndexLine(l)
	if !ok {
		return false
	}
	switch il.op {
	case opAdd:
		if _, dup := byID[il.e.snap.ID]; dup {
			return false
		}
		byID[il.e.snap.ID] = len(s.entries)
		s.entries = append(s.entries, il.e)
		s.next = max(s.next, il.e.snap.ID+1)
		s.nextSeg = max(s.nextSeg, il.e.loc.Seg+1)
		s.applyPending(il)
	case opDel, opOrphan, opSnapper:
		if il.op == opOrphan && s.pending == il.id {
			s.pending = 0
		}
		i, ok := byID[il.id]
		if !ok || s.entries[i].snap.ID == 0 {
			return true // about a snapshot already gone: nothing to do
		}
		switch il.op {
		case opDel:
			s.entries[i].snap.ID = 0 // tombstone, dropped at the end of load
		case opOrphan:
			s.entries[i].snap.Orphan = true
		case opSnapper:
			r := il.snapper
			s.entries[i].snap.Snapper = &r
		}
	default:
		return false
	}
	return true
}

// checkSegments stats each segment once: a record past the end of its file
// means the segment lost its tail after the index recorded it.
func (s *Store) checkSegments() {
	seg, size := -1, int64(0)
	for _, e := range s.entries {
		if e.loc.Seg != seg {
			// Entries are in ID order and segments are filled in ID
			// order, so each segment is one run of entries.
			seg, size = e.loc.Seg, -1
			if fi, err := fsx.StatUnder(s.root, s.segPath(seg)); err == nil {
				size = fi.Size()
			}
		}
		switch {
		case size < 0:
			s.problems = append(s.problems, fmt.Errorf("snapshot %d: segment %s is missing", e.snap.ID, s.segPath(e.loc.Seg)))
		case e.loc.Off+int64(e.loc.Len) > size:
			s.problems = append(s.problems, fmt.Errorf("snapshot %d: segment %s ends before its record (torn write)", e.snap.ID, s.segPath(e.loc.Seg)))
		}
	}
}

// locked runs fn holding the store's flock, after reloading the index if
// another process changed it since we read it.
func (s *Store) locked(fn func() error) error {
	l, err := lock.AcquireUnder(context.Background(), s.root, filepath.Join(s.dir, lockName), s.LockWait)
	if err != nil {
		return fmt.Errorf("lock snapshot store: %w", err)
	}
	defer l.Release()
	cur, err := s.statID(s.indexPath())
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("read snapshot index: %w", err)
	}
	if cur != s.idxFile {
		if err := s.load(); err != nil {
			return err
		}
	}
	return fn()
}

// appendIndex appends lines, durably when sync is set. A torn tail left by
// a crash is cut off first, or the new line would be glued to the garbage.
// A new index starts with its format header.
//
// Only a deletion is appended without sync: if it is lost, the snapshot
// comes back, which is harmless (see delete).
func (s *Store) appendIndex(sync bool, lines ...[]byte) error {
	var buf []byte
	fresh := s.goodEnd == 0 // a new index, or one whose header a crash tore
	if fresh {
		buf = appendHeader(buf, s.next, s.nextSeg, s.pending)
	}
	for _, l := range lines {
		buf = append(buf, l...)
	}
	path := s.indexPath()
	f, err := fsx.OpenFileUnder(s.root, path, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("open snapshot index: %w", err)
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return fmt.Errorf("open snapshot index %s: %w", path, err)
	}
	if st.Size != s.goodEnd {
		if err := f.Truncate(s.goodEnd); err != nil {
			return fmt.Errorf("cut torn tail of %s: %w", path, err)
		}
	}
	if _, err := f.WriteAt(buf, s.goodEnd); err != nil {
		return fmt.Errorf("write snapshot index: %w", err)
	}
	if sync || fresh {
		if err := syncFile(f); err != nil {
			return fmt.Errorf("sync snapshot index: %w", err)
		}
	}
	if fresh {
		if err := fsx.SyncDirUnder(s.root, s.dir); err != nil {
			return err
		}
	}
	s.goodEnd += int64(len(buf))
	s.lines += bytes.Count(buf, []byte{'\n'})
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return fmt.Errorf("stat snapshot index %s: %w", path, err)
	}
	s.idxFile = fileID{ino: st.Ino, size: st.Size, mtime: st.Mtim.Nano()}
	return nil
}

// rewriteIndex replaces the index with one line per live snapshot, via an
// atomic rename, then removes segment files no snapshot uses any more.
func (s *Store) rewriteIndex() error {
	buf := appendHeader(nil, s.next, s.nextSeg, s.pending)
	for i := range s.entries {
		buf = appendAdd(buf, &s.entries[i], "")
	}
	if err := fsx.WriteFileUnder(s.root, s.indexPath(), buf, 0o644); err != nil {
		return err
	}
	s.lines = len(s.entries) + 1
	s.goodEnd = int64(len(buf))
	var err error
	if s.idxFile, err = s.statID(s.indexPath()); err != nil {
		return err
	}
	return s.removeUnusedSegments()
}

func (s *Store) removeUnusedSegments() error {
	used := map[string]bool{}
	for _, e := range s.entries {
		used[filepath.Base(s.segPath(e.loc.Seg))] = true
	}
	des, err := fsx.ReadDirUnder(s.root, s.dir)
	if err != nil {
		return fmt.Errorf("read snapshot directory: %w", err)
	}
	removed := false
	for _, de := range des {
		n := de.Name()
		if len(n) > len(segPrefix) && n[:len(segPrefix)] == segPrefix && !used[n] {
			if err := fsx.RemoveUnder(s.root, filepath.Join(s.dir, n)); err != nil {
				return fmt.Errorf("remove unused segment: %w", err)
			}
			removed = true
		}
	}
	if removed {
		return fsx.SyncDirUnder(s.root, s.dir)
	}
	return nil
}

func (s *Store) maybeCompact() error {
	if s.lines > 2*len(s.entries)+64 {
		return s.rewriteIndex()
	}
	return nil
}

func (s *Store) find(id int) (int, bool) {
	return sort.Find(len(s.entries), func(i int) int { return id - s.entries[i].snap.ID })
}

// List returns every snapshot's metadata, oldest first. Targets and Packages
// are nil; Get reads them.
func (s *Store) List() []Snapshot {
	out := make([]Snapshot, len(s.entries))
	for i, e := range s.entries {
		out[i] = e.snap.meta()
	}
	return out
}

// Latest returns the newest snapshot in full, and false when there is none.
func (s *Store) Latest() (Snapshot, bool, error) {
	if len(s.entries) == 0 {
		return Snapshot{}, false, nil
	}
	snap, err := s.Get(s.entries[len(s.entries)-1].snap.ID)
	return snap, err == nil, err
}

// ErrNotFound is returned for an ID the store does not hold.
var ErrNotFound = errors.New("no such snapshot")

// Get reads one snapshot with its targets and full package set.
func (s *Store) Get(id int) (Snapshot, error) {
	i, ok := s.find(id)
	if !ok {
		return Snapshot{}, fmt.Errorf("snapshot %d: %w", id, ErrNotFound)
	}
	e := s.entries[i]
	path := s.segPath(e.loc.Seg)
	data, err := fsx.ReadFileCappedUnder(s.root, path, fsx.StateFileMax)
	if err != nil {
		return Snapshot{}, fmt.Errorf("snapshot %d: read segment: %w", id, err)
	}
	var rp replay
	var last *record
	for off := 0; ; {
		payload, next, err := frame(data, off)
		if err != nil {
			return Snapshot{}, fmt.Errorf("snapshot %d: segment %s at offset %d: %w", id, path, off, err)
		}
		r, err := decodeRecord(payload)
		if err != nil {
			return Snapshot{}, fmt.Errorf("snapshot %d: segment %s at offset %d: %w", id, path, off, err)
		}
		if off == 0 && !r.full {
			return Snapshot{}, fmt.Errorf("snapshot %d: segment %s does not start with a checkpoint", id, path)
		}
		rp.apply(r)
		if int64(off) == e.loc.Off {
			last = r
			break
		}
		if int64(next) > e.loc.Off {
			return Snapshot{}, fmt.Errorf("snapshot %d: segment %s has no record at offset %d", id, path, e.loc.Off)
		}
		off = next
	}
	if last.id != id {
		return Snapshot{}, fmt.Errorf("snapshot %d: segment %s holds snapshot %d where %d was recorded", id, path, last.id, id)
	}
	snap := e.snap.meta()
	snap.Targets = last.targets
	snap.Packages = slices.Clip(rp.state())
	return snap, nil
}

// Create records a snapshot and returns its ID. The ID, and Count, are
// assigned by the store; Time defaults to now.
func (s *Store) Create(snap Snapshot) (int, error) {
	var id int
	err := s.locked(func() error {
		var err error
		id, err = s.create(&snap)
		return err
	})
	return id, err
}

func (s *Store) create(snap *Snapshot) (int, error) {
	pkgs, err := validate(snap)
	if err != nil {
		return 0, err
	}
	return s.createWith(snap, pkgs, "", 0)
}

// createWith records snap, whose packages validate returned as pkgs, with
// index flags (see indexfmt.go), first marking snapshot orphan an orphan
// when it is not 0. The orphan mark and the new snapshot's line go in one
// append with one sync: a crash keeps both, the mark alone, or neither.
func (s *Store) createWith(snap *Snapshot, pkgs []Pkg, flags string, orphan int) (int, error) {
	if snap.Time.IsZero() {
		snap.Time = time.Now()
	}
	snap.Time = snap.Time.Round(0)
	snap.ID = s.next
	snap.Count = len(pkgs)

	rec := &record{id: snap.ID, targets: snap.Targets}
	seg, tail, ok := s.activeSegment()
	if ok {
		rec.set, rec.removed = delta(tail, pkgs)
		// A delta touching over half the packages costs more to store and
		// replay than a checkpoint of the new set.
		ok = 2*(len(rec.set)+len(rec.removed)) <= len(pkgs)
	}
	if !ok {
		rec.set, rec.removed = nil, nil
		seg = s.nextSeg
		rec.full = true
		rec.set = pkgs
	}
	off, n, err := s.appendRecord(seg, encodeRecord(rec))
	if err != nil {
		return 0, err
	}
	e := entry{snap: snap.meta(), loc: loc{Seg: seg, Off: off, Len: n}, tgt: targetsHash(snap.Targets)}
	var line []byte
	if orphan != 0 {
		line = appendIDLine(line, opOrphan, orphan)
	}
	line = appendAdd(line, &e, flags)
	if err := s.appendIndex(true, line); err != nil {
		return 0, err
	}
	if orphan != 0 {
		if i, ok := s.find(orphan); ok {
			s.entries[i].snap.Orphan = true
		}
		if s.pending == orphan {
			s.pending = 0
		}
	}
	s.entries = append(s.entries, e)
	s.applyPending(indexLine{flags: flags, e: e})
	s.next = snap.ID + 1
	s.nextSeg = max(s.nextSeg, seg+1)
	if t := s.tail; t != nil && t.seg == seg && t.ok && t.size == off && !rec.full {
		if len(pkgs) > 0 && &pkgs[0] == &snap.Packages[0] {
			// pkgs is the caller's own slice (validate copies only
			// what it must sort): the cache must not alias memory the
			// caller may change, so a later Create decodes again.
			s.tail = nil
		} else {
			// Keep the decode current for a later Create in this process.
			t.size += int64(n)
			t.count++
			t.deltaSize += n
			t.state = pkgs
		}
	}
	return snap.ID, s.maybeCompact()
}

// validate checks snap before anything is written and returns its packages
// sorted by name.
func validate(snap *Snapshot) ([]Pkg, error) {
	if snap.Kind == "" {
		return nil, errors.New("snapshot has no kind")
	}
	pkgs, err := sortedPkgs(snap.Packages)
	if err != nil {
		return nil, fmt.Errorf("snapshot not recorded: %w", err)
	}
	if err := checkTargets(snap.Targets); err != nil {
		return nil, fmt.Errorf("snapshot not recorded: %w", err)
	}
	return pkgs, nil
}

// activeSegment returns the segment the next delta goes to and the state its
// records build, or false when the next record must be a checkpoint: no
// segment yet, the segment is full, its deltas outgrew its checkpoint, or
// its tail is damaged (a damaged segment is never appended to).
func (s *Store) activeSegment() (int, []Pkg, bool) {
	t := s.readTail()
	if t == nil || !t.ok || t.count == 0 || t.count >= checkpointEvery || t.deltaSize > t.fullSize {
		return 0, nil, false
	}
	return t.seg, t.state, true
}

// readTail decodes the last segment, or returns the cached decode when the
// file has not grown since.
func (s *Store) readTail() *tailCache {
	if len(s.entries) == 0 {
		return nil
	}
	seg := s.entries[len(s.entries)-1].loc.Seg
	f, err := fsx.OpenUnder(s.root, s.segPath(seg))
	if err != nil {
		return nil
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil
	}
	if s.tail != nil && s.tail.seg == seg && s.tail.size == fi.Size() {
		return s.tail
	}
	data := make([]byte, fi.Size())
	if _, err := io.ReadFull(f, data); err != nil {
		return nil
	}
	t := &tailCache{seg: seg, size: fi.Size()}
	s.tail = t
	var rp replay
	for off := 0; off < len(data); {
		payload, next, err := frame(data, off)
		if err != nil {
			return t
		}
		r, err := decodeRecord(payload)
		if err != nil || (off == 0) != r.full {
			return t
		}
		if r.full {
			t.fullSize = next - off
		} else {
			t.deltaSize += next - off
		}
		rp.apply(r)
		t.count++
		off = next
	}
	t.state, t.ok = rp.state(), true
	return t
}

// Tail returns the package set of the newest record in the store and the
// newest snapshot's metadata, cheaply (the decode is reused by the next
// Create). It is a hint for readers of the local database (see
// ReadLocalDB): the set may include a deleted newer snapshot's record, and
// is nil when the store is empty or its last segment is damaged.
func (s *Store) Tail() ([]Pkg, Snapshot, bool) {
	t := s.readTail()
	if t == nil || !t.ok {
		return nil, Snapshot{}, false
	}
	return t.state, s.entries[len(s.entries)-1].snap.meta(), true
}

// appendRecord appends one framed record to a segment and fsyncs it. It
// returns where the record starts and its length.
func (s *Store) appendRecord(seg int, rec []byte) (int64, int, error) {
	path := s.segPath(seg)
	f, err := fsx.OpenFileUnder(s.root, path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return 0, 0, fmt.Errorf("open segment: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, 0, fmt.Errorf("open segment: %w", err)
	}
	if _, err := f.Write(rec); err != nil {
		return 0, 0, fmt.Errorf("write segment %s: %w", path, err)
	}
	if err := syncFile(f); err != nil {
		return 0, 0, fmt.Errorf("sync segment %s: %w", path, err)
	}
	if fi.Size() == 0 {
		if err := fsx.SyncDirUnder(s.root, s.dir); err != nil {
			return 0, 0, err
		}
	}
	return fi.Size(), len(rec), nil
}

// Delete removes snapshots. Their records stay in their segment while a
// later snapshot of the same segment needs them (a delta is replayed from
// the segment's checkpoint), so deleting a checkpoint never breaks a later
// snapshot; a segment file goes when its last snapshot does.
func (s *Store) Delete(ids ...int) error {
	return s.locked(func() error { return s.delete(ids, true) })
}

func (s *Store) delete(ids []int, sync bool) error {
	var lines []byte
	for _, id := range ids {
		if _, ok := s.find(id); !ok {
			return fmt.Errorf("delete snapshot %d: %w", id, ErrNotFound)
		}
		lines = appendIDLine(lines, opDel, id)
	}
	if len(lines) == 0 {
		return nil
	}
	segs := map[int]bool{}
	for _, id := range ids {
		if i, ok := s.find(id); ok {
			segs[s.entries[i].loc.Seg] = true
		}
	}
	for _, e := range s.entries {
		if !slices.Contains(ids, e.snap.ID) {
			delete(segs, e.loc.Seg)
		}
	}
	// A segment file goes only after the deletions are durable: a crash
	// must not leave an index naming a removed segment.
	if err := s.appendIndex(sync || len(segs) > 0, lines); err != nil {
		return err
	}
	s.entries = slices.DeleteFunc(s.entries, func(e entry) bool { return slices.Contains(ids, e.snap.ID) })
	for seg := range segs {
		if err := fsx.RemoveUnder(s.root, s.segPath(seg)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove segment: %w", err)
		}
	}
	if len(segs) > 0 {
		if err := fsx.SyncDirUnder(s.root, s.dir); err != nil {
			return err
		}
	}
	return s.maybeCompact()
}

// Prune deletes all but the newest keep snapshots, sparing those protected
// says to keep (a snapshot linked to an applied patch). It returns the IDs
// it deleted.
func (s *Store) Prune(keep int, protected func(Snapshot) bool) ([]int, error) {
	if keep < 0 {
		return nil, fmt.Errorf("prune: keep %d is negative", keep)
	}
	var gone []int
	err := s.locked(func() error {
		for i := 0; i < len(s.entries)-keep; i++ {
			snap := s.entries[i].snap.meta()
			if protected != nil && protected(snap) {
				continue
			}
			gone = append(gone, snap.ID)
		}
		// Unsynced: a hook prunes on every transaction once the store
		// is full, and a deletion lost in a crash only brings a snapshot
		// back.
		return s.delete(gone, false)
	})
	if err != nil {
		return nil, err
	}
	return gone, nil
}

// SetSnapper links snapshot id to a snapper snapshot.
func (s *Store) SetSnapper(id int, ref SnapperRef) error {
	return s.locked(func() error {
		i, ok := s.find(id)
		if !ok {
			return fmt.Errorf("snapshot %d: %w", id, ErrNotFound)
		}
		if err := s.appendIndex(true, appendSnapperLine(nil, id, ref)); err != nil {
			return err
		}
		s.entries[i].snap.Snapper = &ref
		return s.maybeCompact()
	})
}

// Check reads every snapshot and returns one error per unreadable one.
func (s *Store) Check() []error {
	var errs []error
	for _, e := range s.entries {
		if _, err := s.Get(e.snap.ID); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}
