package pkgtx

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vincentos/clp/alpm"
	"github.com/vincentos/clp/hooks"
	"github.com/vincentos/clp/internal/config"
	"github.com/vincentos/clp/internal/fsx"
	"github.com/vincentos/clp/pacman"
	"github.com/vincentos/clp/patch"
	"github.com/vincentos/clp/testkit/sandbox"
)

// buildNVIDIAFix builds testdata/patches/nvidia-fix against the fixture
// files, filling in each @FILE@ with the file's sha256, as
// scripts/mkpatch-nvidia.sh does for the demo.
func buildNVIDIAFix(t *testing.T, f *sandbox.Fixtures) string {
	t.Helper()
	pk, err := sandbox.PkgbuildDir()
	if err != nil {
		t.Fatal(err)
	}
	srcDir := filepath.Join(filepath.Dir(pk), "patches", "nvidia-fix")
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if err := os.MkdirAll(filepath.Join(src, "files"), 0o755); err != nil {
		t.Fatal(err)
	}
	meta, err := os.ReadFile(filepath.Join(srcDir, "PKGINFO.meta"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range sandbox.NVIDIA {
		path := f.Path(n, sandbox.Good)
		meta = []byte(strings.ReplaceAll(string(meta), "@"+filepath.Base(path)+"@", sha(t, path)))
	}
	if strings.Contains(string(meta), ".pkg.tar.zst@") {
		t.Fatalf("placeholder left in PKGINFO.meta:\n%s", meta)
	}
	conf, err := os.ReadFile(filepath.Join(srcDir, "files", "nvidia-clp.conf"))
	if err != nil {
		t.Fatal(err)
	}
	must(t, os.WriteFile(filepath.Join(src, "PKGINFO.meta"), meta, 0o644))
	must(t, os.WriteFile(filepath.Join(src, "files", "nvidia-clp.conf"), conf, 0o644))
	out := filepath.Join(dir, "CLP1250601.clp")
	if err := patch.Build(src, out, patch.BuildOptions{}); err != nil {
		t.Fatal(err)
	}
	return out
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// installedQuery answers the patch's AppliesTo from the local database.
type installedQuery struct{ root string }

func (q installedQuery) InstalledVersion(name string) (string, bool, error) {
	h, err := alpm.Open(pacman.Options{Root: q.root})
	if err != nil {
		return "", false, err
	}
	defer h.Close()
	p, ok, err := h.Installed1(name)
	return p.Version, ok, err
}

func (installedQuery) VerCmp(a, b string) int { return alpm.VerCmp(a, b) }

func newEngine(t *testing.T, r *sandbox.Root, servers ...string) (*patch.Engine, *Actor) {
	t.Helper()
	p, err := r.Paths()
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.ArchiveServers = servers
	state := filepath.Join(r.Dir, "var/lib/clp")
	runner := &pacman.Runner{Paths: p, LockWait: 5 * time.Second, Stdout: &testWriter{t}, Stderr: &testWriter{t}}
	act := NewActor(openDB, p, runner, cfg, state, nil)
	return &patch.Engine{
		Root: r.Dir, StateDir: state, OptDir: filepath.Join(r.Dir, "opt/CLP"), LogPath: filepath.Join(r.Dir, "var/log/CLP.log"),
		Config: cfg, Packages: act,
	}, act
}

// TestActorApplyRevert: the NVIDIA fix patch through the real engine and
// real pacman: one transaction downgrades all three, the pins appear in
// pacman.conf's include, the /etc file is added; after the cache is emptied
// (paccache -r), the rollback still reinstalls 560 from the kept copies
// and takes the pins away.
func TestActorApplyRevert(t *testing.T) {
	sandbox.RequireRoot(t)
	r, f := sandbox.NewNVIDIA(t)
	// pacman -S left the 560 files in the cache, as on a real system.
	must(t, r.Cache(f.Paths(sandbox.Broken, sandbox.NVIDIA...)...))
	e, act := newEngine(t, r)
	confBefore, err := os.ReadFile(r.Config)
	if err != nil {
		t.Fatal(err)
	}
	a, err := patch.OpenFile(buildNVIDIAFix(t, f), patch.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	plan, err := e.Plan(bg, a, patch.ApplyOptions{Installed: installedQuery{r.Dir}, Arch: "x86_64"})
	if err != nil {
		t.Fatal(err)
	}
	if got := plan.Packages.Previous["nvidia-dkms"]; got != sandbox.Broken {
		t.Fatalf("previous nvidia-dkms = %q", got)
	}
	before := transactions(t, r)
	if err := e.Apply(bg, a, plan); err != nil {
		t.Fatal(err)
	}
	if got := query(t, r); got != goodAll {
		t.Fatalf("after apply:\n%s", got)
	}
	if n := transactions(t, r) - before; n != 1 {
		t.Fatalf("%d transactions", n)
	}
	if _, err := os.Stat(filepath.Join(r.Dir, "etc/modprobe.d/nvidia-clp.conf")); err != nil {
		t.Fatal(err)
	}
	pins, err := hooks.LoadPins("/", act.StateDir)
	if err != nil || len(pins) != 3 {
		t.Fatalf("pins %+v %v", pins, err)
	}
	for _, p := range pins {
		if p.Version != sandbox.Good || p.Until != "560.35.03-2" || p.Patch != "CLP1250601" {
			t.Fatalf("pin %+v", p)
		}
	}
	conf, err := pacman.ReadConfig(r.Config)
	if err != nil || strings.Join(conf.IgnorePkg, " ") != "nvidia-dkms nvidia-settings nvidia-utils" {
		t.Fatalf("IgnorePkg %v %v", conf.IgnorePkg, err)
	}
	kept, _ := filepath.Glob(filepath.Join(act.StateDir, "packages/CLP1250601/*.pkg.tar.zst"))
	if len(kept) != 3 {
		t.Fatalf("kept %v", kept)
	}
	// paccache -r (and a thorough one): the cache is gone.
	emptyCache(t, r)
	if err := e.Rollback(bg, "CLP1250601", patch.RollbackOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := query(t, r); got != brokenAll {
		t.Fatalf("after rollback:\n%s", got)
	}
	if pins, _ := hooks.LoadPins("/", act.StateDir); len(pins) != 0 {
		t.Fatalf("pins left %+v", pins)
	}
	if _, err := os.Stat(filepath.Join(r.Dir, "etc/modprobe.d/nvidia-clp.conf")); !os.IsNotExist(err) {
		t.Fatalf("added file still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(act.StateDir, "packages/CLP1250601")); !os.IsNotExist(err) {
		t.Fatalf("kept copies not cleaned: %v", err)
	}
	// Revert again (recovery after a crash in Revert): nothing to do but
	// drop the guard's allow file a clp killed during its pacman left.
	n := transactions(t, r)
	if _, err := hooks.WriteAllow("/", act.StateDir, sandbox.NVIDIA, "patch CLP1250601", 30*time.Minute); err != nil {
		t.Fatal(err)
	}
	// and the temporary file of one killed while writing it.
	tmp := filepath.Join(act.StateDir, "."+hooks.AllowFile+"1577279220")
	must(t, os.WriteFile(tmp, []byte(`{"names":["nvid`), 0o600))
	// and of the pins.
	pinsTmp := filepath.Join(act.StateDir, "."+hooks.PinsFile+"1435656035")
	must(t, os.WriteFile(pinsTmp, []byte(`[{"name":"nvid`), 0o644))
	// and of pacman.conf's and the pins include's writes.
	confTmp := filepath.Join(filepath.Dir(act.Paths.Config), "."+filepath.Base(act.Paths.Config)+".clp-tmp-4242")
	must(t, os.WriteFile(confTmp, []byte("[options]\n"), 0o644))
	inc := hooks.PinsConfFile(act.Paths)
	must(t, os.MkdirAll(filepath.Dir(inc), 0o755))
	incTmp := filepath.Join(filepath.Dir(inc), "."+filepath.Base(inc)+"99")
	must(t, os.WriteFile(incTmp, []byte("[options]\nIgno"), 0o644))
	// A file of the user's beside pacman.conf is not clp's to remove.
	mine := filepath.Join(filepath.Dir(act.Paths.Config), ".pacman.conf.swp")
	must(t, os.WriteFile(mine, []byte("vim"), 0o644))
	if err := act.Revert(bg, plan.Packages); err != nil {
		t.Fatal(err)
	}
	if transactions(t, r) != n {
		t.Fatal("second Revert ran pacman")
	}
	for _, p := range []string{confTmp, incTmp} {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Fatalf("%s is left: %v", p, err)
		}
	}
	if _, err := os.Lstat(mine); err != nil {
		t.Fatalf("the user's %s was removed: %v", mine, err)
	}
	if _, err := os.Lstat(filepath.Join(act.StateDir, hooks.AllowFile)); !os.IsNotExist(err) {
		t.Fatalf("the killed apply's guard allow file is left: %v", err)
	}
	if _, err := os.Lstat(tmp); !os.IsNotExist(err) {
		t.Fatalf("the guard allow file's temporary file is left: %v", err)
	}
	if _, err := os.Lstat(pinsTmp); !os.IsNotExist(err) {
		t.Fatalf("the pins' temporary file is left: %v", err)
	}
	// Another operation's allow file is not the patch's to remove.
	if _, err := hooks.WriteAllow("/", act.StateDir, sandbox.NVIDIA, "clp snapshot restore 3", 30*time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := act.Revert(bg, plan.Packages); err != nil {
		t.Fatal(err)
	}
	if hooks.LoadAllow("/", act.StateDir, time.Now()) == nil {
		t.Fatal("Revert removed a snapshot restore's guard allow file")
	}
	// A pacman killed (with its clp) while it removed 560's files on the
	// way to 550 left nvidia-utils 560 whole in the database but a file
	// gone: Revert reinstalls it.
	must(t, r.Cache(f.Paths(sandbox.Broken, sandbox.NVIDIA...)...))
	must(t, os.Remove(filepath.Join(act.StateDir, hooks.AllowFile)))
	whole := sandbox.MustTree(t, r.Dir)
	must(t, os.Remove(filepath.Join(r.Dir, "usr/lib/libnvidia-glcore.so.560.35.03")))
	n = transactions(t, r)
	if err := act.Revert(bg, plan.Packages); err != nil {
		t.Fatal(err)
	}
	if transactions(t, r) != n+1 {
		t.Fatal("Revert did not reinstall the package missing a file")
	}
	var changed []string
	for _, d := range whole.Diff(sandbox.MustTree(t, r.Dir)) {
		// The reinstall's desc differs in %INSTALLDATE% only when the
		// clock crossed a second; pacman's log grows.
		if !strings.Contains(d, "/desc: ") && !strings.Contains(d, "var/log/pacman.log") {
			changed = append(changed, d)
		}
	}
	if len(changed) > 0 {
		t.Fatalf("after the reinstall:\n%s", strings.Join(changed, "\n"))
	}
	// The pins include stays (empty); removing it gives back pacman.conf.
	if _, err := hooks.RemoveInclude(act.Paths); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(r.Config); string(after) != string(confBefore) {
		t.Fatalf("pacman.conf differs:\n%s", after)
	}
}

// TestActorPrepareRefusesTamperedCache: the cached file is not the one the
// patch pins and no archive has it: Prepare refuses, naming the file and
// both hashes; nothing changes.
func TestActorPrepareRefusesTamperedCache(t *testing.T) {
	sandbox.RequireRoot(t)
	r, f := sandbox.NewNVIDIA(t)
	must(t, r.Cache(f.Paths(sandbox.Broken, sandbox.NVIDIA...)...))
	// The cache holds a 550 file that is not the pinned one.
	other := filepath.Join(r.CacheDir, "nvidia-settings-550.78-1-x86_64.pkg.tar.zst")
	must(t, os.WriteFile(other, append(readFile(t, f.Path("nvidia-settings", sandbox.Good)), 0), 0o644))
	tree := sandbox.MustTree(t, r.Dir)
	e, _ := newEngine(t, r)
	a, err := patch.OpenFile(buildNVIDIAFix(t, f), patch.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	_, err = e.Plan(bg, a, patch.ApplyOptions{Installed: installedQuery{r.Dir}, Arch: "x86_64"})
	mustContain(t, err, "nvidia-settings 550.78-1", "the cached copy "+other+" has sha256", "not the patch's")
	sandbox.AssertUnchanged(t, r.Dir, tree)
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

var _ = fsx.SHA256File

// TestActorPrepareRefusesWithoutUndo: the installed version's file is in
// neither the cache nor an archive, so a rollback could not reinstall it:
// the patch is refused before anything changes.
func TestActorPrepareRefusesWithoutUndo(t *testing.T) {
	sandbox.RequireRoot(t)
	r, f := sandbox.NewNVIDIA(t)
	tree := sandbox.MustTree(t, r.Dir)
	e, _ := newEngine(t, r)
	a, err := patch.OpenFile(buildNVIDIAFix(t, f), patch.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	_, err = e.Plan(bg, a, patch.ApplyOptions{Installed: installedQuery{r.Dir}, Arch: "x86_64"})
	mustContain(t, err, "cannot keep nvidia-utils 560.35.03-1 for a rollback", "not in the cache", "nor on the archive server")
	sandbox.AssertUnchanged(t, r.Dir, tree)
}

// TestActorFromArchive: nothing cached; the downgrades and the files kept
// for the undo come from the archive server.
func TestActorFromArchive(t *testing.T) {
	sandbox.RequireRoot(t)
	r, f := sandbox.NewNVIDIA(t)
	emptyCache(t, r)
	var files []string
	for _, v := range []string{sandbox.Good, sandbox.Broken} {
		files = append(files, f.Paths(v, sandbox.NVIDIA...)...)
	}
	arch := newArchive(t, files...)
	e, act := newEngine(t, r, arch.URL)
	a, err := patch.OpenFile(buildNVIDIAFix(t, f), patch.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	plan, err := e.Plan(bg, a, patch.ApplyOptions{Installed: installedQuery{r.Dir}, Arch: "x86_64"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Apply(bg, a, plan); err != nil {
		t.Fatal(err)
	}
	if got := query(t, r); got != goodAll {
		t.Fatalf("after apply:\n%s", got)
	}
	arch.Close() // the archive is gone: the undo needs the kept copies
	if err := e.Rollback(bg, "CLP1250601", patch.RollbackOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := query(t, r); got != brokenAll {
		t.Fatalf("after rollback:\n%s", got)
	}
	_ = act
}

// The pacman a patch runs carries CLP_PATCH, so the snapshot hooks pacman
// runs link their pre/post pair to the patch; the shared runner is left as
// it was.
func TestActorRunnerNamesThePatch(t *testing.T) {
	base := &pacman.Runner{Env: []string{"A=1"}}
	a := &Actor{Runner: base}
	r := a.runnerFor("CLP1250601")
	if got := strings.Join(r.Env, " "); got != "A=1 CLP_PATCH=CLP1250601" {
		t.Fatalf("env %q", got)
	}
	if len(base.Env) != 1 {
		t.Fatalf("shared runner changed: %q", base.Env)
	}
}
