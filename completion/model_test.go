package completion

import (
	"bytes"
	"strings"
	"testing"
)

// TestWrite: every shell gets a script naming the model's commands; an
// unknown shell is an error. (cmd/clp's TestCompletions holds the scripts
// of clp's real model against the committed copies.)
func TestWrite(t *testing.T) {
	m := Model{
		Globals:  []Flag{{Long: "root", Short: "r", Usage: "root DIR", ValueName: "DIR", TakesArg: true, Kind: KindDir}},
		Commands: []Command{{Name: "apply", Summary: "apply a patch", Args: KindPatch}, {Name: "help", Args: KindCommand, Values: []string{"apply"}}},
	}
	for _, sh := range []string{"bash", "zsh", "fish"} {
		var b bytes.Buffer
		if err := m.Write(&b, sh); err != nil || !strings.Contains(b.String(), "apply") {
			t.Fatalf("%s: %v\n%s", sh, err, b.String())
		}
	}
	if err := m.Write(&bytes.Buffer{}, "tcsh"); err == nil {
		t.Fatal("tcsh accepted")
	}
}

func TestActions(t *testing.T) {
	for _, tc := range []struct {
		usage string
		want  string
	}{
		{"Usage:\n  clp x list\n  clp x show ID\n  clp x diff A [B]\n\nlist   lists\n", "list show diff"},
		{"Usage:\n  clp x install|remove|status [--hookdir DIR]\n", "install remove status"},
		{"Usage:\n  clp x [options] PATCH.clp...\n", ""},
		{"Usage:\n  clp x [--force] [NAME]\n\n  clp x notthis\n", ""},
		{"no usage at all", ""},
	} {
		got := strings.Join(Actions("x", tc.usage), " ")
		if got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.usage, got, tc.want)
		}
	}
}

func TestValueKind(t *testing.T) {
	for name, want := range map[string]Kind{"DIR": KindDir, "ROOT": KindDir, "FILE": KindFile, "KEY": KindKey, "PUB": KindPub, "PATCH": KindPatch, "VERSION": KindNone, "": KindNone} {
		if got := ValueKind(name); got != want {
			t.Errorf("ValueKind(%q) = %v, want %v", name, got, want)
		}
	}
}
