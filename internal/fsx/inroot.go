package fsx

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// NoOpenat2 makes ResolveInRoot act as on a kernel without openat2(2)
// (tests: the fallback must hold).
var NoOpenat2 bool

// ResolveInRoot is p, one of clp's own folders or files under a mounted
// root (its state folder, /opt/CLP, its log folder), with the symbolic
// links of its longest existing part resolved as the installed system
// itself resolves them once booted: an absolute link target is taken
// against root, as chroot would (openat2(2) RESOLVE_IN_ROOT, the kernel's
// own walk, which cannot leave root), so "<root>/opt -> /data/opt" is
// "<root>/data/opt". The rest of p, which does not exist yet, is kept as
// it is. It is meant to be called once, before clp anchors its work to
// the result (os.Root, RESOLVE_BENEATH), which then meets no link and
// still refuses one swapped in later. p is returned unchanged for the
// root "/" (the engine takes its folders where they really are there),
// for a p not under root, when nothing of it resolves to a place inside
// root, and on a kernel without openat2 (before Linux 5.6): the anchoring
// then refuses an absolute link, as strict as before.
func ResolveInRoot(root, p string) string {
	if root == "" || filepath.Clean(root) == "/" || NoOpenat2 {
		return p
	}
	rel, ok := Under(root, p)
	if !ok {
		return p
	}
	rootFd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return p
	}
	defer unix.Close(rootFd)
	rootReal, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", rootFd))
	if err != nil {
		return p
	}
	how := &unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS}
	rest := ""
	for dir := rel; ; {
		fd, err := openat2Retry(rootFd, dir, how)
		if err == nil {
			real, rerr := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd))
			unix.Close(fd)
			if rerr != nil {
				return p
			}
			inside, ok := Under(rootReal, real)
			if !ok {
				return p
			}
			return filepath.Join(root, inside, rest)
		}
		if !errors.Is(err, unix.ENOENT) || dir == "." {
			// ENOSYS (no openat2), EPERM (a seccomp filter), ENOTDIR
			// and the like: left to the anchoring to judge.
			return p
		}
		rest = filepath.Join(filepath.Base(dir), rest)
		dir = filepath.Dir(dir)
	}
}

// openat2Retry is openat2(2), tried again when a rename raced with the
// resolution (EAGAIN).
func openat2Retry(dirFd int, name string, how *unix.OpenHow) (int, error) {
	for try := 0; ; try++ {
		fd, err := unix.Openat2(dirFd, name, how)
		if errors.Is(err, unix.EAGAIN) && try < 8 {
			continue
		}
		return fd, err
	}
}
