package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vincentos/clp/hooks"
	"github.com/vincentos/clp/testkit/sandbox"
)

// pacman -R of a pinned package, with clp's hooks installed: the post hook
// drops the pin (and, with no pin left, clp's Include from pacman.conf), so
// no pin is left behind on a package that is gone.
func TestPacmanRemoveDropsPin(t *testing.T) {
	sandbox.RequireRoot(t)
	f := sandbox.TestFixtures(t)
	clp := buildClp(t, t.TempDir())
	r := hookRoot(t, clp)
	conf := filepath.Join(r.Dir, "etc/pacman.conf")
	confBefore, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := pacmanEnv(t, r, nil, []string{"-U"}, f.Path("clp-testconf", "1.0-1")); err != nil {
		t.Fatalf("pacman -U: %v\n%s", err, out)
	}
	var out bytes.Buffer
	if code := Main(context.Background(), []string{"--root", r.Dir, "pin", "clp-testconf"}, nil, &out, &out); code != 0 {
		t.Fatalf("clp pin: %d\n%s", code, out.String())
	}
	if pins, _ := hooks.LoadPins("/", filepath.Join(r.Dir, "var/lib/clp")); len(pins) != 1 {
		t.Fatalf("pins after clp pin: %+v", pins)
	}
	msg, err := pacmanEnv(t, r, nil, []string{"-R"}, "clp-testconf")
	if err != nil {
		t.Fatalf("pacman -R: %v\n%s", err, msg)
	}
	if !strings.Contains(msg, "pin of clp-testconf dropped: pacman removed it") {
		t.Fatalf("the post hook did not say it dropped the pin:\n%s", msg)
	}
	if pins, err := hooks.LoadPins("/", filepath.Join(r.Dir, "var/lib/clp")); err != nil || len(pins) != 0 {
		t.Fatalf("pins after pacman -R: %+v, %v", pins, err)
	}
	if got, _ := os.ReadFile(conf); !bytes.Equal(got, confBefore) {
		t.Fatalf("pacman.conf keeps clp's Include with no pin left:\n%s", got)
	}
	if _, err := os.Stat(filepath.Join(r.Dir, "etc/pacman.d/clp-pins.conf")); !os.IsNotExist(err) {
		t.Fatalf("the pins include is left: %v", err)
	}
}
