package patch

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"syscall"

	"golang.org/x/sys/unix"
)

// FileState is everything the engine restores about a file: whether it
// exists, its content (by sha256), permission bits (with setuid, setgid and
// sticky), owner and extended attributes (security.capability and ACLs
// included: a restored binary must keep its capabilities).
type FileState struct {
	Exists bool              `json:"exists"`
	SHA256 string            `json:"sha256,omitempty"`
	Mode   uint32            `json:"mode,omitempty"`
	UID    int               `json:"uid"`
	GID    int               `json:"gid"`
	Xattrs map[string][]byte `json:"xattrs,omitempty"`
}

func (s FileState) String() string {
	if !s.Exists {
		return "absent"
	}
	return fmt.Sprintf("sha256:%s mode:%04o owner:%d:%d", short(s.SHA256), s.Mode, s.UID, s.GID)
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// statFile reads the state of path without following a final symlink. Only
// regular files are patchable: a symlink, directory or device at a target is
// an error naming it.
func statFile(path string) (FileState, error) {
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return FileState{}, nil
		}
		return FileState{}, &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return FileState{}, fmt.Errorf("%s is not a regular file", path)
	}
	sum, err := hashFile(path)
	if err != nil {
		return FileState{}, err
	}
	xa, err := readXattrs(path)
	if err != nil {
		return FileState{}, err
	}
	return FileState{Exists: true, SHA256: sum, Mode: st.Mode & 0o7777, UID: int(st.Uid), GID: int(st.Gid), Xattrs: xa}, nil
}

func hashFile(path string) (string, error) {
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

// readXattrs returns every extended attribute of path, or nil when there are
// none or the file system has none.
func readXattrs(path string) (map[string][]byte, error) {
	names, err := listXattrs(path)
	if err != nil || len(names) == 0 {
		return nil, err
	}
	out := make(map[string][]byte, len(names))
	for _, n := range names {
		buf := make([]byte, 256)
		for {
			sz, err := unix.Lgetxattr(path, n, buf)
			if errors.Is(err, unix.ERANGE) {
				buf = make([]byte, len(buf)*4)
				continue
			}
			if errors.Is(err, unix.ENODATA) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("read xattr %s of %s: %w", n, path, err)
			}
			out[n] = append([]byte{}, buf[:sz]...)
			break
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

func listXattrs(path string) ([]string, error) {
	buf := make([]byte, 1024)
	for {
		sz, err := unix.Llistxattr(path, buf)
		if errors.Is(err, unix.ERANGE) {
			buf = make([]byte, len(buf)*4)
			continue
		}
		if errors.Is(err, unix.ENOTSUP) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("list xattrs of %s: %w", path, err)
		}
		var names []string
		for _, n := range bytesSplitNul(buf[:sz]) {
			if n != "" {
				names = append(names, n)
			}
		}
		sort.Strings(names)
		return names, nil
	}
}

func bytesSplitNul(b []byte) []string {
	var out []string
	start := 0
	for i, c := range b {
		if c == 0 {
			out = append(out, string(b[start:i]))
			start = i + 1
		}
	}
	if start < len(b) {
		out = append(out, string(b[start:]))
	}
	return out
}

// setMeta gives path exactly the owner, mode and xattrs of s. The order
// matters: chown clears setuid bits and security.capability, so it comes
// first, then chmod, then the attributes.
func setMeta(path string, s FileState) error {
	if err := os.Lchown(path, s.UID, s.GID); err != nil {
		return fmt.Errorf("set owner of %s: %w", path, err)
	}
	if err := syscall.Chmod(path, s.Mode); err != nil {
		return fmt.Errorf("set mode of %s: %w", path, &fs.PathError{Op: "chmod", Path: path, Err: err})
	}
	cur, err := listXattrs(path)
	if err != nil {
		return err
	}
	for _, n := range cur {
		if _, keep := s.Xattrs[n]; !keep {
			if err := unix.Lremovexattr(path, n); err != nil && !errors.Is(err, unix.ENODATA) {
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
		if err := unix.Lsetxattr(path, n, s.Xattrs[n], 0); err != nil {
			return fmt.Errorf("set xattr %s of %s: %w", n, path, err)
		}
	}
	return nil
}

// copyFile copies src to a new file dst (which must not exist) with mode
// 0600; the caller sets the final metadata. It does not fsync: callers sync
// whole file systems once per phase (see syncFS).
func copyFile(dst string, src io.Reader) error {
	return copyNew(dst, src,
		func() (*os.File, error) { return os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600) },
		func() { os.Remove(dst) })
}

// copyNew writes src into the new file open creates, and removes it with
// remove when anything fails: copyFile and copyFileIn (through an os.Root)
// differ only in how the file is opened and removed.
func copyNew(name string, src io.Reader, open func() (*os.File, error), remove func()) (err error) {
	f, err := open()
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			remove()
		}
	}()
	if _, err := io.Copy(f, src); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

// syncFS makes everything written under paths durable with one syncfs(2) per
// file system. A phase writes many files (1,000 for a big patch); one
// syncfs commits them and their directory entries together, which is what
// fsync of every file and every directory would give, much faster (the same
// trade as "tar -x; sync").
func syncFS(paths []string) error {
	seen := map[uint64]bool{}
	for _, p := range paths {
		var st unix.Stat_t
		if err := unix.Stat(p, &st); err != nil {
			if errors.Is(err, unix.ENOENT) {
				continue
			}
			return &fs.PathError{Op: "stat", Path: p, Err: err}
		}
		if seen[st.Dev] {
			continue
		}
		seen[st.Dev] = true
		fd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return &fs.PathError{Op: "open", Path: p, Err: err}
		}
		err = unix.Syncfs(fd)
		unix.Close(fd)
		if err != nil {
			return &fs.PathError{Op: "syncfs", Path: p, Err: err}
		}
	}
	return nil
}

// dirsOf returns the distinct parent directories of paths.
func dirsOf(paths []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range paths {
		d := filepath.Dir(p)
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	return out
}

func newSHA256() hash.Hash { return sha256.New() }

// nlink returns the link count of a file.
func nlink(fi fs.FileInfo) (uint64, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return uint64(st.Nlink), true
}

func isEXDEV(err error) bool { return errors.Is(err, syscall.EXDEV) }
