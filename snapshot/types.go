package snapshot

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Install reasons, as pacman records them.
const (
	ReasonExplicit   = "explicit"
	ReasonDependency = "dependency"
)

// Snapshot kinds.
const (
	KindPre        = "pre"         // before a pacman transaction (hook)
	KindPost       = "post"        // after a pacman transaction (hook)
	KindManual     = "manual"      // `clp snapshot create`
	KindRestorePre = "restore-pre" // recorded by clp before it restores a snapshot
)

// Pkg is one installed package.
type Pkg struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Arch    string `json:"arch"`
	Reason  string `json:"reason"` // ReasonExplicit or ReasonDependency
}

// SnapperRef links a package-state snapshot to a snapper snapshot.
type SnapperRef struct {
	Config string `json:"config"`
	Number int    `json:"number"`
}

// Snapshot is one recorded package state and what it was taken for.
// List returns metadata only: Targets and Packages are nil there; Get fills
// them.
type Snapshot struct {
	ID          int         `json:"id"`
	Time        time.Time   `json:"time"`
	Kind        string      `json:"kind"`
	Targets     []string    `json:"targets,omitempty"`
	Description string      `json:"description,omitempty"`
	Patch       string      `json:"patch,omitempty"` // patch being applied or rolled back
	PairID      int         `json:"pair,omitempty"`  // for a post: its pre
	Orphan      bool        `json:"orphan,omitempty"`
	Snapper     *SnapperRef `json:"snapper,omitempty"`
	Count       int         `json:"count"` // number of packages
	Packages    []Pkg       `json:"packages,omitempty"`
}

// meta returns s without its bulky parts, as the index keeps it.
func (s Snapshot) meta() Snapshot {
	s.Targets = nil
	s.Packages = nil
	if s.Snapper != nil {
		r := *s.Snapper
		s.Snapper = &r
	}
	return s
}

// sortedPkgs validates pkgs and returns a copy sorted by name. The record
// format is line- and tab-separated, so those characters are refused rather
// than escaped: pacman never allows them in names, versions or architectures.
func sortedPkgs(pkgs []Pkg) ([]Pkg, error) {
	// A list in name order already (ReadLocalDB's) is used as it is: a
	// copy of 2,000 packages is 128 KiB of fresh memory, whose page
	// faults cost a hook more than the copy. The caller's slice is never
	// reordered; Store.createWith keeps no reference to it.
	out := pkgs
	if !slices.IsSortedFunc(out, byName) {
		out = slices.Clone(pkgs)
		sortByName(out)
	}
	for i, p := range out {
		if err := checkField("package name", p.Name, p.Name); err != nil {
			return nil, err
		}
		if err := checkField("version", p.Name, p.Version); err != nil {
			return nil, err
		}
		if err := checkField("architecture", p.Name, p.Arch); err != nil {
			return nil, err
		}
		if p.Reason != ReasonExplicit && p.Reason != ReasonDependency {
			return nil, fmt.Errorf("package %q: install reason %q is neither %q nor %q", p.Name, p.Reason, ReasonExplicit, ReasonDependency)
		}
		if i > 0 && out[i-1].Name == p.Name {
			return nil, fmt.Errorf("package %q is listed twice", p.Name)
		}
	}
	return out, nil
}

func checkField(what, pkg, v string) error {
	if v == "" {
		return fmt.Errorf("package %q: empty %s", pkg, what)
	}
	if hasSpace(v) {
		return fmt.Errorf("package %q: %s %q contains whitespace", pkg, what, v)
	}
	return nil
}

// hasSpace says whether v holds a tab, a newline, a carriage return or a
// space (strings.ContainsAny of them, without its per-call set-up: it runs
// three times a package on every snapshot).
func hasSpace(v string) bool {
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '\t', '\n', '\r', ' ':
			return true
		}
	}
	return false
}

func checkTargets(targets []string) error {
	for _, t := range targets {
		if t == "" || strings.ContainsAny(t, "\t\n\r") {
			return fmt.Errorf("target %q is empty or contains a tab or newline", t)
		}
	}
	return nil
}

// Describe builds the description of a hook snapshot: what ran, and the
// patch when clp itself is applying or rolling one back.
func Describe(kind string, targets []string, patch string) string {
	return DescribeCommand(kind, targets, patch, "")
}

// DescribeCommand is Describe naming the command that ran the transaction
// (the pacman command line, as snap-pac does) instead of its targets, when
// it is known.
func DescribeCommand(kind string, targets []string, patch, command string) string {
	if command != "" {
		d := kind
		if patch != "" {
			d += " (patch " + patch + ")"
		}
		return d + ": " + command
	}
	var b strings.Builder
	b.WriteString(kind)
	if patch != "" {
		b.WriteString(" (patch ")
		b.WriteString(patch)
		b.WriteString(")")
	}
	if len(targets) > 0 {
		b.WriteString(": ")
		const show = 5
		for i, t := range targets {
			if i == show {
				fmt.Fprintf(&b, " (+%d more)", len(targets)-show)
				break
			}
			if i > 0 {
				b.WriteString(" ")
			}
			b.WriteString(t)
		}
	}
	return b.String()
}

func byName(a, b Pkg) int { return strings.Compare(a.Name, b.Name) }

// sortByName sorts p by name. The local DB lists packages in name order
// already, so the check first makes the common case O(n).
func sortByName(p []Pkg) {
	if !slices.IsSortedFunc(p, byName) {
		slices.SortFunc(p, byName)
	}
}
