// Package update is `clp update`'s policy: which patches the signed feed
// (package feed) or the original tool's legacy feed offer are new and fit
// this machine (architecture, package requirements, UpdatePolicy, clp's
// own high-water mark of applied sequence numbers, clp history for the
// unsigned legacy feed), applying them in sequence order, recording the
// run in <state>/last-update.json, and lifting the pins whose fixed
// version shipped.
//
// It applies a patch through Applier, which cmd backs with the path of
// `clp apply`, so a feed patch goes through exactly what a hand-carried one
// does; it reads the installed packages through the same interface.
//
// It must not: print or exit (cmd prints the Report and what Observer
// hears; progress goes through report.Reporter); trust a feed patch that
// the feed's metadata did not verify, or a legacy patch without its
// minisign signature; move the high-water mark before a patch is applied.
package update
