package feed

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
)

// An update asks for the next root.json (a 404 without a rotation), then
// the timestamp, snapshot and targets: all on one connection, the 404's
// included (on https each new connection is a TLS handshake).
func TestRefreshKeepsOneConnection(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "feed")
	if err := Init(dir, InitOptions{}); err != nil {
		t.Fatal(err)
	}
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.FileServer(http.Dir(filepath.Join(dir, "repository"))))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	root, err := os.ReadFile(filepath.Join(metadataDir(dir), "1.root.json"))
	if err != nil {
		t.Fatal(err)
	}
	c := &Client{
		Mirrors:     []string{srv.URL},
		MetadataDir: filepath.Join(t.TempDir(), "var/lib/clp/feed"),
		TrustedRoot: root,
		Reporter:    &recorder{},
		HTTP:        &http.Client{Transport: &http.Transport{}},
	}
	if err := c.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("%d connections for one refresh, want 1", n)
	}
}
