package update

import (
	"strings"

	"github.com/vincentos/clp/feed"
	"github.com/vincentos/clp/patch"
)

// TargetMeta translates a patch's PKGINFO.meta into feed metadata.
// Package conditions become requires strings clp update checks before it
// downloads: "NAME", "NAME<op>VERSION" or "!NAME" (must not be installed);
// ParseRequirement reads them back.
func TargetMeta(m *patch.Manifest) feed.TargetMeta {
	t := feed.TargetMeta{Name: m.Name, Description: m.Description, Severity: feedSeverity(m.Severity), Changes: changesOf(m)}
	t.Architectures = append(t.Architectures, m.AppliesTo.Architectures...)
	if len(t.Architectures) == 0 && m.Architecture != "" {
		t.Architectures = []string{m.Architecture}
	}
	for _, c := range m.AppliesTo.Packages {
		switch {
		case c.Absent:
			t.Requires = append(t.Requires, "!"+c.Name)
		default:
			t.Requires = append(t.Requires, c.Name+strings.TrimSpace(c.Constraint))
		}
	}
	return t
}

// feedSeverity is the patch's severity as the feed publishes it: the same
// words as the patch format (critical, important, normal, low).
func feedSeverity(s string) string {
	if s == "" {
		return "normal"
	}
	return s
}

// changesOf lists what a patch will change, one action a line, in the
// words of its PKGINFO.meta: file actions, then package actions.
func changesOf(m *patch.Manifest) []string {
	var out []string
	for _, f := range m.Files {
		out = append(out, f.Op+" "+f.Target)
	}
	for _, p := range m.Packages {
		switch p.Op {
		case patch.OpDowngrade:
			out = append(out, "downgrade "+p.Name+" to "+p.Version)
		case patch.OpPin:
			line := "pin " + p.Name
			if p.Until != "" {
				line += " until " + p.Until
			}
			out = append(out, line)
		default:
			out = append(out, p.Op+" "+p.Name)
		}
	}
	if m.InstallScript != "" {
		out = append(out, "run its install script")
	}
	return out
}
