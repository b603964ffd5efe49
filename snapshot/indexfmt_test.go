package snapshot

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// An index this code does not know (format 1's JSON, a later format) fails
// Open and is left as it was: treating it as damage would let the next
// writer cut it off.
func TestIndexUnknownFormatRefused(t *testing.T) {
	cases := []struct{ name, content, want string }{
		{"format 1", `{"op":"add","s":{"id":1,"kind":"pre","count":0},"loc":{"seg":1,"off":0,"len":10}}` + "\n",
			"first line is not a clp-snapshot-index 2 header (damaged, or written by another program)"},
		{"format 3", string(endLine([]byte("clp-snapshot-index 3\t1\t1\t0"), 0)),
			`format "clp-snapshot-index 3" is not clp-snapshot-index 2, which this clp reads`},
		{"damaged header", "clp-snapshot-index 2\t1\t1\t0\t00000000\n",
			"first line is not a clp-snapshot-index 2 header"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := dir + "/" + indexName
			if err := os.WriteFile(path, []byte(c.content), 0o644); err != nil {
				t.Fatal(err)
			}
			before := dirState(t, dir)
			_, err := Open(dir)
			if err == nil || !strings.Contains(err.Error(), "snapshot index "+path+": "+c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
			sameDir(t, before, dir)
		})
	}
}

// A line in the middle whose checksum fails is skipped and reported; the
// lines after it still count.
func TestIndexDamagedMiddleLine(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir)
	want := history(t, s, 4)
	data, _ := os.ReadFile(s.indexPath())
	lines := strings.SplitAfter(string(data), "\n")
	// Line 3 is snapshot 2's: change one digit of its time.
	l := []byte(lines[2])
	l[len("a\t2\t")] ^= 1
	lines[2] = string(l)
	if err := os.WriteFile(s.indexPath(), []byte(strings.Join(lines, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if p := s.Problems(); len(p) != 1 || p[0].Error() != s.indexPath()+": line 3 is damaged and was skipped" {
		t.Fatalf("problems = %v", p)
	}
	var ids []int
	for _, sn := range s.List() {
		ids = append(ids, sn.ID)
	}
	if len(ids) != 3 || ids[0] != 1 || ids[1] != 3 || ids[2] != 4 {
		t.Fatalf("ids %v", ids)
	}
	checkGet(t, s, 4, want[4])
}

// Free text goes through the line format escaped, and every field survives
// a reopen and a compaction.
func TestIndexFieldsRoundTrip(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir)
	when := time.Date(2026, 5, 1, 12, 0, 0, 123456789, time.UTC)
	desc := "by hand\twith a tab\nand a newline, a \\ backslash and \\t literally\r"
	id := mustCreate(t, s, Snapshot{Kind: KindManual, Time: when, Description: desc, Patch: "p\t1", Packages: genPkgs(newRNG(), 3)})
	if err := s.SetSnapper(id, SnapperRef{Config: "ro\\ot", Number: 42}); err != nil {
		t.Fatal(err)
	}
	check := func(s *Store) {
		t.Helper()
		l := s.List()
		if len(l) != 1 {
			t.Fatalf("list %+v", l)
		}
		got := l[0]
		if got.ID != id || !got.Time.Equal(when) || got.Kind != KindManual || got.Description != desc || got.Patch != "p\t1" ||
			got.Count != 3 || got.Snapper == nil || *got.Snapper != (SnapperRef{Config: "ro\\ot", Number: 42}) {
			t.Fatalf("got %+v", got)
		}
	}
	check(mustOpen(t, dir))
	if err := s.locked(s.rewriteIndex); err != nil {
		t.Fatal(err)
	}
	check(mustOpen(t, dir))
	for _, bad := range []string{`a\`, `a\x`} {
		if _, ok := unescape(bad); ok {
			t.Fatalf("unescape(%q) accepted", bad)
		}
	}
}

// A crash while the index was being created leaves a torn header: nothing
// was recorded, and the next writer starts the index again.
func TestTornIndexHeader(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/" + indexName
	if err := os.WriteFile(path, []byte("clp-snapshot-in"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if p := s.Problems(); len(p) != 1 || !strings.Contains(p[0].Error(), "line 1 is incomplete (a torn write)") {
		t.Fatalf("problems = %v", p)
	}
	pkgs := genPkgs(newRNG(), 10)
	id := mustCreate(t, s, Snapshot{Kind: KindManual, Packages: pkgs})
	checkGet(t, mustOpen(t, dir), id, pkgs)
}

// A hook's small delta is stored as is (no compressor shrinks it, and
// setting one up is most of a hook's cost); a checkpoint is compressed.
func TestRecordEncodings(t *testing.T) {
	pkgs := sorted(genPkgs(newRNG(), 2000))
	full := encodeRecord(&record{id: 1, full: true, set: pkgs})
	small := encodeRecord(&record{id: 2, targets: []string{"x"}, set: pkgs[:2], removed: []string{"gone"}})
	if full[recHdrLen] != encS2 || small[recHdrLen] != encRaw {
		t.Fatalf("encodings %q %q", full[recHdrLen], small[recHdrLen])
	}
	for _, rec := range [][]byte{full, small} {
		body, next, err := frame(rec, 0)
		if err != nil || next != len(rec) {
			t.Fatal(err)
		}
		if _, err := decodeRecord(body); err != nil {
			t.Fatal(err)
		}
	}
	r, _ := decodeRecord(small[recHdrLen:])
	if r.id != 2 || r.full || len(r.set) != 2 || r.set[1] != pkgs[1] || r.removed[0] != "gone" || r.targets[0] != "x" {
		t.Fatalf("small record: %+v", r)
	}
	// A record of format 1 (zstd, "CLPR") is named, not misread.
	old := append([]byte("CLPR"), small[4:]...)
	if _, _, err := frame(old, 0); err == nil || !strings.Contains(err.Error(), `bad record magic "CLPR"`) {
		t.Fatalf("format 1 record: %v", err)
	}
}

// An index that is a FIFO or too large to be an index is refused by Open
// with one clear error, without blocking or reading it, and left as it was.
func TestIndexNotRegularOrTooLargeRefused(t *testing.T) {
	cases := []struct {
		name string
		make func(path string) error
		want string
	}{
		{"fifo", func(p string) error { return syscall.Mkfifo(p, 0o644) }, "not a regular file"},
		{"sparse 20 GiB", func(p string) error {
			f, err := os.Create(p)
			if err != nil {
				return err
			}
			defer f.Close()
			return f.Truncate(20 << 30)
		}, "too large"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := dir + "/" + indexName
			if err := c.make(path); err != nil {
				t.Fatal(err)
			}
			before := statState(t, dir)
			done := make(chan error, 1)
			go func() { _, err := Open(dir); done <- err }()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), "read snapshot index") || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("err = %v, want %q", err, c.want)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Open blocked on the index")
			}
			if after := statState(t, dir); after != before {
				t.Fatalf("folder changed:\n%s\nwas\n%s", after, before)
			}
		})
	}
}

// statState lists dir's entries with type, size and mtime, without reading
// them (a FIFO or a 20 GiB sparse file).
func statState(t *testing.T, dir string) string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, de := range des {
		fi, err := de.Info()
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %v %d %d\n", de.Name(), fi.Mode(), fi.Size(), fi.ModTime().UnixNano())
	}
	return b.String()
}
