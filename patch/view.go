package patch

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// AppliedView is an applied patch as 'clp list --json' shows it: what it
// changed, never clp's own bookkeeping (staging names, backup paths,
// transaction ids, the package actor's undo data).
type AppliedView struct {
	Name        string        `json:"name"`
	Version     string        `json:"version"`
	Description string        `json:"description,omitempty"`
	Severity    string        `json:"severity,omitempty"`
	Seq         int64         `json:"seq"`
	AppliedAt   time.Time     `json:"applied_at"`
	Files       []ViewFile    `json:"files"`
	Packages    []ViewPackage `json:"packages"`
	Pins        []ViewPin     `json:"pins"`
	Legacy      bool          `json:"legacy,omitempty"`
}

// ViewFile is one file an applied patch changed.
type ViewFile struct {
	Action string    `json:"action"`
	Path   string    `json:"path"`
	Before FileState `json:"before"`
	After  FileState `json:"after"`
}

// ViewPackage is one package an applied patch moved.
type ViewPackage struct {
	Name string `json:"name"`
	From string `json:"from"` // "" when the patch installed it
	To   string `json:"to"`
}

// ViewPin is one pin an applied patch holds.
type ViewPin struct {
	Name  string `json:"name"`
	Until string `json:"until,omitempty"`
}

// View is what a user sees of a: its files, packages and pins.
func (a Applied) View() AppliedView {
	v := AppliedView{Name: a.Name, Version: a.Version, Description: a.Description, Severity: a.Severity,
		Seq: a.Seq, AppliedAt: a.AppliedAt, Legacy: a.Legacy,
		Files: []ViewFile{}, Packages: []ViewPackage{}, Pins: []ViewPin{}}
	for _, s := range a.Steps {
		v.Files = append(v.Files, ViewFile{Action: s.Op, Path: s.Target, Before: s.Before, After: s.After})
	}
	if p := a.Packages; p != nil {
		for _, act := range p.Actions {
			switch act.Op {
			case OpDowngrade:
				v.Packages = append(v.Packages, ViewPackage{Name: act.Name, From: p.Previous[act.Name], To: act.Version})
			case OpPin:
				v.Pins = append(v.Pins, ViewPin{Name: act.Name, Until: act.Until})
			}
		}
	}
	return v
}

// ListRow is a's row in 'clp list': name, version, severity ("-" when
// none), when it was applied (local time), and its file and package
// action counts.
func (a Applied) ListRow() []string {
	n := 0
	if a.Packages != nil {
		n = len(a.Packages.Actions)
	}
	sev := a.Severity
	if sev == "" {
		sev = "-"
	}
	return []string{a.Name, a.Version, sev, a.AppliedAt.Local().Format("2006-01-02 15:04"), strconv.Itoa(len(a.Steps)), strconv.Itoa(n)}
}

// Line is e as 'clp history' prints it.
func (e Event) Line() string {
	line := fmt.Sprintf("[%s] %s %s", e.Time.Local().Format("2006-01-02 15:04:05"), e.Event, e.Name)
	if e.Version != "" {
		line += " " + e.Version
	}
	if e.Detail != "" {
		line += ": " + e.Detail
	}
	return line
}

// Text is r as 'clp recover --show' prints it, one string a line.
func (r *JournalReport) Text() []string {
	out := []string{"journal: " + r.Path}
	switch {
	case r.Damage != "":
		out = append(out, "checksums: DAMAGED: "+r.Damage,
			"clp will not act on this journal; check the system by hand, then move the file away")
	case r.Sealed:
		out = append(out, "checksums: hold")
	default:
		out = append(out, "checksums: none (written by an older clp)")
	}
	if r.Damage == "" {
		out = append(out, fmt.Sprintf("transaction: %s of %s %s (id %s)", r.Kind, r.Name, r.Version, r.TxID))
		phases := strings.Join(r.Phases, ", ")
		if phases == "" {
			phases = "none"
		}
		out = append(out, "phases: "+phases)
		if r.Cause != "" {
			out = append(out, "cause: "+r.Cause)
		}
	}
	for _, l := range r.Lines {
		body := string(l.Record)
		if body == "" {
			body = strconv.Quote(l.Raw)
		}
		out = append(out, fmt.Sprintf("line %d (%s): %s", l.N, l.Status, body))
	}
	return out
}

// UndoText is what rolling a back will change, as clp rollback lists it
// before it asks (as pacman lists its targets): each file and what happens
// to it, each package and the version it goes back to, each pin lifted.
func (a Applied) UndoText() string {
	var b strings.Builder
	if len(a.Steps) > 0 {
		fmt.Fprintf(&b, "\nFiles (%d)\n", len(a.Steps))
		for _, s := range a.Steps {
			fmt.Fprintf(&b, "  %-14s %s\n", undoVerb(s.Op), s.Target)
		}
	}
	p := a.Packages
	if p == nil || len(p.Actions) == 0 {
		return b.String() + "\n"
	}
	var lines []string
	now := map[string]string{}
	for _, act := range p.Actions {
		if act.Op == OpDowngrade {
			now[act.Name] = act.Version
		}
	}
	names := make([]string, 0, len(p.Previous))
	for n := range p.Previous {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		switch before := p.Previous[n]; {
		case before == "":
			lines = append(lines, fmt.Sprintf("  %-14s %s %s", "remove", n, now[n]))
		default:
			version := now[n]
			if version == "" {
				version = "?"
			}
			lines = append(lines, fmt.Sprintf("  %-14s %s %s -> %s", "reinstall", n, version, before))
		}
	}
	for _, n := range p.Pins {
		lines = append(lines, fmt.Sprintf("  %-14s %s", "unpin", n))
	}
	fmt.Fprintf(&b, "\nPackages (%d)\n%s\n\n", len(lines), strings.Join(lines, "\n"))
	return b.String()
}

// undoVerb says what rolling back a file action does to the file.
func undoVerb(op string) string {
	switch op {
	case OpAdd:
		return "remove"
	case OpRemove:
		return "put back"
	case OpMode:
		return "restore mode"
	case OpOwner:
		return "restore owner"
	default:
		return "restore"
	}
}

// FindApplied is the record of patch name in applied (List's), or nil.
func FindApplied(applied []Applied, name string) *Applied {
	for i := range applied {
		if applied[i].Name == name {
			return &applied[i]
		}
	}
	return nil
}
