package feed

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseLegacyMirrors(t *testing.T) {
	got, err := ParseLegacyMirrors([]byte(`# CLP mirrors
Server = https://clp.example.org/repo/
  Server=http://backup.example.net   # the fallback the original never tried

Include = /etc/whatever
server = https://third.example.com
`))
	if err != nil {
		t.Fatal(err)
	}
	want := "https://clp.example.org/repo,http://backup.example.net,https://third.example.com"
	if strings.Join(got, ",") != want {
		t.Fatalf("got %v", got)
	}
	for in, msg := range map[string]string{
		"# nothing\n":              "no Server = lines",
		"Server = ftp://x.org/\n":  `line 1: Server "ftp://x.org/" is not an http(s) URL`,
		"\nServer = not a url\n":   `line 2: Server "not a url" is not an http(s) URL`,
		"Server = file:///etc/\n":  "is not an http(s) URL",
		"Server = https:///nohost": "is not an http(s) URL",
	} {
		_, err := ParseLegacyMirrors([]byte(in))
		mustContain(t, err, msg)
	}

	p := filepath.Join(t.TempDir(), "mirrors")
	os.WriteFile(p, []byte("Server = http://a.example\n"), 0o644)
	if got, err := LegacyMirrors("/", p); err != nil || len(got) != 1 {
		t.Fatalf("%v %v", got, err)
	}
	os.WriteFile(p, []byte("# empty\n"), 0o644)
	_, err = LegacyMirrors("/", p)
	mustContain(t, err, "feed: "+p+": no Server = lines")
	_, err = LegacyMirrors("/", filepath.Join(t.TempDir(), "none"))
	mustContain(t, err, "feed: legacy mirrors: open ")
}

func TestParseLegacyDB(t *testing.T) {
	got, err := ParseLegacyDB([]byte("\ufeffName=CLPR240612\r\nVersion=1\n\nName = CLPR240701\nName=CLPR240612\n# comment\n"))
	if err != nil || strings.Join(got, ",") != "CLPR240612,CLPR240701" {
		t.Fatalf("%v %v", got, err)
	}
	for _, bad := range []string{"Name=../../etc/passwd", "Name=a/b", "Name=.hidden", "Name=", "Name=a b", "Name=a..b", `Name=a\b`} {
		_, err := ParseLegacyDB([]byte("Name=ok\n" + bad + "\n"))
		mustContain(t, err, "line 2: patch name ", "is not a plain file name")
	}
}

// legacyServer serves files from a map, 404 for anything else.
func legacyServer(t *testing.T, files map[string][]byte) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(data)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestFetchLegacyDBFallback(t *testing.T) {
	ctx := context.Background()
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	empty := legacyServer(t, nil) // 404 for CLP.db
	bad := legacyServer(t, map[string][]byte{"/CLP.db": []byte("Name=../evil\n")})
	good := legacyServer(t, map[string][]byte{"/CLP.db": []byte("Name=CLPR240612\nName=CLPR240701\n")})
	huge := httptest.NewServer(http.HandlerFunc(endless))
	defer huge.Close()

	rec := &recorder{}
	c := &Client{Reporter: rec}
	db, err := c.FetchLegacyDB(ctx, []string{down.URL, empty.URL, bad.URL, huge.URL, good.URL + "/"})
	if err != nil {
		t.Fatal(err)
	}
	if db.Server != good.URL || strings.Join(db.Names, ",") != "CLPR240612,CLPR240701" {
		t.Fatalf("%+v", db)
	}
	w := rec.warnings()
	for _, want := range []string{
		"legacy server " + down.URL + " failed: cannot fetch " + down.URL + "/CLP.db",
		"legacy server " + empty.URL + " failed: cannot fetch " + empty.URL + "/CLP.db: HTTP status 404",
		"legacy server " + bad.URL + " failed: " + bad.URL + `/CLP.db: line 1: patch name "../evil" is not a plain file name`,
		"legacy server " + huge.URL + " failed: response exceeds 1048576 bytes (endless data?)",
	} {
		if !strings.Contains(w, want) {
			t.Fatalf("warnings %q lack %q", w, want)
		}
	}

	_, err = c.FetchLegacyDB(ctx, []string{down.URL, empty.URL})
	mustContain(t, err, "feed: all 2 mirrors failed; "+down.URL+": cannot fetch", empty.URL+": cannot fetch "+empty.URL+"/CLP.db: HTTP status 404")
	if !errors.Is(err, ErrUnreachable) {
		t.Fatal(err)
	}
	_, err = c.FetchLegacyDB(ctx, nil)
	mustContain(t, err, "feed: no legacy servers")
}

func TestFetchLegacyPatch(t *testing.T) {
	if _, err := exec.LookPath("minisign"); err != nil {
		t.Skip("minisign binary not installed")
	}
	ctx := context.Background()
	keys := t.TempDir()
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("minisign", args...).CombinedOutput(); err != nil {
			t.Fatalf("minisign %v: %v\n%s", args, err, out)
		}
	}
	run("-G", "-W", "-p", filepath.Join(keys, "k.pub"), "-s", filepath.Join(keys, "k.sec"))
	patch := []byte("legacy patch payload")
	pf := filepath.Join(keys, "CLPR240612.CLP")
	os.WriteFile(pf, patch, 0o644)
	run("-S", "-s", filepath.Join(keys, "k.sec"), "-m", pf, "-x", pf+".minisig")
	sig, _ := os.ReadFile(pf + ".minisig")

	srv := legacyServer(t, map[string][]byte{
		"/CLPR240612.CLP":         patch,
		"/CLPR240612.CLP.minisig": sig,
		"/UNSIGNED.CLP":           []byte("no signature here"),
		"/HUGE.CLP.minisig":       sig,
	})
	huge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, ".minisig") {
			w.Write(sig)
			return
		}
		endless(w, r)
	}))
	defer huge.Close()

	c := &Client{MaxTargetBytes: 1 << 20}
	dir := t.TempDir()
	p, s, err := c.FetchLegacyPatch(ctx, srv.URL, "CLPR240612", dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(p); !bytes.Equal(got, patch) || s != p+".minisig" {
		t.Fatalf("patch %s sig %s", p, s)
	}
	// What was fetched verifies with the real minisign against the key.
	run("-V", "-p", filepath.Join(keys, "k.pub"), "-m", p, "-x", s)

	// Refusals write nothing.
	empty := t.TempDir()
	_, _, err = c.FetchLegacyPatch(ctx, srv.URL, "UNSIGNED", empty)
	mustContain(t, err, "feed: legacy patch UNSIGNED is unsigned (no "+srv.URL+"/UNSIGNED.CLP.minisig); refusing it")
	_, _, err = c.FetchLegacyPatch(ctx, huge.URL, "HUGE", empty)
	mustContain(t, err, "feed: legacy patch HUGE: response exceeds 1048576 bytes (endless data?)")
	_, _, err = c.FetchLegacyPatch(ctx, srv.URL, "../etc/passwd", empty)
	mustContain(t, err, `feed: legacy patch name "../etc/passwd" is not a plain file name`)
	_, _, err = c.FetchLegacyPatch(ctx, srv.URL, "MISSING", empty)
	mustContain(t, err, "is unsigned")
	if got := dirEntries(t, empty); len(got) != 0 {
		t.Fatalf("refused fetches left %v", got)
	}
}

func FuzzParseLegacyDB(f *testing.F) {
	f.Add([]byte("Name=CLPR240612\nName=x\n"))
	f.Add([]byte("Name=../x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		names, err := ParseLegacyDB(data)
		if err != nil {
			return
		}
		for _, n := range names {
			if filepath.Base(n) != n || strings.Contains(n, "..") || strings.HasPrefix(n, ".") {
				t.Fatalf("unsafe name %q accepted", n)
			}
		}
	})
}

func FuzzParseLegacyMirrors(f *testing.F) {
	f.Add([]byte("Server = https://a.example/x\n# c\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		servers, err := ParseLegacyMirrors(data)
		if err != nil {
			return
		}
		for _, s := range servers {
			if !strings.HasPrefix(s, "http://") && !strings.HasPrefix(s, "https://") {
				t.Fatalf("non-http server %q accepted", s)
			}
		}
	})
}
