//go:build !(linux && (amd64 || arm64 || riscv64 || ppc64 || ppc64le || s390x))

package snapshot

import "golang.org/x/sys/unix"

// descMtime returns the modification time (ns) of dirfd's entry name's
// desc file (see statat_linux64.go; here through unix.Fstatat).
func descMtime(dirfd int, name string, _ *[]byte) (int64, error) {
	var st unix.Stat_t
	if err := unix.Fstatat(dirfd, name+"/desc", &st, 0); err != nil {
		return 0, err
	}
	return st.Mtim.Nano(), nil
}
