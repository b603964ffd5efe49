package update

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"time"

	"github.com/vincentos/clp/internal/fsx"
)

// lastName is the record of the last run, under the state dir.
const lastName = "last-update.json"

// Entry is one patch clp update saw, and what it did with it.
type Entry struct {
	Name     string `json:"name"`
	File     string `json:"file"`
	Sequence uint64 `json:"sequence,omitempty"`
	Severity string `json:"severity,omitempty"`
	// Description is what the patch is for, as its publisher signed it.
	Description string `json:"description,omitempty"`
	// Changes is what the patch will change, as its publisher signed it.
	Changes []string `json:"changes,omitempty"`
	Source  string   `json:"source"` // "feed" or "legacy"
	// Action is "apply", "applied", "skip" or "failed"; for an applied
	// patch the feed withdrew, "roll back" (to do), "rolled back" or
	// "withdrawn" (kept: WithdrawnPatches = report).
	Action string `json:"action"`
	Reason string `json:"reason,omitempty"`
	// Rollout is the feed's rollout percentage for the patch; InPhase
	// whether this machine is in it (unset when another reason skipped
	// the patch first); PhasedOut that the rollout, and nothing else, is
	// why it was skipped.
	Rollout   *int  `json:"rollout,omitempty"`
	InPhase   *bool `json:"in_phase,omitempty"`
	PhasedOut bool  `json:"phased_out,omitempty"`
	// Withdrawn is the feed's reason when it withdrew the patch.
	Withdrawn string `json:"withdrawn,omitempty"`
}

// Report is clp update's JSON, and what last-update.json keeps.
type Report struct {
	Time    time.Time `json:"time"`
	Check   bool      `json:"check"`
	Policy  string    `json:"policy"`
	Mirror  string    `json:"mirror,omitempty"`
	Legacy  string    `json:"legacy_server,omitempty"`
	Patches []Entry   `json:"patches"`
	Applied []string  `json:"applied"`
	// RolledBack are the withdrawn patches this run rolled back.
	RolledBack []string `json:"rolled_back,omitempty"`
	// PinsLifted are the packages whose --until pin this run lifted.
	PinsLifted []string `json:"pins_lifted,omitempty"`
	// Result is "ok", "nothing new", "checked" or "failed: <error>".
	Result string `json:"result"`
}

// HasNew reports whether any patch was (or, with --check or policy none,
// would be) applied, or a withdrawn one rolled back.
func (r *Report) HasNew() bool {
	for _, p := range r.Patches {
		switch p.Action {
		case "apply", "applied", "roll back", "rolled back":
			return true
		}
	}
	return false
}

// Record writes <state>/last-update.json.
func Record(root, stateDir string, rep *Report) error {
	data, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	// The first run on a fresh system may fail before anything else made
	// the state dir; its result must still be recorded.
	if err := fsx.MkdirAllUnder(root, stateDir, 0o755); err != nil {
		return err
	}
	return fsx.WriteFileUnder(root, filepath.Join(stateDir, lastName), append(data, '\n'), 0o644)
}

// LastSummary is the "last update" line of clp status: when, how it ended
// and from where; "never" before the first run.
func LastSummary(root, stateDir string) string {
	rep, err := Last(root, stateDir)
	var bad *unreadableError
	switch {
	case errors.As(err, &bad):
		return "unknown (" + lastName + " is unreadable)"
	case err != nil:
		return "unknown (" + err.Error() + ")"
	case rep == nil:
		return "never"
	}
	s := rep.Time.Local().Format("2006-01-02 15:04:05") + ", " + rep.Result
	if len(rep.Applied) > 0 {
		s += " (applied " + strings.Join(rep.Applied, ", ") + ")"
	}
	if len(rep.RolledBack) > 0 {
		s += " (rolled back withdrawn " + strings.Join(rep.RolledBack, ", ") + ")"
	}
	if rep.Mirror != "" {
		s += ", from " + rep.Mirror
	}
	return s
}
