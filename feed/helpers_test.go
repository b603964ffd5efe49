package feed

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// testFeed is a feed made by the real publisher, served by a real HTTP server
// on 127.0.0.1, with per-path overrides so a test can play a hostile mirror.
type testFeed struct {
	dir string
	srv *httptest.Server

	mu       sync.Mutex
	override map[string]http.HandlerFunc
	hits     map[string]int
}

func newTestFeed(t testing.TB) *testFeed {
	t.Helper()
	f := &testFeed{dir: filepath.Join(t.TempDir(), "feed"), override: map[string]http.HandlerFunc{}, hits: map[string]int{}}
	if err := Init(f.dir, InitOptions{}); err != nil {
		t.Fatal(err)
	}
	files := http.FileServer(http.Dir(filepath.Join(f.dir, "repository")))
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		h := f.override[r.URL.Path]
		f.hits[r.URL.Path]++
		f.mu.Unlock()
		if h != nil {
			h(w, r)
			return
		}
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// serve makes the mirror answer path with body instead of the real file.
func (f *testFeed) serve(path string, body []byte) {
	f.handle(path, func(w http.ResponseWriter, r *http.Request) { w.Write(body) })
}

func (f *testFeed) handle(path string, h http.HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.override[path] = h
}

func (f *testFeed) hitCount(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits[path]
}

// add writes a patch file with random content and publishes it.
func (f *testFeed) add(t testing.TB, name string, meta TargetMeta, withSig bool) []byte {
	t.Helper()
	data := make([]byte, 4096)
	rand.Read(data)
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if withSig {
		if err := os.WriteFile(p+".minisig", []byte("untrusted comment: test\nsig-of-"+name+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := Add(f.dir, p, meta); err != nil {
		t.Fatal(err)
	}
	return data
}

func (f *testFeed) metaFile(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(metadataDir(f.dir), name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func (f *testFeed) root(t testing.TB) []byte { return f.metaFile(t, "1.root.json") }

// client returns a client of this feed with its own empty metadata cache.
func (f *testFeed) client(t testing.TB) *Client {
	return &Client{
		Mirrors:     []string{f.srv.URL},
		MetadataDir: filepath.Join(t.TempDir(), "var/lib/clp/feed"),
		TrustedRoot: f.root(t),
		Reporter:    &recorder{},
	}
}

// version reads the version of a role's current unversioned metadata.
func (f *testFeed) targetsVersion(t testing.TB) int64 {
	m, err := metadata.Targets().FromBytes(f.metaFile(t, "targets.json"))
	if err != nil {
		t.Fatal(err)
	}
	return m.Signed.Version
}

func (f *testFeed) snapshotVersion(t testing.TB) int64 {
	m, err := metadata.Snapshot().FromBytes(f.metaFile(t, "snapshot.json"))
	if err != nil {
		t.Fatal(err)
	}
	return m.Signed.Version
}

// recorder is a report.Reporter that keeps what it was told.
type recorder struct {
	mu    sync.Mutex
	warns []string
	steps []string
}

func (r *recorder) Step(m string)                 { r.mu.Lock(); r.steps = append(r.steps, m); r.mu.Unlock() }
func (r *recorder) Warn(m string)                 { r.mu.Lock(); r.warns = append(r.warns, m); r.mu.Unlock() }
func (r *recorder) Progress(string, int64, int64) {}

func (r *recorder) warnings() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.warns, "\n")
}

func mustContain(t testing.TB, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one containing %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Fatalf("error %q does not contain %q", err, w)
		}
	}
}

func dirEntries(t testing.TB, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func seqs(ts []Target) string {
	var b bytes.Buffer
	for i, t := range ts {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%d:%s", t.Sequence, t.Path)
	}
	return b.String()
}

// endless streams bytes with no Content-Length until the client hangs up.
func endless(w http.ResponseWriter, r *http.Request) {
	chunk := bytes.Repeat([]byte("A"), 32<<10)
	fl, _ := w.(http.Flusher)
	for r.Context().Err() == nil {
		if _, err := w.Write(chunk); err != nil {
			return
		}
		if fl != nil {
			fl.Flush()
		}
	}
}

// targets reads the publisher's current targets.json.
func (f *testFeed) targets(t testing.TB) map[string]*metadata.TargetFiles {
	t.Helper()
	tm, err := metadata.Targets().FromFile(filepath.Join(metadataDir(f.dir), "targets.json"))
	if err != nil {
		t.Fatal(err)
	}
	return tm.Signed.Targets
}
