package sandbox

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vincentos/clp/internal/fsx"
)

// SwapAtLastMoment arranges that, just before clp's nth (from 1) anchored
// file operation (fsx's *Under helpers) on a path whose name contains at,
// the folder dir (inside a test root) is moved aside (to dir+".moved")
// and a symbolic link to outside put in its place: what an attacker
// would do between clp's checks and its write. It reports whether the
// swap happened (a test whose operation never reached the helper must
// fail, not pass for the wrong reason). The hook is removed at the end
// of the test; the test must not be parallel.
func SwapAtLastMoment(tb testing.TB, at string, nth int, dir, outside string) (swapped func() bool) {
	tb.Helper()
	done, seen := false, 0
	fsx.BeforeUnder = func(p string) {
		if done || !strings.Contains(p, at) {
			return
		}
		if seen++; seen < nth {
			return
		}
		done = true
		if err := os.Rename(dir, dir+".moved"); err != nil && !os.IsNotExist(err) {
			tb.Errorf("swap %s: %v", dir, err)
			return
		}
		if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
			tb.Errorf("swap %s: %v", dir, err)
		}
		if err := os.Symlink(outside, dir); err != nil {
			tb.Errorf("swap %s: %v", dir, err)
		}
	}
	tb.Cleanup(func() { fsx.BeforeUnder = nil })
	return func() bool { return done }
}

// AssertEscapeRefused is the end of a swap test: the operation reached
// the swapped folder (swapped, from SwapAtLastMoment), nothing under
// outside changed since before, and the operation failed with err
// saying the path escapes the root.
func AssertEscapeRefused(tb testing.TB, swapped func() bool, outside string, before Tree, err error) {
	tb.Helper()
	tb.Log(err)
	if !swapped() {
		tb.Fatal("the operation never reached the file: the test proves nothing")
	}
	AssertUnchanged(tb, outside, before)
	if err == nil || !strings.Contains(err.Error(), "escapes") {
		tb.Fatalf("error %v, want one saying the path escapes the root", err)
	}
}
