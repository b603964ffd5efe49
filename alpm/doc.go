// Package alpm is the only part of clp that links libalpm (through the cgo
// bindings of go-alpm). It opens a read-only handle on the paths package
// pacman resolved and answers queries on the local and sync databases, and
// compares versions as libalpm does.
//
// It writes nothing: every change to installed packages goes through
// pacman.Runner, which execs the pacman binary. Nothing here prints or exits.
package alpm
