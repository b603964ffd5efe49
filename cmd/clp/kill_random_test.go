package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vincentos/clp/hooks"
	"github.com/vincentos/clp/internal/child"
	"github.com/vincentos/clp/patch"
	"github.com/vincentos/clp/pkgtx"
	"github.com/vincentos/clp/testkit/sandbox"
)

// TestKilledAtRandomMoments SIGKILLs the real clp binary at random moments
// of whole applies and rollbacks of a signed patch that replaces a file in
// /etc, adds one, downgrades three packages with real pacman (a slow
// PreTransaction hook in the root), pins one and runs slow install and
// remove scripts. After every kill: pacman and the scripts die with clp
// (what they started is ended by the next clp), the next command (clp
// recover or clp status) exits 0, and the system is in exactly one of two
// whole states, the patch fully applied or fully not, compared byte for
// byte with the states a clean apply and a clean rollback left (what may
// differ is listed in killVolatile). A third of the recoveries are killed
// at a random moment too. A pacman killed while it wrote a package's
// local database entry left it half written; recovery mends it (pkgtx
// mend.go) and keeps the entry in clp's state, which the test allows and
// logs (killMended).
//
// The delays are drawn from [0, 1.2 x the measured length of an unkilled
// run]. CLP_KILL_SEED replays a run (the seed is logged): the same
// delays, though where they land moves with the machine's load;
// CLP_KILL_ROUNDS sets the number of kills (default 16).
func TestKilledAtRandomMoments(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: a minute of real pacman runs killed at random")
	}
	sandbox.RequireRoot(t)
	seed := time.Now().UnixNano()
	if s := os.Getenv("CLP_KILL_SEED"); s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("CLP_KILL_SEED=%q: %v", s, err)
		}
		seed = v
	}
	rounds := 16
	if s := os.Getenv("CLP_KILL_ROUNDS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 0 {
			t.Fatalf("CLP_KILL_ROUNDS=%q: want a count", s)
		}
		rounds = v
	}
	t.Logf("seed %d (replay with CLP_KILL_SEED=%d), %d kills", seed, seed, rounds)
	rng := rand.New(rand.NewSource(seed))

	bin := sandbox.GoBuild(t, ".", filepath.Join(t.TempDir(), "clp"))
	r := nvidiaRoot(t)
	k := &killRig{t: t, bin: bin, root: r.Dir, r: r}
	k.setup()

	// The two whole states, from an unkilled apply and rollback, timed.
	k.beforeTree, k.beforePkgs = k.state()
	k.what = "the unkilled apply"
	start := time.Now()
	k.run(0, "apply")
	applyDur := time.Since(start)
	k.appliedTree, k.appliedPkgs = k.state()
	k.checkApplied("after it")
	k.what = "the unkilled rollback"
	start = time.Now()
	k.run(0, "rollback")
	rollbackDur := time.Since(start)
	k.checkFirstRollback()
	t.Logf("unkilled apply %v, rollback %v", applyDur.Round(time.Millisecond), rollbackDur.Round(time.Millisecond))

	applied := false
	landed := map[string]int{}
	for i := 1; i <= rounds; i++ {
		op, dur := "apply", applyDur
		// Half the time a rollback is killed: of the patch a killed
		// apply left applied, or else of one applied here, unkilled.
		if !applied && rng.Intn(2) == 0 {
			k.what = fmt.Sprintf("kill %d/%d (seed %d): the unkilled apply before it", i, rounds, seed)
			k.run(0, "apply")
			k.checkApplied("after it")
			applied = true
		}
		if applied {
			op, dur = "rollback", rollbackDur
		}
		delay := time.Duration(rng.Float64() * 1.2 * float64(dur))
		next := "recover"
		if rng.Intn(2) == 0 {
			next = "status"
		}
		k.what = fmt.Sprintf("kill %d/%d (seed %d): %s killed after %v (%.0f%% of an unkilled run), then clp %s",
			i, rounds, seed, op, delay.Round(time.Millisecond), 100*float64(delay)/float64(dur), next)
		killed := k.run(delay, op)
		where := "after it finished"
		if killed {
			where = k.running
		}
		landed[where]++
		orphans := k.orphans
		// A third of the time the recovery is killed too (it is
		// idempotent: the next one finishes it).
		recoverKill := ""
		if killed && rng.Intn(3) == 0 {
			delay := time.Duration(rng.Float64() * 1.2 * float64(rollbackDur))
			base := k.what
			k.what = fmt.Sprintf("%s, after clp recover killed after %v", base, delay.Round(time.Millisecond))
			if k.run(delay, "recover") {
				recoverKill = fmt.Sprintf("; clp recover killed after %v %s (left running: %d)", delay.Round(time.Millisecond), k.running, k.orphans)
				landed["recover "+k.running]++
			} else {
				recoverKill = fmt.Sprintf("; clp recover finished within %v", delay.Round(time.Millisecond))
			}
			k.what = base + recoverKill
		}
		applied = k.recover(next)
		t.Logf("%s: killed %s; left running: %d; patch applied after: %v", k.what, where, orphans, applied)
		if !killed && applied != (op == "apply") {
			t.Fatalf("%s: the command finished unkilled but the patch is applied=%v", k.what, applied)
		}
	}
	t.Logf("where the kills landed: %v", landed)
	if applied {
		k.what = "the final unkilled rollback"
		k.run(0, "rollback")
		k.checkNotApplied("after it")
	}
}

// killRig is the root, the patch and the reference states of
// TestKilledAtRandomMoments.
type killRig struct {
	t                       *testing.T
	bin, root, patch        string
	r                       *sandbox.Root
	patchConf, patchAdded   []byte
	beforeTree, appliedTree sandbox.Tree
	beforePkgs, appliedPkgs map[string]string
	// what the current step is, for every failure message.
	what string
	// tokens of every child clp recorded, for the final sweep.
	tokens map[string]bool
	// running is what clp recorded as running when it was killed, and
	// orphans how many of its processes outlived it until the next clp.
	running string
	orphans int
	// mended holds the half-written entries recovery mended so far.
	mended map[string]bool
}

const killPatchName = "CLPKILL1"

// killMended is where recovery keeps the local database entries a pacman
// killed with clp left half written (pkgtx.DamagedDir).
const killMended = "var/lib/clp/" + pkgtx.DamagedDir

func (k *killRig) fatalf(format string, args ...any) {
	k.t.Helper()
	k.t.Fatalf("%s: %s", k.what, fmt.Sprintf(format, args...))
}

// setup makes the root chrootable (the scripts and the hook run inside it),
// adds the slow hook, a key, and builds and signs the patch.
func (k *killRig) setup() {
	t := k.t
	t.Helper()
	k.tokens = map[string]bool{}
	k.mended = map[string]bool{}
	t.Cleanup(func() {
		for _, pid := range k.leftovers() {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	slowHook(t, k.r, "sleep 0.4")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	dir := t.TempDir()
	key := filepath.Join(dir, "kill")
	if out, errs, code := runBin(t, k.bin, "keygen", "--no-password", "-o", key); code != 0 {
		t.Fatalf("keygen: exit %d\n%s%s", code, out, errs)
	}
	must(os.MkdirAll(filepath.Join(k.root, "etc/clp/keys"), 0o755))
	pub, err := os.ReadFile(key + ".pub")
	must(err)
	must(os.WriteFile(filepath.Join(k.root, "etc/clp/keys/kill.pub"), pub, 0o644))

	src := filepath.Join(dir, "src")
	must(os.MkdirAll(filepath.Join(src, "files"), 0o755))
	old, err := os.ReadFile(filepath.Join(k.root, "etc/clp-testconf.conf"))
	must(err)
	k.patchConf = append(append([]byte{}, old...), "# replaced by "+killPatchName+"\n"...)
	k.patchAdded = []byte("options nvidia_drm modeset=1\n")
	must(os.WriteFile(filepath.Join(src, "files/clp-testconf.conf"), k.patchConf, 0o644))
	must(os.WriteFile(filepath.Join(src, "files/nvidia-kill.conf"), k.patchAdded, 0o644))
	// Slow scripts that change nothing: a kill lands in them often, and
	// the two whole states stay exactly comparable.
	must(os.WriteFile(filepath.Join(src, "install.sh"), []byte("#!/bin/sh\nsleep 0.5\n"), 0o755))
	must(os.WriteFile(filepath.Join(src, "remove.sh"), []byte("#!/bin/sh\nsleep 0.3\n"), 0o755))
	meta := `<?xml version="1.0" encoding="UTF-8"?>
<Package format="1">
  <Name>` + killPatchName + `</Name>
  <Version>1</Version>
  <Architecture>x86_64</Architecture>
  <Description>Test patch killed at random moments</Description>
  <Author>clp tests</Author>
  <Date>2025-06-01</Date>
  <Severity>normal</Severity>
  <Files>
    <Replace target="/etc/clp-testconf.conf" payload="files/clp-testconf.conf" sha256="auto" expect="auto"/>
    <Add target="/etc/modprobe.d/nvidia-kill.conf" payload="files/nvidia-kill.conf" sha256="auto" mode="0644" owner="root" group="root"/>
  </Files>
  <Packages>
    <Downgrade name="nvidia-utils" version="550.78-1" file="nvidia-utils-550.78-1-x86_64.pkg.tar.zst" sha256="auto"/>
    <Downgrade name="nvidia-dkms" version="550.78-1" file="nvidia-dkms-550.78-1-x86_64.pkg.tar.zst" sha256="auto"/>
    <Downgrade name="nvidia-settings" version="550.78-1" file="nvidia-settings-550.78-1-x86_64.pkg.tar.zst" sha256="auto"/>
    <Pin name="nvidia-utils" until="560.35.03-2"/>
  </Packages>
  <Scripts>
    <Install>install.sh</Install>
    <Remove>remove.sh</Remove>
  </Scripts>
</Package>
`
	must(os.WriteFile(filepath.Join(src, "PKGINFO.meta"), []byte(meta), 0o644))
	k.patch = filepath.Join(dir, killPatchName+".clp")
	must(patch.Build(src, k.patch, patch.BuildOptions{Root: k.root, CacheDirs: []string{k.r.CacheDir}}))
	if out, errs, code := runBin(t, k.bin, "sign", k.patch, "-k", key+".key"); code != 0 {
		t.Fatalf("sign: exit %d\n%s%s", code, out, errs)
	}
}

// killVolatile lists what legitimately differs between two visits of the
// same whole state, each path for its reason; everything else is compared
// byte for byte.
func killVolatile(rel string) bool {
	switch rel {
	case "var/log/pacman.log", // pacman's log: one more transaction
		"var/log/CLP.log",             // clp's script log: one more run
		"var/lib/clp/history.jsonl",   // clp's history: one more event
		"var/lib/clp/snapshots",       // clp's package snapshots, one per apply and rollback
		"var/lib/clp/lock",            // clp's own lock file (held only while clp runs)
		"var/lib/clp/boot-guard.lock", // the boot guard's: the holder's pid, left by a clp killed holding it (the flock is what counts)
		"var/lib/clp/pins.json",       // the pins, with the time each was set (checked by LoadPins)
		"var/lib/clp/boot-guard.json", // the boot guard, armed with the newest snapshot's number
		killMended:                    // half-written entries recovery mended, kept for inspection (state logs them)
		return true
	}
	// pacman rewrites a reinstalled package's desc (%INSTALLDATE%); state
	// compares it without that value.
	if ok, _ := path.Match("var/lib/pacman/local/*/desc", rel); ok {
		return true
	}
	// The applied record holds its transaction id and time; clp list
	// checks what it says.
	return rel == "var/lib/clp/patches/"+killPatchName+"/applied.json"
}

// killTempRe matches the temporary files of clp's durable writes:
// fsx.WriteFileIn's ".NAME.clp-tmp-PID" and renameio's ".NAME" + digits.
var killTempRe = regexp.MustCompile(`^\..+(\.clp-tmp-[0-9]+|[0-9]+)$`)

// killKnownTemp is a temporary file a kill at the wrong moment leaves and
// no clp command removes. None is known now: a durable write killed
// before its rename leaves its temporary file, and the next command
// removes those of clp's own folders (the journal's, the applied
// records', children, boot-guard.json: patch sweepTemps,
// TestRecoverSweepsTemporaryFiles) and those of the guard allow file, the
// pins, the pins include and pacman.conf (pkgtx Revert,
// TestActorApplyRevert). CLP_KILL_DISCOVER=1 logs every temporary file
// instead of failing, to survey them.
func killKnownTemp(rel string) bool {
	// ".current.clp-tmp-123" (fsx.WriteFileIn) or ".children123" (renameio)
	return killTempRe.MatchString(path.Base(rel)) && os.Getenv("CLP_KILL_DISCOVER") != ""
}

func TestKillKnownTemp(t *testing.T) {
	for rel, want := range map[string]bool{
		"var/lib/clp/journal/.current.clp-tmp-31792":             false, // swept
		"var/lib/clp/.children1435656035":                        false, // swept
		"var/lib/clp/patches/CLPKILL1/.applied.json.clp-tmp-12":  false, // swept
		"etc/pacman.d/.clp-pins.conf99":                          false, // swept
		"var/lib/clp/.pins.json1435656035":                       false, // pkgtx removes it
		"var/lib/clp/.guard-allow.json1577279220":                false, // pkgtx removes it
		"var/lib/clp/journal/current":                            false,
		"etc/.clp-testconf.conf.clp-new-0123":                    false,
		"var/lib/clp/patches/CLPKILL1/.applied.json.clp-tmp-12x": false,
	} {
		if got := killKnownTemp(rel); got != want {
			t.Errorf("killKnownTemp(%q) = %v, want %v", rel, got, want)
		}
	}
}

func (k *killRig) state() (sandbox.Tree, map[string]string) {
	k.t.Helper()
	tr, err := sandbox.TreeState(k.root, killVolatile)
	if err != nil {
		k.fatalf("%v", err)
	}
	kept, _ := filepath.Glob(filepath.Join(k.root, killMended, "*", "*"))
	for _, p := range kept {
		if !k.mended[p] {
			k.t.Logf("%s: recovery mended a half-written local database entry, kept in %s", k.what, p)
			k.mended[p] = true
		}
	}
	descs, _ := filepath.Glob(filepath.Join(k.root, "var/lib/pacman/local/*/desc"))
	for _, p := range descs {
		data, err := os.ReadFile(p)
		fi, serr := os.Lstat(p)
		if err != nil || serr != nil {
			k.fatalf("%v %v", err, serr)
		}
		rel, _ := filepath.Rel(k.root, p)
		tr[filepath.ToSlash(rel)] = sandbox.Entry{Mode: fi.Mode(), SHA256: "without %INSTALLDATE%: " + string(withoutInstallDate(data))}
	}
	for rel := range tr {
		if _, ok := k.beforeTree[rel]; !ok && k.beforeTree != nil && killKnownTemp(rel) {
			k.t.Logf("%s: CLP_KILL_DISCOVER: left behind: %s", k.what, rel)
			delete(tr, rel)
		}
	}
	pkgs, err := k.r.Query()
	if err != nil {
		k.fatalf("%v", err)
	}
	return tr, pkgs
}

// withoutInstallDate is a local database desc without the value of its
// %INSTALLDATE%, which every reinstall changes.
func withoutInstallDate(desc []byte) []byte {
	lines := strings.Split(string(desc), "\n")
	for i := 0; i+1 < len(lines); i++ {
		if lines[i] == "%INSTALLDATE%" {
			lines[i+1] = "(install date)"
		}
	}
	return []byte(strings.Join(lines, "\n"))
}

// run runs clp apply or rollback; a delay > 0 SIGKILLs it after delay
// unless it finished first. It reports whether clp was killed.
func (k *killRig) run(delay time.Duration, op string) bool {
	k.t.Helper()
	k.running, k.orphans = "", 0
	args := []string{"--root", k.root, "apply", k.patch, "--noconfirm"}
	switch op {
	case "rollback":
		args = []string{"--root", k.root, "rollback", killPatchName, "--noconfirm"}
	case "recover":
		args = []string{"--root", k.root, "recover"}
	}
	var out bytes.Buffer
	cmd := exec.Command(k.bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		k.fatalf("%v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	killed := false
	if delay <= 0 {
		err = <-done
	} else {
		select {
		case err = <-done:
		case <-time.After(delay):
			// What clp recorded as running at the moment of the kill
			// (it records a child before starting it).
			cmd.Process.Kill()
			err = <-done
			killed = true
		}
	}
	var ee *exec.ExitError
	if killed && errors.As(err, &ee) && ee.Sys().(syscall.WaitStatus).Signaled() {
		k.checkDiedWithClp(out.String())
		return true
	}
	if err != nil {
		k.fatalf("clp %s: %v\n%s", op, err, out.String())
	}
	return false
}

// recordedTokens reads the children file a killed clp left.
func (k *killRig) recordedTokens() map[string]bool {
	k.running = "while no child ran"
	data, err := os.ReadFile(filepath.Join(k.root, "var/lib/clp", child.FileName))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		k.fatalf("%v", err)
	}
	out := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		var rec child.Record
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Token != "" {
			out[rec.Token] = true
			k.tokens[rec.Token] = true
			k.running = "while " + strings.Fields(rec.What)[0] + " ran"
		}
	}
	return out
}

// leftovers lists the live processes clp started, found three ways: the
// marker of a child it recorded, a process chrooted into the root (hooks,
// scripts), and one naming the root on its command line (pacman --root).
func (k *killRig) leftovers() []int {
	pids := map[int]bool{}
	for _, pid := range child.Marked(k.tokens) {
		pids[pid] = true
	}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() || killZombie(pid) {
			continue
		}
		if dir, err := os.Readlink(filepath.Join("/proc", e.Name(), "root")); err == nil && dir == k.root {
			pids[pid] = true
		}
		if cl, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline")); err == nil && bytes.Contains(cl, []byte(k.root)) {
			pids[pid] = true
		}
	}
	out := make([]int, 0, len(pids))
	for pid := range pids {
		out = append(out, pid)
	}
	sort.Ints(out)
	return out
}

func killZombie(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	i := bytes.LastIndexByte(data, ')')
	return i > 0 && i+2 < len(data) && data[i+2] == 'Z'
}

func describePids(pids []int) string {
	var b strings.Builder
	for _, pid := range pids {
		cl, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		fmt.Fprintf(&b, "\n  %d: %s", pid, strings.ReplaceAll(string(bytes.TrimRight(cl, "\x00")), "\x00", " "))
	}
	return b.String()
}

// checkDiedWithClp: within a short time of the kill, nothing clp started
// is alive: not its direct children (pacman, a script: each dies by its
// parent-death signal), nor what they started in turn (a pacman hook, a
// script's sleep), which the child's reaper ends as soon as clp is gone
// (internal/child); and no live process holds pacman's db.lck.
func (k *killRig) checkDiedWithClp(out string) {
	k.t.Helper()
	k.recordedTokens()
	lck := filepath.Join(k.root, "var/lib/pacman/db.lck")
	var left []int
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		left = k.leftovers()
		held := child.HeldOpen(lck)
		if len(left) == 0 && !held {
			k.orphans = 0
			return
		}
		if time.Now().After(deadline) {
			k.fatalf("2s after the kill, processes clp started still run (held db.lck: %v):%s\nclp said:\n%s", held, describePids(left), out)
		}
	}
}

// recover runs the next clp command after a kill and checks it left one
// of the two whole states; it returns whether the patch is applied.
func (k *killRig) recover(next string) bool {
	k.t.Helper()
	stdout, stderr, code := runBin(k.t, k.bin, "--root", k.root, next)
	if code != 0 {
		k.fatalf("clp %s: exit %d\n%s%s", next, code, stdout, stderr)
	}
	if left := k.leftovers(); len(left) > 0 {
		k.fatalf("after clp %s, processes clp started still run:%s\n%s%s", next, describePids(left), stdout, stderr)
	}
	for _, rel := range []string{"var/lib/pacman/db.lck", "var/lib/clp/" + child.FileName, "var/lib/clp/" + hooks.AllowFile, "var/lib/clp/journal/current"} {
		if _, err := os.Lstat(filepath.Join(k.root, rel)); !errors.Is(err, os.ErrNotExist) {
			k.fatalf("after clp %s, %s is left (%v)\n%s%s", next, rel, err, stdout, stderr)
		}
	}
	out, errs, code := runBin(k.t, k.bin, "--root", k.root, "list", "--json")
	if code != 0 {
		k.fatalf("clp list: exit %d\n%s", code, errs)
	}
	applied := strings.Contains(out, `"name": "`+killPatchName+`"`)
	if applied {
		k.checkApplied("after clp " + next)
	} else {
		k.checkNotApplied("after clp " + next)
	}
	return applied
}

func (k *killRig) checkApplied(when string) {
	k.t.Helper()
	tr, pkgs := k.state()
	if d := k.appliedTree.Diff(tr); len(d) > 0 {
		k.fatalf("%s: the patch is listed as applied but the root differs from a clean apply:\n%s", when, strings.Join(d, "\n"))
	}
	if sandbox.Versions(pkgs) != sandbox.Versions(k.appliedPkgs) {
		k.fatalf("%s: packages:\n%s\nwant\n%s", when, sandbox.Versions(pkgs), sandbox.Versions(k.appliedPkgs))
	}
	// What the patch is, not only what a clean apply left.
	for rel, want := range map[string][]byte{"etc/clp-testconf.conf": k.patchConf, "etc/modprobe.d/nvidia-kill.conf": k.patchAdded} {
		if got, err := os.ReadFile(filepath.Join(k.root, rel)); err != nil || !bytes.Equal(got, want) {
			k.fatalf("%s: %s is not the patch's (%v):\n%s", when, rel, err, got)
		}
	}
	if pkgs["nvidia-utils"] != sandbox.Good {
		k.fatalf("%s: nvidia-utils %s, want %s", when, pkgs["nvidia-utils"], sandbox.Good)
	}
	pins, err := hooks.LoadPins("/", filepath.Join(k.root, "var/lib/clp"))
	if err != nil || len(pins) != 1 || pins[0].Name != "nvidia-utils" || pins[0].Version != sandbox.Good || pins[0].Until != "560.35.03-2" || pins[0].Patch != killPatchName {
		k.fatalf("%s: pins %+v (%v), want nvidia-utils", when, pins, err)
	}
}

// killStateFiles is what clp's first apply and rollback leave on a root
// that never had clp's state, besides the killVolatile files: its state
// directory with the emptied journal, package and patch folders.
var killStateFiles = []string{
	"var/lib/clp",
	"var/lib/clp/journal",
	"var/lib/clp/packages",
	"var/lib/clp/patches",
}

// checkFirstRollback checks the unkilled rollback against the root before
// clp ever ran on it: the same, plus exactly killStateFiles. What it left
// is then the state every later "not applied" is compared with.
func (k *killRig) checkFirstRollback() {
	k.t.Helper()
	pristine := k.beforeTree
	tr, _ := k.state()
	var want []string
	for _, rel := range killStateFiles {
		want = append(want, "added: "+rel)
	}
	if d := pristine.Diff(tr); strings.Join(d, "\n") != strings.Join(want, "\n") {
		k.fatalf("the root differs from before the apply:\n%s\nwant only:\n%s", strings.Join(d, "\n"), strings.Join(want, "\n"))
	}
	k.beforeTree = tr
	k.checkNotApplied("after it")
}

func (k *killRig) checkNotApplied(when string) {
	k.t.Helper()
	tr, pkgs := k.state()
	if d := k.beforeTree.Diff(tr); len(d) > 0 {
		k.fatalf("%s: the patch is not applied but the root differs from before:\n%s", when, strings.Join(d, "\n"))
	}
	if sandbox.Versions(pkgs) != sandbox.Versions(k.beforePkgs) {
		k.fatalf("%s: packages:\n%s\nwant\n%s", when, sandbox.Versions(pkgs), sandbox.Versions(k.beforePkgs))
	}
	pins, err := hooks.LoadPins("/", filepath.Join(k.root, "var/lib/clp"))
	if err != nil || len(pins) != 0 {
		k.fatalf("%s: pins %+v (%v), want none", when, pins, err)
	}
}
