//go:build linux && (amd64 || arm64 || riscv64 || ppc64 || ppc64le || s390x)

package snapshot

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// descMtime returns the modification time (ns) of dirfd's entry name's
// desc file. path is scratch space the caller reuses: the path is built in
// it, so the 2,000 stats of a hook allocate nothing.
//
// A raw system call, not unix.Fstatat: a stat of a cached inode takes a
// few microseconds, and Go's scheduler hand-off around a blocking call
// (entersyscall, then sysmon taking the P from a call that looks slow and
// starting another thread for it) cost the hook more than the stats. The
// price: while a stat blocks (a database on a hung network file system),
// its thread keeps its P, so the hook's other goroutines (signal delivery)
// wait for it; the hook has nothing else to do then.
//
// Built for the architectures whose unix.Fstatat is this very call into
// Stat_t (mips64 converts another layout, loong64 uses statx); the others
// use statat_other.go.
func descMtime(dirfd int, name string, path *[]byte) (int64, error) {
	b := append(append((*path)[:0], name...), "/desc\x00"...)
	*path = b
	var st unix.Stat_t
	_, _, e := unix.RawSyscall6(unix.SYS_NEWFSTATAT, uintptr(dirfd), uintptr(unsafe.Pointer(&b[0])), uintptr(unsafe.Pointer(&st)), 0, 0, 0)
	if e != 0 {
		return 0, e
	}
	return st.Mtim.Nano(), nil
}
