// Package snapshot owns clp's package-state snapshots: the record of every
// installed package (name, version, architecture, install reason) taken before
// and after each pacman transaction, on demand, and around a restore.
//
// It owns:
//   - the on-disk store under the state directory (<root>/var/lib/clp/snapshots),
//     format 2: an append-only line index (indexfmt.go) that also carries
//     the "pending pre" state, and append-only segment files of records (a
//     compressed full checkpoint followed by small deltas, codec.go);
//   - pre/post pairing and orphan detection (see Store.Pre and Store.Post);
//   - the fast read of pacman's local database for the hooks (ReadLocalDB);
//   - Diff between two package sets and the RestorePlan that takes the current
//     set back to a snapshot's (pkgtx carries a restore out);
//   - retention (Store.Retain: clp.conf's SnapshotKeep, sparing the snapshots
//     of patches still applied) and the patch-pre/patch-post pair recorded
//     around every patch transaction (PatchRecord);
//   - the snapper backend (snapper.go): btrfs detection, snapper pre/post
//     snapshots linked to clp's, and the stale db.lck rule (dblock.go);
//   - the wording of what clp snapshot shows (view.go: Snapshot.ListRow
//     and Fields, Pkg.Line, Change.Line), which cmd/clp prints.
//
// The hooks (clp hook pre|post) call it on every pacman transaction, so a
// hook's path must stay cheap: one append and one fdatasync to each of two
// files, nothing that grows with the number of snapshots kept beyond
// parsing their index lines, and no compressor set-up for a small delta.
// TestHookSyncs and BenchmarkHookCycle watch it; scripts/bench-hooks.sh
// measures it against pacman -Qq.
//
// It must not: run pacman or touch libalpm (callers pass the package set they
// read through libalpm, and a version comparison function; the hooks' fast
// path reads pacman's local database files itself), print or
// exit, or hold its lock while anything else runs. Its lock is its own
// (<dir>/.lock), never clp's global lock, because the pacman hooks that call
// it run while clp itself may hold the global lock around a pacman
// transaction.
package snapshot
