// Package nspawn boots a real systemd in systemd-nspawn for tests of what
// only a running systemd can show: units, timers, the boot guard, anything
// that spans a reboot. It works on a host whose own PID 1 is not systemd.
//
// The tree is a Debian bookworm minbase with systemd and pacman, built once
// with mmdebstrap from the Debian mirror this machine's apt uses and cached
// under /var/tmp by a key of everything that goes into it (suite, package
// list, mirror, the customization below); a test boots its own copy, so the
// cache is never changed. A Machine boots, powers off, is "unplugged"
// (SIGKILL to its PID 1: a boot that never shut down), and runs commands
// inside through nsenter. ClpPackage builds the clp package from the
// PKGBUILD with the real makepkg, once per content of the source.
//
// It must never touch the host outside its cache directories and the
// test's temporary directories: not the host's systemd, /etc or pacman.
// Everything it cannot have (root, systemd-nspawn, mmdebstrap, a mirror, a
// kernel that lets nspawn boot) makes the test skip, saying why.
package nspawn
