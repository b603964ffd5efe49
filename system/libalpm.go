package system

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/google/renameio/v2"
)

// clp loads libalpm only when a command first calls it (go-alpm's
// trampolines, third_party/go-alpm). clp status and clp --version need
// nothing of it but its version, and loading it for that (its ~48 shared
// libraries) was most of what they cost. The version is kept in a second
// small file beside pacman's version (see vcache.go), keyed by what
// decides which file the dynamic loader opens for libalpm.so.N: the clp
// binary (its own search paths), /etc/ld.so.cache, the library file found
// the last time (path and identity), and no LD_LIBRARY_PATH, LD_PRELOAD,
// LD_AUDIT, GLIBC_TUNABLES or /etc/ld.so.preload, which could change the
// search: with any of them, libalpm is loaded and asked, as before.
// Upgrading pacman replaces the library (a new inode) and runs ldconfig (a
// new ld.so.cache), so a stale answer is not used.

const (
	libalpmCacheFile = "libalpm-version"
	libalpmCacheHead = "clp libalpm-version 1"
	ldCache          = "/etc/ld.so.cache"
)

// loaderEnv are the environment variables that change what the dynamic
// loader opens.
var loaderEnv = []string{"LD_LIBRARY_PATH", "LD_PRELOAD", "LD_AUDIT", "GLIBC_TUNABLES"}

// selfPath is the running clp's binary; a variable for the tests.
var selfPath = os.Executable

// LibalpmVersion is the version of the libalpm clp loads (soname,
// libalpm.so.N), kept from an earlier run when the loader would find the
// same file, else from load, which loads libalpm and returns its version
// and the path the loader found it at.
func LibalpmVersion(soname string, load func() (version, path string)) string {
	key := loaderKey(soname)
	if v := readLibalpmCache(key); v != "" {
		return v
	}
	v, path := load()
	if key != "" && path != "" && !strings.ContainsAny(path, "\n\x00") {
		if lib := binaryKey(path); lib != "" {
			writeLibalpmCache(key, path, lib, v)
		}
	}
	return v
}

// loaderKey is what, besides the library file, decides the loader's
// search for soname: "" when the environment may change it.
func loaderKey(soname string) string {
	for _, e := range loaderEnv {
		if os.Getenv(e) != "" {
			return ""
		}
	}
	if _, err := os.Lstat("/etc/ld.so.preload"); err == nil {
		return ""
	}
	self, err := selfPath()
	if err != nil {
		return ""
	}
	exe, ld := binaryKey(self), fileKey(ldCache)
	if exe == "" || ld == "" || strings.ContainsAny(soname, "\n\x00") {
		return ""
	}
	return strings.NewReplacer("\n", " ", "\x00", " ").Replace(soname + "\x00" + exe + "\x00" + ld)
}

// fileKey is a regular file's identity, like binaryKey's, for any file.
func fileKey(path string) string {
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() {
		return ""
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	return fmt.Sprintf("%s %d %d %d %d.%09d %d.%09d", path, sys.Dev, sys.Ino, sys.Size,
		sys.Mtim.Sec, sys.Mtim.Nsec, sys.Ctim.Sec, sys.Ctim.Nsec)
}

// readLibalpmCache returns the kept version when the cache was written
// under key and its library file is still the same, or "".
func readLibalpmCache(key string) string {
	if key == "" {
		return ""
	}
	// head, loader key, library path, library key (binaryKey), version.
	lines := readCacheLines(libalpmCacheFile)
	if len(lines) != 6 || lines[0] != libalpmCacheHead || lines[1] != key || lines[5] != "" {
		return ""
	}
	if lib := binaryKey(lines[2]); lib == "" || strings.ReplaceAll(lib, "\x00", " ") != lines[3] {
		return ""
	}
	if !validVersion(lines[4]) {
		return ""
	}
	return lines[4]
}

func writeLibalpmCache(key, path, lib, version string) {
	if !validVersion(version) {
		return
	}
	dir, err := versionCacheDir()
	if err != nil {
		return
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return
	}
	data := libalpmCacheHead + "\n" + key + "\n" + path + "\n" + strings.ReplaceAll(lib, "\x00", " ") + "\n" + version + "\n"
	if len(data) > versionCacheMax {
		return
	}
	_ = renameio.WriteFile(filepath.Join(dir, libalpmCacheFile), []byte(data), 0o600)
}
