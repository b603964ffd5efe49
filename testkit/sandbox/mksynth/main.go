// Command mksynth makes a sandbox root whose local database holds N
// synthesized packages, for make bench: `mksynth DIR N`.
package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/vincentos/clp/testkit/sandbox"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: mksynth DIR N")
		os.Exit(2)
	}
	n, err := strconv.Atoi(os.Args[2])
	if err == nil {
		var r *sandbox.Root
		if err = os.MkdirAll(os.Args[1], 0o755); err == nil {
			r, err = sandbox.Create(os.Args[1])
		}
		if err == nil {
			err = sandbox.SynthesizeLocalDB(r.DBPath, n)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mksynth: error:", err)
		os.Exit(1)
	}
}
