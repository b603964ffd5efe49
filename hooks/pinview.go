package hooks

import "fmt"

// Line is p as clp pins lists it.
func (p Pin) Line() string {
	v := p.Version
	if v == "" {
		v = "(installed version)"
	}
	line := p.Name + " " + v
	if p.Until != "" {
		line += " until " + p.Until
	}
	if p.Patch != "" {
		line += " (patch " + p.Patch + ")"
	}
	return line
}

// PinnedLine is what clp pin says of the new pin p.
func (p Pin) PinnedLine() string {
	until := ""
	if p.Until != "" {
		until = " until " + p.Until + " is offered"
	}
	return fmt.Sprintf(":: pinned %s at %s%s", p.Name, p.Version, until)
}

// Line is what clp pins --check says of a lifted pin.
func (l Lifted) Line() string {
	return fmt.Sprintf(":: pin lifted: %s (%s offers %s, at or above %s)", l.Pin.Name, l.Repo, l.Offered, l.Pin.Until)
}

// OrEmpty is pins, or an empty list (never nil: JSON shows []).
func OrEmpty(pins []Pin) []Pin {
	if pins == nil {
		return []Pin{}
	}
	return pins
}
