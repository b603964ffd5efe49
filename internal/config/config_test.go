package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestDefaultsWhenMissing(t *testing.T) {
	c, err := Load(filepath.Join(t.TempDir(), "clp.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c, Default()) {
		t.Fatalf("got %+v", c)
	}
}

func TestParse(t *testing.T) {
	c, err := Parse([]byte(`# clp.conf
[options]
AllowedPaths = /etc /usr
AllowedPaths = /opt/vendor
ArchiveServer = http://127.0.0.1:1/a
SnapshotKeep = 7
ScriptTimeout = 30
MaxDownloadSize = 10

[update]
Mirror = https://feed.example/a
Mirror = https://feed.example/b
UpdatePolicy = critical
PhasedUpdates = always
WithdrawnPatches = report
AllowLegacyFeed = yes
`))
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		AllowedPaths:     []string{"/etc", "/usr", "/opt/vendor"},
		ArchiveServers:   []string{"http://127.0.0.1:1/a"},
		SnapshotKeep:     7,
		ScriptTimeoutSec: 30,
		FeedMirrors:      []string{"https://feed.example/a", "https://feed.example/b"},
		UpdatePolicy:     "critical",
		PhasedUpdates:    "always",
		WithdrawnPatches: "report",
		AllowLegacyFeed:  true,
		MaxDownloadBytes: 10 << 20,
		BootGuard:        true,
		BootCritical:     DefaultBootCritical,
		BootFailures:     2,
		BootTimeoutSec:   300,
	}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("got  %+v\nwant %+v", c, want)
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"[options]\nAllowedPath = /etc\n", `line 2: unknown setting "AllowedPath"`},
		{"[weird]\n", "line 1: unknown section [weird]"},
		{"SnapshotKeep = -1\n", `line 1: SnapshotKeep: "-1" is not a positive whole number`},
		{"UpdatePolicy = sometimes\n", "UpdatePolicy: must be all, critical or none"},
		{"AllowLegacyFeed = maybe\n", `"maybe" is not yes or no`},
		{"PhasedUpdates = sometimes\n", "line 1: PhasedUpdates: must be follow, always or never"},
		{"WithdrawnPatches = ignore\n", "line 1: WithdrawnPatches: must be rollback or report"},
		{"AllowedPaths = etc\n", `"etc" must be a clean absolute directory`},
		{"AllowedPaths = /\n", `"/" must be a clean absolute directory other than /`},
		{"AllowedPaths = /proc\n", `"/proc" is never allowed`},
		{"AllowedPaths = /var/lib/clp/x\n", `is never allowed`},
		{"just words\n", "expected 'Key = value'"},
		{"[boot]\nGuard = perhaps\n", `line 2: Guard: "perhaps" is not yes or no`},
		{"[boot]\nFailedBoots = 0\n", `FailedBoots: "0" is not a positive whole number`},
		{"[boot]\nCheckTimeout = soon\n", `CheckTimeout: "soon" is not a positive whole number`},
		{"[boot]\nCriticalPackages = [nvidia\n", `CriticalPackages: "[nvidia" is not a valid glob`},
	} {
		_, err := Parse([]byte(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%q) = %v, want %q", c.in, err, c.want)
		}
	}
}

func TestPathAllowed(t *testing.T) {
	c := Default()
	for p, want := range map[string]bool{
		"/etc/pacman.conf":     true,
		"/usr/lib/x.so":        true,
		"/opt/CLP/a":           true,
		"/boot/loader.conf":    true,
		"/etc":                 false, // the directory itself, never a file target
		"/etc/../root/.ssh/id": false,
		"/var/lib/clp/pins":    false,
		"/proc/sys/kernel":     false,
		"/home/u/.bashrc":      false,
	} {
		if got := c.PathAllowed(p); got != want {
			t.Errorf("PathAllowed(%s) = %v, want %v", p, got, want)
		}
	}
	c.AllowedPaths = []string{"/var"}
	if c.PathAllowed("/var/lib/clp/state") || !c.PathAllowed("/var/lib/x") {
		t.Error("clp's own state must stay forbidden under an allowed /var")
	}
}

func TestLoadUnreadable(t *testing.T) {
	p := filepath.Join(t.TempDir(), "clp.conf")
	os.WriteFile(p, []byte("Bogus = 1\n"), 0o644)
	_, err := Load(p)
	if err == nil || !strings.HasPrefix(err.Error(), p+": line 1") {
		t.Fatalf("error must name the file and line: %v", err)
	}
}

// The [boot] section: the guard's switch, its limits, and package globs
// that add to the defaults rather than replace them.
func TestParseBoot(t *testing.T) {
	c, err := Parse([]byte("[boot]\nGuard = no\nFailedBoots = 3\nCheckTimeout = 90\nCriticalPackages = my-greeter\nCriticalPackages = vendor-gl-*\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.BootGuard || c.BootFailures != 3 || c.BootTimeoutSec != 90 {
		t.Errorf("got guard %v, failures %d, timeout %d", c.BootGuard, c.BootFailures, c.BootTimeoutSec)
	}
	want := append(append([]string(nil), DefaultBootCritical...), "my-greeter", "vendor-gl-*")
	if !reflect.DeepEqual(c.BootCritical, want) {
		t.Errorf("CriticalPackages must add to the defaults: got %v", c.BootCritical)
	}
	if d := Default(); !d.BootGuard || d.BootFailures != 2 || d.BootTimeoutSec != 300 {
		t.Errorf("defaults: %+v", d)
	}
}
