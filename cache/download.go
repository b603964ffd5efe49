package cache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/vincentos/clp/internal/fsx"
)

// DownloadOptions says where to fetch a package from and what to demand
// of it.
type DownloadOptions struct {
	// Servers are archive servers tried in order; empty means the entry's
	// own URL alone.
	Servers []string
	// MaxBytes caps the package file (clp.conf MaxDownloadSize); a file
	// announced bigger is refused before a byte is read, and a body that
	// runs past it is cut off and deleted. Required.
	MaxBytes int64
	// SHA256, when set, is the hex sha256 the file must have (a patch pins
	// it). A file that does not match is deleted.
	SHA256 string
	// RequireSig makes a missing detached signature an error for that
	// server (the next one is tried); otherwise it is only reported.
	RequireSig bool
	// Root is the system root the staging folder is under ("/" or empty:
	// the running system). Under a mounted root every file operation in
	// the staging folder is anchored to it (fsx's *Under helpers): a
	// folder on the way swapped for a link out of the root makes the
	// download fail instead of writing outside.
	Root string
}

// Download fetches an archive entry with DefaultClient.
func Download(ctx context.Context, e Entry, stagingDir string, opts DownloadOptions) (string, error) {
	return DefaultClient.Download(ctx, e, stagingDir, opts)
}

// Download fetches e's package file and its .sig into stagingDir and
// returns the package's path. The file is written as FILE.part and renamed
// into place only once complete, capped and checked, so a FILE in the
// staging dir is always whole; an interrupted download leaves the .part,
// and the next call resumes it with a Range request.
//
// stagingDir must be root's (clp's own) and writable by nobody else, with
// no ancestor another user could swap: pacman -U later installs whatever
// file sits there, so a shared directory such as /tmp would let any local
// user substitute a package. It is created 0700 if missing.
func (c *Client) Download(ctx context.Context, e Entry, stagingDir string, opts DownloadOptions) (string, error) {
	pe, err := ParseFileName(e.File)
	if err != nil {
		return "", fmt.Errorf("download: %w", err)
	}
	if e.Name == "" {
		e.Name = pe.Name
	}
	if e.Name != pe.Name {
		return "", fmt.Errorf("download %s: file is not a package of %s", e.File, e.Name)
	}
	if opts.MaxBytes <= 0 {
		return "", fmt.Errorf("download %s: no download size cap given", e.File)
	}
	want := strings.ToLower(opts.SHA256)
	if want != "" {
		if b, err := hex.DecodeString(want); err != nil || len(b) != sha256.Size {
			return "", fmt.Errorf("download %s: pinned sha256 %q is not 64 hex digits", e.File, opts.SHA256)
		}
	}
	var urls []string
	for _, s := range opts.Servers {
		u, err := PackageURL(s, e.Name, e.File)
		if err != nil {
			return "", fmt.Errorf("download %s: %w", e.File, err)
		}
		urls = append(urls, u)
	}
	if len(urls) == 0 && e.URL != "" {
		urls = []string{e.URL}
	}
	if len(urls) == 0 {
		return "", fmt.Errorf("download %s: no archive server to fetch it from", e.File)
	}
	if err := prepareStaging(opts.Root, stagingDir); err != nil {
		return "", err
	}
	final := filepath.Join(stagingDir, e.File)
	if want != "" {
		// A complete file from an earlier run needs no network.
		if got, err := fsx.SHA256FileUnder(opts.Root, final); err == nil && got == want {
			return final, nil
		}
	}
	var errs []error
	for _, u := range urls {
		err := c.retry(ctx, func() error { return c.fetch(ctx, u, final, want, opts) })
		if err == nil {
			return final, nil
		}
		if ctx.Err() != nil {
			return "", fmt.Errorf("download %s: %w", e.File, err)
		}
		errs = append(errs, err)
		if len(urls) > 1 {
			c.rep().Warn(err.Error() + "; trying the next archive server")
		}
	}
	if len(errs) == 1 {
		return "", fmt.Errorf("download %s: %w", e.File, errs[0])
	}
	return "", fmt.Errorf("download %s: every archive server failed: %w", e.File, errors.Join(errs...))
}

// fetch gets the signature, then the package, from one URL, and puts both
// in place.
func (c *Client) fetch(ctx context.Context, u, final, want string, opts DownloadOptions) error {
	file, root := filepath.Base(final), opts.Root
	sig, sigErr := c.get(ctx, u+".sig", maxSigBytes)
	if sigErr != nil {
		if ctx.Err() != nil {
			return sigErr
		}
		if opts.RequireSig {
			return fmt.Errorf("signature %s.sig: %w", u, sigErr)
		}
	}
	part := final + ".part"
	if err := c.fetchPackage(ctx, root, u, part, file, opts.MaxBytes); err != nil {
		return err
	}
	if want != "" {
		got, err := fsx.SHA256FileUnder(root, part)
		if err != nil {
			return err
		}
		if got != want {
			fsx.RemoveUnder(root, part)
			return fmt.Errorf("sha256 mismatch for %s from %s: expected %s, got %s (file deleted)", file, u, want, got)
		}
	}
	// The signature goes first so that a package in place always has the
	// signature it came with; a stale one from another fetch must not stay
	// beside it.
	if sigErr == nil {
		if err := fsx.WriteFileUnder(root, final+".sig", sig, 0o644); err != nil {
			return err
		}
	} else {
		if err := fsx.RemoveUnder(root, final+".sig"); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		c.rep().Warn(fmt.Sprintf("no signature for %s from %s: %v", file, u, sigErr))
	}
	if err := fsx.RenameUnder(root, part, final); err != nil {
		return err
	}
	return fsx.SyncDirUnder(root, filepath.Dir(final))
}

// fetchPackage completes part from u: it resumes from part's size with a
// Range request, and starts over when the server ignores the range or
// cannot satisfy it.
func (c *Client) fetchPackage(ctx context.Context, root, u, part, file string, max int64) error {
	for attempt := 0; ; attempt++ {
		have, err := partSize(root, part)
		if err != nil {
			return err
		}
		if have > max {
			fsx.RemoveUnder(root, part)
			have = 0
		}
		hdr := http.Header{}
		if have > 0 {
			hdr.Set("Range", "bytes="+strconv.FormatInt(have, 10)+"-")
		}
		resp, body, done, err := c.request(ctx, u, hdr)
		if err != nil {
			return err
		}
		total := int64(-1)
		appendTo := false
		switch {
		case resp.StatusCode == http.StatusOK:
			total = resp.ContentLength
		case resp.StatusCode == http.StatusPartialContent && have > 0:
			start, end, size, ok := parseContentRange(resp.Header.Get("Content-Range"))
			if !ok || start != have {
				done()
				return fmt.Errorf("%s: bad Content-Range %q for a resume from byte %d", u, resp.Header.Get("Content-Range"), have)
			}
			total = size
			if total < 0 {
				total = end + 1
			}
			appendTo = true
		case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable && have > 0 && attempt == 0:
			// The partial file does not fit what the server has now
			// (changed, or already complete with no way to tell): start
			// over once.
			done()
			if err := fsx.RemoveUnder(root, part); err != nil {
				return err
			}
			continue
		default:
			done()
			return fmt.Errorf("%s: %w", u, statusError(resp))
		}
		if total > max {
			done()
			return fmt.Errorf("%s is %d bytes, over the download cap of %d bytes (MaxDownloadSize in clp.conf)", u, total, max)
		}
		err = c.copyPart(body, root, part, file, appendTo, have, total, max, u)
		done()
		return err
	}
}

func (c *Client) copyPart(body io.Reader, root, part, file string, appendTo bool, have, total, max int64, u string) error {
	flags := os.O_WRONLY | os.O_CREATE | syscall.O_NOFOLLOW
	if appendTo {
		flags |= os.O_APPEND
	} else {
		flags |= os.O_TRUNC
		have = 0
	}
	f, err := fsx.OpenFileUnder(root, part, flags, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	rep := c.rep()
	rep.Progress(file, have, total)
	done := have
	buf := make([]byte, 64<<10)
	for {
		n, rerr := body.Read(buf)
		if n > 0 {
			if done+int64(n) > max {
				f.Close()
				fsx.RemoveUnder(root, part)
				return fmt.Errorf("%s sent more than the download cap of %d bytes (MaxDownloadSize in clp.conf); partial file deleted", u, max)
			}
			if _, err := f.Write(buf[:n]); err != nil {
				return err
			}
			done += int64(n)
			rep.Progress(file, done, total)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			// Keep what arrived: the next attempt resumes from it.
			f.Sync()
			return fmt.Errorf("%s: %w", u, rerr)
		}
	}
	if total >= 0 && done != total {
		return fmt.Errorf("%s: got %d of %d bytes: %w", u, done, total, io.ErrUnexpectedEOF)
	}
	if err := f.Sync(); err != nil {
		return err
	}
	return f.Close()
}

// partSize is the size of a partial download, 0 if there is none. Anything
// but a regular file there is refused rather than followed or replaced.
func partSize(root, part string) (int64, error) {
	fi, err := fsx.LstatUnder(root, part)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if !fi.Mode().IsRegular() {
		return 0, fmt.Errorf("%s is not a regular file", part)
	}
	return fi.Size(), nil
}

// parseContentRange reads "bytes START-END/SIZE" (SIZE may be "*", -1).
func parseContentRange(s string) (start, end, size int64, ok bool) {
	rest, found := strings.CutPrefix(s, "bytes ")
	if !found {
		return 0, 0, 0, false
	}
	rng, sz, found := strings.Cut(rest, "/")
	if !found {
		return 0, 0, 0, false
	}
	a, b, found := strings.Cut(rng, "-")
	if !found {
		return 0, 0, 0, false
	}
	var err1, err2, err3 error
	start, err1 = strconv.ParseInt(a, 10, 64)
	end, err2 = strconv.ParseInt(b, 10, 64)
	size = -1
	if sz != "*" {
		size, err3 = strconv.ParseInt(sz, 10, 64)
	}
	if err1 != nil || err2 != nil || err3 != nil || start < 0 || end < start || size >= 0 && end >= size {
		return 0, 0, 0, false
	}
	return start, end, size, true
}

// CheckStaging creates dir (under the system root root) if missing and
// checks it is safe to download packages into, as Download does (see
// prepareStaging).
func CheckStaging(root, dir string) error { return prepareStaging(root, dir) }

// prepareStaging creates dir 0700 if needed and checks that no other user
// can put or swap a file in it: dir itself must be a real directory owned
// by us with no group or other write permission, and every ancestor must
// be owned by root or us and, if others may write to it, sticky (so /tmp
// may be an ancestor, but never the staging dir itself). Under a mounted
// root, dir and its ancestors inside the root are created and looked at
// anchored to it.
func prepareStaging(root, dir string) error {
	if !filepath.IsAbs(dir) || filepath.Clean(dir) != dir {
		return fmt.Errorf("staging directory %q must be a clean absolute path", dir)
	}
	if err := fsx.MkdirAllUnder(root, filepath.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("create staging directory: %w", err)
	}
	if err := fsx.MkdirUnder(root, dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create staging directory: %w", err)
	}
	uid := uint32(os.Geteuid())
	fi, err := fsx.LstatUnder(root, dir)
	if err != nil {
		return fmt.Errorf("staging directory: %w", err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	switch {
	case !fi.IsDir():
		return fmt.Errorf("staging directory %s is not a directory", dir)
	case !ok || st.Uid != uid:
		return fmt.Errorf("staging directory %s is not owned by uid %d", dir, uid)
	case fi.Mode().Perm()&0o022 != 0:
		return fmt.Errorf("staging directory %s is writable by other users (mode %04o)", dir, fi.Mode().Perm())
	}
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		fi, err := fsx.StatUnder(root, p)
		if err != nil {
			return fmt.Errorf("staging directory: %w", err)
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok || st.Uid != 0 && st.Uid != uid {
			return fmt.Errorf("staging directory %s: ancestor %s is owned by another user", dir, p)
		}
		if fi.Mode().Perm()&0o022 != 0 && fi.Mode()&fs.ModeSticky == 0 {
			return fmt.Errorf("staging directory %s: ancestor %s is writable by other users", dir, p)
		}
		if p == "/" {
			return nil
		}
	}
}
