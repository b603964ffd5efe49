package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vincentos/clp/alpm"
	"github.com/vincentos/clp/hooks"
	"github.com/vincentos/clp/pacman"
	"github.com/vincentos/clp/snapshot"
	"github.com/vincentos/clp/testkit/sandbox"
)

// These tests run real pacman on sandbox roots with clp's hooks installed:
// pacman chroots into the root and runs the clp binary built here, so what
// is tested is exactly what pacman does on a real system.

// buildClp builds the clp binary into dir (go build, so the hooks run the
// code of this tree, for the libalpm the tests run with), and beside it
// clp-hook, the lean hook binary the hook files call, without cgo as the
// Makefile builds it.
func buildClp(t *testing.T, dir string) string {
	t.Helper()
	sandbox.GoBuildEnv(t, "../clp-hook", filepath.Join(dir, "clp-hook"), "CGO_ENABLED=0")
	return sandbox.GoBuild(t, ".", filepath.Join(dir, "clp"))
}

// hookRoot makes an empty sandbox root pacman can run clp's hooks in: clp
// as /usr/bin/clp, clp-hook (built beside it by buildClp) as
// /usr/lib/clp/clp-hook, where the package installs them.
func hookRoot(t *testing.T, clp string) *sandbox.Root {
	t.Helper()
	r := sandbox.New(t)
	if err := r.MakeChrootable(clp); err != nil {
		t.Fatal(err)
	}
	if err := r.InstallAt(filepath.Join(filepath.Dir(clp), "clp-hook"), hooks.HookBinary); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if code := Main(context.Background(), []string{"--root", r.Dir, "hooks", "install"}, nil, &out, &out); code != 0 {
		t.Fatalf("clp hooks install: %d\n%s", code, out.String())
	}
	return r
}

func pacmanEnv(t *testing.T, r *sandbox.Root, env []string, op []string, targets ...string) (string, error) {
	t.Helper()
	p, err := r.Paths()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	run := &pacman.Runner{Paths: p, LockWait: 5 * time.Second, Stdout: &out, Stderr: &out, Env: env}
	err = run.Run(context.Background(), op, targets...)
	return out.String(), err
}

func storeOf(t *testing.T, r *sandbox.Root) *snapshot.Store {
	t.Helper()
	st, err := snapshot.Open(filepath.Join(r.Dir, "var/lib/clp/snapshots"))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// asVersions turns a snapshot's package set into pacman -Q's form.
func asVersions(pkgs []snapshot.Pkg) map[string]string {
	m := map[string]string{}
	for _, p := range pkgs {
		m[p.Name] = p.Version
	}
	return m
}

func query(t *testing.T, r *sandbox.Root) map[string]string {
	t.Helper()
	q, err := r.Query()
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// checkPair checks that the newest two snapshots are a pre/post pair of
// before and after.
func checkPair(t *testing.T, r *sandbox.Root, before, after map[string]string, targets string) (pre, post snapshot.Snapshot) {
	t.Helper()
	st := storeOf(t, r)
	l := st.List()
	if len(l) < 2 {
		t.Fatalf("want a pre/post pair, have %d snapshots: %+v", len(l), l)
	}
	pre, _ = st.Get(l[len(l)-2].ID)
	post, _ = st.Get(l[len(l)-1].ID)
	if pre.Kind != snapshot.KindPre || post.Kind != snapshot.KindPost || post.PairID != pre.ID || pre.Orphan {
		t.Fatalf("not a pair: pre %+v post %+v", pre, post)
	}
	if got := sandbox.Versions(asVersions(pre.Packages)); got != sandbox.Versions(before) {
		t.Errorf("pre holds\n%s\npacman -Q before said\n%s", got, sandbox.Versions(before))
	}
	if got := sandbox.Versions(asVersions(post.Packages)); got != sandbox.Versions(after) {
		t.Errorf("post holds\n%s\npacman -Q after said\n%s", got, sandbox.Versions(after))
	}
	// Arch and reason too: the hook reads the local database itself (for
	// speed), and must say exactly what libalpm says.
	cur, err := installedIn(r)
	if err != nil {
		t.Fatal(err)
	}
	if d := snapshot.Diff(post.Packages, cur, alpm.VerCmp); len(d) != 0 {
		t.Errorf("post differs from libalpm's view: %+v", d)
	}
	if strings.Join(pre.Targets, " ") != targets || strings.Join(post.Targets, " ") != targets {
		t.Errorf("targets pre %v post %v, want %s", pre.Targets, post.Targets, targets)
	}
	return pre, post
}

func TestHooksReal(t *testing.T) {
	sandbox.RequireRoot(t)
	f := sandbox.TestFixtures(t)
	clp := buildClp(t, t.TempDir())

	t.Run("install upgrade remove pairs", func(t *testing.T) {
		r := hookRoot(t, clp)
		steps := []struct {
			op      []string
			targets []string
			want    string
		}{
			{[]string{"-U"}, []string{f.Path("clp-testconf", "1.0-1")}, "clp-testconf"},
			{[]string{"-U"}, []string{f.Path("clp-testconf", "1.1-1")}, "clp-testconf"},
			{[]string{"-R"}, []string{"clp-testconf"}, "clp-testconf"},
		}
		for _, s := range steps {
			before := query(t, r)
			// CLP_PATCH reaches the hook through pacman's chroot and execv.
			out, err := pacmanEnv(t, r, []string{"CLP_PATCH=fix-1"}, s.op, s.targets...)
			if err != nil {
				t.Fatalf("pacman %v: %v\n%s", s.op, err, out)
			}
			if strings.Contains(out, "clp: warning") {
				t.Fatalf("hook warned:\n%s", out)
			}
			pre, post := checkPair(t, r, before, query(t, r), s.want)
			if pre.Patch != "fix-1" || post.Patch != "fix-1" {
				t.Errorf("patch link pre %q post %q, want fix-1", pre.Patch, post.Patch)
			}
		}
		if n := len(storeOf(t, r).List()); n != 6 {
			t.Fatalf("%d snapshots, want 6", n)
		}
	})

	t.Run("failed transaction leaves an orphan pre", func(t *testing.T) {
		r := hookRoot(t, clp)
		fail := "[Trigger]\nOperation = Install\nType = Package\nTarget = *\n\n[Action]\nWhen = PreTransaction\nExec = /bin/sh -c 'exit 1'\nAbortOnFail\n"
		os.WriteFile(filepath.Join(r.HookDir, "50-fail.hook"), []byte(fail), 0o644)
		out, err := pacmanEnv(t, r, nil, []string{"-U"}, f.Path("clp-testconf", "1.0-1"))
		if err == nil {
			t.Fatalf("transaction did not fail:\n%s", out)
		}
		if q := query(t, r); len(q) != 0 {
			t.Fatalf("failed transaction installed %v", q)
		}
		os.Remove(filepath.Join(r.HookDir, "50-fail.hook"))
		before := query(t, r)
		if out, err := pacmanEnv(t, r, nil, []string{"-U"}, f.Path("clp-testconf", "1.0-1")); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		checkPair(t, r, before, query(t, r), "clp-testconf")
		l := storeOf(t, r).List()
		if len(l) != 3 || l[0].Kind != snapshot.KindPre || !l[0].Orphan {
			t.Fatalf("first pre not an orphan: %+v", l)
		}
		var stdout bytes.Buffer
		Main(context.Background(), []string{"--root", r.Dir, "snapshot", "list"}, nil, &stdout, &stdout)
		if !strings.Contains(stdout.String(), "pre!") {
			t.Fatalf("snapshot list does not mark the orphan:\n%s", stdout.String())
		}
	})

	t.Run("skip", func(t *testing.T) {
		r := hookRoot(t, clp)
		out, err := pacmanEnv(t, r, []string{"CLP_SKIP_SNAPSHOT=1"}, []string{"-U"}, f.Path("clp-testconf", "1.0-1"))
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if l := storeOf(t, r).List(); len(l) != 0 {
			t.Fatalf("CLP_SKIP_SNAPSHOT=1 still recorded %+v", l)
		}
	})

	t.Run("guard aborts an upgrade past a pin", func(t *testing.T) {
		r := hookRoot(t, clp)
		if err := r.Install(f.Path("clp-testconf", "1.0-1")); err != nil {
			t.Fatal(err)
		}
		state := filepath.Join(r.Dir, "var/lib/clp")
		if err := hooks.SavePins("/", state, []hooks.Pin{{Name: "clp-testconf", Version: "1.0-1", Patch: "testconf-fix", Created: time.Now()}}); err != nil {
			t.Fatal(err)
		}
		n := len(storeOf(t, r).List())
		before := sandbox.MustTree(t, filepath.Join(r.Dir, "usr"))
		out, err := pacmanEnv(t, r, nil, []string{"-U"}, f.Path("clp-testconf", "1.1-1"))
		if err == nil {
			t.Fatalf("pinned upgrade went through:\n%s", out)
		}
		for _, want := range []string{
			"clp: error: clp-testconf is pinned at 1.0-1 (set by patch testconf-fix)",
			"to lift the pin: clp unpin clp-testconf",
			"failed to run transaction hooks",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("pacman's output lacks %q:\n%s", want, out)
			}
		}
		if q := query(t, r); q["clp-testconf"] != "1.0-1" {
			t.Fatalf("clp-testconf is %s", q["clp-testconf"])
		}
		sandbox.AssertUnchanged(t, filepath.Join(r.Dir, "usr"), before)
		if m := len(storeOf(t, r).List()); m != n {
			t.Fatalf("a refused transaction left %d snapshots", m-n)
		}
		// clp's own pacman call, announced through the allow file, passes.
		remove, err := hooks.WriteAllow("/", state, []string{"clp-testconf"}, "test", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		defer remove()
		if out, err := pacmanEnv(t, r, nil, []string{"-U"}, f.Path("clp-testconf", "1.1-1")); err != nil {
			t.Fatalf("allowed upgrade refused: %v\n%s", err, out)
		}
	})

	// The hook files run clp-hook, which links no libalpm: with no pinned
	// target it decides alone, snapshots included, and needs no clp.
	t.Run("clp-hook alone when no target is pinned", func(t *testing.T) {
		r := hookRoot(t, clp)
		if err := os.Remove(filepath.Join(r.Dir, "usr/bin/clp")); err != nil {
			t.Fatal(err)
		}
		state := filepath.Join(r.Dir, "var/lib/clp")
		if err := hooks.SavePins("/", state, []hooks.Pin{{Name: "some-other-package", Version: "1-1", Created: time.Now()}}); err != nil {
			t.Fatal(err)
		}
		before := query(t, r)
		out, err := pacmanEnv(t, r, nil, []string{"-U"}, f.Path("clp-testconf", "1.0-1"))
		if err != nil || strings.Contains(out, "clp: warning") || strings.Contains(out, "clp: error") {
			t.Fatalf("pacman -U: %v\n%s", err, out)
		}
		checkPair(t, r, before, query(t, r), "clp-testconf")
	})

	// A pinned target needs the sync databases: clp-hook hands the guard
	// to clp, and without clp it refuses, saying why.
	t.Run("pinned target and no clp refuses", func(t *testing.T) {
		r := hookRoot(t, clp)
		if err := r.Install(f.Path("clp-testconf", "1.0-1")); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(filepath.Join(r.Dir, "usr/bin/clp")); err != nil {
			t.Fatal(err)
		}
		state := filepath.Join(r.Dir, "var/lib/clp")
		if err := hooks.SavePins("/", state, []hooks.Pin{{Name: "clp-testconf", Version: "1.0-1", Created: time.Now()}}); err != nil {
			t.Fatal(err)
		}
		n := len(storeOf(t, r).List())
		before := sandbox.MustTree(t, filepath.Join(r.Dir, "usr"))
		out, err := pacmanEnv(t, r, nil, []string{"-U"}, f.Path("clp-testconf", "1.1-1"))
		if err == nil {
			t.Fatalf("pinned upgrade went through:\n%s", out)
		}
		for _, want := range []string{
			"clp: error: guard: a target is pinned and /usr/bin/clp cannot run",
			"clp: hint: reinstall clp",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("pacman's output lacks %q:\n%s", want, out)
			}
		}
		if q := query(t, r); q["clp-testconf"] != "1.0-1" {
			t.Fatalf("clp-testconf is %s", q["clp-testconf"])
		}
		sandbox.AssertUnchanged(t, filepath.Join(r.Dir, "usr"), before)
		if m := len(storeOf(t, r).List()); m != n {
			t.Fatalf("a refused transaction left %d snapshots", m-n)
		}
	})
}

func TestSnapshotRestoreReal(t *testing.T) {
	sandbox.RequireRoot(t)
	f := sandbox.TestFixtures(t)
	setup := func(t *testing.T, cacheBroken bool) (*sandbox.Root, map[string]string) {
		r := sandbox.New(t)
		if err := r.Install(f.Paths(sandbox.Broken, sandbox.NVIDIA...)...); err != nil {
			t.Fatal(err)
		}
		if cacheBroken {
			if err := r.Cache(f.Paths(sandbox.Broken, sandbox.NVIDIA...)...); err != nil {
				t.Fatal(err)
			}
		}
		var out bytes.Buffer
		if code := Main(context.Background(), []string{"--root", r.Dir, "snapshot", "create", "-d", "known state"}, nil, &out, &out); code != 0 {
			t.Fatalf("snapshot create: %s", out.String())
		}
		want := query(t, r)
		// Downgrade the driver and add a package.
		if err := r.Install(append(f.Paths(sandbox.Good, sandbox.NVIDIA...), f.Path("clp-testconf", "1.0-1"))...); err != nil {
			t.Fatal(err)
		}
		return r, want
	}

	t.Run("back to the earlier state", func(t *testing.T) {
		r, want := setup(t, true)
		var out bytes.Buffer
		code := Main(context.Background(), []string{"--root", r.Dir, "--noconfirm", "snapshot", "restore", "1"}, nil, &out, &out)
		if code != 0 {
			t.Fatalf("restore exited %d:\n%s", code, out.String())
		}
		if got := sandbox.Versions(query(t, r)); got != sandbox.Versions(want) {
			t.Fatalf("after restore pacman -Q says\n%s\nwant\n%s\n%s", got, sandbox.Versions(want), out.String())
		}
		st := storeOf(t, r)
		pre, err := st.Get(2)
		if err != nil || pre.Kind != snapshot.KindRestorePre || asVersions(pre.Packages)["clp-testconf"] != "1.0-1" {
			t.Fatalf("restore-pre snapshot: %+v %v", pre.ID, err)
		}
		// The reasons match too.
		cur, err := installedIn(r)
		if err != nil {
			t.Fatal(err)
		}
		s1, _ := st.Get(1)
		if d := snapshot.Diff(s1.Packages, cur, alpm.VerCmp); len(d) != 0 {
			t.Fatalf("differs from the snapshot after restore: %+v", d)
		}
	})

	t.Run("missing package file changes nothing", func(t *testing.T) {
		r, _ := setup(t, false)
		before := sandbox.MustTree(t, r.Dir)
		var out bytes.Buffer
		code := Main(context.Background(), []string{"--root", r.Dir, "--noconfirm", "snapshot", "restore", "1"}, nil, &out, &out)
		if code != ExitRefused {
			t.Fatalf("exit %d, want %d:\n%s", code, ExitRefused, out.String())
		}
		if !strings.Contains(out.String(), "clp: error: restore needs nvidia-utils 560.35.03-1 (x86_64): no file nvidia-utils-560.35.03-1-x86_64.pkg.tar.* in "+r.CacheDir) {
			t.Fatalf("message does not name the file:\n%s", out.String())
		}
		sandbox.AssertUnchanged(t, r.Dir, before)
	})
}

// installedIn reads a root's packages as a snapshot package set.
func installedIn(r *sandbox.Root) ([]snapshot.Pkg, error) {
	h, err := alpm.Open(pacman.Options{Root: r.Dir})
	if err != nil {
		return nil, err
	}
	defer h.Close()
	return installedNow(h)
}
