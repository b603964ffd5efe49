package cache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/html"

	"github.com/vincentos/clp/internal/report"
)

// ErrNotInArchive is wrapped by errors for a package or file the archive
// server answers 404 for. It is still an error: "not there" and "no older
// versions" must never be confused.
var ErrNotInArchive = errors.New("not found on archive server")

// ErrPackageNotInArchive is what ListArchives wraps when every server
// answered 404 for the package's directory: the archive has no such
// package (an AUR or custom package), which is not the same as a server
// that could not be asked.
var ErrPackageNotInArchive = errors.New("no archive server has this package (HTTP 404)")

// Client talks to Arch-Linux-Archive-style servers. The zero value is
// ready to use.
type Client struct {
	// HTTP is the client to use; nil means one with dial, TLS and header
	// timeouts (no overall timeout: packages can be large).
	HTTP *http.Client
	// Reporter receives progress and warnings (a failing mirror, a
	// missing signature); nil discards them.
	Reporter report.Reporter
	// IdleTimeout aborts a request that receives nothing for this long,
	// from connecting to the last byte; 0 means one minute.
	IdleTimeout time.Duration
	// Retry says how transient failures are tried again.
	Retry RetryPolicy
}

// DefaultClient is used by the package-level functions.
var DefaultClient = &Client{}

const (
	maxListingBytes = 8 << 20
	maxSigBytes     = 16 << 10
)

var defaultHTTP = &http.Client{Transport: &http.Transport{
	Proxy:                 http.ProxyFromEnvironment,
	DialContext:           (&net.Dialer{Timeout: 30 * time.Second}).DialContext,
	TLSHandshakeTimeout:   30 * time.Second,
	ResponseHeaderTimeout: 60 * time.Second,
	MaxIdleConnsPerHost:   4,
}}

func (c *Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return defaultHTTP
}

func (c *Client) rep() report.Reporter { return report.Or(c.Reporter) }

func (c *Client) idle() time.Duration {
	if c.IdleTimeout > 0 {
		return c.IdleTimeout
	}
	return time.Minute
}

// ListArchive lists the versions of name on one archive server, newest
// first, using DefaultClient.
func ListArchive(ctx context.Context, server, name string) ([]Entry, error) {
	return DefaultClient.ListArchive(ctx, server, name)
}

// escapeSegment percent-encodes everything but RFC 3986 unreserved
// characters: the archive wants ':' as %3A and '+' as %2B, which
// url.PathEscape leaves alone.
func escapeSegment(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isAlnum(c) || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// PackageDirURL is the archive directory of a package:
// SERVER/packages/<first letter>/<name>/.
func PackageDirURL(server, name string) (string, error) {
	if err := checkName(name); err != nil {
		return "", err
	}
	u, err := url.Parse(server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("archive server %q is not an http(s) URL", server)
	}
	return strings.TrimRight(server, "/") + "/packages/" + escapeSegment(name[:1]) + "/" + escapeSegment(name) + "/", nil
}

// PackageURL is the archive URL of one package file.
func PackageURL(server, name, file string) (string, error) {
	dir, err := PackageDirURL(server, name)
	if err != nil {
		return "", err
	}
	return dir + escapeSegment(file), nil
}

// ListArchive fetches the package's directory listing from server and
// returns the package files in it, newest first. Any failure (connection,
// HTTP status, timeout, a body that is not a directory listing) is an
// error, never an empty list: a tool that took a failed listing for "no
// older versions" once reinstalled the broken version.
func (c *Client) ListArchive(ctx context.Context, server, name string) ([]Entry, error) {
	dir, err := PackageDirURL(server, name)
	if err != nil {
		return nil, err
	}
	var body []byte
	err = c.retry(ctx, func() (err error) {
		body, err = c.get(ctx, dir, maxListingBytes)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("archive listing %s: %w", dir, err)
	}
	entries, skipped, err := parseListing(dir, body, name)
	if err != nil {
		return nil, fmt.Errorf("archive listing %s: %w", dir, err)
	}
	for _, s := range skipped {
		c.rep().Warn(fmt.Sprintf("skipping %s: %s", s.File, s.Reason))
	}
	for i := range entries {
		entries[i].Server = server
	}
	return entries, nil
}

// ListArchives asks each server in turn and returns the first listing
// that succeeds; a server that fails is reported and the next one tried.
// It fails only when every server failed, with each server's error.
func (c *Client) ListArchives(ctx context.Context, servers []string, name string) ([]Entry, error) {
	if len(servers) == 0 {
		return nil, fmt.Errorf("list %s: no archive server configured", name)
	}
	var errs []error
	notFound := 0
	for i, s := range servers {
		es, err := c.ListArchive(ctx, s, name)
		if err == nil {
			return es, nil
		}
		if ctx.Err() != nil {
			return nil, err
		}
		errs = append(errs, err)
		if errors.Is(err, ErrNotInArchive) {
			notFound++
		}
		if i < len(servers)-1 {
			c.rep().Warn(err.Error() + "; trying the next archive server")
		}
	}
	if notFound == len(servers) {
		return nil, fmt.Errorf("list %s: %w", name, ErrPackageNotInArchive)
	}
	return nil, fmt.Errorf("list %s: every archive server failed: %w", name, errors.Join(errs...))
}

// link is one <a href> of a listing and the text that follows it up to
// the next link (where nginx and Apache put the date and size columns).
type link struct {
	href  string
	after strings.Builder
}

// listingLinks reads every <a href> of an HTML document with a real HTML
// tokenizer: attribute quoting, case, entities, comments and stray markup
// are the parser's business, not a regular expression's.
func listingLinks(body []byte) []*link {
	var (
		out []*link
		cur *link
	)
	z := html.NewTokenizer(bytes.NewReader(body))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return out
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			if string(name) != "a" {
				if cur != nil {
					cur.after.WriteByte(' ') // <td> boundaries separate columns
				}
				continue
			}
			cur = nil
			for hasAttr {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				if string(k) == "href" {
					cur = &link{href: string(v)}
					out = append(out, cur)
					break
				}
			}
		case html.EndTagToken:
			if name, _ := z.TagName(); string(name) == "a" && cur != nil {
				cur.after.Reset() // the link's own text is not a column
			} else if cur != nil {
				cur.after.WriteByte(' ')
			}
		case html.TextToken:
			if cur != nil {
				cur.after.Write(z.Text())
			}
		}
	}
}

// listingDateLayouts are the date columns of nginx's autoindex
// ("02-Dec-2026 01:00"), Apache's ("2026-12-02 01:00") and lighttpd's
// ("2026-Dec-02 01:00:00").
var listingDateLayouts = []string{"02-Jan-2006 15:04", "2006-01-02 15:04", "2006-01-02 15:04:05", "2006-Jan-02 15:04:05", "02-Jan-2006 15:04:05"}

// parseColumns reads the date and size a listing prints after a link;
// what it cannot read stays zero (unknown).
func parseColumns(text string) (time.Time, int64) {
	f := strings.Fields(text)
	var date time.Time
	var size int64
	for i := 0; i+1 < len(f); i++ {
		for _, l := range listingDateLayouts {
			if t, err := time.Parse(l, f[i]+" "+f[i+1]); err == nil {
				date = t
				break
			}
		}
		if !date.IsZero() {
			f = f[i+2:]
			break
		}
	}
	if date.IsZero() {
		return date, 0
	}
	if len(f) > 0 {
		size = parseSize(f[0])
	}
	return date, size
}

// parseSize reads "12345", "1.2K", "3.4M", "1G" (Apache's human sizes);
// "-" or anything else is 0, unknown.
func parseSize(s string) int64 {
	mult := 1.0
	switch {
	case strings.HasSuffix(s, "K"):
		mult = 1 << 10
	case strings.HasSuffix(s, "M"):
		mult = 1 << 20
	case strings.HasSuffix(s, "G"):
		mult = 1 << 30
	}
	if mult != 1 {
		s = s[:len(s)-1]
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || n < 0 {
		return 0
	}
	return int64(n * mult)
}

// parseListing reads an HTML directory listing (nginx, Apache, lighttpd
// and Python's http.server all write <a href="FILE">), with the date and
// size columns when the server prints them. A body with neither a parent
// link nor a package file is not a listing (an error page, a captive
// portal) and is an error.
func parseListing(dirURL string, body []byte, name string) ([]Entry, []Skip, error) {
	base, err := url.Parse(dirURL)
	if err != nil {
		return nil, nil, err
	}
	var (
		files   []string
		cols    = map[string]string{}
		sigs    = map[string]bool{}
		parent  bool
		links   int
		entries []Entry
		skipped []Skip
		seen    = map[string]bool{}
	)
	for _, l := range listingLinks(body) {
		href := l.href
		links++
		ref, err := url.Parse(strings.TrimSpace(href))
		if err != nil || ref.RawQuery != "" || ref.Fragment != "" && ref.Path == "" {
			continue // sort links ("?C=N;O=D"), anchors, junk
		}
		u := base.ResolveReference(ref)
		if u.Host != base.Host || u.Scheme != base.Scheme {
			continue
		}
		if strings.HasPrefix(base.Path, u.Path) && len(u.Path) < len(base.Path) {
			parent = true // "../" or an absolute link upwards
			continue
		}
		dir, file := path.Split(u.Path)
		if dir != base.Path || file == "" {
			continue // a subdirectory or elsewhere
		}
		if seen[file] {
			continue
		}
		seen[file] = true
		if strings.HasSuffix(file, ".sig") {
			sigs[strings.TrimSuffix(file, ".sig")] = true
			continue
		}
		files = append(files, file)
		cols[file] = l.after.String()
	}
	for _, file := range files {
		e, err := ParseFileName(file)
		if err != nil {
			if strings.Contains(file, pkgTar) {
				skipped = append(skipped, Skip{File: dirURL + escapeSegment(file), Reason: err.Error()})
			}
			continue
		}
		if e.Name != name {
			skipped = append(skipped, Skip{File: dirURL + escapeSegment(file), Reason: fmt.Sprintf("a %s package in the %s directory", e.Name, name)})
			continue
		}
		e.URL = dirURL + escapeSegment(file)
		e.Sig = sigs[file]
		e.Date, e.Size = parseColumns(cols[file])
		entries = append(entries, e)
	}
	if !parent && len(entries) == 0 {
		if links == 0 {
			return nil, nil, fmt.Errorf("response is not a directory listing (no links)")
		}
		return nil, nil, fmt.Errorf("response is not a directory listing (%d links, no parent directory and no %s package)", links, name)
	}
	SortNewestFirst(entries)
	return entries, skipped, nil
}

// idleReader cancels its request when no byte arrives for d: a server that
// accepts the connection and then stalls must not hang clp forever.
type idleReader struct {
	ctx   context.Context
	r     io.Reader
	timer *time.Timer
	d     time.Duration
}

func (ir *idleReader) Read(p []byte) (int, error) {
	n, err := ir.r.Read(p)
	if n > 0 {
		ir.timer.Reset(ir.d)
	}
	if err != nil && err != io.EOF {
		err = causeOf(ir.ctx, err)
	}
	return n, err
}

type idleError struct {
	url string
	d   time.Duration
}

func (e *idleError) Error() string { return fmt.Sprintf("no data from %s for %s", e.url, e.d) }

// request starts a GET with the idle timeout armed. The caller must call
// done when finished with the response.
func (c *Client) request(ctx context.Context, u string, hdr http.Header) (resp *http.Response, body io.Reader, done func(), err error) {
	rctx, cancel := context.WithCancelCause(ctx)
	d := c.idle()
	timer := time.AfterFunc(d, func() { cancel(&idleError{u, d}) })
	stop := func() {
		timer.Stop()
		cancel(nil)
	}
	done = stop
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, u, nil)
	if err != nil {
		done()
		return nil, nil, nil, err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	req.Header.Set("User-Agent", "clp (Vincent OS)")
	resp, err = c.http().Do(req)
	if err != nil {
		err = causeOf(rctx, err)
		done()
		return nil, nil, nil, err
	}
	body = &idleReader{ctx: rctx, r: resp.Body, timer: timer, d: d}
	return resp, body, func() { resp.Body.Close(); stop() }, nil
}

// causeOf replaces a bare "context canceled" by why it was cancelled.
func causeOf(ctx context.Context, err error) error {
	var ie *idleError
	if cause := context.Cause(ctx); cause != nil && errors.As(cause, &ie) {
		return cause
	}
	return err
}

func statusError(resp *http.Response) error {
	return &HTTPStatusError{Code: resp.StatusCode, Status: resp.Status}
}

// get fetches a small document whole, refusing more than max bytes.
func (c *Client) get(ctx context.Context, u string, max int64) ([]byte, error) {
	resp, body, done, err := c.request(ctx, u, nil)
	if err != nil {
		return nil, err
	}
	defer done()
	if resp.StatusCode != http.StatusOK {
		return nil, statusError(resp)
	}
	if resp.ContentLength > max {
		return nil, fmt.Errorf("response is %d bytes, more than %d", resp.ContentLength, max)
	}
	data, err := io.ReadAll(io.LimitReader(body, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("response is more than %d bytes", max)
	}
	return data, nil
}
