package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/rogpeppe/go-internal/testscript"
)

func init() {
	scriptCmds["mountedlayout"] = cmdMountedLayout
	scriptCmds["pacmanq"] = cmdPacmanQ
}

// mountedlayout DIR turns a sandbox root into the layout of a mounted
// installation: its pacman.conf names the system's own paths
// (/var/lib/pacman/, /etc/pacman.d/hooks/ ...), and it has no keyring and
// no hook folder, as a freshly mounted system may not. pacman reads such a
// pacman.conf's directories and Includes on this machine, and pacman 7
// refuses missing ones: clp must hand pacman the root's own.
func cmdMountedLayout(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: mountedlayout DIR")
	}
	r := scriptRoot(ts.MkAbs(args[0]))
	ts.Check(r.WriteChrootConfig(""))
	for _, d := range []string{"etc/pacman.d/gnupg", "etc/pacman.d/hooks"} {
		ts.Check(os.RemoveAll(filepath.Join(r.Dir, d)))
	}
	if _, err := os.Stat("/etc/pacman.d/clp-pins.conf"); err == nil {
		ts.Fatalf("this machine has its own /etc/pacman.d/clp-pins.conf: the script could not tell it from the root's")
	}
}

// pacmanq DIR prints `pacman -Q` of the root, asked through clp's runner
// (pacman itself, given the root's pacman.conf as it is, would read this
// machine's paths).
func cmdPacmanQ(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: pacmanq DIR")
	}
	out, err := scriptRoot(ts.MkAbs(args[0])).PacmanQuery("-Q")
	ts.Check(err)
	fmt.Fprint(ts.Stdout(), out)
}
