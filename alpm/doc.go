// Package alpm is the only part of clp that talks to libalpm (through the
// cgo bindings of go-alpm) and the only part that runs pacman.
//
// It reads: it opens a libalpm handle configured from pacman.conf (through
// pacman-conf, so Include lines are honoured), with every path mapped under
// --root, and answers queries on the local and sync databases. It writes
// nothing itself: every change to installed packages goes through Runner,
// which execs the pacman binary, exactly as yay and paru do. Nothing here
// prints or exits.
package alpm
