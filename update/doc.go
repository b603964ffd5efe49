// Package update is `clp update`'s policy: which patches the signed feed
// (package feed) or the original tool's legacy feed offer are new and fit
// this machine (architecture, package requirements, UpdatePolicy, the
// rollout phase from the machine's bucket and PhasedUpdates, clp's own
// high-water mark of applied sequence numbers, clp history for the
// unsigned legacy feed), applying them in sequence order; rolling back (or
// reporting, per WithdrawnPatches) applied patches the feed withdrew;
// recording the run in <state>/last-update.json and what clp status
// reports to a fleet (ReadFleet); lifting the pins whose fixed version
// shipped; whether a feed is configured at all (Configured); and the
// wording of what a source offers (Report.Listing), which cmd prints.
//
// It applies a patch through Applier, which cmd backs with the path of
// `clp apply`, so a feed patch goes through exactly what a hand-carried one
// does; it reads the installed packages through the same interface.
//
// It must not: send the machine id, or anything else, anywhere (the
// bucket is a one-way hash used only here); print or exit (cmd prints the Report and what Observer
// hears; progress goes through report.Reporter); trust a feed patch that
// the feed's metadata did not verify, or a legacy patch without its
// minisign signature; move the high-water mark before a patch is applied.
package update
