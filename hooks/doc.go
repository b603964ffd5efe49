// Package hooks owns clp's pacman hooks: the .hook files (embedded in the
// binary, installed by the package into /usr/share/libalpm/hooks and by
// `clp hooks install|remove|status` into <root>/etc/pacman.d/hooks), the
// handlers behind `clp hook pre|post|guard` (Handler: the pre/post
// snapshots with their snapper twins and retention, and the guard), and
// pins (an IgnorePkg include file plus the pre-transaction guard, making
// them from the installed versions (NewPins), and lifting a pin once the
// sync databases offer its fixed version). It words what clp shows of
// them (Pin.Line, Lifted.Line, ReadReport and Report.Rows for the hook
// files); cmd/clp prints it.
//
// A hook handler runs while pacman holds the database lock: it must never run
// pacman or write through libalpm, never prompt, and never fail a
// transaction except the guard by design.
//
// It links no cgo, HTTP or TUF (cmd/clp-hook, the binary the hook files
// run, is this package and what it imports; a test there keeps it so): the
// package databases are asked through VersionQuery and SyncQuery (cmd/clp
// passes libalpm's handle; clp-hook has none and hands a pinned target's
// guard to clp), versions compared with pacman's pure-Go VerCmp. Run is one
// hook run, shared by `clp hook` and clp-hook.
//
// It must not print or exit (cmd/clp does; warnings go through
// report.Reporter), and install.go writes only files whose names it ships,
// and removes only files whose content is clp's.
package hooks
