package snapshot

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDescMtime: the raw stat of the hooks' fast path reads the same
// modification time as os.Stat, reuses its path buffer for names longer
// and shorter than the one before, and fails for a missing desc.
func TestDescMtime(t *testing.T) {
	dir := t.TempDir()
	long := strings.Repeat("a", 200) + "-1.0-1"
	when := time.Unix(1700000000, 123456789)
	for _, n := range []string{"b-1-1", long, "c-2-1"} {
		if err := os.MkdirAll(filepath.Join(dir, n), 0o755); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, n, "desc")
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, when, when); err != nil {
			t.Fatal(err)
		}
		when = when.Add(time.Hour)
	}
	d, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var path []byte
	for _, n := range []string{"b-1-1", long, "c-2-1"} {
		got, err := descMtime(int(d.Fd()), n, &path)
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		fi, err := os.Stat(filepath.Join(dir, n, "desc"))
		if err != nil {
			t.Fatal(err)
		}
		if want := fi.ModTime().UnixNano(); got != want {
			t.Errorf("%s: mtime %d, os.Stat says %d", n, got, want)
		}
	}
	if _, err := descMtime(int(d.Fd()), "missing-1-1", &path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing desc: %v, want ErrNotExist", err)
	}
}
