package main

import (
	"github.com/vincentos/clp/pacman"
	"github.com/vincentos/clp/snapshot"
)

// patchSnap records the package state around a patch transaction
// (snapshot.PatchRecord). A snapshot that cannot be taken is a warning:
// the patch is the fix the machine needs, and its own journal makes it
// undoable.
type patchSnap struct {
	env *Env
	rec *snapshot.PatchRecord
}

func beginPatchSnap(env *Env, patchName string) *patchSnap {
	dbpath, err := pacman.LocalDBPath(env.System().Pacman)
	var rec *snapshot.PatchRecord
	if err == nil {
		rec, err = snapshot.BeginPatch(env.System().Root, snapshotDir(env), dbpath, patchName)
	}
	if err != nil {
		env.Warnf("no snapshot of patch %s: %v", patchName, err)
		return &patchSnap{env: env}
	}
	return &patchSnap{env: env, rec: rec}
}

// done writes the pair after a transaction that succeeded.
func (ps *patchSnap) done(what string) {
	if ps.rec == nil {
		return
	}
	pruneErr, err := ps.rec.Done(what, ps.env.retention())
	if err != nil {
		ps.env.Warnf("no snapshot of patch %s: %v", ps.rec.Patch(), err)
		return
	}
	if pruneErr != nil {
		ps.env.Warnf("snapshot retention: %v", pruneErr)
	}
}
