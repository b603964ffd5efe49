package feed

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"testing"
)

// BenchmarkRefreshPendingNothingNew is `clp update --check` with nothing new:
// a new Client (a new process each day) over a warm metadata cache, against
// the loopback server. Compare it with BenchmarkPlainGetTimestamp, one plain
// HTTP GET of timestamp.json from the same server (what curl would do): the
// ratio is the cost of the TUF checks.
func BenchmarkRefreshPendingNothingNew(b *testing.B) {
	f := newTestFeed(b)
	for _, n := range []string{"a.clp", "b.clp", "c.clp"} {
		f.add(b, n, TargetMeta{}, false)
	}
	hw := HighWater{Path: filepath.Join(b.TempDir(), "hw")}
	if err := hw.Mark(3); err != nil {
		b.Fatal(err)
	}
	warm := f.client(b)
	ctx := context.Background()
	if _, err := warm.Pending(ctx, hw); err != nil {
		b.Fatal(err)
	}
	hc := &http.Client{}
	b.ResetTimer()
	for b.Loop() {
		c := &Client{Mirrors: warm.Mirrors, MetadataDir: warm.MetadataDir, TrustedRoot: warm.TrustedRoot, HTTP: hc}
		pending, err := c.Pending(ctx, hw)
		if err != nil || len(pending) != 0 {
			b.Fatalf("pending %v, %v", pending, err)
		}
	}
}

// BenchmarkPlainGetTimestamp is the baseline: one GET of timestamp.json.
func BenchmarkPlainGetTimestamp(b *testing.B) {
	f := newTestFeed(b)
	url := f.srv.URL + "/metadata/timestamp.json"
	hc := &http.Client{}
	for b.Loop() {
		resp, err := hc.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
	}
}
