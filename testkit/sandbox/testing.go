package sandbox

import (
	"os"
	"strings"
	"sync"
	"testing"
)

// RequireRoot skips a test that needs uid 0 (pacman refuses to change a
// root otherwise; mounts need it too), saying why.
func RequireRoot(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("needs root: pacman only installs as root (CI runs as root)")
	}
}

var (
	fixOnce sync.Once
	fixVal  *Fixtures
	fixErr  error
)

// TestFixtures builds (or finds) the fixture packages once per test binary.
func TestFixtures(tb testing.TB) *Fixtures {
	tb.Helper()
	fixOnce.Do(func() { fixVal, fixErr = BuildFixtures("", nil) })
	if fixErr != nil {
		if strings.Contains(fixErr.Error(), "makepkg is not installed") && os.Getenv("CI") == "" {
			tb.Skip(fixErr.Error())
		}
		tb.Fatal(fixErr)
	}
	return fixVal
}

// New makes a root in a test temporary directory.
func New(tb testing.TB) *Root {
	tb.Helper()
	r, err := Create(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// NewNVIDIA makes a root as a user hit by the black screen has it: the
// broken 560.35.03 driver installed (with clp-testconf 1.0-1), and the
// known-good 550.78 in the package cache. It needs root.
func NewNVIDIA(tb testing.TB) (*Root, *Fixtures) {
	tb.Helper()
	RequireRoot(tb)
	f := TestFixtures(tb)
	r := New(tb)
	files := append(f.Paths(Broken, NVIDIA...), f.Path("clp-testconf", "1.0-1"))
	if err := r.Install(files...); err != nil {
		tb.Fatal(err)
	}
	if err := r.Cache(f.Paths(Good, NVIDIA...)...); err != nil {
		tb.Fatal(err)
	}
	return r, f
}

// MustTree records dir's state or fails the test.
func MustTree(tb testing.TB, dir string) Tree {
	tb.Helper()
	t, err := TreeState(dir, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

// AssertUnchanged fails the test when dir differs from before.
func AssertUnchanged(tb testing.TB, dir string, before Tree) {
	tb.Helper()
	if d := before.Diff(MustTree(tb, dir)); len(d) > 0 {
		tb.Fatalf("%s changed:\n%s", dir, strings.Join(d, "\n"))
	}
}

// MustTreeExcept is MustTree without the paths skip names (clp's own
// bookkeeping a refused command may still touch, such as its lock file).
func MustTreeExcept(tb testing.TB, dir string, skip func(rel string) bool) Tree {
	tb.Helper()
	t, err := TreeState(dir, skip)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

// AssertUnchangedExcept is AssertUnchanged without the paths skip names;
// what says what was refused, for the message.
func AssertUnchangedExcept(tb testing.TB, dir string, before Tree, skip func(rel string) bool, what string) {
	tb.Helper()
	if d := before.Diff(MustTreeExcept(tb, dir, skip)); len(d) > 0 {
		tb.Fatalf("%s changed the root:\n%s", what, strings.Join(d, "\n"))
	}
}
