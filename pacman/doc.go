// Package pacman knows one pacman installation without linking libalpm:
// where its files are (pacman.conf read natively, Includes honoured, every
// path mapped under --root) and how to change it (Runner execs the pacman
// binary with every path named, as yay and paru do).
//
// It is pure Go on purpose: the pacman hooks, the cache and the test kit
// need paths and the runner, not cgo. Queries on the package databases are
// alpm's (the libalpm handle). Nothing here prints or exits.
package pacman
