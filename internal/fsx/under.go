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

	"golang.org/x/sys/unix"
)

// The *Under helpers make one file operation on p, a path under root (a
// system root: "/" or a mounted installation given with --root), anchored
// to root: the path is resolved inside an os.Root of root at the moment
// the operation is made, one component at a time by the kernel (openat),
// so a folder on the way swapped for a symbolic link leading out of the
// root, even after every check, makes the operation fail ("path escapes
// from parent") instead of reading, writing or removing outside. They
// are what the patch engine's own anchoring (patch/anchor.go) is for
// clp's other files: the pins and the guard allow file, snapshots, the
// feed cache, the boot guard's state, the locks and configuration reads.
//
// For the root "/" (and a p not under root: a path the admin named
// outside it, such as --config or --state-dir) there is nothing to stay
// inside, and the helpers are the plain operations: nothing changes on
// the running system, whatever links the admin made (/var/lib ->
// /data/lib), and the hooks' path costs no extra system call.
//
// Under another root, opens, stats, listings and MkdirAll's look at a
// folder that exists resolve the whole path in one openat2(2) first
// (beneath.go); whatever that cannot answer is os.Root's, as before.

// ErrEscapes is os.Root's word for a path that leads out of the root,
// for callers and tests that name it.
var ErrEscapes = errors.New("path escapes from parent")

// IsEscape says whether err is (or wraps) os.Root's refusal of a path
// that leads out of the root. os.Root's own error value is not exported:
// it is recognised by its text, at any depth of the chain.
func IsEscape(err error) bool {
	for ; err != nil; err = errors.Unwrap(err) {
		if err == ErrEscapes || err.Error() == ErrEscapes.Error() {
			return true
		}
	}
	return false
}

// BeforeUnder, when set (by tests: sandbox.SwapAtLastMoment), is called
// with p just before each *Under operation under a root other than "/",
// so that a test can swap a folder on the way for a symbolic link at the
// very last moment, after every check the caller made.
var BeforeUnder func(p string)

// anchorUnder opens the os.Root of root that p is resolved in, and p's
// name there; nil (and no error) when p is taken as a plain path.
func anchorUnder(root, p string) (*os.Root, string, error) {
	rel, ok := underRel(root, p)
	if !ok {
		return nil, "", nil
	}
	return openRootFor(root, rel)
}

// underRel is p's name under root when p is anchored to root (false: p is
// taken as a plain path), after the test hook BeforeUnder.
func underRel(root, p string) (string, bool) {
	if root == "" || filepath.Clean(root) == "/" {
		return "", false
	}
	rel, ok := Under(root, p)
	if !ok {
		return "", false
	}
	if BeforeUnder != nil {
		BeforeUnder(p)
	}
	return rel, true
}

// openRootFor opens the os.Root of root that rel is resolved in.
func openRootFor(root, rel string) (*os.Root, string, error) {
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, "", fmt.Errorf("open the root %s: %w", root, err)
	}
	return r, rel, nil
}

// ReadFileCappedUnder is ReadFileCapped of p anchored to root.
func ReadFileCappedUnder(root, p string, max int64) ([]byte, error) {
	rel, ok := underRel(root, p)
	if !ok {
		return ReadFileCapped(p, max)
	}
	if f, ok := regularBeneath(root, rel, max); ok {
		return readCapped(f, p, max)
	}
	r, name, err := openRootFor(root, rel)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	f, err := OpenRegularIn(r, name, max)
	if err != nil {
		return nil, fullPath(err, p)
	}
	return readCapped(f, p, max)
}

// OpenRegularUnder is OpenRegular of p anchored to root.
func OpenRegularUnder(root, p string, max int64) (*os.File, error) {
	rel, ok := underRel(root, p)
	if !ok {
		return OpenRegular(p, max)
	}
	if f, ok := regularBeneath(root, rel, max); ok {
		return f, nil
	}
	r, name, err := openRootFor(root, rel)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	f, err := OpenRegularIn(r, name, max)
	return f, fullPath(err, p)
}

// WriteFileUnder is WriteFile of p anchored to root (the folder must
// exist: MkdirAllUnder makes it).
func WriteFileUnder(root, p string, data []byte, perm fs.FileMode) error {
	r, name, err := anchorUnder(root, p)
	if err != nil || r == nil {
		if err != nil {
			return err
		}
		return WriteFile(p, data, perm)
	}
	defer r.Close()
	if err := WriteFileIn(r, name, data, perm); err != nil {
		return fmt.Errorf("%w (under the root %s)", err, root)
	}
	return nil
}

// MkdirAllUnder is os.MkdirAll of p anchored to root.
func MkdirAllUnder(root, p string, perm fs.FileMode) error {
	rel, ok := underRel(root, p)
	if !ok {
		return os.MkdirAll(p, perm)
	}
	// A folder that is there already (the common case) is all os.Root's
	// MkdirAll would find: a directory, or a link inside the root to one.
	if fd, _, ok := openBeneath(root, rel, unix.O_PATH|unix.O_DIRECTORY, 0); ok {
		unix.Close(fd)
		return nil
	}
	r, name, err := openRootFor(root, rel)
	if err != nil {
		return err
	}
	defer r.Close()
	if err := r.MkdirAll(name, perm); err != nil {
		return &fs.PathError{Op: "mkdir", Path: p, Err: unwrapPath(err)}
	}
	return nil
}

// OpenFileUnder is os.OpenFile of p anchored to root. A link at p itself
// is followed only where it stays inside the root.
func OpenFileUnder(root, p string, flag int, perm fs.FileMode) (*os.File, error) {
	rel, ok := underRel(root, p)
	if !ok {
		return os.OpenFile(p, flag, perm)
	}
	if f, ok := fileBeneath(root, rel, flag, perm); ok {
		return f, nil
	}
	r, name, err := openRootFor(root, rel)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	f, err := r.OpenFile(name, flag|syscall.O_CLOEXEC, perm)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: p, Err: unwrapPath(err)}
	}
	return f, nil
}

// OpenUnder is os.Open of p anchored to root.
func OpenUnder(root, p string) (*os.File, error) {
	return OpenFileUnder(root, p, os.O_RDONLY, 0)
}

// RemoveUnder is os.Remove of p anchored to root (a link at p is removed,
// not what it points to).
func RemoveUnder(root, p string) error {
	r, name, err := anchorUnder(root, p)
	if err != nil || r == nil {
		if err != nil {
			return err
		}
		return os.Remove(p)
	}
	defer r.Close()
	if err := r.Remove(name); err != nil {
		return &fs.PathError{Op: "remove", Path: p, Err: unwrapPath(err)}
	}
	return nil
}

// RenameUnder is os.Rename of from to to, both anchored to root.
func RenameUnder(root, from, to string) error {
	r, name, err := anchorUnder(root, from)
	if err != nil || r == nil {
		if err != nil {
			return err
		}
		return os.Rename(from, to)
	}
	defer r.Close()
	toName, ok := Under(root, to)
	if !ok {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: ErrEscapes}
	}
	if err := r.Rename(name, toName); err != nil {
		var le *os.LinkError
		if errors.As(err, &le) {
			err = le.Err
		}
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: err}
	}
	return nil
}

// ChmodUnder is os.Chmod of p anchored to root.
func ChmodUnder(root, p string, mode fs.FileMode) error {
	r, name, err := anchorUnder(root, p)
	if err != nil || r == nil {
		if err != nil {
			return err
		}
		return os.Chmod(p, mode)
	}
	defer r.Close()
	if err := r.Chmod(name, mode); err != nil {
		return &fs.PathError{Op: "chmod", Path: p, Err: unwrapPath(err)}
	}
	return nil
}

// DirPathUnder is a path to the folder p, resolved inside root now and
// held open until release is called, for code that only takes paths (a
// library writing its own files there, such as go-tuf's metadata cache):
// "/proc/self/fd/N" of the folder, so that every later use of it reaches
// that very folder inside the root, whatever links are swapped in on the
// way afterwards. For the root "/" (or p not under root) it is p itself.
func DirPathUnder(root, p string) (path string, release func(), err error) {
	r, name, err := anchorUnder(root, p)
	if err != nil || r == nil {
		if err != nil {
			return "", nil, err
		}
		return p, func() {}, nil
	}
	defer r.Close()
	d, err := r.OpenFile(name, os.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return "", nil, &fs.PathError{Op: "open", Path: p, Err: unwrapPath(err)}
	}
	path = fmt.Sprintf("/proc/self/fd/%d", d.Fd())
	if fi, err := os.Stat(path); err != nil || !fi.IsDir() {
		d.Close()
		return "", nil, fmt.Errorf("open %s inside the root %s: /proc is needed (%v)", p, root, err)
	}
	return path, func() { d.Close() }, nil
}

// StatUnder is os.Stat of p anchored to root.
func StatUnder(root, p string) (fs.FileInfo, error) {
	rel, ok := underRel(root, p)
	if !ok {
		return os.Stat(p)
	}
	if f, ok := fileBeneath(root, rel, unix.O_PATH, 0); ok {
		fi, err := f.Stat()
		f.Close()
		if err == nil {
			return fi, nil
		}
	}
	r, name, err := openRootFor(root, rel)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	fi, err := r.Stat(name)
	if err != nil {
		return nil, &fs.PathError{Op: "stat", Path: p, Err: unwrapPath(err)}
	}
	return fi, nil
}

// LstatUnder is os.Lstat of p anchored to root.
func LstatUnder(root, p string) (fs.FileInfo, error) {
	r, name, err := anchorUnder(root, p)
	if err != nil || r == nil {
		if err != nil {
			return nil, err
		}
		return os.Lstat(p)
	}
	defer r.Close()
	fi, err := r.Lstat(name)
	if err != nil {
		return nil, &fs.PathError{Op: "lstat", Path: p, Err: unwrapPath(err)}
	}
	return fi, nil
}

// ReadDirUnder is os.ReadDir of p anchored to root.
func ReadDirUnder(root, p string) ([]fs.DirEntry, error) {
	rel, ok := underRel(root, p)
	if !ok {
		return os.ReadDir(p)
	}
	// (A folder only: anything else is os.Root's to open and report.)
	if d, ok := fileBeneath(root, rel, unix.O_RDONLY|unix.O_DIRECTORY, 0); ok {
		defer d.Close()
		ents, err := ReadDirSortedFile(d)
		return ents, fullPath(err, p)
	}
	r, name, err := openRootFor(root, rel)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	d, err := r.Open(name)
	if err != nil {
		return nil, fullPath(err, p)
	}
	defer d.Close()
	ents, err := ReadDirSortedFile(d)
	return ents, fullPath(err, p)
}

// SyncDirUnder is SyncDir of p anchored to root.
func SyncDirUnder(root, p string) error {
	d, err := OpenUnder(root, p)
	return syncOpened(p, d, err)
}

// fullPath is err with the path os.Root named (relative to the root)
// replaced by p.
func fullPath(err error, p string) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return &fs.PathError{Op: pe.Op, Path: p, Err: pe.Err}
	}
	return err
}

// unwrapPath takes the error out of os.Root's *PathError (which names the
// path relative to the root) so that the caller's names the full path.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// RemoveAllUnder is os.RemoveAll of p anchored to root: nothing outside
// the root is removed, whatever link is swapped in on the way to p (a
// link at p itself is removed, not followed).
func RemoveAllUnder(root, p string) error {
	r, name, err := anchorUnder(root, p)
	if err != nil || r == nil {
		if err != nil {
			return err
		}
		return os.RemoveAll(p)
	}
	defer r.Close()
	if err := r.RemoveAll(name); err != nil {
		return &fs.PathError{Op: "removeall", Path: p, Err: unwrapPath(err)}
	}
	return nil
}

// LinkUnder is os.Link of from to to, both anchored to root (a link at
// from is not followed). With from outside the root and to under it (a
// file the admin keeps elsewhere) it links nothing and fails with EXDEV,
// as across file systems: the caller copies, anchored, instead.
func LinkUnder(root, from, to string) error {
	r, name, err := anchorUnder(root, from)
	if err != nil || r == nil {
		if err != nil {
			return err
		}
		if _, in := Under(root, to); in && filepath.Clean(root) != "/" && root != "" {
			return &os.LinkError{Op: "link", Old: from, New: to, Err: syscall.EXDEV}
		}
		return os.Link(from, to)
	}
	defer r.Close()
	toName, ok := Under(root, to)
	if !ok {
		return &os.LinkError{Op: "link", Old: from, New: to, Err: ErrEscapes}
	}
	if err := r.Link(name, toName); err != nil {
		var le *os.LinkError
		if errors.As(err, &le) {
			err = le.Err
		}
		return &os.LinkError{Op: "link", Old: from, New: to, Err: err}
	}
	return nil
}

// SHA256FileUnder is SHA256File of p anchored to root.
func SHA256FileUnder(root, p string) (string, error) {
	f, err := OpenUnder(root, p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", p, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// MkdirUnder is os.Mkdir of p anchored to root.
func MkdirUnder(root, p string, perm fs.FileMode) error {
	r, name, err := anchorUnder(root, p)
	if err != nil || r == nil {
		if err != nil {
			return err
		}
		return os.Mkdir(p, perm)
	}
	defer r.Close()
	if err := r.Mkdir(name, perm); err != nil {
		return &fs.PathError{Op: "mkdir", Path: p, Err: unwrapPath(err)}
	}
	return nil
}
