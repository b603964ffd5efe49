package update

import (
	"reflect"

	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vincentos/clp/feed"
	"github.com/vincentos/clp/patch"
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
	if got := LastSummary("/", state); got != "never" {
		t.Fatalf("before any update: %q", got)
	}
	rep := &Report{Time: time.Date(2025, 6, 1, 12, 3, 4, 0, time.UTC), Result: "ok", Mirror: "https://m.example/feed", Applied: []string{"CLP1", "CLP2"}}
	if err := Record("/", state, rep); err != nil {
		t.Fatal(err)
	}
	got := LastSummary("/", state)
	for _, want := range []string{"2025-06-01", ", ok (applied CLP1, CLP2), from https://m.example/feed"} {
		if !strings.Contains(got, want) {
			t.Fatalf("summary %q lacks %q", got, want)
		}
	}
	os.WriteFile(filepath.Join(state, lastName), []byte("{"), 0o644)
	if got := LastSummary("/", state); !strings.Contains(got, "unreadable") {
		t.Fatalf("corrupt record: %q", got)
	}
}

func TestTargetMetaOf(t *testing.T) {
	m := &patch.Manifest{Name: "CLP1", Architecture: "x86_64", Severity: patch.SeverityImportant, Description: "the fix",
		AppliesTo:     patch.AppliesTo{Packages: []patch.PackageCondition{{Name: "nvidia-utils", Constraint: ">=560"}, {Name: "nvidia-open", Absent: true}}},
		Files:         []patch.FileAction{{Op: patch.OpAdd, Target: "/etc/modprobe.d/nvidia-clp.conf"}},
		Packages:      []patch.PackageAction{{Op: patch.OpDowngrade, Name: "nvidia-utils", Version: "550.78-1"}, {Op: patch.OpPin, Name: "nvidia-utils", Until: "560.35.03-2"}},
		InstallScript: "install.sh"}
	got := TargetMeta(m)
	want := feed.TargetMeta{Name: "CLP1", Description: "the fix", Severity: "important", Architectures: []string{"x86_64"}, Requires: []string{"nvidia-utils>=560", "!nvidia-open"},
		Changes: []string{"add /etc/modprobe.d/nvidia-clp.conf", "downgrade nvidia-utils to 550.78-1", "pin nvidia-utils until 560.35.03-2", "run its install script"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("TargetMeta = %+v, want %+v", got, want)
	}
	// What feed add writes, update reads back.
	for _, r := range got.Requires {
		if n, _, _ := ParseRequirement(r); n == "" {
			t.Errorf("requirement %q does not parse back", r)
		}
	}
	m.AppliesTo.Architectures = []string{"aarch64", "x86_64"}
	if got := TargetMeta(m); !reflect.DeepEqual(got.Architectures, []string{"aarch64", "x86_64"}) {
		t.Fatalf("AppliesTo architectures not used: %v", got.Architectures)
	}
}
