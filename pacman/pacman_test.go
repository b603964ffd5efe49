package pacman

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	pacmanconf "github.com/Morganamilo/go-pacmanconf"
)

func fakeConf(conf *pacmanconf.Config) func() {
	old := readConfigUnder
	readConfigUnder = func(string, string) (*pacmanconf.Config, error) { return conf, nil }
	return func() { readConfigUnder = old }
}

// A pacman.conf taken from a real system names host paths: under --root they
// must all move into the root, so a sandbox never reads or writes the host.
func TestResolveMapsHostPathsUnderRoot(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/pacman.conf"), []byte("[options]\n"), 0o644)
	defer fakeConf(&pacmanconf.Config{
		DBPath:   "/var/lib/pacman/",
		CacheDir: []string{"/var/cache/pacman/pkg/", "/srv/cache"},
		LogFile:  "/var/log/pacman.log",
		GPGDir:   "/etc/pacman.d/gnupg/",
	})()
	p, err := Resolve(Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	want := &Paths{
		Root:      root,
		DBPath:    root + "/var/lib/pacman",
		Config:    root + "/etc/pacman.conf",
		LogFile:   root + "/var/log/pacman.log",
		GPGDir:    root + "/etc/pacman.d/gnupg",
		CacheDirs: []string{root + "/var/cache/pacman/pkg", root + "/srv/cache"},
		HookDirs:  []string{root + "/etc/pacman.d/hooks"},
		Conf:      p.Conf,
	}
	if !reflect.DeepEqual(p, want) {
		t.Fatalf("got  %+v\nwant %+v", p, want)
	}
	// Explicit flags win, and paths already inside the root stay.
	defer fakeConf(&pacmanconf.Config{DBPath: root + "/db/"})()
	p, err = Resolve(Options{Root: root, CacheDirs: []string{"/x"}})
	if err != nil {
		t.Fatal(err)
	}
	if p.DBPath != root+"/db" || !reflect.DeepEqual(p.CacheDirs, []string{"/x"}) {
		t.Fatalf("got dbpath %s cachedirs %v", p.DBPath, p.CacheDirs)
	}
}

func TestResolveErrors(t *testing.T) {
	_, err := Resolve(Options{Root: filepath.Join(t.TempDir(), "missing")})
	if !errors.Is(err, ErrNoRoot) {
		t.Fatalf("missing root: %v", err)
	}
	root := t.TempDir()
	_, err = Resolve(Options{Root: root})
	if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), root+"/etc/pacman.conf does not exist") {
		t.Fatalf("missing pacman.conf: %v", err)
	}
	if os.Geteuid() != 0 {
		os.MkdirAll(filepath.Join(root, "etc"), 0o755)
		os.WriteFile(filepath.Join(root, "etc/pacman.conf"), nil, 0)
		_, err = Resolve(Options{Root: root})
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "permission denied") {
			t.Fatalf("unreadable pacman.conf: %v", err)
		}
	}
}

func testPaths(t *testing.T) *Paths {
	d := t.TempDir()
	os.WriteFile(d+"/pacman.conf", []byte("[options]\n"), 0o644)
	return &Paths{Root: d, DBPath: d + "/db", Config: d + "/pacman.conf", LogFile: d + "/log", GPGDir: d + "/gpg",
		CacheDirs: []string{d + "/c1", d + "/c2"}, HookDirs: []string{d + "/hooks"}}
}

func TestRunnerArgv(t *testing.T) {
	p := testPaths(t)
	r := &Runner{Paths: p}
	got := r.Argv([]string{"-U"}, "-weird-name.pkg.tar.zst")
	want := []string{"pacman", "-U", "--root", p.Root, "--dbpath", p.DBPath, "--config", p.Config,
		"--logfile", p.LogFile, "--gpgdir", p.GPGDir, "--cachedir", p.CacheDirs[0], "--cachedir", p.CacheDirs[1],
		"--hookdir", p.HookDirs[0], "--noconfirm", "--", "-weird-name.pkg.tar.zst"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("argv\n got %q\nwant %q", got, want)
	}
}

func TestRunnerWaitsForDBLock(t *testing.T) {
	p := testPaths(t)
	os.MkdirAll(p.DBPath, 0o755)
	lf := p.Lockfile()
	os.WriteFile(lf, nil, 0o644)
	var ran []string
	waited := ""
	r := &Runner{Paths: p, LockWait: 3 * time.Second, Waiting: func(l string) { waited = l },
		exec: func(_ context.Context, argv []string, _ *Runner) error { ran = argv; return nil }}
	go func() {
		time.Sleep(300 * time.Millisecond)
		os.Remove(lf)
	}()
	if err := r.Run(context.Background(), []string{"-U"}, "x"); err != nil {
		t.Fatal(err)
	}
	if waited != lf || ran == nil {
		t.Fatalf("waited=%q ran=%v", waited, ran)
	}
}

func TestRunnerLockHeld(t *testing.T) {
	p := testPaths(t)
	os.MkdirAll(p.DBPath, 0o755)
	os.WriteFile(p.Lockfile(), nil, 0o644)
	ran := false
	r := &Runner{Paths: p, LockWait: 200 * time.Millisecond,
		exec: func(context.Context, []string, *Runner) error { ran = true; return nil }}
	err := r.Run(context.Background(), []string{"-U"}, "x")
	var held *LockHeldError
	if !errors.As(err, &held) || ran {
		t.Fatalf("want LockHeldError and pacman not run, got %v ran=%v", err, ran)
	}
	if !strings.Contains(err.Error(), p.Lockfile()) {
		t.Fatalf("message must name the lock file: %v", err)
	}
}

func TestRunnerPassesExitCode(t *testing.T) {
	p := testPaths(t)
	r := &Runner{Paths: p, Pacman: writeScript(t, "exit 3")}
	err := r.Run(context.Background(), []string{"-U"}, "x")
	var pe *PacmanError
	if !errors.As(err, &pe) || pe.Code != 3 {
		t.Fatalf("want PacmanError code 3, got %v", err)
	}
}

func writeScript(t *testing.T, body string) string {
	p := filepath.Join(t.TempDir(), "fake-pacman")
	os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755)
	return p
}

// A stale db.lck (the RemoveStale callback says so) is removed before
// pacman runs, and the caller is told; a live one is waited for.
func TestRunnerRemovesStaleLock(t *testing.T) {
	p := testPaths(t)
	os.MkdirAll(p.DBPath, 0o755)
	os.WriteFile(p.Lockfile(), nil, 0o644)
	told := ""
	ran := false
	r := &Runner{Paths: p, LockWait: 100 * time.Millisecond,
		RemoveStale: func(root, dbpath string) (bool, error) {
			return true, os.Remove(filepath.Join(dbpath, "db.lck"))
		},
		StaleRemoved: func(lf string) { told = lf },
		exec:         func(context.Context, []string, *Runner) error { ran = true; return nil }}
	if err := r.Run(context.Background(), []string{"-U"}, "x"); err != nil || !ran || told != p.Lockfile() {
		t.Fatalf("err=%v ran=%v told=%q", err, ran, told)
	}
	os.WriteFile(p.Lockfile(), nil, 0o644)
	ran = false
	r.RemoveStale = func(string, string) (bool, error) { return false, nil }
	var held *LockHeldError
	if err := r.Run(context.Background(), []string{"-U"}, "x"); !errors.As(err, &held) || ran {
		t.Fatalf("a live lock must be waited for: %v ran=%v", err, ran)
	}
}
