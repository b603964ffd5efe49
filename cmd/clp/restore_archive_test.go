package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vincentos/clp/testkit/sandbox"
)

// These tests run `clp snapshot restore` on a real sandbox root whose
// needed package files were taken out of the pacman cache, against a real
// HTTP server on loopback in the Arch Linux Archive layout.

// restoreArchive serves files in the Arch Linux Archive layout
// (/packages/<letter>/<name>/<file>) and returns its URL. With status set,
// every directory listing answers that HTTP status instead.
func restoreArchive(t *testing.T, files []string, status int) string {
	t.Helper()
	h, err := archiveHandler(files, status, "")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// restoreSetup makes a root with snapshot 1 holding the 550.78 driver,
// 560.35.03 installed now, and the 550.78 files gone from the cache; its
// clp.conf names archive as ArchiveServer (archive may be empty). It
// returns the root and pacman -Q as snapshot 1 has it.
func restoreSetup(t *testing.T, archive string) (*sandbox.Root, map[string]string) {
	t.Helper()
	r, f := sandbox.NewNVIDIA(t)
	if err := r.Install(f.Paths(sandbox.Good, sandbox.NVIDIA...)...); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if code := Main(context.Background(), []string{"--root", r.Dir, "snapshot", "create", "-d", "known good"}, nil, &out, &out); code != 0 {
		t.Fatalf("snapshot create: %s", out.String())
	}
	want := query(t, r)
	if err := r.Install(f.Paths(sandbox.Broken, sandbox.NVIDIA...)...); err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Paths(sandbox.Good, sandbox.NVIDIA...) {
		if err := os.Remove(filepath.Join(r.CacheDir, filepath.Base(p))); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(r.Dir, "etc/clp"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(r.Dir, "etc/clp/clp.conf"), []byte("[options]\nArchiveServer = "+archive+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return r, want
}

func restore1(r *sandbox.Root) (int, string) {
	var out bytes.Buffer
	code := Main(context.Background(), []string{"--root", r.Dir, "--noconfirm", "snapshot", "restore", "1"}, nil, &out, &out)
	return code, out.String()
}

func TestSnapshotRestoreArchive(t *testing.T) {
	sandbox.RequireRoot(t)
	f := sandbox.TestFixtures(t)

	t.Run("downloads what the cache lacks", func(t *testing.T) {
		url := restoreArchive(t, f.All(), 0)
		r, want := restoreSetup(t, url)
		code, out := restore1(r)
		if code != 0 {
			t.Fatalf("restore exited %d:\n%s", code, out)
		}
		if got := sandbox.Versions(query(t, r)); got != sandbox.Versions(want) {
			t.Fatalf("after restore pacman -Q says\n%s\nwant\n%s\n%s", got, sandbox.Versions(want), out)
		}
		if !strings.Contains(out, "3 package file(s) to download from the archive:") ||
			!strings.Contains(out, url+"/packages/n/nvidia-utils/nvidia-utils-550.78-1-x86_64.pkg.tar.zst") {
			t.Fatalf("the plan does not show the downloads:\n%s", out)
		}
		for _, p := range f.Paths(sandbox.Good, sandbox.NVIDIA...) {
			if _, err := os.Stat(filepath.Join(r.Dir, "var/lib/clp/downloads", filepath.Base(p))); err != nil {
				t.Errorf("not staged in the state dir: %v", err)
			}
		}
	})

	t.Run("archive listing fails changes nothing", func(t *testing.T) {
		url := restoreArchive(t, f.All(), http.StatusInternalServerError)
		r, _ := restoreSetup(t, url)
		before := sandbox.MustTree(t, r.Dir)
		code, out := restore1(r)
		if code != ExitRefused {
			t.Fatalf("exit %d, want %d:\n%s", code, ExitRefused, out)
		}
		for _, n := range sandbox.NVIDIA {
			want := fmt.Sprintf("restore needs %s 550.78-1 (x86_64): no file %s-550.78-1-x86_64.pkg.tar.* in %s, and listing %s on the archive server(s) %s failed: ", n, n, r.CacheDir, n, url)
			if !strings.Contains(out, want) {
				t.Errorf("message does not say %q:\n%s", want, out)
			}
		}
		if !strings.Contains(out, "500") || !strings.Contains(out, "nothing was changed") {
			t.Errorf("message does not give the status or say nothing changed:\n%s", out)
		}
		if !strings.Contains(out, "clp: hint: check ArchiveServer in clp.conf and the network") {
			t.Errorf("no hint:\n%s", out)
		}
		sandbox.AssertUnchanged(t, r.Dir, before)
	})

	t.Run("version nowhere changes nothing", func(t *testing.T) {
		// The archive offers only the broken version.
		url := restoreArchive(t, f.Paths(sandbox.Broken, sandbox.NVIDIA...), 0)
		r, _ := restoreSetup(t, url)
		before := sandbox.MustTree(t, r.Dir)
		code, out := restore1(r)
		if code != ExitRefused {
			t.Fatalf("exit %d, want %d:\n%s", code, ExitRefused, out)
		}
		for _, n := range sandbox.NVIDIA {
			want := fmt.Sprintf("restore needs %s 550.78-1 (x86_64): no file %s-550.78-1-x86_64.pkg.tar.* in %s nor on the archive server(s) %s", n, n, r.CacheDir, url)
			if !strings.Contains(out, want) {
				t.Errorf("message does not say %q:\n%s", want, out)
			}
		}
		sandbox.AssertUnchanged(t, r.Dir, before)
	})

	t.Run("no archive server is cache only", func(t *testing.T) {
		r, _ := restoreSetup(t, "")
		before := sandbox.MustTree(t, r.Dir)
		code, out := restore1(r)
		if code != ExitRefused {
			t.Fatalf("exit %d, want %d:\n%s", code, ExitRefused, out)
		}
		want := "clp: error: restore needs nvidia-utils 550.78-1 (x86_64): no file nvidia-utils-550.78-1-x86_64.pkg.tar.* in " + r.CacheDir + "; the archive was not consulted (no ArchiveServer in clp.conf)"
		if !strings.Contains(out, want) {
			t.Fatalf("message does not say %q:\n%s", want, out)
		}
		sandbox.AssertUnchanged(t, r.Dir, before)
	})
}

// TestRestoreSnapshotUnasked: the boot guard's call restores from the
// archive with no question and no terminal, and leaves the restore-pre
// snapshot that undoes it.
func TestRestoreSnapshotUnasked(t *testing.T) {
	sandbox.RequireRoot(t)
	f := sandbox.TestFixtures(t)
	r, want := restoreSetup(t, restoreArchive(t, f.All(), 0))
	var out bytes.Buffer
	env := &Env{Globals: Globals{Root: r.Dir}, Stdout: &out, Stderr: &out}
	res, err := restoreSnapshot(context.Background(), env, 1, "clp boot guard")
	if err != nil {
		t.Fatalf("restore: %v\n%s", err, out.String())
	}
	if got := sandbox.Versions(query(t, r)); got != sandbox.Versions(want) {
		t.Fatalf("after restore pacman -Q says\n%s\nwant\n%s", got, sandbox.Versions(want))
	}
	if res.Pre == 0 || res.FromArchive() != 3 {
		t.Fatalf("restore-pre %d, %d from the archive", res.Pre, res.FromArchive())
	}
}
