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
	t := feed.TargetMeta{Name: m.Name, Severity: feedSeverity(m.Severity)}
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

// feedSeverity maps the patch format's severities onto the feed's: the
// format says "important" where the feed says "high".
func feedSeverity(s string) string {
	switch s {
	case "":
		return "normal"
	case patch.SeverityImportant:
		return "high"
	}
	return s
}
