package cache

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A server that fails twice (a 503, then a connection reset mid-body)
// and then answers: the listing and the download succeed, the package
// resumes from the bytes that arrived, and each retry is reported.
func TestDownloadRetriesTransientFailures(t *testing.T) {
	a, e, data := served(t, true)
	var listFails, pkgTries atomic.Int32
	listFails.Store(2)
	a.wrap = func(w http.ResponseWriter, r *http.Request) bool {
		switch {
		case strings.HasSuffix(r.URL.Path, "/") && listFails.Load() > 0:
			listFails.Add(-1)
			http.Error(w, "upstream down", http.StatusBadGateway)
			return true
		case strings.HasSuffix(r.URL.Path, ".zst"):
			switch pkgTries.Add(1) {
			case 1:
				http.Error(w, "busy", http.StatusServiceUnavailable)
				return true
			case 2:
				// Half the body, then the connection is cut.
				w.Header().Set("Content-Length", itoa(len(data)))
				w.WriteHeader(http.StatusOK)
				w.Write(data[:len(data)/2])
				w.(http.Flusher).Flush()
				conn, _, err := http.NewResponseController(w).Hijack()
				if err == nil {
					conn.Close()
				}
				return true
			}
		}
		return false
	}
	rec := &recorder{}
	c := &Client{Reporter: rec, Retry: RetryPolicy{Initial: time.Millisecond}}
	es, err := c.ListArchive(context.Background(), a.URL, "nvidia-utils")
	must(t, err)
	if len(es) != 1 {
		t.Fatalf("listing after two 502s: %+v", es)
	}
	_, staging := stagingDir(t)
	p, err := c.Download(context.Background(), e, staging, DownloadOptions{MaxBytes: testCap, SHA256: sum(data)})
	must(t, err)
	checkFile(t, p, data)
	if n := pkgTries.Load(); n != 3 {
		t.Errorf("package requests = %d, want 3 (503, cut, resumed)", n)
	}
	resumed := false
	for _, r := range a.requests() {
		if strings.HasSuffix(r, "bytes="+itoa(len(data)/2)+"-") {
			resumed = true
		}
	}
	if !resumed {
		t.Errorf("the third try did not resume from byte %d: %v", len(data)/2, a.requests())
	}
	w := rec.Warnings()
	for _, s := range []string{"502", "503", "trying again in"} {
		if !strings.Contains(w, s) {
			t.Errorf("warnings lack %q:\n%s", s, w)
		}
	}
}

// A 404 is an answer, not a failure to retry; a server that keeps failing
// gives up after MaxTries.
func TestRetryGivesUp(t *testing.T) {
	a, _, _ := served(t, true)
	var tries atomic.Int32
	a.wrap = func(w http.ResponseWriter, r *http.Request) bool {
		tries.Add(1)
		if strings.Contains(r.URL.Path, "/missing/") {
			http.NotFound(w, r)
		} else {
			http.Error(w, "down", http.StatusInternalServerError)
		}
		return true
	}
	c := &Client{Retry: RetryPolicy{MaxTries: 3, Initial: time.Millisecond}}
	_, err := c.ListArchive(context.Background(), a.URL, "missing")
	if !errors.Is(err, ErrNotInArchive) || tries.Load() != 1 {
		t.Errorf("404: %v after %d requests, want ErrNotInArchive after 1", err, tries.Load())
	}
	tries.Store(0)
	_, err = c.ListArchive(context.Background(), a.URL, "nvidia-utils")
	var se *HTTPStatusError
	if !errors.As(err, &se) || se.Code != 500 || tries.Load() != 3 {
		t.Errorf("500s: %v after %d requests, want HTTP 500 after 3", err, tries.Load())
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
