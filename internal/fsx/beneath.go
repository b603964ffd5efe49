package fsx

import (
	"errors"
	"io/fs"
	"os"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// The *Under helpers' fast path. os.Root resolves a path one component at
// a time (an openat, an fstat and a close for every folder on the way:
// eleven system calls to open /var/lib/clp/snapshots/index under a
// root), and the hooks make about twenty such operations. openat2(2)
// with RESOLVE_BENEATH makes the same walk in the kernel, in one call:
// every component, links included, is resolved inside the root, and a
// path that would lead out of it (an absolute link, a ".." above the
// root) fails with EXDEV, as os.Root refuses it. RESOLVE_NO_MAGICLINKS
// refuses /proc's links, which os.Root cannot follow either.
//
// The fast path only ever decides a success: on any error (a missing
// file, an escape, a kernel without openat2) the operation is made again
// through os.Root, which then gives the answer and the error it always
// gave. Both resolve the path inside the root at the moment of the
// operation, so the fast path changes what it costs, not what it does.

// noBeneath is set once openat2 turned out to be missing (ENOSYS): os.Root
// alone from then on. (A seccomp filter's EPERM is not remembered: it
// costs one call more per operation, and a real EPERM is os.Root's to
// report.)
var noBeneath atomic.Bool

// openBeneath opens rel, a local name under root, with flags (O_CLOEXEC
// added) in one openat2 call resolved beneath root. ok is false when the
// caller must take the os.Root path instead (any error: that path gives
// the answer). name is what os.Root would name the file.
func openBeneath(root, rel string, flags int, perm fs.FileMode) (fd int, name string, ok bool) {
	if NoOpenat2 || noBeneath.Load() {
		return -1, "", false
	}
	rootFd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, "", false
	}
	how := &unix.OpenHow{
		Flags:   uint64(flags) | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS,
	}
	if flags&(unix.O_CREAT|unix.O_TMPFILE) != 0 {
		how.Mode = uint64(syscallMode(perm))
	}
	fd, err = openat2Retry(rootFd, rel, how)
	unix.Close(rootFd)
	if err != nil {
		if errors.Is(err, unix.ENOSYS) {
			noBeneath.Store(true)
		}
		return -1, "", false
	}
	return fd, joinRootName(root, rel), true
}

// fileBeneath is openBeneath as an *os.File.
func fileBeneath(root, rel string, flags int, perm fs.FileMode) (*os.File, bool) {
	fd, name, ok := openBeneath(root, rel, flags, perm)
	if !ok {
		return nil, false
	}
	return os.NewFile(uintptr(fd), name), true
}

// joinRootName is the name os.Root gives a file it opened: its own name
// and the name inside it, joined.
func joinRootName(root, rel string) string {
	if len(root) > 0 && os.IsPathSeparator(root[len(root)-1]) {
		return root + rel
	}
	return root + "/" + rel
}

// syscallMode is os's conversion of a FileMode for open(2) and mkdir(2).
func syscallMode(m fs.FileMode) uint32 {
	o := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		o |= unix.S_ISUID
	}
	if m&fs.ModeSetgid != 0 {
		o |= unix.S_ISGID
	}
	if m&fs.ModeSticky != 0 {
		o |= unix.S_ISVTX
	}
	return o
}

// regularBeneath is OpenRegularIn's open and checks on the fast path: the
// file is returned only when it is a regular file of at most max bytes
// (otherwise os.Root opens it again and reports what is wrong).
func regularBeneath(root, rel string, max int64) (*os.File, bool) {
	f, ok := fileBeneath(root, rel, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOCTTY, 0)
	if !ok {
		return nil, false
	}
	f, err := checkRegular(f, f.Name(), max)
	return f, err == nil
}
