package main

import (
	"time"

	"github.com/vincentos/clp/snapshot"
)

// Snapshot kinds clp records around its own patch transactions. They are
// not pacman hook pre/post snapshots (those pair through the store's
// pending pre, and a patch's pacman run records its own pair inside these).
const (
	kindPatchPre  = "patch-pre"
	kindPatchPost = "patch-post"
)

// patchSnap records the package state before and after clp applies or
// rolls back a patch, linked to the patch, so every patch is recorded even
// when it changes only files and pacman never runs. The state before is
// read first and written only once the transaction succeeded: a refused or
// rolled-back transaction changed nothing and leaves no trace. A snapshot
// that cannot be taken is a warning: the patch is the fix the machine
// needs, and its own journal makes it undoable.
type patchSnap struct {
	env   *Env
	patch string
	at    time.Time
	pkgs  []snapshot.Pkg
	ok    bool
}

func beginPatchSnap(env *Env, patchName string) *patchSnap {
	ps := &patchSnap{env: env, patch: patchName, at: time.Now()}
	// Only read here: opening the store would create it, and a refused
	// transaction must change nothing.
	dbpath, err := hookDBPath(env)
	if err == nil {
		ps.pkgs, err = snapshot.ReadLocalDB(dbpath, nil, time.Time{})
	}
	if err != nil {
		env.Warnf("no snapshot of patch %s: %v", patchName, err)
		return ps
	}
	ps.ok = true
	return ps
}

// done writes the pair after a transaction that succeeded.
func (ps *patchSnap) done(what string) {
	if !ps.ok {
		return
	}
	env := ps.env
	st, dbpath, err := openSnapStore(env)
	var after []snapshot.Pkg
	if err == nil {
		after, err = installedFast(env, st, dbpath)
	}
	var pre int
	if err == nil {
		pre, err = st.Create(snapshot.Snapshot{Time: ps.at, Kind: kindPatchPre, Patch: ps.patch, Description: "before " + what, Packages: ps.pkgs})
	}
	if err == nil {
		_, err = st.Create(snapshot.Snapshot{Kind: kindPatchPost, Patch: ps.patch, Description: "after " + what, PairID: pre, Packages: after})
	}
	if err != nil {
		env.Warnf("no snapshot of patch %s: %v", ps.patch, err)
		return
	}
	if _, err := pruneSnapshots(env, st); err != nil {
		env.Warnf("snapshot retention: %v", err)
	}
}

func openSnapStore(env *Env) (*snapshot.Store, string, error) {
	dbpath, err := hookDBPath(env)
	if err != nil {
		return nil, "", err
	}
	st, err := snapshot.Open(snapshotDir(env))
	return st, dbpath, err
}
