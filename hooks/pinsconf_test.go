package hooks

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vincentos/clp/alpm"
	"github.com/vincentos/clp/pacman"
	"github.com/vincentos/clp/testkit/sandbox"
)

// userConf is a pacman.conf as users keep them: comments, odd spacing, an
// existing IgnorePkg, repositories after [options].
const userConf = `#
# /etc/pacman.conf
#
[options]
#RootDir     = /
HoldPkg     = pacman glibc
  IgnorePkg   = linux    # keep the kernel
Architecture = auto

# Misc options
Color
[core]
Include = /etc/pacman.d/mirrorlist
`

func TestIncludeAddDropIsByteIdentical(t *testing.T) {
	for name, conf := range map[string]string{
		"user":            userConf,
		"crlf":            strings.ReplaceAll(userConf, "\n", "\r\n"),
		"options last":    "[core]\nServer = x\n[options]",
		"options last nl": "[options]\n",
		"no final nl":     "[options]\nColor",
		"two options":     "[options]\nColor\n[options]\nVerbosePkgLists\n",
	} {
		t.Run(name, func(t *testing.T) {
			added, changed, err := AddInclude([]byte(conf), PinsConfPath)
			if err != nil || !changed {
				t.Fatalf("AddInclude: %v %v", changed, err)
			}
			if n := strings.Count(string(added), "Include = "+PinsConfPath); n != 1 {
				t.Fatalf("include added %d times:\n%s", n, added)
			}
			again, changed, err := AddInclude(added, PinsConfPath)
			if err != nil || changed || string(again) != string(added) {
				t.Fatalf("second AddInclude changed the file: %v %v", changed, err)
			}
			back, changed := DropInclude(added, PinsConfPath)
			if !changed || string(back) != conf {
				t.Fatalf("after add+drop:\n%q\nwant\n%q", back, conf)
			}
			if _, changed := DropInclude([]byte(conf), PinsConfPath); changed {
				t.Fatal("DropInclude changed a file without the include")
			}
		})
	}
}

func TestIncludeNeedsOptions(t *testing.T) {
	_, _, err := AddInclude([]byte("[core]\nServer = x\n"), PinsConfPath)
	if err == nil || !strings.Contains(err.Error(), "no [options] section") {
		t.Fatalf("err = %v", err)
	}
	// An Include of clp's file in a repository section is not ours.
	in := "[options]\n[core]\nInclude = " + PinsConfPath + "\n"
	if _, changed := DropInclude([]byte(in), PinsConfPath); changed {
		t.Fatal("dropped an Include outside [options]")
	}
}

func TestRenderPinsConf(t *testing.T) {
	got := string(RenderPinsConf([]Pin{{Name: "nvidia-utils"}, {Name: "nvidia-dkms"}}))
	if !strings.HasSuffix(got, "IgnorePkg = nvidia-dkms\nIgnorePkg = nvidia-utils\n") {
		t.Fatalf("got:\n%s", got)
	}
}

// sandboxPaths makes a sandbox root whose pacman.conf is the user's, with
// the sandbox's own directories.
func sandboxPaths(t *testing.T) (*sandbox.Root, *pacman.Paths) {
	t.Helper()
	r := sandbox.New(t)
	if err := r.WriteConfig("# user's own lines\n  IgnorePkg = linux\n\n[extra]\n#Server = nowhere\nServer = file:///nonexistent\n"); err != nil {
		t.Fatal(err)
	}
	p, err := r.Paths()
	if err != nil {
		t.Fatal(err)
	}
	return r, p
}

func TestPinsIncludeRealPacmanConf(t *testing.T) {
	r, p := sandboxPaths(t)
	before, err := os.ReadFile(r.Config)
	if err != nil {
		t.Fatal(err)
	}
	if got := IncludeTarget(p); got != filepath.Join(r.Dir, "etc/pacman.d/clp-pins.conf") {
		t.Fatalf("IncludeTarget = %s, want the file under the sandbox root", got)
	}
	state := t.TempDir()
	pins, err := UpdatePins(p, state, func(pins []Pin) ([]Pin, error) {
		return append(pins, Pin{Name: "nvidia-utils", Version: "550.78-1"}, Pin{Name: "nvidia-dkms", Version: "550.78-1"}), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(pins) != 2 {
		t.Fatalf("pins = %v", pins)
	}
	// pacman-conf, reading the real file, sees the pins and the user's.
	conf, err := pacman.ReadConfig(r.Config)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(conf.IgnorePkg, " "); got != "nvidia-dkms nvidia-utils linux" && got != "linux nvidia-dkms nvidia-utils" {
		t.Fatalf("IgnorePkg = %q", got)
	}
	// A second change does not add a second Include.
	if _, err := UpdatePins(p, state, func(pins []Pin) ([]Pin, error) { return pins[:1], nil }); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(r.Config)
	if n := strings.Count(string(data), "Include = "); n != 1 {
		t.Fatalf("%d Include lines:\n%s", n, data)
	}
	changed, err := RemoveInclude(p)
	if err != nil || !changed {
		t.Fatalf("RemoveInclude: %v %v", changed, err)
	}
	after, _ := os.ReadFile(r.Config)
	if string(after) != string(before) {
		t.Fatalf("pacman.conf after add+remove differs:\n%s\nwant\n%s", after, before)
	}
	if _, err := os.Stat(PinsConfFile(p)); !os.IsNotExist(err) {
		t.Fatalf("include file still there: %v", err)
	}
	conf, err = pacman.ReadConfig(r.Config)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(conf.IgnorePkg, " ") != "linux" {
		t.Fatalf("IgnorePkg after removal = %v", conf.IgnorePkg)
	}
}

func TestIncludeTargetForMountedSystem(t *testing.T) {
	// A mounted installation's own pacman.conf names system paths: the
	// Include must name the system path, right once that system boots.
	root := t.TempDir()
	p := &pacman.Paths{Root: root, Config: filepath.Join(root, "etc/pacman.conf")}
	if got := IncludeTarget(p); got != PinsConfPath {
		t.Fatalf("IncludeTarget = %s", got)
	}
	if got := IncludeTarget(&pacman.Paths{Root: "/"}); got != PinsConfPath {
		t.Fatalf("IncludeTarget(/) = %s", got)
	}
}

type fakeSync map[string]string

func (f fakeSync) Sync(name string) (pacman.Package, bool, error) {
	v, ok := f[name]
	return pacman.Package{Name: name, Version: v, Repo: "core"}, ok, nil
}

func TestDuePins(t *testing.T) {
	pins := []Pin{
		{Name: "a", Until: "2.0-1"},
		{Name: "b", Until: "2.0-1"},
		{Name: "c"},
		{Name: "d", Until: "1:1.0-1"},
	}
	got, err := DuePins(pins, fakeSync{"a": "2.0-1", "b": "1.9-3", "c": "9", "d": "1.5-1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Pin.Name != "a" || got[0].Offered != "2.0-1" {
		t.Fatalf("due = %+v", got)
	}
}

// TestLiftPinsWithRealSyncDB: the sync database (a real repo made by
// repo-add, synced by real pacman) offers the fixed version, and the pin
// lifts, with a line in clp.log.
func TestLiftPinsWithRealSyncDB(t *testing.T) {
	sandbox.RequireRoot(t)
	r, f := sandbox.NewNVIDIA(t)
	p, err := r.Paths()
	if err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(r.Dir, "var/lib/clp")
	if _, err := UpdatePins(p, state, func([]Pin) ([]Pin, error) {
		return []Pin{
			{Name: "nvidia-utils", Version: sandbox.Good, Until: "560.35.03-1"},
			{Name: "nvidia-settings", Version: sandbox.Good, Until: "999-1"},
		}, nil
	}); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(r.Dir, "var/log/clp.log")
	open := func() *alpm.Handle {
		h, err := alpm.Open(pacman.Options{Root: r.Dir})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		return h
	}
	// No repository offers anything yet: nothing lifts.
	lifted, err := LiftPins(context.Background(), p, state, open(), logPath, time.Now())
	if err != nil || len(lifted) != 0 {
		t.Fatalf("lifted %v, %v", lifted, err)
	}
	if err := r.AddRepo("fixed", f.Paths(sandbox.Broken, "nvidia-utils", "nvidia-settings")...); err != nil {
		t.Fatal(err)
	}
	p, err = r.Paths()
	if err != nil {
		t.Fatal(err)
	}
	lifted, err = LiftPins(context.Background(), p, state, open(), logPath, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(lifted) != 1 || lifted[0].Pin.Name != "nvidia-utils" || lifted[0].Offered != sandbox.Broken || lifted[0].Repo != "fixed" {
		t.Fatalf("lifted = %+v", lifted)
	}
	pins, _ := LoadPins("/", state)
	if len(pins) != 1 || pins[0].Name != "nvidia-settings" {
		t.Fatalf("pins left = %+v", pins)
	}
	conf, err := pacman.ReadConfig(r.Config)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(conf.IgnorePkg, " ") != "nvidia-settings" {
		t.Fatalf("IgnorePkg = %v", conf.IgnorePkg)
	}
	log, err := os.ReadFile(logPath)
	if err != nil || !strings.Contains(string(log), "pin lifted: nvidia-utils (held at 550.78-1 until 560.35.03-1): fixed offers 560.35.03-1") {
		t.Fatalf("clp.log: %s %v", log, err)
	}
}
