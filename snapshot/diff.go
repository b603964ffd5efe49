package snapshot

import (
	"fmt"
)

// Change kinds.
const (
	Installed   = "installed"
	Removed     = "removed"
	Upgraded    = "upgraded"
	Downgraded  = "downgraded"
	Reinstalled = "reinstalled" // same version, another architecture
	ReasonOnly  = "reason"      // only the install reason changed
)

// Change is one package's difference between two package sets. From and To
// are versions; "" means absent.
type Change struct {
	Name       string `json:"name"`
	From       string `json:"from"`
	To         string `json:"to"`
	Kind       string `json:"kind"`
	FromReason string `json:"from_reason,omitempty"`
	ToReason   string `json:"to_reason,omitempty"`
}

// VerCmp compares two package versions as pacman does (alpm.VerCmp): <0, 0,
// >0.
type VerCmp func(a, b string) int

// Diff lists what changed from one package set to another, by name. It does
// not need the sets sorted.
func Diff(from, to []Pkg, vercmp VerCmp) []Change {
	a, b := clonedSorted(from), clonedSorted(to)
	var out []Change
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || (i < len(a) && a[i].Name < b[j].Name):
			out = append(out, Change{Name: a[i].Name, From: a[i].Version, Kind: Removed, FromReason: a[i].Reason})
			i++
		case i == len(a) || b[j].Name < a[i].Name:
			out = append(out, Change{Name: b[j].Name, To: b[j].Version, Kind: Installed, ToReason: b[j].Reason})
			j++
		default:
			p, q := a[i], b[j]
			i++
			j++
			if p == q {
				continue
			}
			c := Change{Name: p.Name, From: p.Version, To: q.Version, FromReason: p.Reason, ToReason: q.Reason}
			switch v := vercmp(p.Version, q.Version); {
			case v < 0:
				c.Kind = Upgraded
			case v > 0:
				c.Kind = Downgraded
			case p.Arch != q.Arch || p.Version != q.Version:
				// Equal by vercmp but spelled differently ("1.0" and
				// "0:1.0") or built for another arch: a different file.
				c.Kind = Reinstalled
			default:
				c.Kind = ReasonOnly
			}
			out = append(out, c)
		}
	}
	return out
}

// Diff compares two stored snapshots.
func (s *Store) Diff(a, b int, vercmp VerCmp) ([]Change, error) {
	x, err := s.Get(a)
	if err != nil {
		return nil, err
	}
	y, err := s.Get(b)
	if err != nil {
		return nil, err
	}
	return Diff(x.Packages, y.Packages, vercmp), nil
}

func clonedSorted(p []Pkg) []Pkg {
	c := make([]Pkg, len(p))
	copy(c, p)
	sortByName(c)
	return c
}

// PkgRef names one package file to install.
type PkgRef struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Arch    string `json:"arch"`
}

// String is the file-name stem pacman gives the package, name-version-arch.
func (r PkgRef) String() string { return fmt.Sprintf("%s-%s-%s", r.Name, r.Version, r.Arch) }

// Plan is what takes the installed packages back to a snapshot: one
// `pacman -U` of Install, one `pacman -R` of Remove, then `pacman -D
// --asdeps AsDeps` and `--asexplicit AsExplicit` so install reasons match
// too (pacman -U marks a newly installed package explicit, and keeps the
// reason of one it replaces).
type Plan struct {
	Install    []PkgRef `json:"install"`
	Remove     []string `json:"remove"`
	AsDeps     []string `json:"asdeps"`
	AsExplicit []string `json:"asexplicit"`
}

// Empty reports whether the plan changes nothing.
func (p Plan) Empty() bool {
	return len(p.Install)+len(p.Remove)+len(p.AsDeps)+len(p.AsExplicit) == 0
}

// RestorePlan computes the changes from current back to target: downgrades,
// upgrades and reinstalls of removed packages go to Install (anything whose
// name-version-arch differs), packages installed since go to Remove.
func RestorePlan(current, target []Pkg) Plan {
	a, b := clonedSorted(current), clonedSorted(target)
	var p Plan
	reason := func(q Pkg, installedAs string) {
		if q.Reason == installedAs {
			return
		}
		if q.Reason == ReasonDependency {
			p.AsDeps = append(p.AsDeps, q.Name)
		} else {
			p.AsExplicit = append(p.AsExplicit, q.Name)
		}
	}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || (i < len(a) && a[i].Name < b[j].Name):
			p.Remove = append(p.Remove, a[i].Name)
			i++
		case i == len(a) || b[j].Name < a[i].Name:
			q := b[j]
			p.Install = append(p.Install, PkgRef{q.Name, q.Version, q.Arch})
			reason(q, ReasonExplicit)
			j++
		default:
			c, q := a[i], b[j]
			if c.Version != q.Version || c.Arch != q.Arch {
				p.Install = append(p.Install, PkgRef{q.Name, q.Version, q.Arch})
			}
			reason(q, c.Reason)
			i++
			j++
		}
	}
	return p
}
