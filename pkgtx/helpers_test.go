package pkgtx

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vincentos/clp/alpm"
	"github.com/vincentos/clp/cache"
	"github.com/vincentos/clp/internal/config"
	"github.com/vincentos/clp/internal/fsx"
	"github.com/vincentos/clp/pacman"
	"github.com/vincentos/clp/testkit/sandbox"
)

// archiveServer serves files the way the Arch Linux Archive lays them out:
// /packages/<first letter>/<name>/<file>, a .sig beside each, directory
// listings as nginx writes them. fail, when set, answers every listing
// with that status.
type archiveServer struct {
	*httptest.Server
	files    map[string]string // "name/file" -> local path
	fail     atomic.Int32
	listings atomic.Int32
}

func newArchive(t *testing.T, files ...string) *archiveServer {
	t.Helper()
	a := &archiveServer{files: map[string]string{}}
	for _, f := range files {
		name := pkgName(t, f)
		a.files[name+"/"+filepath.Base(f)] = f
	}
	a.Server = httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.Close)
	return a
}

func pkgName(t *testing.T, file string) string {
	e, err := cache.ParseFileName(filepath.Base(file))
	if err != nil {
		t.Fatal(err)
	}
	return e.Name
}

func (a *archiveServer) serve(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/packages/"), "/")
	if len(parts) != 3 {
		http.NotFound(w, r)
		return
	}
	name, file := parts[1], parts[2]
	if file == "" {
		a.listings.Add(1)
		if code := a.fail.Load(); code != 0 {
			http.Error(w, "backend down", int(code))
			return
		}
		fmt.Fprintf(w, "<html><head><title>Index of /packages/%s/%s/</title></head><body><h1>Index</h1><hr><pre><a href=\"../\">../</a>\n", parts[0], name)
		for k := range a.files {
			if n, f, _ := strings.Cut(k, "/"); n == name {
				esc := strings.NewReplacer(":", "%3A", "+", "%2B").Replace(f)
				fmt.Fprintf(w, "<a href=\"%s\">%s</a> 01-Jan-2024 00:00 1234\n<a href=\"%s.sig\">%s.sig</a> 01-Jan-2024 00:00 566\n", esc, html.EscapeString(f), esc, html.EscapeString(f))
			}
		}
		fmt.Fprint(w, "</pre><hr></body></html>\n")
		return
	}
	sig := strings.HasSuffix(file, ".sig")
	path, ok := a.files[name+"/"+strings.TrimSuffix(file, ".sig")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	if sig {
		if data, err := os.ReadFile(path + ".sig"); err == nil {
			w.Write(data)
			return
		}
		w.Write([]byte("not a real signature\n"))
		return
	}
	http.ServeFile(w, r, path)
}

// openDB opens libalpm as clp's Actor does.
func openDB(p *pacman.Paths) (DB, error) {
	h, err := alpm.OpenPaths(p)
	if err != nil {
		return nil, err
	}
	return h, nil
}

// open opens a root as clp would and makes a Downgrader on it.
func open(t *testing.T, r *sandbox.Root, servers ...string) *Downgrader {
	t.Helper()
	h, err := alpm.Open(pacman.Options{Root: r.Dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	cfg := config.Default()
	cfg.ArchiveServers = servers
	runner := &pacman.Runner{Paths: h.Paths, LockWait: 5 * time.Second, Stdout: &testWriter{t}, Stderr: &testWriter{t}}
	return New(h, h.Paths, runner, cfg, filepath.Join(r.Dir, "var/lib/clp"), nil)
}

type testWriter struct{ t *testing.T }

func (w *testWriter) Write(p []byte) (int, error) {
	w.t.Logf("%s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// transactions counts pacman's transactions in its log.
func transactions(t *testing.T, r *sandbox.Root) int {
	t.Helper()
	data, err := os.ReadFile(r.LogFile)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(data), "[ALPM] transaction started")
}

func query(t *testing.T, r *sandbox.Root) string {
	t.Helper()
	q, err := r.Query()
	if err != nil {
		t.Fatal(err)
	}
	return sandbox.Versions(q)
}

func emptyCache(t *testing.T, r *sandbox.Root) {
	t.Helper()
	ents, err := os.ReadDir(r.CacheDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if err := os.Remove(filepath.Join(r.CacheDir, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
}

func mustContain(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Fatalf("error %q does not contain %q", err, p)
		}
	}
}

var bg = context.Background()

const brokenAll = "clp-testconf 1.0-1\nnvidia-dkms 560.35.03-1\nnvidia-settings 560.35.03-1\nnvidia-utils 560.35.03-1"
const goodAll = "clp-testconf 1.0-1\nnvidia-dkms 550.78-1\nnvidia-settings 550.78-1\nnvidia-utils 550.78-1"

var fsxSHA = fsx.SHA256File
