// Command mksandbox makes a sandbox root for `make demo` and for trying clp
// by hand: the NVIDIA black-screen situation (driver 560.35.03 installed,
// 550.78 in the package cache), built and installed by real makepkg and
// pacman. It only writes under the directory it is given (and the fixture
// cache in $TMPDIR). Both driver versions are in its package cache, as pacman
// leaves them, and (like every sandbox root) its clp.conf names no archive
// server.
//
// With -chroot BIN (repeatable), the root can also run pacman's hooks:
// pacman runs a hook chrooted into the root, so the binaries the hooks
// call (clp) and the shared libraries they need are copied in; -install
// SRC:PATH copies a static binary to PATH in the root (clp-hook to
// usr/lib/clp/clp-hook, where the hook files run it).
//
//	go run ./testkit/sandbox/mksandbox [-chroot BIN]... [-install SRC:PATH]... DIR
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/vincentos/clp/testkit/sandbox"
)

type binList []string

func (b *binList) String() string     { return strings.Join(*b, ",") }
func (b *binList) Set(s string) error { *b = append(*b, s); return nil }

func main() {
	var bins, installs binList
	flag.Var(&bins, "chroot", "make the root able to run `BIN` in pacman's hooks (repeatable)")
	flag.Var(&installs, "install", "copy the static binary SRC to `SRC:PATH` in the root (repeatable)")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: mksandbox [-chroot BIN]... [-install SRC:PATH]... DIR")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), bins, installs); err != nil {
		fmt.Fprintln(os.Stderr, "mksandbox: error:", err)
		os.Exit(1)
	}
}

func run(dir string, bins, installs []string) error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("pacman installs only as root: run as root (the root is still only %s)", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// The first run builds the test packages with makepkg (minutes); say
	// so, and what is built. Later runs reuse them (keyed by their
	// PKGBUILDs) and print nothing here.
	fx, err := sandbox.BuildFixtures("", os.Stderr)
	if err != nil {
		return err
	}
	r, err := sandbox.Create(dir)
	if err != nil {
		return err
	}
	files := append(fx.Paths(sandbox.Broken, sandbox.NVIDIA...), fx.Path("clp-testconf", "1.0-1"))
	if err := r.Install(files...); err != nil {
		return err
	}
	// pacman -S keeps what it installs in the cache, so a real machine has
	// both drivers there.
	if err := r.Cache(append(fx.Paths(sandbox.Good, sandbox.NVIDIA...), fx.Paths(sandbox.Broken, sandbox.NVIDIA...)...)...); err != nil {
		return err
	}
	if len(bins) > 0 {
		if err := r.MakeChrootable(bins...); err != nil {
			return err
		}
	}
	for _, in := range installs {
		src, rel, ok := strings.Cut(in, ":")
		if !ok || rel == "" || filepath.IsAbs(rel) || strings.Contains(rel, "..") {
			return fmt.Errorf("-install %q: want SRC:PATH, PATH relative to the root", in)
		}
		if err := r.InstallAt(src, rel); err != nil {
			return err
		}
	}
	fmt.Printf("sandbox root: %s\nfixtures: %s\n", r.Dir, fx.Dir)
	return nil
}
