//go:build linux

package cache

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"

	"github.com/vincentos/clp/internal/fsx"
)

// readNamesWithPrefix lists the entry names in dir that start with one of
// prefixes. It reads the raw getdents64 records into one 32 KiB buffer and
// compares prefixes on the bytes, so the thousands of other packages in a
// cache cost neither a stat nor a string allocation; that is what lets a
// lookup in a 20,000-file cache keep pace with find(1), which does the same.
//
// Under a mounted root the directory is opened anchored to it
// (fsx.OpenUnder); for the root "/" it is one open(2), as before.
func readNamesWithPrefix(root, dir string, prefixes []string) ([]string, error) {
	var fd int
	if _, under := fsx.Under(root, dir); under && filepath.Clean(root) != "/" {
		f, err := fsx.OpenUnder(root, dir)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if fi, err := f.Stat(); err != nil || !fi.IsDir() {
			return nil, &os.PathError{Op: "open", Path: dir, Err: syscall.ENOTDIR}
		}
		fd = int(f.Fd())
	} else {
		var err error
		fd, err = syscall.Open(dir, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: dir, Err: err}
		}
		defer syscall.Close(fd)
	}
	pre := make([][]byte, len(prefixes))
	for i, p := range prefixes {
		pre[i] = []byte(p)
	}
	buf := make([]byte, 32<<10)
	var names []string
	for {
		n, err := syscall.Getdents(fd, buf)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "getdents", Path: dir, Err: err}
		}
		if n <= 0 {
			return names, nil
		}
		// struct linux_dirent64: d_ino u64, d_off s64, d_reclen u16,
		// d_type u8, d_name NUL-terminated.
		for off := 0; off+19 <= n; {
			reclen := int(buf[off+16]) | int(buf[off+17])<<8
			if reclen < 19 || off+reclen > n {
				return nil, &os.PathError{Op: "getdents", Path: dir, Err: syscall.EIO}
			}
			name := buf[off+19 : off+reclen]
			if i := bytes.IndexByte(name, 0); i >= 0 {
				name = name[:i]
			}
			off += reclen
			for _, p := range pre {
				if bytes.HasPrefix(name, p) {
					names = append(names, string(name))
					break
				}
			}
		}
	}
}
