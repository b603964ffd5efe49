package pkgtx

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/vincentos/clp/hooks"
	"github.com/vincentos/clp/patch"
)

// Undo data read back from a journal is checked before Revert acts on it:
// a kept copy outside the patch's keep folder (pacman -U of any file) or a
// pin on a package the patch never touched is refused, changing nothing.
func TestRevertRefusesForeignUndoData(t *testing.T) {
	dir := t.TempDir()
	a := &Actor{StateDir: dir}
	acts := []patch.PackageAction{{Op: patch.OpDowngrade, Name: "nvidia-utils", Version: "550.78-1"}}
	cases := []struct {
		st   actorState
		want string
	}{
		{actorState{Patch: "P1", Keep: map[string]string{"nvidia-utils": "/etc/shadow"}}, `keeps "/etc/shadow" for nvidia-utils: not a copy this patch keeps`},
		{actorState{Patch: "P1", Keep: map[string]string{"bash": a.keepDir("P1") + "/bash.pkg.tar.zst"}}, "for bash: not a copy this patch keeps"},
		{actorState{Patch: "P1", ReplacedPins: []hooks.Pin{{Name: "glibc"}}}, `puts back a pin on "glibc"`},
		{actorState{Patch: "../P1"}, "names no usable patch"},
	}
	for _, c := range cases {
		raw, _ := json.Marshal(c.st)
		err := a.Revert(context.Background(), &patch.PackagePlan{Actions: acts, State: raw})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Fatalf("Revert(%+v) = %v, want %q", c.st, err, c.want)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 0 {
			t.Fatalf("Revert wrote %v", ents)
		}
	}
}
