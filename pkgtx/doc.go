// Package pkgtx is clp's one package-transaction layer: a downgrade, a pin,
// a patch's package actions, a snapshot restore and the boot guard's
// restore are the same job, and this package does it. It chooses versions
// (asked, given, the newest cached one below the installed, or a
// snapshot's), finds their files in pacman's cache directories and then on
// the Arch-Linux-Archive-style servers of clp.conf, moves the packages that
// must move together (split packages of one pkgbase, and packages whose
// versioned dependencies the change would break), checks every file (and
// its sha256 where one is pinned) before anything changes, lets the guard
// hook pass clp's own call, and runs one pacman transaction through
// pacman.Runner.
//
// Entry points: Downgrader (clp downgrade: ParseArgs and CheckNames read its
// arguments, Choose picks a version or returns the menu's, Listings are its
// --json), Actor (the patch engine's
// PackageActor: downgrades with pinned sha256, pins, and their undo from
// package files it keeps in clp's state directory, so that cleaning the
// pacman cache never makes a rollback impossible), and Restorer (a
// snapshot's package set: Plan, then Apply; Restore does both unasked).
// It reads the installed packages through the small Query interface, never
// a libalpm handle, so it links no cgo. What clp shows of a transaction is
// worded here as strings (Plan.Lines, Version.MenuRow, Restore.Lines and
// Restore.Report); cmd/clp prints them and runs the menu's terminal I/O.
//
// It must not: change installed packages other than through pacman.Runner
// (pacman keeps its own signature, conflict and dependency checks); turn an
// archive server that could not be asked into "no older versions"; print or
// exit (cmd/clp does; progress and warnings go through report.Reporter);
// take clp's state lock (its callers hold it: the CLI, or the patch engine
// around an Actor).
package pkgtx
