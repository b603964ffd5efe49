package fsx

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/google/renameio/v2"
)

// NewPendingFile creates the temporary file that WriteFile renames into place.
// It is a variable so tests can inject ENOSPC, EACCES and friends.
var NewPendingFile = func(path string, perm fs.FileMode) (PendingFile, error) {
	return renameio.NewPendingFile(path, renameio.WithPermissions(perm), renameio.WithExistingPermissions())
}

// PendingFile is the part of renameio.PendingFile that clp uses.
type PendingFile interface {
	io.Writer
	CloseAtomicallyReplace() error
	Cleanup() error
}

// WriteFile replaces path with data durably: the data is written to a
// temporary file in the same directory, fsynced, renamed over path, and the
// directory is fsynced. A crash at any point leaves either the old or the new
// content, never a mix; renameio alone does not fsync the directory, so the
// rename itself could be lost on power failure without SyncDir.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	pf, err := NewPendingFile(path, perm)
	if err != nil {
		return fmt.Errorf("create temporary file for %s: %w", path, err)
	}
	defer pf.Cleanup()
	if _, err := pf.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := pf.CloseAtomicallyReplace(); err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	return SyncDir(filepath.Dir(path))
}

// SyncDir fsyncs a directory so that renames and creations in it survive a
// power cut.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	return syncOpened(dir, d, err)
}

// SyncDirIn fsyncs the folder dir inside r, so that a rename or removal
// in it survives a power cut.
func SyncDirIn(r *os.Root, dir string) error {
	d, err := r.Open(dir)
	return syncOpened(dir, d, err)
}

// syncOpened fsyncs directory dir, as opened (d, err), and closes it.
func syncOpened(dir string, d *os.File, err error) error {
	if err != nil {
		return fmt.Errorf("open directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// SyncFile fsyncs an existing file by name.
func SyncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// SHA256File returns the hex sha256 of a file's content.
func SHA256File(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// SHA256Bytes returns the hex sha256 of data.
func SHA256Bytes(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// UnderRoot joins an absolute system path onto root ("/" or a sandbox root).
// The result is always inside root: path is cleaned as an absolute path first,
// so ".." cannot climb out.
func UnderRoot(root, path string) string {
	clean := filepath.Clean("/" + path)
	if root == "" || root == "/" {
		return clean
	}
	return filepath.Join(root, clean)
}

// Size caps for the files clp reads: every read is bounded, so a huge or
// endless file (a 20 GiB sparse file, /dev/zero behind a symlink) is one
// clear error instead of an out-of-memory crash.
const (
	// SmallFileMax caps configuration, keys, signatures and pins.
	SmallFileMax = 1 << 20
	// StateFileMax caps clp's own records (applied.json, the history).
	StateFileMax = 64 << 20
)

// TooLargeError is a file bigger than the cap for its kind.
type TooLargeError struct {
	Path string
	Size int64
	Max  int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s is too large (%d bytes; clp reads at most %d)", e.Path, e.Size, e.Max)
}

// NotRegularError is a path that is a directory, device, FIFO or socket
// where clp expects a file.
type NotRegularError struct {
	Path string
	Mode fs.FileMode
}

func (e *NotRegularError) Error() string {
	what := "not a regular file"
	switch {
	case e.Mode.IsDir():
		what = "a directory, not a file"
	case e.Mode&fs.ModeDevice != 0:
		what = "a device, not a regular file"
	case e.Mode&fs.ModeNamedPipe != 0:
		what = "a FIFO, not a regular file"
	case e.Mode&fs.ModeSocket != 0:
		what = "a socket, not a regular file"
	}
	return fmt.Sprintf("%s is %s", e.Path, what)
}

// OpenRegular opens path for reading (following symlinks, as a plain open
// does) and checks, on the opened file, that it is a regular file of at
// most max bytes. It never blocks on a FIFO.
func OpenRegular(path string, max int64) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, err
	}
	return checkRegular(f, path, max)
}

// OpenRegularIn is OpenRegular for name resolved inside r (os.Root: a
// link cannot lead it out of r).
func OpenRegularIn(r *os.Root, name string, max int64) (*os.File, error) {
	f, err := r.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, err
	}
	return checkRegular(f, filepath.Join(r.Name(), name), max)
}

func checkRegular(f *os.File, path string, max int64) (*os.File, error) {
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, &NotRegularError{Path: path, Mode: fi.Mode()}
	}
	if fi.Size() > max {
		f.Close()
		return nil, &TooLargeError{Path: path, Size: fi.Size(), Max: max}
	}
	return f, nil
}

// ReadFileCapped reads a regular file of at most max bytes (os.ReadFile
// with a size cap and a type check). A file that grows past max while it
// is read is refused too. A missing file keeps fs.ErrNotExist in the chain.
func ReadFileCapped(path string, max int64) ([]byte, error) {
	f, err := OpenRegular(path, max)
	if err != nil {
		return nil, err
	}
	return readCapped(f, path, max)
}

// ReadFileCappedIn is ReadFileCapped for name resolved inside r.
func ReadFileCappedIn(r *os.Root, name string, max int64) ([]byte, error) {
	f, err := OpenRegularIn(r, name, max)
	if err != nil {
		return nil, err
	}
	return readCapped(f, filepath.Join(r.Name(), name), max)
}

func readCapped(f *os.File, path string, max int64) ([]byte, error) {
	defer f.Close()
	// Sized from the opened file, as os.ReadFile does (one read for most
	// files: the local database's desc files are read on every hook run);
	// a file that grows while it is read still stops at max+1 bytes.
	size := int64(512)
	if fi, err := f.Stat(); err == nil && fi.Size() > 0 && fi.Size() < max {
		size = fi.Size() + 1
	}
	data := make([]byte, 0, size)
	for {
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)]
		}
		room := data[len(data):cap(data)]
		if left := max + 1 - int64(len(data)); int64(len(room)) > left {
			room = room[:left]
		}
		n, err := f.Read(room)
		data = data[:len(data)+n]
		if int64(len(data)) > max {
			return nil, &TooLargeError{Path: path, Size: int64(len(data)), Max: max}
		}
		if err == io.EOF {
			return data, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
	}
}

// UnsafeError is a file clp would trust (a key, clp.conf, the pins
// include, an installed hook) that someone other than root could have
// written: the file or a folder on its path is not owned by root (or by
// the user running clp) or is writable by group or others.
type UnsafeError struct {
	Path    string // the file clp was to trust
	Culprit string // the file or folder at fault
	Problem string
}

func (e *UnsafeError) Error() string {
	if e.Culprit == e.Path {
		return fmt.Sprintf("%s is not safe to trust: it %s", e.Path, e.Problem)
	}
	return fmt.Sprintf("%s is not safe to trust: folder %s %s", e.Path, e.Culprit, e.Problem)
}

// NextStep says how to make it safe.
func (e *UnsafeError) NextStep() string {
	return fmt.Sprintf("only root may be able to change it: 'chown root:root %s' and 'chmod go-w %s' (clp checks the file and every folder above it, like sshd's StrictModes)", e.Culprit, e.Culprit)
}

// CheckTrusted refuses a file that anyone but root could have written or
// replaced, like sshd's StrictModes: the file and every folder above it up
// to / must be owned by root (or by the user running clp, who could write
// them anyway) and not writable by group or others. A folder with the
// sticky bit (/tmp) owned by root is accepted above the file's own folder:
// no one else can rename or delete root's entries in it. Missing parts of
// the path are skipped (a file about to be written is checked by the
// folders it will be in; callers treat absence on their own).
func CheckTrusted(path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	euid := uint32(os.Geteuid())
	check := func(p string, isFile, isParent bool) error {
		var st syscall.Stat_t
		if err := syscall.Stat(p, &st); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return &fs.PathError{Op: "stat", Path: p, Err: err}
		}
		if st.Uid != 0 && st.Uid != euid {
			return &UnsafeError{Path: path, Culprit: p, Problem: fmt.Sprintf("is owned by uid %d, not root", st.Uid)}
		}
		if st.Mode&0o022 != 0 {
			sticky := st.Mode&syscall.S_ISVTX != 0 && st.Uid == 0 && !isFile && !isParent
			if !sticky {
				return &UnsafeError{Path: path, Culprit: p, Problem: fmt.Sprintf("is writable by group or others (mode %04o)", st.Mode&0o7777)}
			}
		}
		return nil
	}
	if err := check(abs, true, false); err != nil {
		return err
	}
	for d, first := filepath.Dir(abs), true; ; d, first = filepath.Dir(d), false {
		if err := check(d, false, first); err != nil {
			return err
		}
		if d == "/" {
			return nil
		}
	}
}

// WriteFileIn is WriteFile anchored to r: the temporary file, the rename
// and the directory sync all resolve name inside r (os.Root), so a
// symbolic link swapped in anywhere on the path, even at the last moment,
// cannot lead the write out of r; it fails instead.
func WriteFileIn(r *os.Root, name string, data []byte, perm fs.FileMode) error {
	dir := filepath.Dir(name)
	tmp := filepath.Join(dir, fmt.Sprintf(".%s.clp-tmp-%d", filepath.Base(name), os.Getpid()))
	f, err := r.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|syscall.O_NOFOLLOW, perm)
	if err != nil {
		return fmt.Errorf("create temporary file for %s: %w", name, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = r.Rename(tmp, name)
	}
	if err != nil {
		r.Remove(tmp)
		return fmt.Errorf("write %s: %w", name, err)
	}
	return SyncDirIn(r, dir)
}

// Under says whether p is dir or below it, and gives its name relative to
// dir (by the names alone: it is used to choose the os.Root a path is
// resolved in, never to decide that a path is safe).
func Under(dir, p string) (string, bool) {
	rel, err := filepath.Rel(filepath.Clean(dir), filepath.Clean(p))
	if err != nil || !filepath.IsLocal(rel) && rel != "." {
		return "", false
	}
	return rel, true
}

// Anchor opens the os.Root that p, one of clp's own files, is resolved
// in, and p's name there: root when p is under it, else outside (clp
// --state-dir named outside the root: the admin's choice, anchored to
// itself and, with create, created if need be). Every operation through
// the os.Root stays inside it, whatever links are swapped in on the way.
func Anchor(root, outside, p string, create bool) (*os.Root, string, error) {
	if rel, ok := Under(root, p); ok {
		r, err := os.OpenRoot(root)
		if err != nil {
			return nil, "", fmt.Errorf("open the root %s: %w", root, err)
		}
		return r, rel, nil
	}
	if rel, ok := Under(outside, p); ok && outside != "" {
		if create {
			if err := os.MkdirAll(outside, 0o755); err != nil {
				return nil, "", err
			}
		}
		r, err := os.OpenRoot(outside)
		if err != nil {
			return nil, "", fmt.Errorf("open the state folder %s: %w", outside, err)
		}
		return r, rel, nil
	}
	return nil, "", fmt.Errorf("%s is neither under the root %s nor under the state folder %s", p, root, outside)
}
