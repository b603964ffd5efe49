// Command clp is Core LivePatch: it applies signed patches that fix critical
// system files and pin package downgrades, snapshots every change, and rolls
// any of it back. See `clp help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
