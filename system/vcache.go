package system

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/google/renameio/v2"
)

// A pacman binary that no package database vouches for (a source build in
// /opt, another distribution's package) is asked for its version, a whole
// pacman process that loads libalpm and its libraries: most of what `clp
// --version` and `clp status` cost there. Its answer is kept in one small
// file of clp's in the user's cache directory, keyed by the binary's
// identity: its path, device, inode, size, modification and change times.
// Replacing or rewriting the binary changes the inode or the change time
// (which no one can set back), so a stale answer is never used. Only an
// ELF binary is cached: its version is compiled into it, whereas a script
// named pacman may run a binary that changes under it.
//
// The cache is best-effort: an unreadable, damaged or unwritable cache is
// the same as none (pacman is asked, as without it).

// versionCacheDir is where the cache file lives; a variable for the tests.
var versionCacheDir = func() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "clp"), nil
}

const (
	versionCacheFile = "pacman-version"
	versionCacheMax  = 4096 // bytes read of the cache file at most
	versionCacheHead = "clp pacman-version 1"
)

// binaryKey is path's identity, "" when it cannot be had or the file is no
// ELF binary.
func binaryKey(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return ""
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	magic := make([]byte, 4)
	if _, err := io.ReadFull(f, magic); err != nil || !bytes.Equal(magic, []byte("\x7fELF")) {
		return ""
	}
	return fmt.Sprintf("%s\x00%d %d %d %d.%09d %d.%09d", path, sys.Dev, sys.Ino, sys.Size,
		sys.Mtim.Sec, sys.Mtim.Nsec, sys.Ctim.Sec, sys.Ctim.Nsec)
}

// readVersionCache returns the cached version of the binary key names, or "".
func readVersionCache(key string) string {
	if key == "" {
		return ""
	}
	lines := readCacheLines(versionCacheFile)
	if len(lines) != 4 || lines[0] != versionCacheHead || lines[1] != key || lines[3] != "" {
		return ""
	}
	if !validVersion(lines[2]) {
		return ""
	}
	return lines[2]
}

// writeVersionCache records version for the binary key names.
func writeVersionCache(key, version string) {
	if key == "" || !validVersion(version) {
		return
	}
	dir, err := versionCacheDir()
	if err != nil {
		return
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return
	}
	data := versionCacheHead + "\n" + key + "\n" + version + "\n"
	if len(data) > versionCacheMax {
		return
	}
	_ = renameio.WriteFile(filepath.Join(dir, versionCacheFile), []byte(data), 0o600)
}

// validVersion: what pacmanVersionRE can match, and short.
func validVersion(v string) bool {
	return v != "" && len(v) <= 64 && !strings.ContainsFunc(v, func(r rune) bool { return r <= ' ' || r == 0x7f })
}

// readCacheLines reads the cache file name (at most versionCacheMax bytes)
// split in lines, or nil when it is missing, unreadable or too large.
func readCacheLines(name string) []string {
	dir, err := versionCacheDir()
	if err != nil {
		return nil
	}
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		return nil
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, versionCacheMax+1))
	if err != nil || len(data) > versionCacheMax {
		return nil
	}
	return strings.Split(string(data), "\n")
}
