package cache

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vincentos/clp/testkit/sandbox"
)

func TestPackageURL(t *testing.T) {
	u, err := PackageURL("https://archive.archlinux.org/", "libc++", "libc++-1:18.1.3-1-x86_64.pkg.tar.zst")
	must(t, err)
	if want := "https://archive.archlinux.org/packages/l/libc%2B%2B/libc%2B%2B-1%3A18.1.3-1-x86_64.pkg.tar.zst"; u != want {
		t.Errorf("PackageURL = %s, want %s", u, want)
	}
	for _, c := range []struct{ server, name, why string }{
		{"ftp://x", "foo", "not an http(s) URL"},
		{"archive.archlinux.org", "foo", "not an http(s) URL"},
		{"https://a", "../etc", "starts with"},
		{"https://a", "a/b", "invalid character"},
		{"https://a", "", "empty package name"},
	} {
		if _, err := PackageURL(c.server, c.name, "x"); err == nil || !strings.Contains(err.Error(), c.why) {
			t.Errorf("PackageURL(%q, %q) = %v, want %q", c.server, c.name, err, c.why)
		}
	}
}

func TestListArchive(t *testing.T) {
	a := newALA(t)
	for _, v := range []string{sandbox.Good, sandbox.Broken} {
		a.add(t, fixture(t, "nvidia-utils", v), "nvidia-utils-"+v+"-x86_64.pkg.tar.zst", v == sandbox.Good)
	}
	dir := t.TempDir()
	buildPkg(t, dir+"/e.pkg", "nvidia-utils", "1:1.0+x-1", "x86_64", "zst")
	a.add(t, dir+"/e.pkg", "nvidia-utils-1:1.0+x-1-x86_64.pkg.tar.zst", true)
	// Litter that must not be mistaken for a version.
	copyFile(t, dir+"/e.pkg", a.root+"/packages/n/nvidia-utils/nvidia-utils-beta-2.0-1-x86_64.pkg.tar.zst")
	copyFile(t, dir+"/e.pkg", a.root+"/packages/n/nvidia-utils/nvidia-utils-2.0-x-x86_64.pkg.tar.zst")

	rec := &recorder{}
	c := &Client{Reporter: rec}
	es, err := c.ListArchive(context.Background(), a.URL, "nvidia-utils")
	must(t, err)
	if got := versions(es); !slices.Equal(got, []string{"1:1.0+x-1", sandbox.Broken, sandbox.Good}) {
		t.Fatalf("versions = %v", got)
	}
	if es[0].URL != a.URL+"/packages/n/nvidia-utils/nvidia-utils-1%3A1.0%2Bx-1-x86_64.pkg.tar.zst" || es[0].File != "nvidia-utils-1:1.0+x-1-x86_64.pkg.tar.zst" {
		t.Errorf("epoch entry = %+v", es[0])
	}
	if !es[0].Sig || es[1].Sig || !es[2].Sig || es[1].Server != a.URL || es[1].Dir != "" {
		t.Errorf("entries = %+v", es)
	}
	if w := rec.Warnings(); !strings.Contains(w, "a nvidia-utils-beta package in the nvidia-utils directory") || !strings.Contains(w, `pkgrel "x" is not a number`) {
		t.Errorf("warnings = %q", w)
	}
	if got := a.requests(); !slices.Contains(got, "GET /packages/n/nvidia-utils/") {
		t.Errorf("requests = %v", got)
	}

	// An existing but empty directory is a real "no versions here".
	must(t, mkdirAll(a.root+"/packages/e/empty"))
	es, err = ListArchive(context.Background(), a.URL, "empty")
	if err != nil || len(es) != 0 {
		t.Errorf("empty directory = %v, %v", es, err)
	}
}

func mkdirAll(p string) error { return os.MkdirAll(p, 0o755) }

// TestListArchiveGoFileServer reads the listing Go's own http.FileServer
// writes (no parent link, differently escaped), a server an admin might
// run as a private archive.
func TestListArchiveGoFileServer(t *testing.T) {
	a := newALA(t)
	a.add(t, fixture(t, "nvidia-settings", sandbox.Good), "nvidia-settings-"+sandbox.Good+"-x86_64.pkg.tar.zst", true)
	fs := httptest.NewServer(http.FileServer(http.Dir(a.root)))
	defer fs.Close()
	es, err := ListArchive(context.Background(), fs.URL, "nvidia-settings")
	must(t, err)
	if len(es) != 1 || es[0].Version != sandbox.Good || !es[0].Sig {
		t.Errorf("entries = %+v", es)
	}
}

func TestListArchiveFailuresAreErrors(t *testing.T) {
	refused := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		must(t, err)
		addr := l.Addr().String()
		l.Close()
		return "http://" + addr
	}()
	stall := make(chan struct{})
	defer close(stall)
	cases := []struct {
		name    string
		handler http.HandlerFunc
		server  string
		why     string
		is      error
	}{
		{name: "server error", handler: func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) }, why: "HTTP 500 Internal Server Error"},
		{name: "not found", handler: http.NotFound, why: "HTTP 404 Not Found: not found on archive server", is: ErrNotInArchive},
		{name: "garbage", handler: func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "<html><body>maintenance</body></html>") }, why: "not a directory listing (no links)"},
		{name: "captive portal", handler: func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, `<html><a href="https://login.example/">log in</a><a href="/help">help</a></html>`)
		}, why: "not a directory listing (2 links, no parent directory and no nvidia-utils package)"},
		{name: "too big", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", fmt.Sprint(maxListingBytes+1))
			w.Write(make([]byte, 1024))
		}, why: "more than 8388608"},
		{name: "stalled", handler: func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-stall:
			case <-r.Context().Done():
			}
		}, why: "no data from"},
		{name: "connection refused", server: refused, why: "connection refused"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			server := c.server
			if c.handler != nil {
				s := httptest.NewServer(c.handler)
				defer s.Close()
				server = s.URL
			}
			// Only the stalled server should hit the idle limit: on a
			// loaded CI machine 50 ms is too short for a real answer.
			idle := 10 * time.Second
			if c.name == "stalled" {
				idle = 300 * time.Millisecond
			}
			cl := &Client{IdleTimeout: idle}
			es, err := cl.ListArchive(context.Background(), server, "nvidia-utils")
			if err == nil || es != nil {
				t.Fatalf("got %v, %v; want an error", es, err)
			}
			if !strings.Contains(err.Error(), c.why) || !strings.HasPrefix(err.Error(), "archive listing "+server+"/packages/n/nvidia-utils/: ") {
				t.Errorf("error %q, want it to name the listing and say %q", err, c.why)
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("error %v is not %v", err, c.is)
			}
		})
	}
}

func TestListArchiveCancelled(t *testing.T) {
	started := make(chan struct{})
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-r.Context().Done()
	}))
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-started; cancel() }()
	_, err := ListArchive(ctx, s.URL, "nvidia-utils")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestListArchivesFallsBack(t *testing.T) {
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", 503) }))
	defer bad.Close()
	a := newALA(t)
	a.add(t, fixture(t, "nvidia-utils", sandbox.Good), "nvidia-utils-"+sandbox.Good+"-x86_64.pkg.tar.zst", true)
	rec := &recorder{}
	c := &Client{Reporter: rec}
	es, err := c.ListArchives(context.Background(), []string{bad.URL, a.URL}, "nvidia-utils")
	must(t, err)
	if len(es) != 1 || es[0].Server != a.URL {
		t.Errorf("entries = %+v", es)
	}
	if w := rec.Warnings(); !strings.Contains(w, bad.URL) || !strings.Contains(w, "503") || !strings.Contains(w, "trying the next archive server") {
		t.Errorf("warnings = %q", w)
	}
	// All failing: an error naming every server.
	_, err = c.ListArchives(context.Background(), []string{bad.URL, bad.URL + "/x"}, "nvidia-utils")
	if err == nil || !strings.Contains(err.Error(), "every archive server failed") || !strings.Contains(err.Error(), bad.URL+"/x/packages") {
		t.Errorf("all failing = %v", err)
	}
	if _, err := c.ListArchives(context.Background(), nil, "nvidia-utils"); err == nil || !strings.Contains(err.Error(), "no archive server configured") {
		t.Errorf("no servers = %v", err)
	}
}

func FuzzParseListing(f *testing.F) {
	f.Add([]byte(`<a href="../">../</a><a href="foo-1.0-1-any.pkg.tar.zst">x</a><a href="foo-1.0-1-any.pkg.tar.zst.sig">`))
	f.Add([]byte(`<A HREF='/packages/f/foo/foo-1%3A2-1-any.pkg.tar.xz'>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		es, _, err := parseListing("http://h/packages/f/foo/", body, "foo")
		if err != nil {
			return
		}
		for _, e := range es {
			if e.Name != "foo" || !strings.HasPrefix(e.URL, "http://h/packages/f/foo/") {
				t.Errorf("listing gave %+v", e)
			}
		}
	})
}

// Every server answering 404 means the archive has no such package
// (ErrPackageNotInArchive); one 404 beside a 503 is still a failure.
func TestListArchivesNotFoundIsNotAFailure(t *testing.T) {
	nf := httptest.NewServer(http.NotFoundHandler())
	defer nf.Close()
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", 503) }))
	defer bad.Close()
	c := &Client{}
	es, err := c.ListArchives(context.Background(), []string{nf.URL, nf.URL + "/mirror"}, "my-aur-pkg")
	if !errors.Is(err, ErrPackageNotInArchive) || len(es) != 0 {
		t.Errorf("every server 404: %v, %v; want ErrPackageNotInArchive", es, err)
	}
	_, err = c.ListArchives(context.Background(), []string{nf.URL, bad.URL}, "my-aur-pkg")
	if err == nil || errors.Is(err, ErrPackageNotInArchive) || !strings.Contains(err.Error(), "503") {
		t.Errorf("404 and 503: %v; want a failure naming the 503", err)
	}
}

// A listing with markup a regular expression gets wrong: a commented-out
// link, a link inside a script string, a data-href attribute, unquoted and
// upper-case attributes, entities in the href, attributes across lines;
// and the date and size columns of nginx and of Apache's table.
func TestParseListingOddMarkup(t *testing.T) {
	body := []byte(`<!DOCTYPE html><HTML><head><title>Index of /packages/f/foo/</title>
<script>var s = '<a href="foo-9.0-1-any.pkg.tar.zst">';</script></head><body>
<!-- <a href="foo-8.0-1-any.pkg.tar.zst">old</a> -->
<pre><A HREF=../>../</A>
<a data-href="foo-7.0-1-any.pkg.tar.zst" href="foo-1.0-1-any.pkg.tar.zst">foo-1.0-1-any.pkg.tar.zst</a>                 02-Dec-2026 01:00              12345
<a
   title='x'
   href='foo-1.0-1-any.pkg.tar.zst.sig'>foo-1.0-1-any.pkg.tar.zst.sig</a>             02-Dec-2026 01:00                 566
<a href="foo-1%3A2.0-1-any.pkg.tar.xz?x=1&amp;y=2">sorted</a>
</pre><table>
<tr><td><img src="/icons/p.gif" alt="[   ]"></td><td><a href="foo-1%3a2.0-1-any.pkg.tar.xz">foo-1:2.0-1-any.pkg.tar.xz</a></td><td align="right">2025-03-04 05:06  </td><td align="right">1.5M</td><td>&nbsp;</td></tr>
<tr><td><a href="foo-3.0-1-any.pkg.tar.zst">foo-3.0-1-any.pkg.tar.zst</a><td>-</td></tr>
</table></body></HTML>`)
	es, skipped, err := parseListing("http://h/packages/f/foo/", body, "foo")
	must(t, err)
	if len(skipped) != 0 {
		t.Errorf("skipped = %+v", skipped)
	}
	got := map[string]Entry{}
	var vs []string
	for _, e := range es {
		got[e.Version] = e
		vs = append(vs, e.Version)
	}
	if strings.Join(vs, " ") != "1:2.0-1 3.0-1 1.0-1" {
		t.Fatalf("versions = %v, want 1:2.0-1 3.0-1 1.0-1 (nothing from the comment, the script or data-href)", vs)
	}
	one := got["1.0-1"]
	if !one.Sig || one.Size != 12345 || !one.Date.Equal(time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)) {
		t.Errorf("nginx row: sig %v size %d date %v", one.Sig, one.Size, one.Date)
	}
	ep := got["1:2.0-1"]
	if ep.Size != 1.5*(1<<20) || !ep.Date.Equal(time.Date(2025, 3, 4, 5, 6, 0, 0, time.UTC)) || ep.URL != "http://h/packages/f/foo/foo-1%3A2.0-1-any.pkg.tar.xz" {
		t.Errorf("Apache row: %+v", ep)
	}
	if three := got["3.0-1"]; three.Size != 0 || !three.Date.IsZero() {
		t.Errorf("a row without columns: size %d date %v, want unknown", three.Size, three.Date)
	}
}
