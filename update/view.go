package update

import "fmt"

// Listing is what clp update prints of the patches one source offered:
// a heading ("1 patch(es) to apply from the feed at URL", without the
// leading "::") and a line (or a few, joined by newlines) per patch. No
// heading and no lines when the source offered none. source is "feed"
// (the signed TUF feed) or "legacy" (clpctl's); from is where it was read.
func (r *Report) Listing(source, from string, check bool, policy string) (string, []string) {
	var lines []string
	n := 0
	for _, e := range r.Patches {
		if e.Source != source {
			continue
		}
		line := "   " + e.Name
		if e.Sequence != 0 {
			phase := ""
			if e.Rollout != nil && *e.Rollout < 100 && e.InPhase != nil && *e.InPhase {
				phase = fmt.Sprintf(", rollout %d%%: this machine is in phase", *e.Rollout)
			}
			line += fmt.Sprintf(" (sequence %d, %s%s)", e.Sequence, e.Severity, phase)
		}
		switch {
		case e.Withdrawn != "" && e.Action == "roll back" && check:
			line += ": withdrawn by the feed (" + e.Withdrawn + "); would be rolled back"
		case e.Withdrawn != "" && e.Action == "roll back":
			line += ": withdrawn by the feed (" + e.Withdrawn + "); rolling it back"
		case e.Withdrawn != "" && e.Action == "withdrawn":
			line += ": withdrawn by the feed (" + e.Withdrawn + "); kept applied"
		case e.PhasedOut:
			line += ": not in phase yet, " + e.Reason
		case e.Action == "skip":
			line += ": skipped, " + e.Reason
		default:
			n++
		}
		if e.Description != "" {
			line += "\n      " + e.Description
		}
		for _, c := range e.Changes {
			line += "\n        " + c
		}
		lines = append(lines, line)
	}
	if len(lines) == 0 {
		return "", nil
	}
	verb := "to apply"
	switch {
	case check:
		verb = "new"
	case policy == "none":
		verb = "new (UpdatePolicy = none: not applied)"
	}
	what := "the feed"
	if source != "feed" {
		what = "the " + source + " feed"
	}
	return fmt.Sprintf("%d patch(es) %s from %s at %s", n, verb, what, from), lines
}
