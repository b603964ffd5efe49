package feed

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"
	"github.com/theupdateframework/go-tuf/v2/metadata/config"
	"github.com/theupdateframework/go-tuf/v2/metadata/updater"

	"github.com/vincentos/clp/internal/fsx"
	"github.com/vincentos/clp/internal/report"
)

// Where the client's files live on a system (join them onto the root with
// fsx.UnderRoot).
const (
	// DefaultMetadataDir is the TUF metadata cache. Losing it is safe: the
	// shipped root is trusted again and HighWater still remembers what was
	// applied.
	DefaultMetadataDir = "/var/lib/clp/feed"
	// ShippedRootPath is the initial root.json the clp package installs.
	ShippedRootPath = "/usr/share/clp/feed/root.json"
	// LocalRootPath overrides ShippedRootPath for a self-hosted feed.
	LocalRootPath = "/etc/clp/feed-root.json"
)

// Caps on what a mirror may send for each metadata file. The timestamp is
// tiny; the others grow with the number of patches but stay far below these.
const (
	maxRootBytes      = 512 << 10
	maxTimestampBytes = 16 << 10
	maxSnapshotBytes  = 2 << 20
	maxTargetsBytes   = 4 << 20
	// DefaultMaxTargetBytes caps one patch download when the caller sets
	// no MaxTargetBytes.
	DefaultMaxTargetBytes = 256 << 20
)

// Client reads the feed. It is not safe for concurrent use (neither is
// go-tuf's updater); the daily timer runs one at a time under clp's lock.
type Client struct {
	// Mirrors are the feed's base URLs (each serving metadata/ and
	// targets/), tried in order.
	Mirrors []string
	// MetadataDir caches trusted metadata, <root>/var/lib/clp/feed.
	MetadataDir string
	// Root is the system root MetadataDir and the download folder are
	// under ("" is /): clp's own reads and writes there are resolved
	// inside it (fsx's *Under helpers), and go-tuf, which takes a path,
	// is given the metadata folder as opened inside it (fsx.DirPathUnder).
	Root string
	// TrustedRoot is the initial root.json shipped with the package. A newer
	// root already in MetadataDir (reached by TUF root rotation) wins.
	TrustedRoot []byte
	// MaxTargetBytes caps one patch download (0: DefaultMaxTargetBytes).
	MaxTargetBytes int64
	// HTTP is the client for every request (nil: one with a 10-minute
	// timeout).
	HTTP *http.Client
	// Reporter hears about mirrors that failed and were skipped.
	Reporter report.Reporter
	// Now is the clock expiry is checked against (nil: time.Now). Tests
	// use it to look at the feed from the future.
	Now func() time.Time

	upd    *updater.Updater
	mirror string
	// release closes the metadata folder go-tuf works in.
	release func()
}

// Target is one patch in the feed, as the signed targets metadata lists it.
type Target struct {
	// Path is the target's name in the feed, the .clp file name.
	Path string
	TargetMeta
	// Length and SHA256 are what the download must match.
	Length int64
	SHA256 string
	// Minisig is the target path of the patch's detached minisign
	// signature, "" when the feed carries none.
	Minisig string

	info    *metadata.TargetFiles
	sigInfo *metadata.TargetFiles
}

// AppliesTo reports whether the patch is for machines of architecture arch
// (as uname -m or pacman's Architecture names it).
func (t Target) AppliesTo(arch string) bool {
	if len(t.Architectures) == 0 {
		return true
	}
	for _, a := range t.Architectures {
		if a == "any" || a == arch {
			return true
		}
	}
	return false
}

// Critical reports whether the patch's severity is "critical".
func (t Target) Critical() bool { return t.Severity == "critical" }

// MirrorFailure is one mirror's reason for failing a refresh.
type MirrorFailure struct {
	Mirror string
	Err    error
}

// RefreshError lists why each mirror failed. It unwraps to every reason, so
// errors.Is(err, ErrRollback) holds when any mirror served a rollback.
type RefreshError struct {
	Failures []MirrorFailure
}

func (e *RefreshError) Error() string {
	if len(e.Failures) == 1 {
		f := e.Failures[0]
		return fmt.Sprintf("feed: %v (mirror %s)", f.Err, f.Mirror)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "feed: all %d mirrors failed", len(e.Failures))
	for _, f := range e.Failures {
		fmt.Fprintf(&b, "; %s: %v", f.Mirror, f.Err)
	}
	return b.String()
}

func (e *RefreshError) Unwrap() []error {
	errs := make([]error, len(e.Failures))
	for i, f := range e.Failures {
		errs[i] = f.Err
	}
	return errs
}

func (c *Client) http() *http.Client { return httpClient(c.HTTP) }

func (c *Client) reporter() report.Reporter { return report.Or(c.Reporter) }

// Refresh runs the TUF client workflow (root rotation, timestamp, snapshot,
// targets, with every signature, version and expiry check) against each
// mirror in order until one passes. A mirror that is down or serves
// metadata clp refuses is reported and the next one tried; when all fail,
// the error lists every mirror's reason. What a refused mirror served is not
// trusted; what an earlier mirror proved (newer versions) stays trusted, so
// a later mirror cannot roll it back.
func (c *Client) Refresh(ctx context.Context) error {
	c.upd, c.mirror = nil, ""
	if c.release != nil {
		c.release()
		c.release = nil
	}
	if len(c.Mirrors) == 0 {
		return errors.New("feed: no feed mirrors configured (FeedMirror in clp.conf)")
	}
	if c.MetadataDir == "" {
		return errors.New("feed: no metadata directory set")
	}
	if err := fsx.MkdirAllUnder(c.Root, c.MetadataDir, 0o700); err != nil {
		return fmt.Errorf("feed: %w", err)
	}
	return c.failover(ctx, c.Mirrors, "feed mirror", "mirror", func(m string) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		upd, err := c.refreshFrom(ctx, m)
		if err == nil {
			c.upd, c.mirror = upd, m
		}
		return err
	})
}

// failover calls try with each of mirrors in order until one succeeds. A
// failure is reported, but for the last, as what ("feed mirror", "legacy
// server") failed and the next one tried; when all fail, the error lists
// each reason. A cancelled ctx ends it at once.
func (c *Client) failover(ctx context.Context, mirrors []string, what, next string, try func(m string) error) error {
	var failures []MirrorFailure
	for i, m := range mirrors {
		err := try(m)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("feed: %w", ctx.Err())
		}
		failures = append(failures, MirrorFailure{Mirror: m, Err: err})
		if i < len(mirrors)-1 {
			c.reporter().Warn(fmt.Sprintf("%s %s failed: %v; trying the next %s", what, m, err, next))
		}
	}
	return &RefreshError{Failures: failures}
}

func (c *Client) refreshFrom(ctx context.Context, mirror string) (*updater.Updater, error) {
	u, err := url.Parse(mirror)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("mirror %q is not an http(s) URL", mirror)
	}
	root, cached, err := c.startingRoot()
	if err != nil {
		return nil, err
	}
	c.dropUnreadableCache()
	base := strings.TrimRight(mirror, "/")
	cfg, err := config.New(base+"/metadata", root)
	if err != nil {
		return nil, err
	}
	f := &tufFetcher{ctx: ctx, hc: c.http()}
	cfg.Fetcher = f
	meta, release, err := fsx.DirPathUnder(c.Root, c.MetadataDir)
	if err != nil {
		return nil, fmt.Errorf("metadata cache: %w", err)
	}
	if c.release != nil {
		c.release()
	}
	c.release = release
	cfg.LocalMetadataDir = meta
	cfg.LocalTargetsDir = meta // unused: Download writes targets itself
	cfg.RemoteTargetsURL = base + "/targets"
	cfg.RootMaxLength = maxRootBytes
	cfg.TimestampMaxLength = maxTimestampBytes
	cfg.SnapshotMaxLength = maxSnapshotBytes
	cfg.TargetsMaxLength = maxTargetsBytes
	cfg.MaxRootRotations = 32
	upd, err := updater.New(cfg)
	if err != nil && cached {
		c.reporter().Warn(fmt.Sprintf("cached root.json in %s refused (%v); starting again from the shipped root", c.MetadataDir, err))
		cfg.LocalTrustedRoot = c.TrustedRoot
		upd, err = updater.New(cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("trusted root.json refused: %w", err)
	}
	if c.Now != nil {
		upd.UnsafeSetRefTime(c.Now())
	}
	if err := upd.Refresh(); err != nil {
		trusted := upd.GetTrustedMetadataSet()
		return nil, explain(err, f, &trusted)
	}
	return upd, nil
}

// startingRoot picks the root to start the update from: the shipped one, or
// the cached one when it is newer (a rotation was already followed). The
// cached one is only a starting point: go-tuf checks it is signed by its own
// keys (refreshFrom falls back to the shipped root if not), and everything
// after it must chain to it.
func (c *Client) startingRoot() (root []byte, cached bool, err error) {
	if len(c.TrustedRoot) == 0 {
		return nil, false, fmt.Errorf("no trusted root.json (the clp package ships it as %s)", ShippedRootPath)
	}
	shipped, err := metadata.Root().FromBytes(c.TrustedRoot)
	if err != nil {
		return nil, false, fmt.Errorf("trusted root.json is malformed: %w", err)
	}
	cachedPath := filepath.Join(c.MetadataDir, "root.json")
	data, err := fsx.ReadFileCappedUnder(c.Root, cachedPath, maxRootBytes)
	if err != nil {
		return c.TrustedRoot, false, nil
	}
	r, err := metadata.Root().FromBytes(data)
	if err != nil {
		c.reporter().Warn(fmt.Sprintf("cached %s is unreadable (%v); starting again from the shipped root", cachedPath, err))
		return c.TrustedRoot, false, nil
	}
	if r.Signed.Version > shipped.Signed.Version {
		return data, true, nil
	}
	return c.TrustedRoot, false, nil
}

// dropUnreadableCache removes cached metadata that is not even JSON (a torn
// write after a crash): go-tuf treats such a file as fatal forever, while
// refetching it is safe, because whatever replaces it is verified.
func (c *Client) dropUnreadableCache() {
	for _, name := range []string{"timestamp.json", "snapshot.json", "targets.json"} {
		p := filepath.Join(c.MetadataDir, name)
		data, err := fsx.ReadFileCappedUnder(c.Root, p, maxTargetsBytes)
		if err != nil {
			continue
		}
		if !json.Valid(data) {
			c.reporter().Warn(fmt.Sprintf("cached %s is unreadable; fetching it again", p))
			fsx.RemoveUnder(c.Root, p)
		}
	}
}

// Mirror is the mirror the last successful Refresh used.
func (c *Client) Mirror() string { return c.mirror }

// Targets returns every patch in the feed, sorted by sequence, refreshing
// first if needed. Targets without clp metadata (signatures) are folded into
// their patch; a patch whose clp metadata is unusable is reported and
// skipped. Two patches with one sequence number make the whole list an
// error: the high-water mark could not tell them apart.
func (c *Client) Targets(ctx context.Context) ([]Target, error) {
	if c.upd == nil {
		if err := c.Refresh(ctx); err != nil {
			return nil, err
		}
	}
	all := c.upd.GetTopLevelTargets()
	var out []Target
	for p, tf := range all {
		if strings.HasSuffix(p, ".minisig") {
			continue
		}
		m := clpMeta(tf)
		if m == nil || m.Sequence == 0 {
			c.reporter().Warn(fmt.Sprintf("feed target %s has no clp sequence number; skipping it", p))
			continue
		}
		if !targetName.MatchString(p) {
			c.reporter().Warn(fmt.Sprintf("feed target %q is not a plain .clp file name; skipping it", p))
			continue
		}
		sum := tf.Hashes["sha256"]
		if len(sum) == 0 {
			c.reporter().Warn(fmt.Sprintf("feed target %s has no sha256; skipping it", p))
			continue
		}
		// The reason and the description are printed on every machine's
		// terminal and journal: no escape sequences, whoever signed them.
		if m.Withdrawn != nil {
			w := *m.Withdrawn
			w.Reason = report.Printable(w.Reason)
			m.Withdrawn = &w
		}
		m.Description = report.Printable(m.Description)
		// Shown as lines under the patch: bounded, whoever signed them.
		if len(m.Changes) > maxChanges {
			m.Changes = append(m.Changes[:maxChanges:maxChanges], fmt.Sprintf("(%d more)", len(m.Changes)-maxChanges))
		}
		for i, c := range m.Changes {
			if r := []rune(c); len(r) > 200 {
				c = string(r[:199]) + "…"
			}
			m.Changes[i] = report.Printable(c)
		}
		t := Target{Path: p, TargetMeta: *m, Length: tf.Length, SHA256: hex.EncodeToString(sum), info: tf}
		if sig, ok := all[p+".minisig"]; ok {
			t.Minisig, t.sigInfo = p+".minisig", sig
		}
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Sequence < out[j].Sequence })
	for i := 1; i < len(out); i++ {
		if out[i].Sequence == out[i-1].Sequence {
			return nil, refuse(ErrTampered, nil, "feed: patches %s and %s share sequence number %d", out[i-1].Path, out[i].Path, out[i].Sequence)
		}
	}
	return out, nil
}

// Pending lists the patches whose sequence number is above applied's
// high-water mark, or that it holds (a phased rollout skipped them), in
// sequence order, refreshing first if needed. The mark
// is read from disk here, not passed in, so that no caller can forget it:
// a patch at or below it is never returned, even when a lost metadata cache
// or a replayed feed lists it again.
func (c *Client) Pending(ctx context.Context, applied HighWater) ([]Target, error) {
	mark, err := applied.Load()
	if err != nil {
		return nil, err
	}
	held, err := applied.Held()
	if err != nil {
		return nil, err
	}
	all, err := c.Targets(ctx)
	if err != nil {
		return nil, err
	}
	var out []Target
	for _, t := range all {
		if t.Sequence > mark || held[t.Sequence] {
			out = append(out, t)
		}
	}
	return out, nil
}

// Download fetches target t into dir (which must not be writable by group or
// others: the file is handed to the apply engine running as root) and
// returns its path. The body is capped at the signed length and checked
// against the signed sha256 before it is written, so a file at the returned
// path is always the one the feed's targets key signed. A patch's minisign
// signature, when the feed has one, is written beside it as path+".minisig".
// Mirrors are tried starting with the one Refresh used.
func (c *Client) Download(ctx context.Context, t Target, dir string) (string, error) {
	if c.upd == nil || t.info == nil {
		return "", errors.New("feed: download before refresh: call Pending first")
	}
	if !targetName.MatchString(t.Path) {
		return "", fmt.Errorf("feed: target %q is not a plain .clp file name", t.Path)
	}
	st, err := fsx.StatUnder(c.Root, dir)
	if err != nil {
		return "", fmt.Errorf("feed: download directory: %w", err)
	}
	if !st.IsDir() {
		return "", fmt.Errorf("feed: download directory %s is not a directory", dir)
	}
	if st.Mode().Perm()&0o022 != 0 {
		return "", fmt.Errorf("feed: download directory %s is writable by other users (mode %o)", dir, st.Mode().Perm())
	}
	max := c.MaxTargetBytes
	if max <= 0 {
		max = DefaultMaxTargetBytes
	}
	if t.info.Length > max {
		return "", refuse(ErrTooLarge, nil, "feed: patch %s is %d bytes, over the %d-byte download limit", t.Path, t.info.Length, max)
	}
	data, err := c.fetchTarget(ctx, t.Path, t.info)
	if err != nil {
		return "", err
	}
	var sig []byte
	if t.sigInfo != nil {
		if t.sigInfo.Length > 64<<10 {
			return "", refuse(ErrTooLarge, nil, "feed: signature %s is %d bytes, over the 65536-byte limit", t.Minisig, t.sigInfo.Length)
		}
		if sig, err = c.fetchTarget(ctx, t.Minisig, t.sigInfo); err != nil {
			return "", err
		}
	}
	dst := filepath.Join(dir, t.Path)
	if sig != nil {
		if err := fsx.WriteFileUnder(c.Root, dst+".minisig", sig, 0o600); err != nil {
			return "", fmt.Errorf("feed: %w", err)
		}
	} else if err := fsx.RemoveUnder(c.Root, dst+".minisig"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("feed: remove stale signature: %w", err)
	}
	if err := fsx.WriteFileUnder(c.Root, dst, data, 0o600); err != nil {
		return "", fmt.Errorf("feed: %w", err)
	}
	return dst, nil
}

// fetchTarget downloads one target from the mirrors, starting with the one
// that served the metadata, and verifies it. Any mirror will do: the bytes
// are checked against the signed length and hash, not trusted for where they
// came from.
func (c *Client) fetchTarget(ctx context.Context, name string, info *metadata.TargetFiles) ([]byte, error) {
	mirrors := []string{c.mirror}
	for _, m := range c.Mirrors {
		if m != c.mirror {
			mirrors = append(mirrors, m)
		}
	}
	remote := name
	if c.upd.GetTrustedMetadataSet().Root.Signed.ConsistentSnapshot {
		remote = hex.EncodeToString(info.Hashes["sha256"]) + "." + name
	}
	var got []byte
	err := c.failover(ctx, mirrors, "feed mirror", "mirror", func(m string) error {
		u := strings.TrimRight(m, "/") + "/targets/" + url.PathEscape(remote)
		c.reporter().Step(fmt.Sprintf("downloading %s", name))
		data, err := get(ctx, c.http(), u, info.Length)
		if err == nil {
			if verr := info.VerifyLengthHashes(data); verr != nil {
				err = refuse(ErrTampered, verr, "target hash mismatch for %s (tampered?): %d bytes from %s do not match the signed length and sha256", name, len(data), u)
			}
		}
		if err != nil {
			return explainHTTP(err)
		}
		c.reporter().Progress(name, int64(len(data)), info.Length)
		got = data
		return nil
	})
	return got, err
}

// maxChanges is how many of a target's change lines a client shows.
const maxChanges = 50
