// Package feed is clp's daily patch feed: a TUF repository (go-tuf v2) that
// every machine polls as root, unattended. It owns both sides of it:
//
//   - the publisher (Init, Add, SetPhase, Withdraw, Rotate, Resign,
//     Timestamp, with ParseLifetime for its lifetimes): keys, signed metadata (with each patch's rollout
//     percentage and withdrawal in its custom metadata) and the targets
//     folder a static HTTP server or mirror serves;
//   - the client (Client.Refresh, Client.Pending, Client.Download): the TUF
//     update workflow against the configured mirrors in order, the list of
//     patches newer than clp's own high-water mark (HighWater) or held below
//     it for a phased rollout, and verified downloads;
//   - the original tool's unsigned feed (LegacyMirrors, Client.FetchLegacyDB,
//     Client.FetchLegacyPatch), read only for machines that allow it.
//
// What it must not do: apply, unpack or even parse a patch (the caller hands
// the verified .clp to the apply engine in patch/), decide policy (which
// severities to apply, whether this machine is in a rollout's phase, what
// to do with a withdrawn patch, whether the legacy feed is allowed:
// clp.conf and package update decide), verify minisign signatures (the caller does, with the keys
// in /etc/clp/keys), print, or exit. Progress and per-mirror failures go to a
// report.Reporter.
//
// Every error that comes from a refused feed names the attack it looks like
// (tampering, rollback, freeze, mix-and-match, endless data, a key not in
// root) and wraps a sentinel (ErrTampered, ErrRollback, ...) so cmd/clp can
// map it to an exit code.
package feed
