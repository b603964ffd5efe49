// Package report is how packages below cmd tell the user what is happening
// without printing: they call a Reporter, and cmd/clp decides whether that
// becomes a line on stderr, a progress bar, JSON, or nothing (hooks, timer).
package report

import "strings"

// Reporter receives progress from long operations. Implementations must be
// safe to call from one goroutine at a time; callers never call concurrently.
type Reporter interface {
	// Step announces a phase ("staging 12 files").
	Step(msg string)
	// Warn reports something the user should know that is not an error.
	Warn(msg string)
	// Progress reports bytes or items done out of total for the named task;
	// total is -1 when unknown.
	Progress(task string, done, total int64)
}

// Nop discards everything. It is the default.
type Nop struct{}

func (Nop) Step(string)                   {}
func (Nop) Warn(string)                   {}
func (Nop) Progress(string, int64, int64) {}

// Or returns r, or Nop when r is nil.
func Or(r Reporter) Reporter {
	if r == nil {
		return Nop{}
	}
	return r
}

// Printable replaces control characters (C0, DEL, C1) with '?': text that
// others wrote (a feed's signed reason, a process's command line) is shown
// on terminals and in the journal without escape sequences.
func Printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return '?'
		}
		return r
	}, s)
}
