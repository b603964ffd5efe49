package boot_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vincentos/clp/boot"
	"github.com/vincentos/clp/testkit/nspawn"
	"github.com/vincentos/clp/testkit/sandbox"
)

// Tests of the boot guard on a real systemd in systemd-nspawn, with real
// reboots: a stand-in display manager needs the theme that
// clp-testgreeter 1.x ships and 2.0 forgets.

// dmUnit is the stand-in display manager.
const dmUnit = `[Unit]
Description=stand-in display manager (needs clp-testgreeter's theme)

[Service]
ExecStart=/bin/sh -c 'test -f /usr/share/clp-testgreeter/theme.conf || { echo "greeter theme missing: black screen" >&2; exit 1; }; exec sleep infinity'
Restart=on-failure
RestartSec=100ms

[Install]
Alias=display-manager.service
WantedBy=graphical.target
`

// guardMachine boots a machine with clp installed from its package, the
// stand-in display manager enabled, a graphical default target,
// clp-testgreeter 1.0 installed and every fixture version in the cache,
// and clp-testgreeter made boot-critical in clp.conf.
func guardMachine(t *testing.T) (*nspawn.Machine, *sandbox.Fixtures) {
	m := nspawn.New(t)
	fx := sandbox.TestFixtures(t)
	if err := os.WriteFile(m.Path("/etc/systemd/system/clp-test-dm.service"), []byte(dmUnit), 0o644); err != nil {
		t.Fatal(err)
	}
	m.Boot()
	m.InstallClp()
	m.CopyIn("/var/cache/pacman/pkg", fx.Path("clp-testgreeter", "1.0-1"), fx.Path("clp-testgreeter", "1.1-1"), fx.Path("clp-testgreeter", "2.0-1"))
	m.Must("pacman", "-U", "--noconfirm", "--noprogressbar", pkgFile(fx, "1.0-1"))
	m.Must("systemctl", "enable", "clp-test-dm.service")
	m.Must("systemctl", "set-default", "graphical.target")
	appendFile(t, m.Path("/etc/clp/clp.conf"), "\n[boot]\nCriticalPackages = clp-testgreeter\nCheckTimeout = 60\n")
	return m, fx
}

func pkgFile(fx *sandbox.Fixtures, v string) string {
	return "/var/cache/pacman/pkg/" + filepath.Base(fx.Path("clp-testgreeter", v))
}

// guardState reads 'clp boot status --json' inside.
func guardState(t *testing.T, m *nspawn.Machine) *boot.State {
	t.Helper()
	out := m.Must("clp", "boot", "status", "--json")
	var rep struct {
		State *boot.State `json:"state"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.State == nil {
		t.Fatalf("clp boot status --json: %v\n%s", err, out)
	}
	return rep.State
}

// judged waits for this boot's judge to finish.
func judged(t *testing.T, m *nspawn.Machine) {
	t.Helper()
	m.WaitUnit("clp-boot-check.service", 2*time.Minute, "inactive", "failed")
	t.Cleanup(func() {
		if t.Failed() && m.Running() {
			j, _ := m.Exec("journalctl", "-b", "-u", "clp-boot-check.service", "-u", "clp-boot-guard.service", "--no-pager")
			t.Logf("the guard's journal:\n%s", j)
		}
	})
}

func pacmanQ(t *testing.T, m *nspawn.Machine) string {
	return strings.TrimSpace(m.Must("pacman", "-Q", "clp-testgreeter"))
}

func unitState(m *nspawn.Machine, unit string) string {
	out, _ := m.Exec("systemctl", "is-active", unit)
	return strings.TrimSpace(out)
}

// The black screen undone: an update to the broken 2.0 arms the guard; two
// boots fail; early in the third the guard restores 1.0 before the display
// manager starts, and that boot is good.
func TestGuardRestoresBrokenUpdate(t *testing.T) {
	m, fx := guardMachine(t)
	out := m.Must("pacman", "-U", "--noconfirm", "--noprogressbar", pkgFile(fx, "2.0-1"))
	if !strings.Contains(out, "boot guard armed (clp-testgreeter changed)") {
		t.Fatalf("the post hook did not arm the guard:\n%s", out)
	}
	armed := guardState(t, m)
	if armed.Phase != boot.Armed || armed.Snapshot == 0 {
		t.Fatalf("after the update: %+v", armed)
	}
	for i := 1; i <= 2; i++ {
		start := time.Now()
		m.Reboot()
		judged(t, m)
		t.Logf("bad boot %d judged in %s", i, time.Since(start).Round(time.Millisecond))
		if st := unitState(m, "display-manager.service"); st == "active" {
			t.Fatalf("boot %d: the display manager runs with the broken theme", i)
		}
		if st := guardState(t, m); st.Phase != boot.Armed || st.Failed != i {
			t.Fatalf("after bad boot %d: %+v", i, st)
		}
	}
	start := time.Now()
	m.Reboot()
	judged(t, m)
	t.Logf("restore boot judged in %s", time.Since(start).Round(time.Millisecond))
	if q := pacmanQ(t, m); q != "clp-testgreeter 1.0-1" {
		t.Fatalf("after the restore: %s", q)
	}
	if st := unitState(m, "display-manager.service"); st != "active" {
		t.Fatalf("the display manager is %s after the restore", st)
	}
	st := guardState(t, m)
	if st.Phase != boot.Disarmed || !strings.Contains(st.Last, "restored snapshot") || !strings.Contains(st.Last, "the boot after it was good") {
		t.Fatalf("after the restore boot: %+v", st)
	}
	journal := m.Must("journalctl", "-b", "-u", "clp-boot-guard.service", "--no-pager", "-o", "cat")
	for _, want := range []string{"restoring snapshot", "restored snapshot"} {
		if !strings.Contains(journal, want) {
			t.Errorf("the journal lacks %q:\n%s", want, journal)
		}
	}
	// Before the display manager: its first start this boot came after
	// the guard's restore ended.
	order := m.Must("sh", "-c", "systemctl show -P ExecMainExitTimestampMonotonic clp-boot-guard.service; systemctl show -P ExecMainStartTimestampMonotonic clp-test-dm.service")
	f := strings.Fields(order)
	if len(f) != 2 || !(atoi(f[0]) > 0 && atoi(f[0]) <= atoi(f[1])) {
		t.Errorf("the restore did not end before the display manager started: %q", order)
	}
	log, _ := os.ReadFile(m.Path("/var/log/CLP.log"))
	if !strings.Contains(string(log), "clp boot guard: restored snapshot") {
		t.Errorf("CLP.log lacks the restore:\n%s", log)
	}
	console, _ := os.ReadFile(m.Console)
	if !strings.Contains(string(console), "clp boot guard: restored snapshot") {
		t.Errorf("the console did not show the restore")
	}
	// Never again: the next boot restores nothing more.
	m.Reboot()
	judged(t, m)
	if q := pacmanQ(t, m); q != "clp-testgreeter 1.0-1" || guardState(t, m).Phase != boot.Disarmed {
		t.Fatalf("the boot after: %s %+v", q, guardState(t, m))
	}
	m.Poweroff()
}

func atoi(s string) int64 {
	var n int64
	for _, c := range s {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int64(c-'0')
	}
	return n
}

// A good update disarms on the first good boot, and nothing is restored.
func TestGuardGoodUpdateDisarms(t *testing.T) {
	m, fx := guardMachine(t)
	m.Must("pacman", "-U", "--noconfirm", "--noprogressbar", pkgFile(fx, "1.1-1"))
	if st := guardState(t, m); st.Phase != boot.Armed {
		t.Fatalf("the update did not arm the guard: %+v", st)
	}
	m.Reboot()
	judged(t, m)
	st := guardState(t, m)
	if st.Phase != boot.Disarmed || st.Restore != nil || !strings.Contains(st.Last, "a good boot") {
		t.Fatalf("after the first boot: %+v", st)
	}
	if q := pacmanQ(t, m); q != "clp-testgreeter 1.1-1" {
		t.Fatalf("something was restored: %s", q)
	}
	if st := unitState(m, "display-manager.service"); st != "active" {
		t.Fatalf("display manager %s", st)
	}
	m.Poweroff()
}

// A machine powered off before its boot was judged (the power button held
// on a black screen) counts that boot as failed.
func TestGuardSilentBootCountsAsFailed(t *testing.T) {
	m, fx := guardMachine(t)
	m.Must("pacman", "-U", "--noconfirm", "--noprogressbar", pkgFile(fx, "1.1-1"))
	start := time.Now()
	m.Poweroff()
	m.Boot()
	t.Logf("reboot: %s", time.Since(start).Round(time.Millisecond))
	silent := m.BootID()
	start = time.Now()
	m.Unplug() // before the judge's settle time is over
	t.Logf("unplug: %s", time.Since(start).Round(time.Millisecond))
	start = time.Now()
	m.Boot()
	t.Logf("boot after the unplug: %s", time.Since(start).Round(time.Millisecond))
	st := guardState(t, m)
	if st.Failed != 1 {
		t.Fatalf("the unjudged boot was not counted as failed: %+v", st)
	}
	found := false
	for _, b := range st.Boots {
		if b.ID == silent {
			found = b.Verdict == boot.VerdictSilent
		}
	}
	if !found {
		t.Fatalf("boot %s is not recorded as silent: %+v", silent, st.Boots)
	}
	journal := m.Must("journalctl", "-b", "-u", "clp-boot-guard.service", "--no-pager", "-o", "cat")
	if !strings.Contains(journal, "was never judged") {
		t.Errorf("the journal does not say so:\n%s", journal)
	}
	judged(t, m)
	if st := guardState(t, m); st.Phase != boot.Disarmed {
		t.Fatalf("the good boot after did not disarm: %+v", st)
	}
	m.Poweroff()
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
