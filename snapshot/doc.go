// Package snapshot owns clp's package-state snapshots: the record of every
// installed package (name, version, architecture, install reason) taken before
// and after each pacman transaction, on demand, and around a restore.
//
// It owns:
//   - the on-disk store under the state directory (<root>/var/lib/clp/snapshots):
//     an append-only index, append-only segment files of compressed records
//     (a full checkpoint followed by deltas), and a "pending pre" marker;
//   - pre/post pairing and orphan detection (see Store.Pre and Store.Post);
//   - Diff between two package sets and the RestorePlan that takes the current
//     set back to a snapshot's;
//   - the snapper backend (snapper.go): btrfs detection, snapper pre/post
//     snapshots linked to clp's, and the stale db.lck rule (dblock.go).
//
// It must not: run pacman or touch libalpm (callers pass the package set they
// read through package alpm, and a version comparison function), print or
// exit, or hold its lock while anything else runs. Its lock is its own
// (<dir>/.lock), never clp's global lock, because the pacman hooks that call
// it run while clp itself may hold the global lock around a pacman
// transaction.
package snapshot
