package patch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vincentos/clp/internal/lock"
	"golang.org/x/sys/unix"
)

func applyArchive(t *testing.T, e *Engine, a Archive, opts ApplyOptions) error {
	t.Helper()
	p, err := e.Plan(context.Background(), a, opts)
	if err != nil {
		return err
	}
	return e.Apply(context.Background(), a, p)
}

func TestApplyRollbackRestoresExactly(t *testing.T) {
	root := t.TempDir()
	makeRoot(t, root)
	rep := &testReporter{}
	e := newEngine(root, rep)
	pre := snapshot(t, root)
	modBefore := snapshot(t, root)["etc/clp-test/modified.conf"]
	inode := func(p string) uint64 {
		var st unix.Stat_t
		if err := unix.Stat(filepath.Join(root, p), &st); err != nil {
			t.Fatal(err)
		}
		return st.Ino
	}
	modInode := inode("etc/clp-test/modified.conf")

	a := fixtureArchive("CLP1250101")
	p, err := e.Plan(context.Background(), a, ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if s := p.String(); !regexp.MustCompile(`(?m)^  replace +/etc/clp-test/modified.conf$`).MatchString(s) || !strings.Contains(s, "before: sha256:"+short(shaOf(origModified))) {
		t.Fatalf("plan does not show the replace with its hashes:\n%s", s)
	}
	if err := e.Apply(context.Background(), a, p); err != nil {
		t.Fatal(err)
	}
	post := snapshot(t, root)
	mod := post["etc/clp-test/modified.conf"]
	if mod.Hash != shaOf(newModified) || mod.Mode != 0o640 || mod.UID != 1234 || mod.GID != 5678 || mod.Xattrs != modBefore.Xattrs {
		t.Fatalf("replaced file did not keep mode, owner and xattrs: %s (was %s)", mod, modBefore)
	}
	if n := post["etc/clp-test/sub/new-file.conf"]; n.Hash != shaOf(newFile) || n.Mode != 0o640 || n.UID != 0 {
		t.Fatalf("added file: %s", n)
	}
	if _, ok := post["etc/clp-test/removed.conf"]; ok {
		t.Fatal("removed file still there")
	}
	if tool := post["usr/lib/clp-test/tool"]; tool.Mode != 0o750 {
		t.Fatalf("mode action: %s", tool)
	}
	if _, err := os.Stat(filepath.Join(e.OptDir, "CLP1250101", ManifestName)); err != nil {
		t.Fatalf("patch not recorded in OptDir: %v", err)
	}
	for p := range post {
		if strings.Contains(p, ".clp-new-") {
			t.Fatalf("staged file left behind: %s", p)
		}
	}
	list, err := e.List()
	if err != nil || len(list) != 1 || list[0].Name != "CLP1250101" {
		t.Fatalf("list = %+v, %v", list, err)
	}

	if err := e.Rollback(context.Background(), "CLP1250101", RollbackOptions{}); err != nil {
		t.Fatal(err)
	}
	sameTree(t, "after rollback", snapshotSkip(t, pre, stateSkip), snapshot(t, root, stateSkip...))
	// The replaced file got its very inode back (link backup), not a copy.
	if inode("etc/clp-test/modified.conf") != modInode {
		t.Error("the replaced file was restored as a copy, not its original inode")
	}
	list, _ = e.List()
	if len(list) != 0 {
		t.Fatalf("still listed after rollback: %+v", list)
	}
	evs, err := e.History()
	if err != nil || len(evs) != 2 || evs[0].Event != EventApplied || evs[1].Event != EventRolledBack {
		t.Fatalf("history = %+v, %v", evs, err)
	}
	if _, err := os.Stat(e.journalPath()); !os.IsNotExist(err) {
		t.Fatal("journal left behind")
	}
	// Applying again after a rollback works.
	if err := applyArchive(t, e, fixtureArchive("CLP1250101"), ApplyOptions{}); err != nil {
		t.Fatalf("re-apply: %v", err)
	}
}

// snapshotSkip drops skipped paths from a full snapshot.
func snapshotSkip(t *testing.T, snap map[string]treeEntry, skip []string) map[string]treeEntry {
	out := map[string]treeEntry{}
outer:
	for p, e := range snap {
		for _, s := range skip {
			if p == s || strings.HasPrefix(p, s+"/") {
				continue outer
			}
		}
		out[p] = e
	}
	return out
}

func TestXattrsSurviveRoundTrip(t *testing.T) {
	root := t.TempDir()
	if !xattrsWork(t, root) {
		t.Skip("the file system of the temp dir does not keep user.* xattrs")
	}
	makeRoot(t, root)
	e := newEngine(root, nil)
	pre := snapshot(t, root)
	if pre["etc/clp-test/removed.conf"].Xattrs == "" {
		t.Fatal("fixture has no xattrs")
	}
	if err := applyArchive(t, e, fixtureArchive("X1"), ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := e.Rollback(context.Background(), "X1", RollbackOptions{}); err != nil {
		t.Fatal(err)
	}
	got := snapshot(t, root, stateSkip...)
	for _, p := range []string{"etc/clp-test/removed.conf", "etc/clp-test/modified.conf", "usr/lib/clp-test/tool"} {
		if got[p] != pre[p] {
			t.Fatalf("%s: want %s, got %s", p, pre[p], got[p])
		}
	}
}

// Every refusal names the problem and leaves the whole tree, clp's state
// included, byte-for-byte as it was.
func TestRefusalsChangeNothing(t *testing.T) {
	type tc struct {
		name  string
		setup func(t *testing.T, root string, e *Engine) // before the snapshot
		act   func(t *testing.T, e *Engine) error
		want  []string
	}
	plain := func(m func(*Manifest), opts ApplyOptions) func(t *testing.T, e *Engine) error {
		return func(t *testing.T, e *Engine) error {
			a := fixtureArchive("CLP1250101")
			if m != nil {
				m(a.m)
			}
			return applyArchive(t, e, a, opts)
		}
	}
	cases := []tc{
		{
			name: "user-modified target",
			setup: func(t *testing.T, root string, _ *Engine) {
				os.WriteFile(filepath.Join(root, "etc/clp-test/modified.conf"), []byte("my edit\n"), 0o640)
			},
			act:  plain(nil, ApplyOptions{}),
			want: []string{"/etc/clp-test/modified.conf changed since the patch was made", "--force"},
		},
		{
			name: "target present for add",
			setup: func(t *testing.T, root string, _ *Engine) {
				os.MkdirAll(filepath.Join(root, "etc/clp-test/sub"), 0o755)
				os.WriteFile(filepath.Join(root, "etc/clp-test/sub/new-file.conf"), []byte("mine\n"), 0o644)
			},
			act:  plain(nil, ApplyOptions{}),
			want: []string{"/etc/clp-test/sub/new-file.conf", "--force"},
		},
		{
			name: "missing target for replace",
			setup: func(t *testing.T, root string, _ *Engine) {
				os.Remove(filepath.Join(root, "etc/clp-test/modified.conf"))
			},
			act:  plain(nil, ApplyOptions{Force: true}),
			want: []string{"target /etc/clp-test/modified.conf does not exist"},
		},
		{
			name: "path not allowed",
			act: plain(func(m *Manifest) {
				m.Files = append(m.Files, FileAction{Op: OpAdd, Target: "/proc/evil", Payload: "files/new-file.conf", SHA256: shaOf(newFile)})
			}, ApplyOptions{}),
			want: []string{"target /proc/evil is outside the paths a patch may change"},
		},
		{
			name: "path not in AllowedPaths",
			act: plain(func(m *Manifest) {
				m.Files = append(m.Files, FileAction{Op: OpAdd, Target: "/home/alice/x", Payload: "files/new-file.conf", SHA256: shaOf(newFile)})
			}, ApplyOptions{}),
			want: []string{"target /home/alice/x is outside the paths"},
		},
		{
			name: "symlinked parent",
			setup: func(t *testing.T, root string, _ *Engine) {
				os.Symlink("/tmp", filepath.Join(root, "etc/linked"))
			},
			act: plain(func(m *Manifest) {
				m.Files = append(m.Files, FileAction{Op: OpAdd, Target: "/etc/linked/x", Payload: "files/new-file.conf", SHA256: shaOf(newFile)})
			}, ApplyOptions{}),
			want: []string{"/etc/linked is a symbolic link"},
		},
		{
			name: "wrong architecture",
			act: plain(func(m *Manifest) {
				m.AppliesTo.Architectures = []string{"riscv64"}
			}, ApplyOptions{Arch: "x86_64"}),
			want: []string{"patch CLP1250101 is for riscv64, not for this system (x86_64)"},
		},
		{
			name: "package condition not met",
			act: plain(func(m *Manifest) {
				m.AppliesTo.Packages = []PackageCondition{{Name: "nvidia-utils", Constraint: ">=560"}}
			}, ApplyOptions{Installed: fakeQuery{"nvidia-utils": "550.78-1"}}),
			want: []string{"package nvidia-utils is 550.78-1, the patch needs >=560"},
		},
		{
			name: "package actions without an actor",
			act: plain(func(m *Manifest) {
				m.Packages = []PackageAction{{Op: OpPin, Name: "nvidia-utils", Until: "561"}}
			}, ApplyOptions{}),
			want: []string{"package actions (pin nvidia-utils)"},
		},
		{
			name: "clpsave in the way",
			setup: func(t *testing.T, root string, _ *Engine) {
				os.WriteFile(filepath.Join(root, "etc/clp-test/modified.conf"), []byte("my edit\n"), 0o640)
				os.WriteFile(filepath.Join(root, "etc/clp-test/modified.conf.clpsave"), []byte("older\n"), 0o640)
			},
			act:  plain(nil, ApplyOptions{Force: true}),
			want: []string{"/etc/clp-test/modified.conf.clpsave already exists"},
		},
		{
			name: "already applied",
			setup: func(t *testing.T, root string, e *Engine) {
				if err := applyArchive(t, e, fixtureArchive("CLP1250101"), ApplyOptions{}); err != nil {
					t.Fatal(err)
				}
			},
			act:  plain(nil, ApplyOptions{}),
			want: []string{"patch CLP1250101 is already applied"},
		},
		{
			name: "installed by clpctl",
			setup: func(t *testing.T, root string, e *Engine) {
				os.MkdirAll(filepath.Join(e.OptDir, "CLP1250101", "backup"), 0o755)
			},
			act:  plain(nil, ApplyOptions{}),
			want: []string{"opt/CLP/CLP1250101 already exists"},
		},
		{
			name: "rollback of a patch not applied",
			act: func(t *testing.T, e *Engine) error {
				return e.Rollback(context.Background(), "NOPE", RollbackOptions{})
			},
			want: []string{"patch NOPE is not applied"},
		},
		{
			// Before the lock, a regular applied.json is taken as there
			// without reading it; anything else is read as before, and
			// a link that leads nowhere is no record: refused before
			// the lock, so not even the lock file is made.
			name: "rollback of a patch whose record is a dangling link",
			setup: func(t *testing.T, root string, e *Engine) {
				if err := os.MkdirAll(e.patchDir("NOPE"), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink("gone.json", e.appliedPath("NOPE")); err != nil {
					t.Fatal(err)
				}
			},
			act: func(t *testing.T, e *Engine) error {
				return e.Rollback(context.Background(), "NOPE", RollbackOptions{})
			},
			want: []string{"patch NOPE is not applied"},
		},
		{
			name: "rollback under a later patch",
			setup: func(t *testing.T, root string, e *Engine) {
				if err := applyArchive(t, e, fixtureArchive("CLP1250101"), ApplyOptions{}); err != nil {
					t.Fatal(err)
				}
				later := &memArchive{m: &Manifest{Format: 1, Name: "CLP2250102", Version: "1", Files: []FileAction{
					{Op: OpReplace, Target: "/etc/clp-test/modified.conf", Payload: "m2", SHA256: shaOf([]byte("v2\n")), Expect: shaOf(newModified)},
				}}, files: map[string][]byte{"m2": []byte("v2\n")}}
				if err := applyArchive(t, e, later, ApplyOptions{}); err != nil {
					t.Fatal(err)
				}
			},
			act: func(t *testing.T, e *Engine) error {
				return e.Rollback(context.Background(), "CLP1250101", RollbackOptions{Force: true})
			},
			want: []string{"cannot roll back CLP1250101: patch CLP2250102, applied after it, also changed /etc/clp-test/modified.conf"},
		},
		{
			name: "rollback over a user's change",
			setup: func(t *testing.T, root string, e *Engine) {
				if err := applyArchive(t, e, fixtureArchive("CLP1250101"), ApplyOptions{}); err != nil {
					t.Fatal(err)
				}
				os.WriteFile(filepath.Join(root, "etc/clp-test/sub/new-file.conf"), []byte("edited after\n"), 0o640)
			},
			act: func(t *testing.T, e *Engine) error {
				return e.Rollback(context.Background(), "CLP1250101", RollbackOptions{})
			},
			want: []string{"/etc/clp-test/sub/new-file.conf changed since the patch was applied", "--force"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			makeRoot(t, root)
			e := newEngine(root, nil)
			if c.setup != nil {
				c.setup(t, root, e)
			}
			pre := snapshot(t, root)
			err := c.act(t, e)
			mustContain(t, err, c.want...)
			sameTree(t, "after refusal", pre, snapshot(t, root))
		})
	}
}

type fakeQuery map[string]string

func (f fakeQuery) InstalledVersion(n string) (string, bool, error) {
	v, ok := f[n]
	return v, ok, nil
}

// VerCmp is a stand-in for alpm's vercmp, good enough for dotted numbers.
func (fakeQuery) VerCmp(a, b string) int {
	pa, pb := strings.FieldsFunc(a, sep), strings.FieldsFunc(b, sep)
	for i := 0; i < len(pa) || i < len(pb); i++ {
		var x, y int
		if i < len(pa) {
			x = atoi(pa[i])
		}
		if i < len(pb) {
			y = atoi(pb[i])
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

func sep(r rune) bool { return r == '.' || r == '-' }
func atoi(s string) int {
	n := 0
	for _, c := range s {
		if c >= '0' && c <= '9' {
			n = n*10 + int(c-'0')
		}
	}
	return n
}

func TestPackageConditionMet(t *testing.T) {
	root := t.TempDir()
	makeRoot(t, root)
	e := newEngine(root, nil)
	a := fixtureArchive("C1")
	a.m.AppliesTo.Packages = []PackageCondition{{Name: "nvidia-utils", Constraint: ">=560"}, {Name: "nouveau", Absent: true}}
	if _, err := e.Plan(context.Background(), a, ApplyOptions{Installed: fakeQuery{"nvidia-utils": "560.35.03-1"}}); err != nil {
		t.Fatal(err)
	}
}

func TestForceKeepsClpsaveAndRollbackRestoresUsersCopy(t *testing.T) {
	root := t.TempDir()
	makeRoot(t, root)
	mod := filepath.Join(root, "etc/clp-test/modified.conf")
	if err := os.WriteFile(mod, []byte("my edit\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	rep := &testReporter{}
	e := newEngine(root, rep)
	pre := snapshot(t, root)
	a := fixtureArchive("F1")
	p, err := e.Plan(context.Background(), a, ApplyOptions{Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "modified.conf.clpsave") {
		t.Fatalf("plan warnings: %q", p.Warnings)
	}
	if err := e.Apply(context.Background(), a, p); err != nil {
		t.Fatal(err)
	}
	if got := string(mustRead(t, mod+".clpsave")); got != "my edit\n" {
		t.Fatalf(".clpsave = %q", got)
	}
	if got := mustRead(t, mod); string(got) != string(newModified) {
		t.Fatalf("target = %q", got)
	}
	if !strings.Contains(rep.all(), "your copy is kept as /etc/clp-test/modified.conf.clpsave") {
		t.Fatalf("no warning reported:\n%s", rep.all())
	}
	if err := e.Rollback(context.Background(), "F1", RollbackOptions{}); err != nil {
		t.Fatal(err)
	}
	sameTree(t, "after rollback", snapshotSkip(t, pre, stateSkip), snapshot(t, root, stateSkip...))
}

func TestForcedRollbackKeepsUsersLaterEdit(t *testing.T) {
	root := t.TempDir()
	makeRoot(t, root)
	e := newEngine(root, nil)
	if err := applyArchive(t, e, fixtureArchive("F2"), ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	mod := filepath.Join(root, "etc/clp-test/modified.conf")
	os.WriteFile(mod, []byte("edited after the patch\n"), 0o640)
	if err := e.Rollback(context.Background(), "F2", RollbackOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	if got := string(mustRead(t, mod)); got != string(origModified) {
		t.Fatalf("target = %q", got)
	}
	if got := string(mustRead(t, mod+".clpsave")); got != "edited after the patch\n" {
		t.Fatalf(".clpsave = %q", got)
	}
}

func TestFailingInstallScriptRollsBack(t *testing.T) {
	root := t.TempDir()
	makeRoot(t, root)
	rep := &testReporter{}
	e := newEngine(root, rep)
	pre := snapshot(t, root, stateSkip...)
	a := fixtureArchive("S1")
	a.m.InstallScript = "Install-Patch.sh"
	a.files["Install-Patch.sh"] = []byte("echo installing; echo oops >&2; exit 3\n")
	err := applyArchive(t, e, a, ApplyOptions{})
	mustContain(t, err, "apply S1 failed", "install script Install-Patch.sh of S1 exited with status 3", "rolled back")
	sameTree(t, "after failed script", pre, snapshot(t, root, stateSkip...))
	log := string(mustRead(t, e.LogPath))
	for _, want := range []string{"install script Install-Patch.sh of S1", "installing\n", "oops\n", "failed: exited with status 3"} {
		if !strings.Contains(log, want) {
			t.Fatalf("log lacks %q:\n%s", want, log)
		}
	}
	if !strings.Contains(rep.all(), "Install-Patch.sh: oops") {
		t.Fatalf("script output not reported:\n%s", rep.all())
	}
	evs, _ := e.History()
	if len(evs) != 1 || evs[0].Event != EventApplyFailed || !strings.Contains(evs[0].Detail, "status 3") {
		t.Fatalf("history = %+v", evs)
	}
}

func TestInstallScriptFailureRunsRemoveScript(t *testing.T) {
	root := t.TempDir()
	makeRoot(t, root)
	e := newEngine(root, nil)
	a := fixtureArchive("S2")
	a.m.InstallScript, a.m.RemoveScript = "Install-Patch.sh", "Remove-Patch.sh"
	a.files["Install-Patch.sh"] = []byte("exit 1\n")
	a.files["Remove-Patch.sh"] = []byte("echo remove-ran-for-$CLP_PATCH_NAME\n")
	mustContain(t, applyArchive(t, e, a, ApplyOptions{}), "rolled back")
	if log := string(mustRead(t, e.LogPath)); !strings.Contains(log, "remove-ran-for-S2") {
		t.Fatalf("remove script did not run on rollback:\n%s", log)
	}
}

func TestScriptTimeLimit(t *testing.T) {
	root := t.TempDir()
	makeRoot(t, root)
	e := newEngine(root, nil)
	e.Config.ScriptTimeoutSec = 1
	pre := snapshot(t, root, stateSkip...)
	a := fixtureArchive("T1")
	a.m.InstallScript = "Install-Patch.sh"
	// The child sleep must die with the script (process group kill), or
	// Apply would wait for its output pipe.
	a.files["Install-Patch.sh"] = []byte("sleep 60 & sleep 60; wait\n")
	err := applyArchive(t, e, a, ApplyOptions{})
	mustContain(t, err, "did not finish within 1s and was killed", "rolled back")
	sameTree(t, "after timeout", pre, snapshot(t, root, stateSkip...))
}

func TestCancelMidApplyRollsBack(t *testing.T) {
	root := t.TempDir()
	makeRoot(t, root)
	e := newEngine(root, nil)
	pre := snapshot(t, root, stateSkip...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	crashHook = func(step string) {
		if step == "commit /etc/clp-test/removed.conf" {
			cancel()
		}
	}
	defer func() { crashHook = nil }()
	a := fixtureArchive("K1")
	p, err := e.Plan(ctx, a, ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	err = e.Apply(ctx, a, p)
	mustContain(t, err, "interrupted", "context canceled", "rolled back")
	sameTree(t, "after cancel", pre, snapshot(t, root, stateSkip...))
}

func TestCancelDuringScriptKillsIt(t *testing.T) {
	root := t.TempDir()
	makeRoot(t, root)
	e := newEngine(root, nil)
	pre := snapshot(t, root, stateSkip...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	crashHook = func(step string) {
		if step == "script" {
			go func() { time.Sleep(100 * time.Millisecond); cancel() }()
		}
	}
	defer func() { crashHook = nil }()
	a := fixtureArchive("K2")
	a.m.InstallScript = "Install-Patch.sh"
	a.files["Install-Patch.sh"] = []byte("sleep 60\n")
	p, err := e.Plan(ctx, a, ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, e.Apply(ctx, a, p), "interrupted", "rolled back")
	sameTree(t, "after cancel", pre, snapshot(t, root, stateSkip...))
}

func TestLockHeldRefuses(t *testing.T) {
	root := t.TempDir()
	makeRoot(t, root)
	e := newEngine(root, nil)
	a := fixtureArchive("L1")
	p, err := e.Plan(context.Background(), a, ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	l, err := lock.Acquire(context.Background(), e.lockPath(), 0)
	if err != nil {
		t.Fatal(err)
	}
	pre := snapshot(t, root)
	err = e.Apply(context.Background(), a, p)
	mustContain(t, err, "another clp is running", "held by another clp (pid ")
	if !errors.Is(err, lock.ErrHeld) {
		t.Fatalf("error does not wrap lock.ErrHeld: %v", err)
	}
	sameTree(t, "after lock refusal", pre, snapshot(t, root))
	// With a wait, Apply goes ahead once the holder lets go.
	e.LockWait = time.Minute
	go func() { time.Sleep(200 * time.Millisecond); l.Release() }()
	if err := e.Apply(context.Background(), a, p); err != nil {
		t.Fatal(err)
	}
}

// Two applies at once: one applies, the other waits and then refuses as
// already applied, or refuses because the lock is held; nothing breaks.
func TestConcurrentApplies(t *testing.T) {
	root := t.TempDir()
	makeRoot(t, root)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := newEngine(root, nil)
			if i == 1 {
				e.LockWait = time.Minute
			}
			a := fixtureArchive("P1")
			p, err := e.Plan(context.Background(), a, ApplyOptions{})
			if err == nil {
				err = e.Apply(context.Background(), a, p)
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case strings.Contains(err.Error(), "already applied"), strings.Contains(err.Error(), "held by another clp"):
		default:
			t.Fatalf("unexpected error: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d applies succeeded, want 1: %v", ok, errs)
	}
	e := newEngine(root, nil)
	if err := e.Rollback(context.Background(), "P1", RollbackOptions{}); err != nil {
		t.Fatal(err)
	}
	fresh := t.TempDir()
	makeRoot(t, fresh)
	sameTree(t, "after concurrent apply and rollback", snapshot(t, fresh, stateSkip...), snapshot(t, root, stateSkip...))
}

func TestRecoverNothingToDo(t *testing.T) {
	root := t.TempDir()
	makeRoot(t, root)
	e := newEngine(root, nil)
	pre := snapshot(t, root)
	got, err := e.Recover(context.Background())
	if err != nil || got {
		t.Fatalf("Recover = %v, %v", got, err)
	}
	sameTree(t, "after empty recover", pre, snapshot(t, root))
	// The begin record is written whole (atomically) before anything
	// else, so a journal without a complete one is damage, not a crash:
	// it is kept and not acted on (it used to be deleted silently).
	os.MkdirAll(e.journalDir(), 0o700)
	os.WriteFile(e.journalPath(), []byte(`{"rec":"begin","begin":{"kind":"ap`), 0o600)
	_, err = e.Recover(context.Background())
	mustContain(t, err, "is damaged", "it has no begin record")
	if _, err := os.Stat(e.journalPath()); err != nil {
		t.Fatal("damaged journal removed")
	}
}

func TestDiskFullRollsBack(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	mnt := t.TempDir()
	if err := unix.Mount("tmpfs", mnt, "tmpfs", 0, "size=1m"); err != nil {
		t.Skipf("cannot mount a tmpfs (%v)", err)
	}
	t.Cleanup(func() { unix.Unmount(mnt, unix.MNT_DETACH) })
	makeRoot(t, mnt)
	e := newEngine(mnt, nil)
	pre := snapshot(t, mnt, stateSkip...)
	a := fixtureArchive("D1")
	big := make([]byte, 600<<10)
	for i := range big {
		big[i] = byte(i * 7)
	}
	// Two 600 KiB files: the first fits, the second does not.
	for i, name := range []string{"big1", "big2"} {
		a.files[name] = big[:len(big)-i]
		a.m.Files = append(a.m.Files, FileAction{Op: OpAdd, Target: "/usr/lib/clp-test/" + name, Payload: name, SHA256: shaOf(big[:len(big)-i])})
	}
	err := applyArchive(t, e, a, ApplyOptions{})
	mustContain(t, err, "no space left on device", "rolled back")
	sameTree(t, "after disk full", pre, snapshot(t, mnt, stateSkip...))
	if _, err := os.Stat(e.journalPath()); !os.IsNotExist(err) {
		t.Fatal("journal left behind")
	}
}

func TestRollbackScriptFailureKeepsPatchApplied(t *testing.T) {
	root := t.TempDir()
	makeRoot(t, root)
	e := newEngine(root, nil)
	a := fixtureArchive("R1")
	a.m.RemoveScript = "Remove-Patch.sh"
	a.files["Remove-Patch.sh"] = []byte("exit 4\n")
	if err := applyArchive(t, e, a, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	post := snapshot(t, root, stateSkip...)
	err := e.Rollback(context.Background(), "R1", RollbackOptions{})
	mustContain(t, err, "remove script Remove-Patch.sh of R1 exited with status 4", "the patch stays applied")
	sameTree(t, "after failed remove script", post, snapshot(t, root, stateSkip...))
	if list, _ := e.List(); len(list) != 1 {
		t.Fatalf("patch no longer listed: %+v", list)
	}
}

// recordingActor is a unit-test fake of the package actor (the real one is
// the downgrades engine's): it records calls so the test can check that the
// engine journals the plan and reverts it on failure and on rollback.
type recordingActor struct {
	calls []string
}

func (r *recordingActor) Prepare(_ context.Context, _ Archive, acts []PackageAction) (*PackagePlan, error) {
	r.calls = append(r.calls, "prepare")
	return &PackagePlan{Actions: acts, Previous: map[string]string{"nvidia-utils": "560.35.03-1"}, Pins: []string{"nvidia-utils"}}, nil
}

func (r *recordingActor) Apply(_ context.Context, _ Archive, p *PackagePlan) error {
	r.calls = append(r.calls, "apply "+p.Previous["nvidia-utils"])
	return nil
}

func (r *recordingActor) Revert(_ context.Context, p *PackagePlan) error {
	r.calls = append(r.calls, "revert "+p.Previous["nvidia-utils"])
	return nil
}

func TestPackageActionsAppliedAndReverted(t *testing.T) {
	root := t.TempDir()
	makeRoot(t, root)
	e := newEngine(root, nil)
	act := &recordingActor{}
	e.Packages = act
	withPkgs := func(name string) *memArchive {
		a := fixtureArchive(name)
		a.m.Packages = []PackageAction{{Op: OpDowngrade, Name: "nvidia-utils", Version: "550.78-1", File: "nvidia-utils-550.78-1-x86_64.pkg.tar.zst", SHA256: shaOf([]byte("pkg"))}}
		return a
	}
	a := withPkgs("PK1")
	p, err := e.Plan(context.Background(), a, ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if s := p.String(); !regexp.MustCompile(`(?m)^  downgrade +nvidia-utils 560.35.03-1 -> 550.78-1$`).MatchString(s) {
		t.Fatalf("plan:\n%s", s)
	}
	if err := e.Apply(context.Background(), a, p); err != nil {
		t.Fatal(err)
	}
	if err := e.Rollback(context.Background(), "PK1", RollbackOptions{}); err != nil {
		t.Fatal(err)
	}
	// A failing script after the package step reverts the packages too.
	b := withPkgs("PK2")
	b.m.InstallScript = "Install-Patch.sh"
	b.files["Install-Patch.sh"] = []byte("exit 1\n")
	mustContain(t, applyArchive(t, e, b, ApplyOptions{}), "rolled back")
	want := []string{"prepare", "apply 560.35.03-1", "revert 560.35.03-1", "prepare", "apply 560.35.03-1", "revert 560.35.03-1"}
	if strings.Join(act.calls, ",") != strings.Join(want, ",") {
		t.Fatalf("actor calls %q, want %q", act.calls, want)
	}
}

// A clp killed in a durable write leaves the write's temporary file; the
// next command sweeps those of clp's own folders under the lock, and
// leaves a file some process still holds open, and anything that is not
// such a temporary file.
func TestRecoverSweepsTemporaryFiles(t *testing.T) {
	root := t.TempDir()
	makeRoot(t, root)
	e := newEngine(root, nil)
	for _, d := range []string{e.journalDir(), e.patchDir("p1")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	garbage := []string{
		filepath.Join(e.journalDir(), ".current.clp-tmp-31792"),
		filepath.Join(e.StateDir, ".children1435656035"),
		filepath.Join(e.StateDir, ".boot-guard.json.clp-tmp-7"),
		filepath.Join(e.patchDir("p1"), ".applied.json.clp-tmp-12"),
	}
	kept := []string{
		filepath.Join(e.StateDir, "pins.json"),
		filepath.Join(e.StateDir, ".hidden"),
		filepath.Join(e.patchDir("p1"), ".applied.json.clp-tmp-12x"),
		filepath.Join(e.StateDir, ".pins.json4242"), // held open below
	}
	for _, p := range append(append([]string{}, garbage...), kept...) {
		if err := os.WriteFile(p, []byte("{\"torn"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	held, err := os.Open(kept[len(kept)-1])
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	if _, err := e.Recover(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, p := range garbage {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Errorf("%s: left behind (%v)", p, err)
		}
	}
	for _, p := range kept {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s: removed (%v)", p, err)
		}
	}
}

// TestStagingFailureWithWorkersAhead: files are staged by several
// goroutines; a payload that fails its check in the middle stops the apply
// at that step, and the rollback removes every staged file, those the
// workers wrote past it included.
func TestStagingFailureWithWorkersAhead(t *testing.T) {
	root := t.TempDir()
	makeRoot(t, root)
	pre := snapshot(t, root, stateSkip...)
	a := fixtureArchive("CLP1250101")
	for i := 0; i < 60; i++ {
		data := []byte(fmt.Sprintf("file %d\n", i))
		name := fmt.Sprintf("files/many%d", i)
		a.files[name] = data
		sum := shaOf(data)
		if i == 20 {
			sum = shaOf([]byte("not this"))
		}
		a.m.Files = append(a.m.Files, FileAction{Op: OpAdd, Target: fmt.Sprintf("/etc/clp-test/many%d", i), Payload: name, SHA256: sum})
	}
	var staged []string
	crashHook = func(step string) {
		if strings.HasPrefix(step, "stage ") {
			staged = append(staged, step)
		}
	}
	defer func() { crashHook = nil }()
	e := newEngine(root, nil)
	err := applyArchive(t, e, a, ApplyOptions{})
	crashHook = nil
	mustContain(t, err, "files/many20", "rolled back")
	// The crash points stay in step order and stop before the failure.
	if len(staged) == 0 || staged[len(staged)-1] != "stage /etc/clp-test/many19" {
		t.Errorf("last staging crash point passed: %v", staged[max(0, len(staged)-1):])
	}
	sameTree(t, "after the failed apply", pre, snapshot(t, root, stateSkip...))
}
