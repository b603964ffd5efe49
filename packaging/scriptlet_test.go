package packaging

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vincentos/clp/testkit/sandbox"
)

// TestInstallScriptlet runs dist/clp.install's functions with the root's
// own /bin/sh, chrooted into a sandbox root, as pacman runs them: with
// systemd not running (a chroot: nothing is called and nothing fails), and
// with systemd running, where a stand-in systemctl in the root records what
// it is asked (a real systemd cannot run in a test), failing or not.
func TestInstallScriptlet(t *testing.T) {
	sandbox.RequireRoot(t)
	script, err := os.ReadFile(filepath.Join(sourceDir(t), "dist/clp.install"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		systemd  bool
		chroot   bool // systemctl installed, systemd not running
		exitCode int  // the stand-in systemctl's
		fn       string
		calls    string
		output   string
	}{
		{"install without systemd", false, false, 0, "post_install", "", "systemd is not running"},
		{"remove without systemd", false, false, 0, "pre_remove", "", ""},
		{"install in a chroot with systemctl", false, true, 0, "post_install", "enable core-livepatch-update.timer clp-boot-guard.service clp-boot-check.service\n", ""},
		{"remove in a chroot with systemctl", false, true, 0, "pre_remove", "disable core-livepatch-update.timer clp-boot-guard.service clp-boot-check.service\n", ""},
		{"install with systemd", true, false, 0, "post_install", "enable --now core-livepatch-update.timer\nenable clp-boot-guard.service clp-boot-check.service\n", ""},
		{"install with a failing systemctl", true, false, 1, "post_install", "enable --now core-livepatch-update.timer\nenable clp-boot-guard.service clp-boot-check.service\n", ""},
		{"remove with systemd", true, false, 0, "pre_remove", "disable --now core-livepatch-update.timer\ndisable clp-boot-guard.service clp-boot-check.service\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root, err := sandbox.Create(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			if err := root.MakeChrootable(); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(root.Dir, "clp.install"), script, 0o644); err != nil {
				t.Fatal(err)
			}
			if tc.systemd {
				if err := os.MkdirAll(filepath.Join(root.Dir, "run/systemd/system"), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			if tc.systemd || tc.chroot {
				fake := "#!/bin/sh\necho \"$*\" >> /systemctl.log\nexit " + map[int]string{0: "0", 1: "1"}[tc.exitCode] + "\n"
				if err := os.WriteFile(filepath.Join(root.Dir, "usr/bin/systemctl"), []byte(fake), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			cmd := exec.Command("chroot", root.Dir, "/bin/sh", "-c", ". /clp.install && "+tc.fn)
			cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s failed: %v: %s", tc.fn, err, out)
			}
			if !strings.Contains(string(out), tc.output) {
				t.Errorf("%s printed %q, want %q in it", tc.fn, out, tc.output)
			}
			calls, _ := os.ReadFile(filepath.Join(root.Dir, "systemctl.log"))
			if string(calls) != tc.calls {
				t.Errorf("systemctl was called with %q, want %q", calls, tc.calls)
			}
		})
	}
}
