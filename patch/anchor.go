package patch

// Anchored file operations. Every file operation clp makes under the root
// is resolved inside it, at the moment it is made, by the kernel (os.Root,
// which walks each path one component at a time with openat and refuses a
// symbolic link or ".." that would leave the root), never by checking a
// plain path first and using it later:
//
//   - clp's own files, read and written: the journal, the applied records
//     and their backups, the history, the script log, the state lock and
//     the children record (internal/lock, internal/child), and the unpack
//     into /opt/CLP/<name>;
//   - the patch's targets in apply (staging, the backups of what is
//     replaced, the commit's renames and removals, mode, owner and xattrs)
//     and in rollback and recovery (restoring backups, removing placed
//     files, the folders an apply made), through roots (below);
//   - the scripts' working folder and the script itself (script.go), and
//     the trusted keys (LoadTrustedKeysIn).
//
// A symbolic link swapped in for any folder on those paths, even after
// every check clp makes (at the prompt, between two steps), makes the
// operation fail ("path escapes from parent") instead of reading, writing
// or removing outside the root; the transaction is then undone, or kept in
// the journal for clp recover once the link is gone. A final component is
// never followed where a target is concerned (openat with O_NOFOLLOW on
// a folder opened inside the root), so a link put at a target's own place
// is refused as it is when planning. The tests, each swapping a folder
// for a link out of the root at the last moment and checking a folder
// outside is byte for byte unchanged, are in anchor_test.go and
// anchor_targets_test.go (TestSymlinkSwapCannotLead*, TestStateReadsStayInRoot,
// TestStateOrOptOutsideRootRefused) and keys_test.go; docs/architecture.md
// ("Reliability") lists which proves what. os.Root refuses a link with an
// absolute target even when it would stay inside the root; on the running
// system (root /) check takes clp's own folders where they really are
// first (canonicalPath), so an admin's absolute link there still works;
// under a mounted root it resolves them as that system would once booted,
// an absolute link against the root (fsx.ResolveInRoot, RESOLVE_IN_ROOT;
// TestMountedRootResolvesAbsoluteLinksInRoot).

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/vincentos/clp/internal/child"
	"github.com/vincentos/clp/internal/fsx"
	"golang.org/x/sys/unix"
)

// openRoot opens the target root for anchored operations; closeRoot
// closes it. The engine resolves a target's folder with one openat2 from
// the root's own folder where the kernel has it (fastRoots).
func (e *Engine) openRoot() (*os.Root, error) {
	r, err := os.OpenRoot(e.Root)
	if err != nil {
		return nil, fmt.Errorf("open the root %s: %w", e.Root, err)
	}
	if d, err := r.Open("."); err == nil {
		fastRoots.Store(r, d)
	}
	return r, nil
}

func closeRoot(r *os.Root) {
	if d, ok := fastRoots.LoadAndDelete(r); ok {
		d.(*os.File).Close()
	}
	r.Close()
}

// fastRoots maps an os.Root openRoot opened to its own folder, opened
// through it (so the very folder the os.Root is of).
var fastRoots sync.Map

// noOpenat2 makes parentIn use os.Root alone (tests: both ways must
// hold).
var noOpenat2 bool

// errEscapes is os.Root's word for a path leading out of the root.
var errEscapes = errors.New("path escapes from parent")

// openat2Dir opens dir below the folder rootFd with openat2(2)
// RESOLVE_BENEATH: the kernel resolves it in one call and refuses (EXDEV)
// a symbolic link or ".." leading out, as os.Root does one component at a
// time (and, like it, a link with an absolute target). ENOSYS (a kernel
// before 5.6) leaves it to os.Root.
func openat2Dir(rootFd int, dir string) (int, error) {
	how := &unix.OpenHow{Flags: unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC, Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS}
	for try := 0; ; try++ {
		fd, err := unix.Openat2(rootFd, dir, how)
		switch {
		case err == nil:
			return fd, nil
		case errors.Is(err, unix.EAGAIN) && try < 8:
			continue // a rename raced with the resolution: try again
		case errors.Is(err, unix.EXDEV):
			return -1, &fs.PathError{Op: "openat", Path: dir, Err: errEscapes}
		case errors.Is(err, unix.EAGAIN), errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EPERM):
			return -1, unix.ENOSYS
		}
		return -1, &fs.PathError{Op: "openat", Path: dir, Err: err}
	}
}

// under says whether p is dir or below it, and gives its relative name.
func under(dir, p string) (string, bool) {
	return fsx.Under(dir, p)
}

// anchor opens the os.Root a path of clp's is resolved in, and its name
// there: the target root, or, for a state folder given outside the root
// (clp --state-dir), that folder itself (created if need be: the admin
// named it).
func (e *Engine) anchor(p string) (*os.Root, string, error) {
	return fsx.Anchor(e.Root, e.StateDir, p, true)
}

// writeAnchored creates the parents of p (mode 0755 for new ones) and
// replaces p durably, all resolved inside the root.
func (e *Engine) writeAnchored(p string, data []byte, dirPerm, perm os.FileMode) error {
	r, name, err := e.anchor(p)
	if err != nil {
		return err
	}
	defer r.Close()
	if err := r.MkdirAll(filepath.Dir(name), dirPerm); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(p), err)
	}
	if err := fsx.WriteFileIn(r, name, data, perm); err != nil {
		return err
	}
	return nil
}

// openAnchored opens p for appending (creating it and its parents), inside
// the root. The caller closes the root after the file.
func (e *Engine) openAppendAnchored(p string, perm os.FileMode) (*os.File, *os.Root, error) {
	r, name, err := e.anchor(p)
	if err != nil {
		return nil, nil, err
	}
	if err := r.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		r.Close()
		return nil, nil, fmt.Errorf("create %s: %w", filepath.Dir(p), err)
	}
	f, err := r.OpenFile(name, os.O_RDWR|os.O_APPEND|os.O_CREATE, perm)
	if err != nil {
		r.Close()
		return nil, nil, err
	}
	return f, r, nil
}

// removeAllAnchored removes p and what it holds, inside the root.
func (e *Engine) removeAllAnchored(p string) error {
	r, name, err := fsx.Anchor(e.Root, e.StateDir, p, false)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer r.Close()
	if err := r.RemoveAll(name); err != nil {
		return fmt.Errorf("remove %s: %w", p, err)
	}
	return nil
}

// readAnchored reads p, a file of clp's of at most max bytes (a regular
// file), inside the root.
func (e *Engine) readAnchored(p string, max int64) ([]byte, error) {
	r, name, err := fsx.Anchor(e.Root, e.StateDir, p, false)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return fsx.ReadFileCappedIn(r, name, max)
}

// openAnchored opens p for reading inside the root (the file stays open
// after the os.Root it was opened through is closed).
func (e *Engine) openAnchored(p string) (*os.File, error) {
	r, name, err := fsx.Anchor(e.Root, e.StateDir, p, false)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return r.Open(name)
}

// readDirAnchored is os.ReadDir of a folder of clp's, inside the root.
func (e *Engine) readDirAnchored(p string) ([]fs.DirEntry, error) {
	d, err := e.openAnchored(p)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return fsx.ReadDirSortedFile(d)
}

// lstatAnchored is os.Lstat of a path of clp's, inside the root.
func (e *Engine) lstatAnchored(p string) (fs.FileInfo, error) {
	r, name, err := fsx.Anchor(e.Root, e.StateDir, p, false)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return r.Lstat(name)
}

// openDirAnchored opens the folder p inside the root.
func (e *Engine) openDirAnchored(p string) (*os.File, error) {
	d, err := e.openAnchored(p)
	if err != nil {
		return nil, err
	}
	if fi, err := d.Stat(); err != nil || !fi.IsDir() {
		d.Close()
		return nil, fmt.Errorf("%s is not a folder", p)
	}
	return d, nil
}

// children is where the children record is kept (internal/child),
// anchored like the rest of the state.
func (e *Engine) children() child.Dir { return child.In(e.Root, e.StateDir) }

// roots are the two os.Roots a transaction works through, open for one
// phase: sys, the target root, where targets are named by their system
// path without the leading slash (tname); and state, where clp's state
// folder is (the same os.Root unless --state-dir put it outside the
// root), with stateRel the state folder's name in it.
type roots struct {
	sys      *os.Root
	state    *os.Root
	stateRel string
}

func (e *Engine) openRoots() (*roots, error) {
	sys, err := e.openRoot()
	if err != nil {
		return nil, err
	}
	if rel, ok := under(e.Root, e.StateDir); ok {
		return &roots{sys: sys, state: sys, stateRel: rel}, nil
	}
	st, rel, err := e.anchor(e.StateDir)
	if err != nil {
		closeRoot(sys)
		return nil, err
	}
	return &roots{sys: sys, state: st, stateRel: rel}, nil
}

func (rs *roots) close() {
	if rs.state != rs.sys {
		rs.state.Close()
	}
	closeRoot(rs.sys)
}

// backup is the name in rs.state of a step's backup of patch name.
func (rs *roots) backup(name, backup string) string {
	return filepath.Join(rs.stateRel, "patches", name, backup)
}

// tname is a system path's name in the target root ("etc/x" for /etc/x).
func tname(p string) string {
	n := strings.TrimLeft(filepath.Clean("/"+p), "/")
	if n == "" {
		return "."
	}
	return n
}

// parentIn opens the folder holding name, resolved inside r, and returns
// its descriptor (the caller closes it) with name's last element: the *at
// system calls made on that pair (openat, renameat, linkat, fstatat) never
// follow a link at the last element, and the folder cannot be outside r.
func parentIn(r *os.Root, name string) (int, string, error) {
	dir, base := filepath.Split(filepath.Clean(name))
	if dir == "" {
		dir = "."
	}
	if base == "" || base == "." || base == ".." {
		return -1, "", fmt.Errorf("%s: not a file name", name)
	}
	if d, ok := fastRoots.Load(r); ok && !noOpenat2 {
		fd, err := openat2Dir(int(d.(*os.File).Fd()), filepath.Clean(dir))
		if !errors.Is(err, unix.ENOSYS) {
			return fd, base, err
		}
	}
	d, err := r.Open(dir)
	if err != nil {
		return -1, "", err
	}
	defer d.Close()
	fd, err := unix.Dup(int(d.Fd()))
	if err != nil {
		return -1, "", err
	}
	unix.CloseOnExec(fd)
	return fd, base, nil
}

// openNoFollowIn opens name inside r without following a link at its last
// element (ELOOP for one); perm is for O_CREATE.
func openNoFollowIn(r *os.Root, name string, flag int, perm uint32) (*os.File, error) {
	d, base, err := parentIn(r, name)
	if err != nil {
		return nil, err
	}
	defer unix.Close(d)
	fd, err := unix.Openat(d, base, flag|unix.O_NOFOLLOW|unix.O_CLOEXEC, perm)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: filepath.Join(r.Name(), name), Err: err}
	}
	return os.NewFile(uintptr(fd), filepath.Join(r.Name(), name)), nil
}

// renameIn renames from (in r1) to to (in r2), both resolved inside their
// roots; a link at either last element is renamed or replaced, never
// followed.
func renameIn(r1 *os.Root, from string, r2 *os.Root, to string) error {
	return twoIn(r1, from, r2, to, "rename", func(d1 int, b1 string, d2 int, b2 string) error {
		return unix.Renameat(d1, b1, d2, b2)
	})
}

func twoIn(r1 *os.Root, from string, r2 *os.Root, to, op string, call func(int, string, int, string) error) error {
	d1, b1, err := parentIn(r1, from)
	if err != nil {
		return &os.LinkError{Op: op, Old: from, New: to, Err: err}
	}
	defer unix.Close(d1)
	d2, b2 := d1, filepath.Base(to)
	if r1 != r2 || filepath.Dir(filepath.Clean(from)) != filepath.Dir(filepath.Clean(to)) {
		// (One folder is opened once: a commit renames beside the target.)
		d2, b2, err = parentIn(r2, to)
		if err != nil {
			return &os.LinkError{Op: op, Old: from, New: to, Err: err}
		}
		defer unix.Close(d2)
	}
	if err := call(d1, b1, d2, b2); err != nil {
		return &os.LinkError{Op: op, Old: filepath.Join(r1.Name(), from), New: filepath.Join(r2.Name(), to), Err: err}
	}
	return nil
}

// removeIn removes the file (or empty folder) name inside r, never what
// a link there points to; a missing one is not an error.
func removeIn(r *os.Root, name string) error {
	d, base, err := parentIn(r, name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer unix.Close(d)
	err = unix.Unlinkat(d, base, 0)
	if errors.Is(err, unix.EISDIR) {
		err = unix.Unlinkat(d, base, unix.AT_REMOVEDIR)
	}
	if err != nil && !errors.Is(err, unix.ENOENT) {
		return &fs.PathError{Op: "remove", Path: filepath.Join(r.Name(), name), Err: err}
	}
	return nil
}

// existsIn says whether name exists inside r (a link counts, unfollowed).
func existsIn(r *os.Root, name string) (bool, error) {
	d, base, err := parentIn(r, name)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer unix.Close(d)
	var st unix.Stat_t
	err = unix.Fstatat(d, base, &st, unix.AT_SYMLINK_NOFOLLOW)
	if errors.Is(err, unix.ENOENT) {
		return false, nil
	}
	if err != nil {
		return false, &fs.PathError{Op: "stat", Path: filepath.Join(r.Name(), name), Err: err}
	}
	return true, nil
}

// statFileIn is the state of name inside r, without following a link at
// its last element. Only regular files are patchable: a link, folder or
// device there is an error naming it. The file is read from one open
// descriptor, checked to be the inode first looked at.
func statFileIn(r *os.Root, name string) (FileState, error) {
	st, _, err := statFileID(r, name)
	return st, err
}

// statFileID is statFileIn with the identity of the inode read (from the
// descriptor the content was read through; zero when there is none).
func statFileID(r *os.Root, name string) (FileState, fileID, error) {
	path := filepath.Join(r.Name(), name)
	d, base, err := parentIn(r, name)
	if errors.Is(err, fs.ErrNotExist) {
		return FileState{}, fileID{}, nil
	}
	if err != nil {
		return FileState{}, fileID{}, &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	defer unix.Close(d)
	var st unix.Stat_t
	if err := unix.Fstatat(d, base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return FileState{}, fileID{}, nil
		}
		return FileState{}, fileID{}, &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return FileState{}, fileID{}, fmt.Errorf("%s is not a regular file", path)
	}
	fd, err := unix.Openat(d, base, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return FileState{}, fileID{}, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	var st2 unix.Stat_t
	if err := unix.Fstat(fd, &st2); err != nil || st2.Ino != st.Ino || st2.Dev != st.Dev {
		return FileState{}, fileID{}, fmt.Errorf("%s changed while clp read it", path)
	}
	sum, err := hashReader(path, f)
	if err != nil {
		return FileState{}, fileID{}, err
	}
	xa, err := readXattrsFd(path, fd)
	if err != nil {
		return FileState{}, fileID{}, err
	}
	return FileState{Exists: true, SHA256: sum, Mode: st2.Mode & 0o7777, UID: int(st2.Uid), GID: int(st2.Gid), Xattrs: xa}, idOf(&st2), nil
}

// setMetaIn gives name inside r exactly the owner, mode and xattrs of s,
// through one descriptor of the file (never a link at its place). The
// order matters: chown clears setuid bits and security.capability, so it
// comes first, then chmod, then the attributes.
func setMetaIn(r *os.Root, name string, s FileState) error {
	f, err := openNoFollowIn(r, name, unix.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		return fmt.Errorf("set metadata: %w", err)
	}
	defer f.Close()
	return setMetaFd(f, s)
}

// setMetaFd is setMetaIn on a file already open.
func setMetaFd(f *os.File, s FileState) error {
	path := f.Name()
	fd := int(f.Fd())
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return fmt.Errorf("%s is not a regular file", path)
	}
	// A chown to the owner the file already has is skipped (a staged file
	// is made by clp, root's already): what it would clear (setuid,
	// setgid, security.capability) is set exactly by the chmod and the
	// xattrs below anyway.
	if int(st.Uid) != s.UID || int(st.Gid) != s.GID {
		if err := unix.Fchown(fd, s.UID, s.GID); err != nil {
			return fmt.Errorf("set owner of %s: %w", path, &fs.PathError{Op: "chown", Path: path, Err: err})
		}
	}
	if err := unix.Fchmod(fd, s.Mode); err != nil {
		return fmt.Errorf("set mode of %s: %w", path, &fs.PathError{Op: "chmod", Path: path, Err: err})
	}
	cur, err := listXattrsFd(path, fd)
	if err != nil {
		return err
	}
	for _, n := range cur {
		if _, keep := s.Xattrs[n]; !keep {
			if err := unix.Fremovexattr(fd, n); err != nil && !errors.Is(err, unix.ENODATA) {
				return fmt.Errorf("remove xattr %s of %s: %w", n, path, err)
			}
		}
	}
	names := make([]string, 0, len(s.Xattrs))
	for n := range s.Xattrs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := unix.Fsetxattr(fd, n, s.Xattrs[n], 0); err != nil {
			return fmt.Errorf("set xattr %s of %s: %w", n, path, err)
		}
	}
	return nil
}

// syncFSIn makes everything written under the folders dirs (inside r; a
// missing one is skipped) durable with one syncfs(2) per file system. A
// phase writes many files (1,000 for a big patch); one syncfs commits them
// and their directory entries together, which is what fsync of every file
// and every directory would give, much faster (the same trade as
// "tar -x; sync").
func syncFSIn(r *os.Root, dirs []string) error {
	return syncFSOnce(map[uint64]bool{}, r, dirs)
}

// syncFSOnce is syncFSIn skipping the file systems (devices) in synced,
// and adding those it syncs: two roots on one file system, one syncfs.
func syncFSOnce(synced map[uint64]bool, r *os.Root, dirs []string) error {
	for _, d := range dirs {
		f, err := r.Open(d)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		var st unix.Stat_t
		err = unix.Fstat(int(f.Fd()), &st)
		if err == nil && !synced[st.Dev] {
			synced[st.Dev] = true
			err = unix.Syncfs(int(f.Fd()))
		}
		f.Close()
		if err != nil {
			return &fs.PathError{Op: "syncfs", Path: filepath.Join(r.Name(), d), Err: err}
		}
	}
	return nil
}

// copyFileIn copies src into a new file name (which must not exist; O_EXCL
// never follows a link there) inside r, mode 0600, then, when done is set,
// calls it on the still open file (to check what was written and set the
// final metadata through the same descriptor). Anything failing removes
// the file. It does not fsync: callers sync whole file systems once per
// phase (syncFSIn).
func copyFileIn(r *os.Root, name string, src io.Reader, done func(*os.File) error) (err error) {
	f, err := openNoFollowIn(r, name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			r.Remove(name)
		}
	}()
	if _, err := io.Copy(f, src); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if done != nil {
		return done(f)
	}
	return nil
}
