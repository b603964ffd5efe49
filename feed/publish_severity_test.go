package feed

import "testing"

// One set of severity names everywhere: the patch format's. "high", which
// feeds wrote before, is read as "important".
func TestSeverityNames(t *testing.T) {
	for in, want := range map[string]string{"critical": "critical", "important": "important", "high": "important", "normal": "normal", "low": "low"} {
		if got := Severity(in); got != want {
			t.Errorf("Severity(%q) = %q, want %q", in, got, want)
		}
	}
	for _, s := range Severities {
		if s == "high" {
			t.Fatal("the feed's severities still name high")
		}
	}
}
