// Package sandbox makes throwaway pacman installations for tests and for
// `make demo`: a root directory with its own pacman.conf, local database,
// package cache and log, changed only by the real pacman binary. It also
// builds the fixture packages of testdata/pkgbuilds with the real makepkg,
// once per content of those PKGBUILDs, and records a whole tree's state so a
// test can prove that a refused command changed nothing.
//
// It must never touch the host: every path it makes lies under a directory
// it was given or a temporary directory.
package sandbox
