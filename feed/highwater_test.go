package feed

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestHighWater(t *testing.T) {
	h := NewHighWater(t.TempDir())
	if n, err := h.Load(); err != nil || n != 0 {
		t.Fatalf("fresh mark = %d, %v", n, err)
	}
	if err := h.Mark(3); err != nil {
		t.Fatal(err)
	}
	if err := h.Mark(2); err != nil { // never lowers
		t.Fatal(err)
	}
	if n, err := h.Load(); err != nil || n != 3 {
		t.Fatalf("mark = %d, %v", n, err)
	}
	if filepath.Dir(h.Path) == DefaultMetadataDir || filepath.Base(filepath.Dir(h.Path)) == "feed" {
		t.Fatalf("mark %s lives inside the metadata cache", h.Path)
	}
}

// A corrupt mark fails closed: no Pending, no Mark overwriting it.
func TestHighWaterCorrupt(t *testing.T) {
	for _, content := range []string{"banana\n", "3\n4\n", "-1\n", ""} {
		h := HighWater{Path: filepath.Join(t.TempDir(), "hw")}
		os.WriteFile(h.Path, []byte(content), 0o644)
		_, err := h.Load()
		mustContain(t, err, "feed: high-water mark "+h.Path+" is corrupt")
		mustContain(t, h.Mark(9), "is corrupt")
		if got, _ := os.ReadFile(h.Path); string(got) != content {
			t.Fatalf("corrupt mark overwritten with %q", got)
		}
		c := &Client{Mirrors: []string{"http://127.0.0.1:1"}}
		pending, err := c.Pending(context.Background(), h)
		mustContain(t, err, "is corrupt")
		if pending != nil {
			t.Fatal(pending)
		}
	}
}

// A held patch stays pending below the mark until it is released; a
// corrupt held list fails closed.
func TestHighWaterHeld(t *testing.T) {
	f := newTestFeed(t)
	f.add(t, "a.clp", TargetMeta{}, false)
	f.add(t, "b.clp", TargetMeta{}, false)
	h := NewHighWater(t.TempDir())
	if err := h.Hold(1); err != nil {
		t.Fatal(err)
	}
	if err := h.Mark(2); err != nil {
		t.Fatal(err)
	}
	mark, _ := h.Load()
	if mark != 2 {
		t.Fatalf("mark = %d with a held patch, want 2", mark)
	}
	c := f.client(t)
	p, err := c.Pending(context.Background(), h)
	if err != nil || seqs(p) != "1:a.clp" {
		t.Fatalf("pending = %s, %v; want the held patch 1", seqs(p), err)
	}
	if err := h.Release(1); err != nil {
		t.Fatal(err)
	}
	if p, err := c.Pending(context.Background(), h); err != nil || len(p) != 0 {
		t.Fatalf("pending after release = %s, %v", seqs(p), err)
	}
	os.WriteFile(h.Path+".held", []byte("1\nx\n"), 0o644)
	if _, err := c.Pending(context.Background(), h); err == nil || !strings.Contains(err.Error(), `held patches`) || !strings.Contains(err.Error(), `"x" is not a sequence number`) {
		t.Fatalf("corrupt held list: %v", err)
	}
}
