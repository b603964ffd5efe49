// Package boot is the boot guard: after a transaction that changed a
// boot-critical package, the next boots are judged, and after too many
// failed or silent ones the pre-transaction snapshot is restored early in
// the following boot, once.
//
// It owns the guard's durable state (<state>/boot-guard.json, checksummed
// and validated on every read: a damaged file is reported and kept, never
// obeyed or deleted), the arming rule (which packages are boot-critical),
// boot counting (a boot that never reported counts as failed), the verdict
// of a boot (default target, display manager, the admin's checks in
// /etc/clp/boot-checks.d/, a time limit), the kernel command line options
// clp.guard=off and clp.rollback=1, the decision to restore, and the
// report clp boot status and clp status show (Guard.Report, Report.Fields).
//
// It must not restore anything itself: the restore goes through a Restorer
// that the caller hands in (today cmd/clp's snapshot-restore and rollback
// code), so there is one piece of code that changes packages. It never
// prints and never exits: messages go to the Log function it is given and
// to /var/log/CLP.log. It asks systemd only through the Systemd interface,
// and never runs pacman.
package boot
