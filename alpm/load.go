package alpm

import (
	"strconv"
	"strings"

	galpm "github.com/Jguer/go-alpm/v2"
)

// libalpm is not linked into clp: go-alpm (third_party/go-alpm) loads it
// with dlopen on the first call of one of its functions, so the commands
// that never reach libalpm (update --check, --version... see README's
// Speed) do not pay for its ~48 shared libraries at every start.

// LoadError: libalpm could not be loaded (a broken pacman installation).
type LoadError = galpm.LoadError

// Load loads libalpm if it is not loaded yet, and says why it cannot. The
// functions here that return an error call it first; the others (VerCmp,
// LibalpmVersion) end the process with the same message when libalpm is
// missing, since they have no error to return.
func Load() error { return galpm.Load() }

// Soname is the libalpm clp loads, libalpm.so.N, fixed at build time.
func Soname() string { return galpm.Soname() }

// SonameMajor is Soname's N.
func SonameMajor() int {
	n, _ := strconv.Atoi(strings.TrimPrefix(Soname(), "libalpm.so."))
	return n
}

// Loaded loads libalpm and says which: its version (alpm_version) and the
// path the dynamic loader found it at ("" if it cannot say). For a caller
// that keeps the version (system.LibalpmVersion's cache).
func Loaded() (version, path string) { return galpm.Version(), galpm.Path() }
