package cache

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vincentos/clp/testkit/sandbox"
)

const testCap = 1 << 20

// served puts the good nvidia-utils on a fresh archive server and returns
// the server, its archive entry and the package bytes.
func served(t *testing.T, sig bool) (*ala, Entry, []byte) {
	t.Helper()
	a := newALA(t)
	file := "nvidia-utils-" + sandbox.Good + "-x86_64.pkg.tar.zst"
	src := a.add(t, fixture(t, "nvidia-utils", sandbox.Good), file, sig)
	data, err := os.ReadFile(src)
	must(t, err)
	es, err := ListArchive(context.Background(), a.URL, "nvidia-utils")
	must(t, err)
	return a, es[0], data
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// stagingDir is where clp stages downloads, inside a test root.
func stagingDir(t *testing.T) (root, dir string) {
	root = t.TempDir()
	return root, filepath.Join(root, "var/lib/clp/staging")
}

func checkFile(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: %d bytes, not the %d served", path, len(got), len(want))
	}
}

func TestDownload(t *testing.T) {
	a, e, data := served(t, true)
	_, staging := stagingDir(t)
	rec := &recorder{}
	c := &Client{Reporter: rec}
	p, err := c.Download(context.Background(), e, staging, DownloadOptions{MaxBytes: testCap, SHA256: sum(data), RequireSig: true})
	must(t, err)
	if p != filepath.Join(staging, e.File) {
		t.Errorf("path = %s", p)
	}
	checkFile(t, p, data)
	checkFile(t, p+".sig", []byte("signature of "+e.File))
	fi, err := os.Stat(staging)
	must(t, err)
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("staging mode = %v, want 0700", fi.Mode().Perm())
	}
	if got := rec.last[e.File]; got != [2]int64{int64(len(data)), int64(len(data))} {
		t.Errorf("last progress = %v, want %d of %d", got, len(data), len(data))
	}
	if _, err := os.Stat(p + ".part"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf(".part left behind: %v", err)
	}
	// The downloaded file is a package pacman reads.
	if info := pacmanInfo(t, p)[0]; info["Version"] != sandbox.Good {
		t.Errorf("pacman reads version %q", info["Version"])
	}
	// With the pinned hash matching, a second call needs no network.
	n := len(a.requests())
	if _, err := c.Download(context.Background(), e, staging, DownloadOptions{MaxBytes: testCap, SHA256: strings.ToUpper(sum(data))}); err != nil {
		t.Fatal(err)
	}
	if len(a.requests()) != n {
		t.Errorf("a complete pinned file was fetched again: %v", a.requests()[n:])
	}
}

func TestDownloadEpochURL(t *testing.T) {
	a := newALA(t)
	dir := t.TempDir()
	file := "libc++-1:2.0+x-1-any.pkg.tar.zst"
	buildPkg(t, filepath.Join(dir, "p"), "libc++", "1:2.0+x-1", "any", "zst")
	a.add(t, filepath.Join(dir, "p"), file, true)
	_, staging := stagingDir(t)
	// The entry comes from a patch (no URL); the servers come from clp.conf.
	p, err := Download(context.Background(), Entry{Name: "libc++", File: file}, staging, DownloadOptions{Servers: []string{a.URL + "/"}, MaxBytes: testCap})
	must(t, err)
	if filepath.Base(p) != file {
		t.Errorf("path = %s", p)
	}
	if got := a.requests(); !slices.Contains(got, "GET /packages/l/libc%2B%2B/libc%2B%2B-1%3A2.0%2Bx-1-any.pkg.tar.zst") {
		t.Errorf("requests = %v, want %%3A and %%2B escapes", got)
	}
}

func TestDownloadResumes(t *testing.T) {
	a, e, data := served(t, true)
	_, staging := stagingDir(t)
	must(t, os.MkdirAll(staging, 0o700))
	half := len(data) / 2
	must(t, os.WriteFile(filepath.Join(staging, e.File+".part"), data[:half], 0o600))
	p, err := Download(context.Background(), e, staging, DownloadOptions{MaxBytes: testCap, SHA256: sum(data)})
	must(t, err)
	checkFile(t, p, data)
	if want := fmt.Sprintf("GET %s bytes=%d-", strings.TrimPrefix(e.URL, a.URL), half); !slices.Contains(a.requests(), want) {
		t.Errorf("requests = %v, want %q", a.requests(), want)
	}
}

func TestDownloadRestartsWhenRangeIsIgnoredOrUnsatisfiable(t *testing.T) {
	for _, status := range []int{http.StatusOK, http.StatusRequestedRangeNotSatisfiable} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			a, e, data := served(t, true)
			a.wrap = func(w http.ResponseWriter, r *http.Request) bool {
				if r.Header.Get("Range") == "" {
					return false
				}
				if status == http.StatusOK {
					w.Write(data) // a server that does not do ranges
				} else {
					w.Header().Set("Content-Range", fmt.Sprintf("bytes */%d", len(data)))
					w.WriteHeader(status)
				}
				return true
			}
			_, staging := stagingDir(t)
			must(t, os.MkdirAll(staging, 0o700))
			// A stale partial file that is not a prefix of the package.
			must(t, os.WriteFile(filepath.Join(staging, e.File+".part"), bytes.Repeat([]byte("x"), len(data)+7), 0o600))
			p, err := Download(context.Background(), e, staging, DownloadOptions{MaxBytes: testCap})
			must(t, err)
			checkFile(t, p, data)
		})
	}
}

func TestDownloadSizeCap(t *testing.T) {
	t.Run("content-length", func(t *testing.T) {
		a, e, data := served(t, true)
		root, staging := stagingDir(t)
		must(t, os.MkdirAll(staging, 0o700))
		before := sandbox.MustTree(t, root)
		_, err := Download(context.Background(), e, staging, DownloadOptions{MaxBytes: int64(len(data) - 1)})
		want := fmt.Sprintf("%s is %d bytes, over the download cap of %d bytes (MaxDownloadSize in clp.conf)", e.URL, len(data), len(data)-1)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("err = %v, want %q", err, want)
		}
		sandbox.AssertUnchanged(t, root, before)
		_ = a
	})
	t.Run("endless body", func(t *testing.T) {
		a, e, _ := served(t, true)
		a.wrap = func(w http.ResponseWriter, r *http.Request) bool {
			if strings.HasSuffix(r.URL.Path, ".sig") {
				return false
			}
			// No Content-Length: chunked, and it never ends.
			chunk := bytes.Repeat([]byte("z"), 32<<10)
			for r.Context().Err() == nil {
				if _, err := w.Write(chunk); err != nil {
					break
				}
				w.(http.Flusher).Flush()
			}
			return true
		}
		root, staging := stagingDir(t)
		must(t, os.MkdirAll(staging, 0o700))
		before := sandbox.MustTree(t, root)
		_, err := Download(context.Background(), e, staging, DownloadOptions{MaxBytes: testCap})
		if err == nil || !strings.Contains(err.Error(), "sent more than the download cap of 1048576 bytes") {
			t.Fatalf("err = %v", err)
		}
		sandbox.AssertUnchanged(t, root, before)
	})
	t.Run("no cap given", func(t *testing.T) {
		_, e, _ := served(t, true)
		root, staging := stagingDir(t)
		_, err := Download(context.Background(), e, staging, DownloadOptions{})
		if err == nil || !strings.Contains(err.Error(), "no download size cap given") {
			t.Fatalf("err = %v", err)
		}
		if ents, _ := os.ReadDir(root); len(ents) != 0 {
			t.Errorf("root changed: %v", ents)
		}
	})
}

func TestDownloadSHA256Mismatch(t *testing.T) {
	_, e, data := served(t, true)
	root, staging := stagingDir(t)
	must(t, os.MkdirAll(staging, 0o700))
	before := sandbox.MustTree(t, root)
	wrong := strings.Repeat("ab", 32)
	_, err := Download(context.Background(), e, staging, DownloadOptions{MaxBytes: testCap, SHA256: wrong})
	want := fmt.Sprintf("sha256 mismatch for %s from %s: expected %s, got %s (file deleted)", e.File, e.URL, wrong, sum(data))
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v\nwant %q", err, want)
	}
	sandbox.AssertUnchanged(t, root, before)

	if _, err := Download(context.Background(), e, staging, DownloadOptions{MaxBytes: testCap, SHA256: "abc"}); err == nil || !strings.Contains(err.Error(), `pinned sha256 "abc" is not 64 hex digits`) {
		t.Errorf("bad pin = %v", err)
	}
	sandbox.AssertUnchanged(t, root, before)
}

func TestDownloadSignature(t *testing.T) {
	t.Run("missing is reported", func(t *testing.T) {
		_, e, data := served(t, false)
		_, staging := stagingDir(t)
		rec := &recorder{}
		p, err := (&Client{Reporter: rec}).Download(context.Background(), e, staging, DownloadOptions{MaxBytes: testCap})
		must(t, err)
		checkFile(t, p, data)
		if _, err := os.Stat(p + ".sig"); !errors.Is(err, os.ErrNotExist) {
			t.Errorf(".sig exists: %v", err)
		}
		if w := rec.Warnings(); !strings.Contains(w, "no signature for "+e.File+" from "+e.URL) || !strings.Contains(w, "404") {
			t.Errorf("warnings = %q", w)
		}
	})
	t.Run("missing is an error when required", func(t *testing.T) {
		_, e, _ := served(t, false)
		root, staging := stagingDir(t)
		must(t, os.MkdirAll(staging, 0o700))
		before := sandbox.MustTree(t, root)
		_, err := Download(context.Background(), e, staging, DownloadOptions{MaxBytes: testCap, RequireSig: true})
		if err == nil || !strings.Contains(err.Error(), "signature "+e.URL+".sig: HTTP 404 Not Found") {
			t.Fatalf("err = %v", err)
		}
		sandbox.AssertUnchanged(t, root, before)
	})
}

func TestDownloadMirrorFallback(t *testing.T) {
	a, e, data := served(t, true)
	broken := newALA(t)
	broken.wrap = func(w http.ResponseWriter, r *http.Request) bool { http.Error(w, "bad gateway", 502); return true }
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	refused := "http://" + l.Addr().String()
	l.Close()
	_, staging := stagingDir(t)
	rec := &recorder{}
	p, err := (&Client{Reporter: rec}).Download(context.Background(), e, staging, DownloadOptions{Servers: []string{refused, broken.URL, a.URL}, MaxBytes: testCap, SHA256: sum(data), RequireSig: true})
	must(t, err)
	checkFile(t, p, data)
	w := rec.Warnings()
	for _, s := range []string{refused, "connection refused", broken.URL, "502", "trying the next archive server"} {
		if !strings.Contains(w, s) {
			t.Errorf("warnings %q do not mention %q", w, s)
		}
	}
	// Every server failing: one error naming each.
	_, err = Download(context.Background(), e, t.TempDir()+"/s", DownloadOptions{Servers: []string{refused, broken.URL}, MaxBytes: testCap})
	if err == nil || !strings.Contains(err.Error(), "every archive server failed") || !strings.Contains(err.Error(), refused) || !strings.Contains(err.Error(), broken.URL) {
		t.Errorf("all failing = %v", err)
	}
	if _, err := Download(context.Background(), Entry{File: e.File}, staging, DownloadOptions{MaxBytes: testCap}); err == nil || !strings.Contains(err.Error(), "no archive server") {
		t.Errorf("no server = %v", err)
	}
}

// TestDownloadCancelThenResume cancels a download halfway, as Ctrl-C does,
// and checks that the partial file is kept and finished by the next call.
func TestDownloadCancelThenResume(t *testing.T) {
	a, e, data := served(t, true)
	half := len(data) / 2
	release := make(chan struct{})
	a.wrap = func(w http.ResponseWriter, r *http.Request) bool {
		if strings.HasSuffix(r.URL.Path, ".sig") || r.Header.Get("Range") != "" {
			return false
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(data)))
		w.Write(data[:half])
		w.(http.Flusher).Flush()
		select { // stall until the client gives up
		case <-r.Context().Done():
		case <-release:
		}
		return true
	}
	defer close(release)
	_, staging := stagingDir(t)
	ctx, cancel := context.WithCancel(context.Background())
	rec := &recorder{onProg: func(_ string, done, _ int64) {
		if done >= int64(half) {
			cancel()
		}
	}}
	_, err := (&Client{Reporter: rec}).Download(ctx, e, staging, DownloadOptions{Servers: []string{a.URL, a.URL}, MaxBytes: testCap})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if strings.Contains(rec.Warnings(), "trying the next") {
		t.Errorf("a cancelled download tried another server: %q", rec.Warnings())
	}
	part := filepath.Join(staging, e.File+".part")
	checkFile(t, part, data[:half])
	if _, err := os.Stat(filepath.Join(staging, e.File)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("incomplete download in place: %v", err)
	}
	p, err := Download(context.Background(), e, staging, DownloadOptions{MaxBytes: testCap, SHA256: sum(data)})
	must(t, err)
	checkFile(t, p, data)
}

func TestDownloadStalledServer(t *testing.T) {
	a, e, data := served(t, true)
	a.wrap = func(w http.ResponseWriter, r *http.Request) bool {
		if strings.HasSuffix(r.URL.Path, ".sig") {
			return false
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(data)))
		w.Write(data[:10])
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		return true
	}
	_, staging := stagingDir(t)
	_, err := (&Client{IdleTimeout: 500 * time.Millisecond}).Download(context.Background(), e, staging, DownloadOptions{MaxBytes: testCap})
	if err == nil || !strings.Contains(err.Error(), "no data from "+e.URL+" for 500ms") {
		t.Fatalf("err = %v", err)
	}
	checkFile(t, filepath.Join(staging, e.File+".part"), data[:10])
}

func TestDownloadRefusesUnsafeStaging(t *testing.T) {
	_, e, _ := served(t, true)
	base := t.TempDir()
	shared := filepath.Join(base, "shared")
	must(t, os.Mkdir(shared, 0o777))
	must(t, os.Chmod(shared, 0o777))
	other := filepath.Join(base, "other")
	must(t, os.Mkdir(other, 0o700))
	notDir := filepath.Join(base, "file")
	must(t, os.WriteFile(notDir, nil, 0o600))
	link := filepath.Join(base, "link")
	must(t, os.Symlink(other, link))
	openParent := filepath.Join(base, "open")
	must(t, os.Mkdir(openParent, 0o700))
	must(t, os.Mkdir(filepath.Join(openParent, "staging"), 0o700))
	must(t, os.Chmod(openParent, 0o777))
	cases := []struct{ dir, why string }{
		{"var/lib/clp/staging", "must be a clean absolute path"},
		{base + "/a/../b", "must be a clean absolute path"},
		{shared, "is writable by other users (mode 0777)"},
		{"/tmp", "is writable by other users"},
		{notDir, "is not a directory"},
		{link, "is not a directory"},
		{filepath.Join(openParent, "staging"), "ancestor " + openParent + " is writable by other users"},
	}
	if os.Geteuid() == 0 {
		must(t, os.Chown(other, 65534, 65534))
		cases = append(cases, struct{ dir, why string }{other, "is not owned by uid 0"})
	}
	for _, c := range cases {
		before := sandbox.MustTree(t, base)
		_, err := Download(context.Background(), e, c.dir, DownloadOptions{MaxBytes: testCap})
		if err == nil || !strings.Contains(err.Error(), c.why) {
			t.Errorf("staging %s: err = %v, want %q", c.dir, err, c.why)
		}
		sandbox.AssertUnchanged(t, base, before)
	}
	if _, err := Download(context.Background(), Entry{Name: "nvidia-dkms", File: e.File}, base, DownloadOptions{MaxBytes: testCap}); err == nil || !strings.Contains(err.Error(), "file is not a package of nvidia-dkms") {
		t.Errorf("name mismatch = %v", err)
	}
	if _, err := Download(context.Background(), Entry{File: "../../etc/passwd"}, base, DownloadOptions{MaxBytes: testCap}); err == nil || !strings.Contains(err.Error(), "not a plain file name") {
		t.Errorf("traversal file name = %v", err)
	}
}

func TestParseContentRange(t *testing.T) {
	for _, c := range []struct {
		in               string
		start, end, size int64
		ok               bool
	}{
		{"bytes 10-19/20", 10, 19, 20, true},
		{"bytes 0-0/*", 0, 0, -1, true},
		{"bytes 10-19/15", 0, 0, 0, false},
		{"bytes 19-10/20", 0, 0, 0, false},
		{"bytes */20", 0, 0, 0, false},
		{"items 1-2/3", 0, 0, 0, false},
		{"bytes 1-x/3", 0, 0, 0, false},
	} {
		s, e, z, ok := parseContentRange(c.in)
		if ok != c.ok || ok && (s != c.start || e != c.end || z != c.size) {
			t.Errorf("parseContentRange(%q) = %d %d %d %v", c.in, s, e, z, ok)
		}
	}
}
