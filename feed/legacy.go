package feed

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/vincentos/clp/internal/fsx"
)

// The original tool's feed, read only when clp.conf says AllowLegacyFeed.
// Nothing in it is signed: the list may be forged, so it only names
// candidates, and each patch must carry a minisign signature that the caller
// verifies against /etc/clp/keys before anything else looks at it.
const (
	// LegacyMirrorsPath is the original tool's mirror list.
	LegacyMirrorsPath = "/etc/CLP/mirrors"
	maxLegacyDBBytes  = 1 << 20
	maxMinisigBytes   = 16 << 10
	maxMirrorsBytes   = 1 << 20
)

// legacyName is what a CLP.db Name= may be: it becomes a file name here and
// a URL path on the server, so no slashes, no "..", nothing hidden.
var legacyName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]*$`)

// LegacyMirrors reads the original tool's mirror list (/etc/CLP/mirrors):
// "Server = <url>" lines, "#" comments. Unlike the original, every server is
// used, in order.
func LegacyMirrors(root, path string) ([]string, error) {
	data, err := fsx.ReadFileCappedUnder(root, path, maxMirrorsBytes)
	if err != nil {
		return nil, fmt.Errorf("feed: legacy mirrors: %w", err)
	}
	servers, err := ParseLegacyMirrors(data)
	if err != nil {
		return nil, fmt.Errorf("feed: %s: %w", path, err)
	}
	return servers, nil
}

// ParseLegacyMirrors parses the content of a mirrors file. Lines other than
// Server (the original ignored them too) are skipped; a Server line whose
// value is not an http(s) URL is an error, so a typo is not silently a
// missing mirror.
func ParseLegacyMirrors(data []byte) ([]string, error) {
	var servers []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		key, val, ok := strings.Cut(line, "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(key), "Server") {
			continue
		}
		val = strings.TrimSpace(val)
		u, err := url.Parse(val)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("line %d: Server %q is not an http(s) URL", n, val)
		}
		servers = append(servers, strings.TrimRight(val, "/"))
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(servers) == 0 {
		return nil, errors.New("no Server = lines")
	}
	return servers, nil
}

// ParseLegacyDB parses a CLP.db: "Name=<patch>" lines, in the server's order;
// other lines are ignored, as the original did. A name that is not a plain
// file name is an error (it would become a path on this machine).
func ParseLegacyDB(data []byte) ([]string, error) {
	var names []string
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(strings.TrimPrefix(sc.Text(), "\ufeff"))
		key, val, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(key) != "Name" {
			continue
		}
		val = strings.TrimSpace(val)
		if !legacyName.MatchString(val) || strings.Contains(val, "..") {
			return nil, fmt.Errorf("line %d: patch name %q is not a plain file name", n, val)
		}
		if !seen[val] {
			seen[val] = true
			names = append(names, val)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return names, nil
}

// LegacyDB is a CLP.db as read from one server.
type LegacyDB struct {
	// Server is the server it came from; fetch the patches from it.
	Server string
	// Names are the patches it lists, in its order.
	Names []string
}

// FetchLegacyDB reads <server>/CLP.db from each server in order until one
// answers with a list that parses (the original only ever tried the first).
// Each failure is reported; when all fail the error lists each reason.
func (c *Client) FetchLegacyDB(ctx context.Context, servers []string) (*LegacyDB, error) {
	if len(servers) == 0 {
		return nil, errors.New("feed: no legacy servers")
	}
	var db *LegacyDB
	err := c.failover(ctx, servers, "legacy server", "server", func(s string) error {
		u := strings.TrimRight(s, "/") + "/CLP.db"
		data, err := get(ctx, c.http(), u, maxLegacyDBBytes)
		if err != nil {
			return explainHTTP(err)
		}
		names, err := ParseLegacyDB(data)
		if err != nil {
			return explainHTTP(fmt.Errorf("%s: %w", u, err))
		}
		db = &LegacyDB{Server: strings.TrimRight(s, "/"), Names: names}
		return nil
	})
	return db, err
}

// FetchLegacyPatch downloads <server>/<name>.CLP and its minisign signature
// <server>/<name>.CLP.minisig into dir, returning both paths. A patch without
// a signature is refused here, before it is written: the legacy feed is
// unsigned, so the minisign signature is the only thing vouching for it.
// The caller must still verify the signature with trusted keys.
func (c *Client) FetchLegacyPatch(ctx context.Context, server, name, dir string) (patchPath, sigPath string, err error) {
	if !legacyName.MatchString(name) || strings.Contains(name, "..") {
		return "", "", fmt.Errorf("feed: legacy patch name %q is not a plain file name", name)
	}
	max := c.MaxTargetBytes
	if max <= 0 {
		max = DefaultMaxTargetBytes
	}
	base := strings.TrimRight(server, "/") + "/" + url.PathEscape(name) + ".CLP"
	sig, err := get(ctx, c.http(), base+".minisig", maxMinisigBytes)
	if isNotFound(err) {
		return "", "", fmt.Errorf("feed: legacy patch %s is unsigned (no %s.minisig); refusing it", name, base)
	}
	if err != nil {
		return "", "", fmt.Errorf("feed: legacy patch %s signature: %w", name, explainHTTP(err))
	}
	data, err := get(ctx, c.http(), base, max)
	if err != nil {
		return "", "", fmt.Errorf("feed: legacy patch %s: %w", name, explainHTTP(err))
	}
	patchPath = filepath.Join(dir, name+".CLP")
	sigPath = patchPath + ".minisig"
	if err := fsx.WriteFileUnder(c.Root, sigPath, sig, 0o600); err != nil {
		return "", "", fmt.Errorf("feed: %w", err)
	}
	if err := fsx.WriteFileUnder(c.Root, patchPath, data, 0o600); err != nil {
		fsx.RemoveUnder(c.Root, sigPath)
		return "", "", fmt.Errorf("feed: %w", err)
	}
	return patchPath, sigPath, nil
}

// explainHTTP words an HTTP status as the unreachable mirror it is.
func explainHTTP(err error) error {
	var he *metadata.ErrDownloadHTTP
	if errors.As(err, &he) {
		return &UnreachableError{URL: he.URL, Err: fmt.Errorf("HTTP status %d", he.StatusCode)}
	}
	return err
}
