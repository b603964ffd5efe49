package hooks

import (
	"fmt"
	"slices"
	"time"

	"github.com/vincentos/clp/internal/fail"
	"github.com/vincentos/clp/pacman"
	"github.com/vincentos/clp/patch"
)

// InstalledQuery is what making a pin asks of the local database.
type InstalledQuery interface {
	Installed1(name string) (pacman.Package, bool, error)
}

// NewPins are the pins 'clp pin' adds: each named package held at its
// installed version, until the sync databases offer until ("" never),
// created at now. A package that is not installed cannot be pinned; an
// until that is not a version, or not newer than the installed one, is a
// fail.ErrUsage. vercmp compares versions as pacman does.
func NewPins(q InstalledQuery, vercmp func(a, b string) int, names []string, until string, now time.Time) ([]Pin, error) {
	var out []Pin
	for _, n := range names {
		p, ok, err := q.Installed1(n)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fail.Hint(fmt.Errorf("%s is not installed: nothing to pin", n), "'clp downgrade "+n+" --pin' installs a version and pins it")
		}
		if until != "" && !patch.ValidPackageVersion(until) {
			return nil, fail.Usage(fmt.Errorf("--until %q is not a package version (like 560.35.03-2)", until))
		}
		if until != "" && vercmp(until, p.Version) <= 0 {
			return nil, fail.Usage(fmt.Errorf("--until %s is not newer than the installed %s %s", until, n, p.Version))
		}
		out = append(out, Pin{Name: n, Version: p.Version, Until: until, Created: now.UTC().Round(time.Second)})
	}
	return out, nil
}

// CheckPinned refuses names of which one is not among pins: 'clp unpin'
// changes nothing then.
func CheckPinned(pins []Pin, names []string) error {
	for _, n := range names {
		if !slices.ContainsFunc(pins, func(p Pin) bool { return p.Name == n }) {
			return fail.Hint(fmt.Errorf("%s is not pinned: nothing changed", n), "'clp pins' lists the pins")
		}
	}
	return nil
}
