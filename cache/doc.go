// Package cache finds package files: every version of a package that sits
// in pacman's cache directories, and every version an Arch-Linux-Archive
// style server offers; and it downloads one from such a server into clp's
// staging directory.
//
// It owns: parsing package file names (name-[epoch:]pkgver-pkgrel-arch
// .pkg.tar[.zst|.xz|.gz|.bz2]); reading a package's .PKGINFO, which wins
// when it disagrees with the file name; a pure-Go vercmp proven identical to
// libalpm's; listing archive directories; and resumable, size-capped,
// sha256-checked downloads with the detached .sig beside each package.
//
// It must not: install or remove packages or run pacman (pkgtx does,
// through pacman.Runner); print or exit (progress and warnings go through
// report.Reporter); write anywhere but the staging directory it is given,
// and never into a directory another user can write to; or turn a failed
// archive listing into an empty one — "could not ask" is an error, never
// "no older versions".
package cache
