package fsx

import (
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"sort"
	"syscall"

	"golang.org/x/sys/unix"
)

// ReadDirFile lists the folder d, opened anchored (in an os.Root, or by
// OpenUnder), with each entry's type from the directory listing itself,
// as os.ReadDir does for a folder opened by path: no system call per
// entry. A folder opened in an os.Root gets no such listing from the os
// package: it stats every entry once more (fstatat), since the lazy
// Info of a plain listing would look the entry up by path string, which
// is what a folder anchored in a root must not do. 2,000 stats made `clp
// --root R status` and the recovery's look at the local database pay for
// types the kernel had already given.
//
// An entry whose type the file system did not give (DT_UNKNOWN: some
// file systems leave it out) is lstat'ed relative to d (anchored: one
// name inside d, links not followed) while d is open. The entries' Info
// returns an error: a caller that needs a file's details lstats the
// entry anchored itself. Entries are in directory order, as
// (*os.File).ReadDir gives them.
func ReadDirFile(d *os.File) ([]fs.DirEntry, error) {
	var out []fs.DirEntry
	buf := make([]byte, 32<<10)
	rc, err := d.SyscallConn()
	if err != nil {
		return nil, &fs.PathError{Op: "readdirent", Path: d.Name(), Err: err}
	}
	for {
		var n int
		var rerr error
		if err := rc.Control(func(fd uintptr) {
			rerr = ignoringEINTR(func() (err error) { n, err = unix.ReadDirent(int(fd), buf); return err })
		}); err != nil {
			return out, &fs.PathError{Op: "readdirent", Path: d.Name(), Err: err}
		}
		if rerr != nil {
			return out, &fs.PathError{Op: "readdirent", Path: d.Name(), Err: rerr}
		}
		if n <= 0 {
			return out, nil
		}
		var perr error
		out, perr = parseDirents(d, rc, buf[:n], out)
		if perr != nil {
			return out, perr
		}
	}
}

// ReadDirSortedFile is ReadDirFile sorted by name, as os.ReadDir is.
func ReadDirSortedFile(d *os.File) ([]fs.DirEntry, error) {
	ents, err := ReadDirFile(d)
	sort.Slice(ents, func(i, j int) bool { return ents[i].Name() < ents[j].Name() })
	return ents, err
}

// parseDirents appends the linux_dirent64 records in b to out: d_ino (8
// bytes), d_off (8), d_reclen (2), d_type (1), then the name, NUL-ended.
func parseDirents(d *os.File, rc syscall.RawConn, b []byte, out []fs.DirEntry) ([]fs.DirEntry, error) {
	const head = 19
	for len(b) > 0 {
		if len(b) < head {
			return out, &fs.PathError{Op: "readdirent", Path: d.Name(), Err: errors.New("short directory record")}
		}
		reclen := int(binary.NativeEndian.Uint16(b[16:18]))
		if reclen < head || reclen > len(b) {
			return out, &fs.PathError{Op: "readdirent", Path: d.Name(), Err: errors.New("bad directory record length")}
		}
		rec := b[:reclen]
		b = b[reclen:]
		if binary.NativeEndian.Uint64(rec[0:8]) == 0 { // a removed entry
			continue
		}
		name := rec[head:]
		for i, c := range name {
			if c == 0 {
				name = name[:i]
				break
			}
		}
		if len(name) == 0 || string(name) == "." || string(name) == ".." {
			continue
		}
		e := &dirent{name: string(name), dir: d.Name()}
		switch rec[18] {
		case unix.DT_REG:
			e.typ = 0
		case unix.DT_DIR:
			e.typ = fs.ModeDir
		case unix.DT_LNK:
			e.typ = fs.ModeSymlink
		case unix.DT_FIFO:
			e.typ = fs.ModeNamedPipe
		case unix.DT_SOCK:
			e.typ = fs.ModeSocket
		case unix.DT_CHR:
			e.typ = fs.ModeDevice | fs.ModeCharDevice
		case unix.DT_BLK:
			e.typ = fs.ModeDevice
		default: // DT_UNKNOWN: lstat it, relative to d
			t, err := typeIn(rc, d.Name(), e.name)
			if errors.Is(err, fs.ErrNotExist) {
				continue // removed since the listing, as os.ReadDir skips it
			}
			if err != nil {
				return out, err
			}
			e.typ = t
		}
		out = append(out, e)
	}
	return out, nil
}

// typeIn is the file type of name inside the folder whose descriptor rc
// has, by lstat relative to it.
func typeIn(rc syscall.RawConn, dir, name string) (fs.FileMode, error) {
	var st unix.Stat_t
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = ignoringEINTR(func() error { return unix.Fstatat(int(fd), name, &st, unix.AT_SYMLINK_NOFOLLOW) })
	}); err != nil {
		return 0, err
	}
	if serr != nil {
		return 0, &fs.PathError{Op: "lstat", Path: dir + "/" + name, Err: serr}
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		return 0, nil
	case unix.S_IFDIR:
		return fs.ModeDir, nil
	case unix.S_IFLNK:
		return fs.ModeSymlink, nil
	case unix.S_IFIFO:
		return fs.ModeNamedPipe, nil
	case unix.S_IFSOCK:
		return fs.ModeSocket, nil
	case unix.S_IFCHR:
		return fs.ModeDevice | fs.ModeCharDevice, nil
	case unix.S_IFBLK:
		return fs.ModeDevice, nil
	}
	return fs.ModeIrregular, nil
}

func ignoringEINTR(f func() error) error {
	for {
		if err := f(); err != unix.EINTR {
			return err
		}
	}
}

// dirent is one entry of ReadDirFile.
type dirent struct {
	name, dir string
	typ       fs.FileMode
}

func (e *dirent) Name() string      { return e.name }
func (e *dirent) IsDir() bool       { return e.typ.IsDir() }
func (e *dirent) Type() fs.FileMode { return e.typ }
func (e *dirent) String() string    { return fs.FormatDirEntry(e) }

// errNoInfo is Info's answer: the entry was listed without its details.
var errNoInfo = errors.New("listed without file details (lstat the entry inside the root)")

func (e *dirent) Info() (fs.FileInfo, error) {
	return nil, &fs.PathError{Op: "info", Path: e.dir + "/" + e.name, Err: errNoInfo}
}
