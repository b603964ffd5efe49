package cache

import "github.com/vincentos/clp/pacman"

// VerCmp compares two package versions as libalpm's alpm_pkg_vercmp does
// (pacman.VerCmp, the pure-Go port; it lives in pacman so that the hook
// binary can compare versions without importing cache's HTTP fetcher).
func VerCmp(a, b string) int { return pacman.VerCmp(a, b) }

// SatisfiesConstraint is pacman.SatisfiesConstraint.
func SatisfiesConstraint(version, constraint string) (bool, error) {
	return pacman.SatisfiesConstraint(version, constraint)
}
