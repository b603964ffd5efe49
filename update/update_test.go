package update

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseRequirement(t *testing.T) {
	for _, c := range []struct {
		in, name, constraint string
		absent               bool
	}{
		{"nvidia-utils", "nvidia-utils", "", false},
		{"nvidia-utils>=560", "nvidia-utils", ">=560", false},
		{"nvidia-utils=560.35.03-1", "nvidia-utils", "=560.35.03-1", false},
		{"linux<6.10", "linux", "<6.10", false},
		{"!nvidia-open", "nvidia-open", "", true},
	} {
		n, con, abs := ParseRequirement(c.in)
		if n != c.name || con != c.constraint || abs != c.absent {
			t.Errorf("ParseRequirement(%q) = %q, %q, %v", c.in, n, con, abs)
		}
	}
}

func TestLastUpdateSummary(t *testing.T) {
	state := t.TempDir()
	if got := LastSummary(state); got != "never" {
		t.Fatalf("before any update: %q", got)
	}
	rep := &Report{Time: time.Date(2025, 6, 1, 12, 3, 4, 0, time.UTC), Result: "ok", Mirror: "https://m.example/feed", Applied: []string{"CLP1", "CLP2"}}
	if err := Record(state, rep); err != nil {
		t.Fatal(err)
	}
	got := LastSummary(state)
	for _, want := range []string{"2025-06-01", ", ok (applied CLP1, CLP2), from https://m.example/feed"} {
		if !strings.Contains(got, want) {
			t.Fatalf("summary %q lacks %q", got, want)
		}
	}
	os.WriteFile(filepath.Join(state, lastName), []byte("{"), 0o644)
	if got := LastSummary(state); !strings.Contains(got, "unreadable") {
		t.Fatalf("corrupt record: %q", got)
	}
}
