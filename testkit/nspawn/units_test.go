package nspawn_test

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vincentos/clp/testkit/nspawn"
	"github.com/vincentos/clp/testkit/sandbox"
)

// TestBootAndReboot is the harness itself: a boot, a clean reboot with a
// new boot id and /var kept, and an unplugged machine that boots again.
func TestBootAndReboot(t *testing.T) {
	m := nspawn.New(t)
	start := time.Now()
	st := m.Boot()
	t.Logf("first boot: %s in %s", st, time.Since(start).Round(time.Millisecond))
	b1 := m.BootID()
	m.Must("sh", "-c", "echo kept > /var/lib/nspawn-test")
	start = time.Now()
	m.Reboot()
	t.Logf("reboot: %s", time.Since(start).Round(time.Millisecond))
	b2 := m.BootID()
	if b1 == b2 {
		t.Fatalf("the boot id did not change: %s", b1)
	}
	if out := m.Must("cat", "/var/lib/nspawn-test"); strings.TrimSpace(out) != "kept" {
		t.Fatalf("/var did not survive the reboot: %q", out)
	}
	if id := strings.TrimSpace(m.Must("cat", "/etc/machine-id")); id != nspawn.MachineID {
		t.Fatalf("machine-id %s", id)
	}
	m.Unplug()
	m.Boot()
	if out := m.Must("journalctl", "--list-boots", "--no-pager"); strings.Count(out, "\n") < 4 {
		t.Errorf("the journal does not keep the earlier boots:\n%s", out)
	}
	m.Poweroff()
}

// securityScore is the overall exposure systemd-analyze gives unit.
func securityScore(t *testing.T, m *nspawn.Machine, unit string) float64 {
	out, _ := m.Exec("systemd-analyze", "security", "--no-pager", unit)
	re := regexp.MustCompile(`Overall exposure level for \S+: ([0-9.]+)`)
	mm := re.FindStringSubmatch(out)
	if mm == nil {
		t.Fatalf("systemd-analyze security %s:\n%s", unit, out)
	}
	f, _ := strconv.ParseFloat(mm[1], 64)
	return f
}

// TestUpdateUnits installs the clp package into a booted machine with its
// own pacman: the scriptlet enables and starts the daily timer (listed for
// 12:00) and enables the boot guard's units. With no feed configured the
// service ends cleanly with a skip in the journal; with a feed served on
// 127.0.0.1 inside, the service applies a patch that runs a script and a
// 'pacman -U' with clp's own hooks, under all its hardening, whose
// systemd-analyze score is measured against the unit before this change.
func TestUpdateUnits(t *testing.T) {
	m := nspawn.New(t)
	fx := sandbox.TestFixtures(t)
	m.Boot()
	out := m.InstallClp()
	t.Logf("pacman -U clp:\n%s", out)
	for _, u := range []string{"core-livepatch-update.timer", "clp-boot-guard.service", "clp-boot-check.service"} {
		if st, _ := m.Exec("systemctl", "is-enabled", u); strings.TrimSpace(st) != "enabled" {
			t.Errorf("%s is %q after installing the package, want enabled", u, strings.TrimSpace(st))
		}
	}
	if st, _ := m.Exec("systemctl", "is-active", "core-livepatch-update.timer"); strings.TrimSpace(st) != "active" {
		t.Errorf("the timer is %q after installing the package, want active (started by the scriptlet)", strings.TrimSpace(st))
	}
	timers := m.Must("systemctl", "list-timers", "--all", "--no-pager")
	if !regexp.MustCompile(`(?m)^\S+ \S+ 12:[01]\d:\d\d .*core-livepatch-update\.timer`).MatchString(timers) {
		t.Errorf("list-timers does not show core-livepatch-update.timer for 12:00:\n%s", timers)
	}

	// The score, before and after this change's hardening.
	before, err := os.ReadFile("testdata/core-livepatch-update.service.before")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(m.Path("/etc/systemd/system/clp-before.service"), before, 0o644); err != nil {
		t.Fatal(err)
	}
	m.Must("systemctl", "daemon-reload")
	scoreBefore := securityScore(t, m, "clp-before.service")
	scoreAfter := securityScore(t, m, "core-livepatch-update.service")
	t.Logf("systemd-analyze security core-livepatch-update.service: %.1f before, %.1f after", scoreBefore, scoreAfter)
	if scoreAfter >= scoreBefore || scoreAfter > 5.5 {
		t.Errorf("exposure %.1f, want below %.1f and at most 5.5", scoreAfter, scoreBefore)
	}

	// No feed configured, as packaged: a clean skip, not a failed unit.
	if out, err := m.Exec("systemctl", "start", "core-livepatch-update.service"); err != nil {
		t.Errorf("systemctl start with no feed: %v\n%s", err, out)
	}
	if st, _ := m.Exec("systemctl", "show", "-P", "Result", "core-livepatch-update.service"); strings.TrimSpace(st) != "success" {
		t.Errorf("the service's result is %q with no feed, want success", strings.TrimSpace(st))
	}
	journal := m.Must("journalctl", "-b", "-u", "core-livepatch-update.service", "--no-pager")
	if !strings.Contains(journal, "skipped: no feed is configured") {
		t.Errorf("the journal lacks the skip:\n%s", journal)
	}
	if st, _ := m.Exec("systemctl", "is-system-running"); strings.TrimSpace(st) != "running" {
		failed, _ := m.Exec("systemctl", "--failed", "--no-pager")
		t.Errorf("the system is %q, want running:\n%s", strings.TrimSpace(st), failed)
	}

	// A feed on 127.0.0.1 inside, with a patch that adds a file, runs a
	// script and downgrades a package through pacman (clp's hooks run).
	host := hostClp(t)
	work := t.TempDir()
	feedDir := filepath.Join(work, "feed")
	run(t, host, "feed", "init", feedDir)
	m.CopyIn("/var/cache/pacman/pkg", fx.Path("clp-testgreeter", "1.0-1"), fx.Path("clp-testgreeter", "1.1-1"))
	m.Must("pacman", "-U", "--noconfirm", "--noprogressbar", "/var/cache/pacman/pkg/"+filepath.Base(fx.Path("clp-testgreeter", "1.1-1")))
	old := fx.Path("clp-testgreeter", "1.0-1")
	sum := sha256File(t, old)
	pdir := filepath.Join(work, "patch")
	writeFiles(t, pdir, map[string]string{
		"PKGINFO.meta": `<?xml version="1.0" encoding="UTF-8"?>
<Package format="1">
  <Name>CLPN0000001</Name>
  <Version>1</Version>
  <Architecture>x86_64</Architecture>
  <Description>nspawn feed test: a file, a script, a downgrade</Description>
  <Files>
    <Add target="/etc/clp-feedtest.conf" payload="clp-feedtest.conf" sha256="auto" mode="0644"/>
  </Files>
  <Packages>
    <Downgrade name="clp-testgreeter" version="1.0-1" file="` + filepath.Base(old) + `" sha256="` + sum + `"/>
  </Packages>
  <Scripts>
    <Install>install.sh</Install>
  </Scripts>
</Package>
`,
		"clp-feedtest.conf": "from the feed\n",
		"install.sh":        "#!/bin/sh\necho \"script ran as $(id -u)\" > /var/lib/clp-feedtest-script\n",
	})
	run(t, host, "build", pdir, "-o", filepath.Join(work, "CLPN0000001.clp"))
	run(t, host, "feed", "add", feedDir, filepath.Join(work, "CLPN0000001.clp"))
	if out, err := exec.Command("cp", "-a", filepath.Join(feedDir, "repository"), m.Path("/srv/feed")).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	sandbox.CopyFile(filepath.Join(feedDir, "repository/metadata/1.root.json"), m.Path("/etc/clp/feed-root.json"), 0o644)
	srv := fileServer(t)
	sandbox.CopyFile(srv, m.Path("/usr/local/bin/clp-fileserver"), 0o755)
	if _, err := m.Start("/usr/local/bin/clp-fileserver", "/srv/feed"); err != nil {
		t.Fatal(err)
	}
	url := waitURL(t, m)
	appendFile(t, m.Path("/etc/clp/clp.conf"), "\n[update]\nFeedMirror = "+url+"\n")

	start := time.Now()
	if out, err := m.Exec("systemctl", "start", "core-livepatch-update.service"); err != nil {
		j, _ := m.Exec("journalctl", "-b", "-u", "core-livepatch-update.service", "--no-pager")
		t.Fatalf("systemctl start with a feed: %v\n%s\n%s", err, out, j)
	}
	t.Logf("clp update under the service's hardening: %s", time.Since(start).Round(time.Millisecond))
	journal = m.Must("journalctl", "-b", "-u", "core-livepatch-update.service", "--no-pager", "-o", "cat")
	for _, want := range []string{"patch CLPN0000001 applied", "Recording the package state after the transaction (clp)"} {
		if !strings.Contains(journal, want) {
			t.Errorf("the journal lacks %q:\n%s", want, journal)
		}
	}
	if q := m.Must("pacman", "-Q", "clp-testgreeter"); strings.TrimSpace(q) != "clp-testgreeter 1.0-1" {
		t.Errorf("pacman -Q: %s", q)
	}
	if s, _ := os.ReadFile(m.Path("/var/lib/clp-feedtest-script")); string(s) != "script ran as 0\n" {
		t.Errorf("the install script did not run: %q", s)
	}
	if s, _ := os.ReadFile(m.Path("/etc/clp-feedtest.conf")); string(s) != "from the feed\n" {
		t.Errorf("the patch's file: %q", s)
	}
	snaps := m.Must("clp", "snapshot", "list")
	if !regexp.MustCompile(`(?m) post .*patch CLPN0000001`).MatchString(snaps) {
		t.Errorf("clp's post hook did not record the patch's pacman transaction:\n%s", snaps)
	}
	m.Poweroff()
}

func hostClp(t *testing.T) string {
	pkg := nspawn.ClpPackage(t)
	dir := t.TempDir()
	if out, err := exec.Command("bsdtar", "-xf", pkg, "-C", dir, "usr/bin/clp").CombinedOutput(); err != nil {
		t.Fatalf("bsdtar: %v: %s", err, out)
	}
	return filepath.Join(dir, "usr/bin/clp")
}

func fileServer(t *testing.T) string {
	src, err := nspawn.SourceDir()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "fileserver")
	cmd := exec.Command("go", "build", "-o", out, "./scripts/fileserver")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the file server: %v: %s", err, b)
	}
	return out
}

// waitURL finds the file server's port inside (it listens on 127.0.0.1:0).
func waitURL(t *testing.T, m *nspawn.Machine) string {
	for i := 0; i < 100; i++ {
		out, _ := m.Exec("sh", "-c", "cat /proc/net/tcp")
		sc := bufio.NewScanner(strings.NewReader(out))
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			// local 0100007F:PORT, state 0A (listen)
			if len(f) > 3 && strings.HasPrefix(f[1], "0100007F:") && f[3] == "0A" {
				port, err := strconv.ParseUint(strings.TrimPrefix(f[1], "0100007F:"), 16, 16)
				if err == nil {
					return "http://127.0.0.1:" + strconv.FormatUint(port, 10)
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the file server did not listen inside the machine")
	return ""
}

func run(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("clp %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func sha256File(t *testing.T, p string) string {
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	for name, content := range files {
		mode := os.FileMode(0o644)
		if strings.HasSuffix(name, ".sh") {
			mode = 0o755
		}
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
}

func appendFile(t *testing.T, p, s string) {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}
