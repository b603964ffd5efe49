package update

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/vincentos/clp/feed"
	"github.com/vincentos/clp/internal/config"
	"github.com/vincentos/clp/pacman"
	"github.com/vincentos/clp/system"
)

func TestListing(t *testing.T) {
	pct, in := 50, true
	rep := &Report{Patches: []Entry{
		{Name: "A", Source: "feed", Sequence: 2, Severity: "important", Action: "apply", Rollout: &pct, InPhase: &in, Description: "fixes x", Changes: []string{"replace /etc/x"}},
		{Name: "B", Source: "feed", Sequence: 3, Severity: "normal", Action: "skip", Reason: "not for this system"},
		{Name: "C", Source: "feed", Action: "roll back", Withdrawn: "broke boot"},
		{Name: "L", Source: "legacy", Action: "apply"},
	}}
	head, lines := rep.Listing("feed", "https://m/", false, "auto")
	if head != "1 patch(es) to apply from the feed at https://m/" {
		t.Errorf("head = %q", head)
	}
	want := []string{
		"   A (sequence 2, important, rollout 50%: this machine is in phase)\n      fixes x\n        replace /etc/x",
		"   B (sequence 3, normal): skipped, not for this system",
		"   C: withdrawn by the feed (broke boot); rolling it back",
	}
	if !reflect.DeepEqual(lines, want) {
		t.Errorf("lines =\n%q\nwant\n%q", lines, want)
	}
	head, lines = rep.Listing("feed", "https://m/", true, "auto")
	if head != "1 patch(es) new from the feed at https://m/" || lines[2] != "   C: withdrawn by the feed (broke boot); would be rolled back" {
		t.Errorf("check: %q %q", head, lines)
	}
	if head, _ := rep.Listing("legacy", "http://l/", false, "none"); head != "1 patch(es) new (UpdatePolicy = none: not applied) from the legacy feed at http://l/" {
		t.Errorf("legacy head = %q", head)
	}
	if head, lines := (&Report{}).Listing("feed", "x", false, "auto"); head != "" || lines != nil {
		t.Errorf("empty: %q %q", head, lines)
	}
}

func TestConfigured(t *testing.T) {
	root := t.TempDir()
	sys := system.New(pacman.Options{Root: root}, "")
	if Configured(sys, &config.Config{AllowLegacyFeed: true}) {
		t.Error("configured with no mirror and no legacy feed")
	}
	if !Configured(sys, &config.Config{FeedMirrors: []string{"https://m/"}}) {
		t.Error("not configured with a FeedMirror")
	}
	legacy := sys.Under(feed.LegacyMirrorsPath)
	if err := os.MkdirAll(filepath.Dir(legacy), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(legacy, []byte("http://l/\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if Configured(sys, &config.Config{}) {
		t.Error("configured by a legacy feed that is not allowed")
	}
	if !Configured(sys, &config.Config{AllowLegacyFeed: true}) {
		t.Error("not configured by an allowed legacy feed")
	}
}
