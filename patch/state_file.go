package patch

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"path/filepath"
	"sort"
	"sync"
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

// hashReader is the hex sha256 of what f holds.
func hashReader(path string, f io.Reader) (string, error) {
	h := sha256.New()
	// One buffer from a pool, not io.Copy's: *os.File's WriteTo falls
	// back to a new 32 KiB buffer for every file, zeroed and then
	// collected, 1,000 times for a 1,000-file plan or rollback check.
	buf := hashBufs.Get().(*[]byte)
	defer hashBufs.Put(buf)
	if _, err := io.CopyBuffer(h, struct{ io.Reader }{f}, *buf); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

var hashBufs = sync.Pool{New: func() any { b := make([]byte, 128<<10); return &b }}

// readXattrsFd returns every extended attribute of the open file fd, or
// nil when there are none or the file system has none.
func readXattrsFd(path string, fd int) (map[string][]byte, error) {
	names, err := listXattrsFd(path, fd)
	if err != nil || len(names) == 0 {
		return nil, err
	}
	out := make(map[string][]byte, len(names))
	for _, n := range names {
		buf := make([]byte, 256)
		for {
			sz, err := unix.Fgetxattr(fd, n, buf)
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

func listXattrsFd(path string, fd int) ([]string, error) {
	buf := make([]byte, 1024)
	for {
		sz, err := unix.Flistxattr(fd, buf)
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

func isEXDEV(err error) bool { return errors.Is(err, syscall.EXDEV) }
