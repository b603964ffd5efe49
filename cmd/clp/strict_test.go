package main

import (
	"os"
	"strconv"

	"github.com/rogpeppe/go-internal/testscript"
)

func init() {
	scriptCmds["chown"] = cmdChown
}

// chown UID PATH: give PATH (not following a symlink) to user UID, as
// another user would leave a file (the StrictModes tests: nobody is 65534).
func cmdChown(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: chown UID PATH")
	}
	uid, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("chown: %v", err)
	}
	ts.Check(os.Lchown(ts.MkAbs(args[1]), uid, uid))
}
