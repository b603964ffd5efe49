package update

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	"github.com/vincentos/clp/internal/fsx"
	"github.com/vincentos/clp/patch"
)

// sequencesName records the feed sequence number of each patch clp update
// applied, under the state dir, so that clp status can report it.
const sequencesName = "feed-sequences.json"

// WithdrawnPrefix starts the history detail of a rollback clp update made
// because the feed withdrew the patch.
const WithdrawnPrefix = "withdrawn by the feed: "

// Fleet is what a fleet's configuration management collects from
// clp status --json: read from clp's own files only, never from the feed
// (clp never reports home; status never asks the network).
type Fleet struct {
	// Applied are the applied patches, oldest first.
	Applied []FleetApplied `json:"applied"`
	// Pending are the patches the last clp update listed and did not
	// apply (--check runs are not recorded; UpdatePolicy = none, a
	// failure, or a patch that failed).
	Pending []FleetPatch `json:"pending"`
	// PhasedOut are the patches the last clp update left for a later
	// phase of their rollout.
	PhasedOut []FleetPatch `json:"phased_out"`
	// WithdrawnRolledBack are the patches rolled back because the feed
	// withdrew them, from the history.
	WithdrawnRolledBack []FleetWithdrawn `json:"withdrawn_rolled_back"`
	// WithdrawnKept are applied patches the feed withdrew that stay
	// applied (WithdrawnPatches = report, or UpdatePolicy = none).
	WithdrawnKept []FleetWithdrawn `json:"withdrawn_kept"`
	// LastUpdate is the last clp update's time and result; nil before
	// the first.
	LastUpdate *FleetUpdate `json:"last_update"`
}

// FleetApplied is one applied patch.
type FleetApplied struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// Seq is the local order in which patches were applied.
	Seq int64 `json:"seq"`
	// FeedSequence is the feed's sequence number, 0 for a patch not
	// applied by clp update.
	FeedSequence uint64    `json:"feed_sequence,omitempty"`
	AppliedAt    time.Time `json:"applied_at"`
}

// FleetPatch is a feed patch the last update did not apply.
type FleetPatch struct {
	Name     string `json:"name"`
	Sequence uint64 `json:"sequence"`
	Severity string `json:"severity,omitempty"`
	Rollout  *int   `json:"rollout,omitempty"`
	Reason   string `json:"reason,omitempty"`
}

// FleetWithdrawn is a patch the feed withdrew.
type FleetWithdrawn struct {
	Name    string    `json:"name"`
	Version string    `json:"version,omitempty"`
	Time    time.Time `json:"time,omitzero"`
	Reason  string    `json:"reason"`
}

// FleetUpdate is the last run of clp update.
type FleetUpdate struct {
	Time   time.Time `json:"time"`
	Result string    `json:"result"`
	OK     bool      `json:"ok"`
	Mirror string    `json:"mirror,omitempty"`
}

// Last reads the last run's report; nil before the first run.
func Last(root, stateDir string) (*Report, error) {
	data, err := fsx.ReadFileCappedUnder(root, filepath.Join(stateDir, lastName), fsx.SmallFileMax)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var rep Report
	if err := json.Unmarshal(data, &rep); err != nil {
		return nil, &unreadableError{path: filepath.Join(stateDir, lastName), err: err}
	}
	return &rep, nil
}

// unreadableError is a last-update.json that is not a report.
type unreadableError struct {
	path string
	err  error
}

func (e *unreadableError) Error() string { return e.path + " is unreadable: " + e.err.Error() }
func (e *unreadableError) Unwrap() error { return e.err }

// ReadFleet gathers Fleet from the applied patches, the history and the
// state dir.
func ReadFleet(root, stateDir string, applied []patch.Applied, history []patch.Event) (*Fleet, error) {
	f := &Fleet{Applied: []FleetApplied{}, Pending: []FleetPatch{}, PhasedOut: []FleetPatch{}, WithdrawnRolledBack: []FleetWithdrawn{}, WithdrawnKept: []FleetWithdrawn{}}
	seqs, err := loadSequences(root, stateDir)
	if err != nil {
		return nil, err
	}
	isApplied := map[string]bool{}
	for _, a := range applied {
		isApplied[a.Name] = true
		f.Applied = append(f.Applied, FleetApplied{Name: a.Name, Version: a.Version, Seq: a.Seq, FeedSequence: seqs[a.Name], AppliedAt: a.AppliedAt})
	}
	for _, ev := range history {
		if reason, ok := strings.CutPrefix(ev.Detail, WithdrawnPrefix); ok && ev.Event == patch.EventRolledBack {
			f.WithdrawnRolledBack = append(f.WithdrawnRolledBack, FleetWithdrawn{Name: ev.Name, Version: ev.Version, Time: ev.Time, Reason: reason})
		}
	}
	last, err := Last(root, stateDir)
	if err != nil {
		return nil, err
	}
	if last == nil {
		return f, nil
	}
	f.LastUpdate = &FleetUpdate{Time: last.Time, Result: last.Result, OK: !strings.HasPrefix(last.Result, "failed"), Mirror: last.Mirror}
	for _, e := range last.Patches {
		p := FleetPatch{Name: e.Name, Sequence: e.Sequence, Severity: e.Severity, Rollout: e.Rollout, Reason: e.Reason}
		switch {
		case e.Action == "withdrawn" && isApplied[e.Name]:
			f.WithdrawnKept = append(f.WithdrawnKept, FleetWithdrawn{Name: e.Name, Reason: e.Withdrawn})
		case e.PhasedOut:
			f.PhasedOut = append(f.PhasedOut, p)
		case (e.Action == "apply" || e.Action == "failed") && !isApplied[e.Name]:
			f.Pending = append(f.Pending, p)
		}
	}
	return f, nil
}

// Summary is clp status's "withdrawn" line: "none", or each withdrawn
// patch with what became of it.
func (f *Fleet) WithdrawnSummary() string {
	var parts []string
	for _, w := range f.WithdrawnKept {
		parts = append(parts, fmt.Sprintf("%s still applied (%s)", w.Name, w.Reason))
	}
	for _, w := range f.WithdrawnRolledBack {
		parts = append(parts, fmt.Sprintf("%s rolled back (%s)", w.Name, w.Reason))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func loadSequences(root, stateDir string) (map[string]uint64, error) {
	out := map[string]uint64{}
	data, err := fsx.ReadFileCappedUnder(root, filepath.Join(stateDir, sequencesName), fsx.StateFileMax)
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("%s is unreadable: %w", filepath.Join(stateDir, sequencesName), err)
	}
	return out, nil
}

// recordSequence remembers that the feed patch name, sequence seq, was
// applied here.
func recordSequence(root, stateDir, name string, seq uint64) error {
	seqs, err := loadSequences(root, stateDir)
	if err != nil {
		return err
	}
	seqs[name] = seq
	data, err := json.MarshalIndent(seqs, "", "  ")
	if err != nil {
		return err
	}
	return fsx.WriteFileUnder(root, filepath.Join(stateDir, sequencesName), append(data, '\n'), 0o644)
}
