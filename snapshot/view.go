package snapshot

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Time is a snapshot's date as clp snapshot prints it (local time).
func Time(t time.Time) string { return t.Local().Format("2006-01-02 15:04:05") }

// KindLabel is s's kind as clp snapshot list prints it: "pre!" for an
// orphan pre snapshot.
func (s Snapshot) KindLabel() string {
	if s.Orphan {
		return s.Kind + "!"
	}
	return s.Kind
}

// SnapperLabel is s's snapper snapshot ("root:42"), "-" for none.
func (s Snapshot) SnapperLabel() string {
	if s.Snapper == nil {
		return "-"
	}
	return s.Snapper.Config + ":" + strconv.Itoa(s.Snapper.Number)
}

// ListRow is s's row in clp snapshot list: ID, date, kind, pair, package
// count, snapper snapshot and description.
func (s Snapshot) ListRow() []string {
	pair := "-"
	if s.PairID != 0 {
		pair = strconv.Itoa(s.PairID)
	}
	return []string{strconv.Itoa(s.ID), Time(s.Time), s.KindLabel(), pair, strconv.Itoa(s.Count), s.SnapperLabel(), s.Description}
}

// Line is p as clp snapshot show prints it.
func (p Pkg) Line() string {
	reason := ""
	if p.Reason == ReasonDependency {
		reason = " (dependency)"
	}
	return fmt.Sprintf("%s %s %s%s", p.Name, p.Version, p.Arch, reason)
}

// plannedVerb is a change's kind as something still to do.
var plannedVerb = map[string]string{
	Installed:   "install",
	Removed:     "remove",
	Upgraded:    "upgrade",
	Downgraded:  "downgrade",
	Reinstalled: "reinstall",
	ReasonOnly:  "reason",
}

// Line is c as clp snapshot diff prints it (past tense), or with planned
// as a restore announces it (present tense: nothing is done yet).
func (c Change) Line(planned bool) string {
	kind := c.Kind
	if planned {
		kind = plannedVerb[c.Kind]
	}
	switch c.Kind {
	case Installed:
		return fmt.Sprintf("%-11s %s %s", kind, c.Name, c.To)
	case Removed:
		return fmt.Sprintf("%-11s %s %s", kind, c.Name, c.From)
	case ReasonOnly:
		return fmt.Sprintf("%-11s %s %s -> %s", kind, c.Name, c.FromReason, c.ToReason)
	}
	return fmt.Sprintf("%-11s %s %s -> %s", kind, c.Name, c.From, c.To)
}

// Names are the packages a list of changes names.
func Names(cs []Change) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Name
	}
	return out
}

// Field is one "name: value" line of clp snapshot show.
type Field struct{ Name, Value string }

// Fields are the lines clp snapshot show prints above s's packages.
func (s Snapshot) Fields() []Field {
	out := []Field{{"ID", strconv.Itoa(s.ID)}, {"Date", Time(s.Time)}, {"Kind", s.Kind}}
	if s.Orphan {
		out = append(out, Field{"Orphan", "yes (no post followed: the transaction failed or was interrupted)"})
	}
	if s.PairID != 0 {
		out = append(out, Field{"Pre", strconv.Itoa(s.PairID)})
	}
	return append(out,
		Field{"Description", orNone(s.Description)},
		Field{"Patch", orNone(s.Patch)},
		Field{"Targets", orNone(strings.Join(s.Targets, "  "))},
		Field{"Snapper", strings.Replace(s.SnapperLabel(), "-", "None", 1)},
		Field{"Packages", strconv.Itoa(s.Count)})
}

func orNone(s string) string {
	if s == "" || s == "-" {
		return "None"
	}
	return s
}
