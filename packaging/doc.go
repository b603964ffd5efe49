// Package packaging holds the tests of clp's packaging for Vincent OS: the
// top-level PKGBUILD built by the real makepkg as an unprivileged user, the
// package installed into a throwaway pacman root by the real pacman (its
// install scriptlet and pacman hooks included), its file list checked
// against what the PKGBUILD and 'make install' promise, the installed clp
// run, and the package removed again without leftovers; and the man pages
// rendered by scdoc and man.
//
// It has no code of its own: it must never change the host (every build
// and every root lies in a test temporary directory; only the Go build
// cache of the build user is kept between runs, see goCache).
package packaging
