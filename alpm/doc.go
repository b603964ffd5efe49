// Package alpm is the only part of clp that calls libalpm (through the cgo
// bindings of go-alpm, vendored in third_party/go-alpm, which loads
// libalpm with dlopen at its first call instead of linking it: see
// load.go). It opens a read-only handle on the paths package
// pacman resolved and answers queries on the local and sync databases, and
// compares versions as libalpm does.
//
// It writes nothing: every change to installed packages goes through
// pacman.Runner, which execs the pacman binary. Nothing here prints or
// exits, but for one case: a libalpm call that has no error to return
// (VerCmp, LibalpmVersion) when libalpm cannot be loaded ends the process
// in go-alpm's load.c with clp's message and exit code 7; the functions
// that return an error return a *LoadError instead.
package alpm
