package pkgtx

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/vincentos/clp/internal/fail"
	"github.com/vincentos/clp/patch"
)

// Arg is one PKG argument of clp downgrade: a name and an optional
// version constraint ("nvidia-utils>=550", "nvidia-utils<560",
// "nvidia-utils=550.78").
type Arg struct {
	Name       string
	Constraint string
}

// Exact reports whether the constraint names the version (PKG=VERSION).
func (a Arg) Exact() bool { return strings.HasPrefix(a.Constraint, "=") }

// ParseArgs reads PKG arguments. A malformed one, or a name given twice,
// is a fail.ErrUsage.
func ParseArgs(args []string) ([]Arg, error) {
	var out []Arg
	seen := map[string]bool{}
	for _, a := range args {
		name, c := a, ""
		if i := strings.IndexAny(a, "<>="); i >= 0 {
			name, c = a[:i], a[i:]
			op := strings.TrimRight(c, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.:_+-~")
			switch op {
			case "=", ">=", "<=", ">", "<":
			default:
				return nil, fail.Usage(fmt.Errorf("%q: a version constraint is =, >=, <=, > or < and a version (nvidia-utils>=550)", a))
			}
			if c == op {
				return nil, fail.Usage(fmt.Errorf("%q: the constraint names no version", a))
			}
		}
		if name == "" {
			return nil, fail.Usage(fmt.Errorf("%q names no package", a))
		}
		if seen[name] {
			return nil, fail.Usage(fmt.Errorf("%s is named twice", name))
		}
		seen[name] = true
		out = append(out, Arg{name, c})
	}
	return out, nil
}

// CheckNames refuses a name pacman would not accept before it is used
// anywhere, quoted, so that a newline in it cannot split clp's error into
// a second forged line (a fail.ErrUsage).
func CheckNames(names []string) error {
	for _, n := range names {
		if !patch.ValidPackageName(n) {
			return fail.Usage(fmt.Errorf("%q is not a package name", n))
		}
	}
	return nil
}

// Listings are the versions of each package that match its constraint,
// as 'clp downgrade --json' lists them without choosing (never a nil
// Versions). A constraint that cannot be compared is a fail.ErrUsage.
func (d *Downgrader) Listings(ctx context.Context, args []Arg) ([]*Listing, error) {
	var out []*Listing
	for _, a := range args {
		l, err := d.List(ctx, a.Name, true)
		if err != nil {
			return nil, ArchiveHint(err)
		}
		if l.Versions, err = l.Match(a.Constraint); err != nil {
			return nil, fail.Usage(fmt.Errorf("%s%s: %v", a.Name, a.Constraint, err))
		}
		if l.Versions == nil {
			l.Versions = []Version{}
		}
		out = append(out, l)
	}
	return out, nil
}

// Pick says how Choose picks a version without a menu; none set (and no
// PKG=VERSION matching one version) leaves the choice to the menu.
type Pick struct {
	// To is the version given (--to).
	To string
	// LatestCached: the newest cached version older than the installed.
	LatestCached bool
	// Latest and Oldest: the newest or oldest version that matches.
	Latest, Oldest bool
	// NoMenu: nobody can answer a menu (--noconfirm).
	NoMenu bool
}

// Choice is what Choose found for one argument.
type Choice struct {
	// Version is the version chosen ("" when the menu must ask).
	Version string
	// Listing is the versions found (nil with Pick.To and
	// Pick.LatestCached).
	Listing *Listing
	// Menu is what the menu offers: the versions that match, numbered
	// from 1, the installed one included (it cannot be chosen).
	Menu []Version
	// Partial is why the archive's versions are missing: the menu then
	// offers the cache's alone.
	Partial error
}

// Choose picks the version of one package: p.To, the newest cached below
// the installed, the newest or oldest that matches, the one version
// PKG=VERSION matches, or (Version "") the Menu to ask from. A Choice
// comes back with every error after the listing, for its Partial and
// Listing.ArchiveNone notes.
func (d *Downgrader) Choose(ctx context.Context, a Arg, p Pick) (*Choice, error) {
	name := a.Name
	if p.To != "" {
		return &Choice{Version: p.To}, nil
	}
	if p.LatestCached {
		l, err := d.List(ctx, name, false)
		if err != nil {
			return nil, err
		}
		c := &Choice{}
		if l.Versions, err = l.Match(a.Constraint); err != nil {
			return c, fail.Usage(fmt.Errorf("%s%s: %v", name, a.Constraint, err))
		}
		v, ok := l.LatestCachedBelowInstalled()
		if !ok {
			return c, fail.Hint(fmt.Errorf("no cached version of %s%s is older than the installed %s", name, a.Constraint, OrNotInstalled(l.Installed)),
				"'clp downgrade "+name+"' lists the archive's versions too")
		}
		c.Version = v.Version
		return c, nil
	}
	l, err := d.List(ctx, name, true)
	c := &Choice{Listing: l}
	if err != nil {
		var ae *ArchiveError
		if !errors.As(err, &ae) {
			return nil, err
		}
		if _, ok := l.LatestCachedBelowInstalled(); !ok {
			return nil, ArchiveHint(err)
		}
		c.Partial = err
	}
	if len(l.Versions) == 0 {
		if l.ArchiveNone {
			return c, fmt.Errorf("no version of %s found in the cache, and the archive server has none", name)
		}
		return c, ArchiveHint(fmt.Errorf("no version of %s found in the cache or on the archive server", name))
	}
	all := len(l.Versions)
	vs, err := l.Match(a.Constraint)
	if err != nil {
		return c, fail.Usage(fmt.Errorf("%s%s: %v", name, a.Constraint, err))
	}
	var others []Version // what can be chosen: not the installed one
	for _, v := range vs {
		if !v.Installed {
			others = append(others, v)
		}
	}
	if len(others) == 0 {
		return c, fail.Hint(fmt.Errorf("no version of %s%s other than the installed %s (of %d found)", name, a.Constraint, OrNotInstalled(l.Installed), all),
			"'clp downgrade "+name+" --json' lists every version found")
	}
	switch {
	case p.Latest:
		c.Version = others[0].Version
	case p.Oldest:
		c.Version = others[len(others)-1].Version
	case a.Exact() && len(others) == 1:
		c.Version = others[0].Version
	case a.Exact() && p.NoMenu:
		return c, fmt.Errorf("%s%s matches %d versions; name the pkgrel too (%s=%s)", name, a.Constraint, len(others), name, others[0].Version)
	default:
		c.Menu = vs
	}
	return c, nil
}

// ArchiveHint adds the way out of an archive failure, or of a version
// found nowhere.
func ArchiveHint(err error) error {
	var ae *ArchiveError
	if errors.As(err, &ae) {
		return fail.Hint(err, "check ArchiveServer in clp.conf and the network; --cache-only or --latest-cached choose from the cache alone")
	}
	var me *MissingError
	if errors.As(err, &me) {
		return fail.Hint(err, "'clp downgrade "+me.Name+" --json' lists the versions that are available")
	}
	return err
}

// OrNotInstalled is an installed version as clp downgrade shows it.
func OrNotInstalled(v string) string {
	if v == "" {
		return "not installed"
	}
	return v
}

// MenuRow is v's row in clp downgrade's menu, numbered n: the number,
// the version, where it is, its build date and size when known, and
// whether it is or was installed.
func (v Version) MenuRow(n int) []string {
	var marks []string
	if v.Installed {
		marks = append(marks, "installed")
	}
	if v.InstalledBefore {
		marks = append(marks, "installed before")
	}
	var where []string
	if v.Cached != "" {
		where = append(where, "cache")
	}
	if v.URL != "" {
		where = append(where, "archive")
	}
	date, size := "-", "-"
	if v.Date != nil {
		date = v.Date.Local().Format("2006-01-02")
	}
	if v.Size > 0 {
		size = HumanBytes(v.Size)
	}
	mark := ""
	if len(marks) > 0 {
		mark = "[" + strings.Join(marks, ", ") + "]"
	}
	return []string{fmt.Sprintf("%d)", n), v.Version, strings.Join(where, ", "), date, size, mark}
}

// HumanBytes is a size as pacman prints it: 1024-based, two decimals.
func HumanBytes(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	f := float64(n)
	i := 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	return fmt.Sprintf("%.2f %s", f, units[i])
}

// Lines is the plan as clp downgrade shows it before it asks.
func (p *Plan) Lines() []string {
	out := []string{fmt.Sprintf(":: %d package(s) in one transaction:", len(p.Moves))}
	for _, m := range p.Moves {
		out = append(out, fmt.Sprintf("   %-24s %s -> %s", m.Name, OrNotInstalled(m.From), m.To),
			fmt.Sprintf("   %-24s from %s", "", m.Source))
		if m.Why != "requested" {
			out = append(out, fmt.Sprintf("   %-24s because %s", "", m.Why))
		}
	}
	return out
}
