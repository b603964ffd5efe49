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
