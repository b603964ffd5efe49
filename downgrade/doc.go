// Package downgrade takes packages back to older versions, safely: it lists
// the versions a package is available in (pacman's cache directories and
// the Arch-Linux-Archive-style servers of clp.conf), chooses the version
// (asked, given, or the newest cached one below the installed), moves the
// packages that must move together (split packages of one pkgbase, and
// packages whose versioned dependencies the change would break) to matching
// versions, checks that every file is there (and its sha256 where one is
// pinned) before anything changes, and runs the one `pacman -U` that does
// it all through pacman.Runner. It also carries out a patch's package actions
// (Actor, the patch engine's PackageActor): downgrades with pinned sha256,
// pins, and their undo from package files it keeps in clp's state
// directory, so that cleaning the pacman cache never makes a rollback
// impossible.
//
// It must not: change installed packages other than through pacman.Runner
// (pacman keeps its own signature, conflict and dependency checks); turn an
// archive server that could not be asked into "no older versions"; print or
// exit (cmd/clp does; progress and warnings go through report.Reporter);
// take clp's state lock (its callers hold it: the CLI, or the patch engine
// around an Actor).
package downgrade
