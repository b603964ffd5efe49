package feed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// defaultHTTPTimeout bounds one request when the caller gives no client: a
// mirror that trickles bytes must not hold the daily timer forever.
const defaultHTTPTimeout = 10 * time.Minute

func httpClient(hc *http.Client) *http.Client {
	if hc != nil {
		return hc
	}
	return &http.Client{Timeout: defaultHTTPTimeout}
}

// get fetches url and returns its body, refusing more than max bytes whatever
// the server announces. Memory and time stay bounded by max: the body is read
// through a LimitReader of max+1 bytes, so an endless response stops there.
// A non-200 status is a *metadata.ErrDownloadHTTP because go-tuf's root
// update loop reads a 404 as "no newer root".
func get(ctx context.Context, hc *http.Client, url string, max int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("bad URL %q: %w", url, err)
	}
	req.Header.Set("User-Agent", "clp-feed")
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &UnreachableError{URL: url, Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// A short error page is read to its end so that the connection
		// is kept for the next request: every update asks for the next
		// root.json first, which is a 404 but for a rotation, and a new
		// connection (a TLS handshake on https) would follow it.
		io.Copy(io.Discard, io.LimitReader(resp.Body, errorBodyMax))
		return nil, &metadata.ErrDownloadHTTP{StatusCode: resp.StatusCode, URL: url}
	}
	if cl := resp.Header.Get("Content-Length"); cl != "" {
		if n, err := strconv.ParseInt(cl, 10, 64); err == nil && n > max {
			return nil, &TooLargeError{URL: url, Limit: max}
		}
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if int64(len(data)) > max {
		return nil, &TooLargeError{URL: url, Limit: max}
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &UnreachableError{URL: url, Err: err}
	}
	return data, nil
}

// errorBodyMax is how much of an error response get reads (and drops) to
// keep its connection.
const errorBodyMax = 4 << 10

// tufFetcher is the go-tuf Fetcher clp uses: the capped get above, bound to
// the caller's context, remembering the last URL and body so that a refusal
// can be explained with the versions and dates actually served.
type tufFetcher struct {
	ctx      context.Context
	hc       *http.Client
	lastURL  string
	lastData []byte
	requests int
}

func (f *tufFetcher) DownloadFile(url string, maxLength int64, _ time.Duration) ([]byte, error) {
	f.lastURL, f.lastData = url, nil
	f.requests++
	data, err := get(f.ctx, f.hc, url, maxLength)
	if err != nil {
		return nil, err
	}
	f.lastData = data
	return data, nil
}

// isNotFound reports whether err is an HTTP 404.
func isNotFound(err error) bool {
	var he *metadata.ErrDownloadHTTP
	return errors.As(err, &he) && he.StatusCode == http.StatusNotFound
}
