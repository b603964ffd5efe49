package boot

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"time"

	"github.com/vincentos/clp/internal/fsx"
)

// StateFile is the guard's state, in clp's state directory.
const StateFile = "boot-guard.json"

// stateFormat is the envelope's format number.
const stateFormat = 1

// maxStateBytes caps what is read: the file holds a few transactions and
// at most maxBoots boots.
const maxStateBytes = 1 << 20

// maxBoots is how many judged boots the state remembers.
const maxBoots = 20

// Phase is where the guard stands.
type Phase string

// The phases. Armed is the only one in which a restore can start; Restoring
// is written durably before the restore begins, so a restore that a power
// cut interrupted is found on the next boot and never started again.
const (
	Disarmed      Phase = "disarmed"
	Armed         Phase = "armed"
	Restoring     Phase = "restoring"
	Restored      Phase = "restored"
	RestoreFailed Phase = "restore-failed"
)

// Verdicts of a boot.
const (
	VerdictGood   = "good"
	VerdictBad    = "bad"
	VerdictSilent = "silent" // never judged: powered off or hung before the check
)

// Transaction is one change that armed (or re-armed) the guard.
type Transaction struct {
	Time time.Time `json:"time"`
	// Source says who changed the packages: "pacman" (the post hook),
	// "clp apply", "clp downgrade", "clp snapshot restore 41".
	Source string `json:"source"`
	// Snapshot is the transaction's pre-transaction snapshot.
	Snapshot int `json:"snapshot"`
	// Patch is the clp patch the transaction applied, if any.
	Patch string `json:"patch,omitempty"`
	// Packages are the boot-critical packages it changed.
	Packages []string `json:"packages"`
}

// Boot is one boot the guard counted.
type Boot struct {
	ID      string    `json:"id"`
	Started time.Time `json:"started"`
	Verdict string    `json:"verdict,omitempty"` // "" while it is being judged
	Reason  string    `json:"reason,omitempty"`
}

// RestoreRecord is what the guard's restore did.
type RestoreRecord struct {
	Time     time.Time `json:"time"`
	Boot     string    `json:"boot"`
	Snapshot int       `json:"snapshot"`
	// Requested is true when clp.rollback=1 asked for it.
	Requested bool     `json:"requested,omitempty"`
	Patches   []string `json:"patches_rolled_back,omitempty"`
	OK        bool     `json:"ok"`
	Error     string   `json:"error,omitempty"`
}

// State is the guard's durable state.
type State struct {
	Phase Phase `json:"phase"`
	// Snapshot is what a restore goes back to: the pre-transaction
	// snapshot of the first transaction since the last good boot.
	Snapshot     int           `json:"snapshot,omitempty"`
	ArmedAt      time.Time     `json:"armed_at,omitzero"`
	Transactions []Transaction `json:"transactions,omitempty"`
	// Failed counts the failed and silent boots since the guard armed.
	Failed int    `json:"failed"`
	Boots  []Boot `json:"boots,omitempty"`
	// Pending is the boot being judged: counted at its start, not yet
	// judged. Found at the start of another boot, it was silent.
	Pending string         `json:"pending,omitempty"`
	Restore *RestoreRecord `json:"restore,omitempty"`
	// Last says how the previous guard cycle ended, for status.
	Last string `json:"last,omitempty"`
}

// envelope is the file: the state's exact bytes and their sha256.
type envelope struct {
	Format int             `json:"format"`
	SHA256 string          `json:"sha256"`
	State  json.RawMessage `json:"state"`
}

// DamagedError is a state file that failed its checks. The file is kept as
// it is; the guard does nothing on its word.
type DamagedError struct {
	Path   string
	Reason string
}

func (e *DamagedError) Error() string {
	return fmt.Sprintf("the boot guard's state %s is damaged (%s): it is kept as it is and not obeyed", e.Path, e.Reason)
}

// ErrDamaged matches every DamagedError.
var ErrDamaged = errors.New("boot guard state damaged")

func (e *DamagedError) Is(target error) bool { return target == ErrDamaged }

func damaged(path, format string, a ...any) error {
	return &DamagedError{Path: path, Reason: fmt.Sprintf(format, a...)}
}

// readState reads and checks the state at path. A missing file is a
// disarmed guard.
func readState(root, path string) (*State, error) {
	f, err := fsx.OpenUnder(root, path)
	if errors.Is(err, fs.ErrNotExist) {
		return &State{Phase: Disarmed}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the boot guard's state: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxStateBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read the boot guard's state: %w", err)
	}
	return decodeState(path, data)
}

func decodeState(path string, data []byte) (*State, error) {
	if len(data) > maxStateBytes {
		return nil, damaged(path, "larger than %d bytes", maxStateBytes)
	}
	var env envelope
	if err := strictDecode(data, &env); err != nil {
		return nil, damaged(path, "not a state file: %v", err)
	}
	if env.Format != stateFormat {
		return nil, damaged(path, "format %d, want %d", env.Format, stateFormat)
	}
	sum := sha256.Sum256(env.State)
	if hex.EncodeToString(sum[:]) != env.SHA256 {
		return nil, damaged(path, "checksum mismatch")
	}
	var st State
	if err := strictDecode(env.State, &st); err != nil {
		return nil, damaged(path, "state: %v", err)
	}
	if err := st.validate(); err != nil {
		return nil, damaged(path, "%v", err)
	}
	return &st, nil
}

// strictDecode refuses unknown fields and trailing data.
func strictDecode(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("trailing data after the JSON object")
	}
	return nil
}

// validate checks what the guard would act on.
func (s *State) validate() error {
	switch s.Phase {
	case Disarmed, Armed, Restoring, Restored, RestoreFailed:
	default:
		return fmt.Errorf("unknown phase %q", s.Phase)
	}
	if s.Failed < 0 || s.Failed > 1000 {
		return fmt.Errorf("failed boot count %d out of range", s.Failed)
	}
	if len(s.Boots) > maxBoots {
		return fmt.Errorf("%d boots recorded, at most %d", len(s.Boots), maxBoots)
	}
	if s.Phase != Disarmed {
		if s.Snapshot <= 0 {
			return fmt.Errorf("phase %s without a snapshot to restore", s.Phase)
		}
		if len(s.Transactions) == 0 {
			return fmt.Errorf("phase %s without the transaction that armed it", s.Phase)
		}
	}
	if (s.Phase == Restored || s.Phase == RestoreFailed) && s.Restore == nil {
		return fmt.Errorf("phase %s without a restore record", s.Phase)
	}
	for _, t := range s.Transactions {
		if t.Snapshot <= 0 || t.Source == "" {
			return fmt.Errorf("transaction without a source or snapshot")
		}
	}
	for _, b := range s.Boots {
		switch b.Verdict {
		case "", VerdictGood, VerdictBad, VerdictSilent:
		default:
			return fmt.Errorf("boot %s: unknown verdict %q", b.ID, b.Verdict)
		}
		if !validBootID(b.ID) {
			return fmt.Errorf("boot id %q is not a boot id", b.ID)
		}
	}
	if s.Pending != "" && !validBootID(s.Pending) {
		return fmt.Errorf("pending boot id %q is not a boot id", s.Pending)
	}
	return nil
}

// validBootID accepts the kernel's boot id: a UUID, 36 characters.
func validBootID(id string) bool {
	if len(id) != 36 {
		return false
	}
	for i, c := range id {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f':
		default:
			return false
		}
	}
	return true
}

// encodeState is the file content for st.
func encodeState(st *State) ([]byte, error) {
	if err := st.validate(); err != nil {
		return nil, fmt.Errorf("refusing to write a boot guard state that would not read back: %w", err)
	}
	inner, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(inner)
	// One line, not indented: indenting would re-indent the state's bytes
	// and break their checksum. 'clp boot status --json' is the readable form.
	out, err := json.Marshal(envelope{Format: stateFormat, SHA256: hex.EncodeToString(sum[:]), State: inner})
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// writeState replaces the state durably (fsx.WriteFile: temp file, fsync,
// rename, directory fsync), so a power cut leaves the old or the new state.
func writeState(root, path string, st *State) error {
	data, err := encodeState(st)
	if err != nil {
		return err
	}
	if err := fsx.MkdirAllUnder(root, filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return fsx.WriteFileUnder(root, path, data, 0o644)
}

// addBoot appends b, keeping the newest maxBoots.
func (s *State) addBoot(b Boot) {
	s.Boots = append(s.Boots, b)
	if len(s.Boots) > maxBoots {
		s.Boots = s.Boots[len(s.Boots)-maxBoots:]
	}
}

// setVerdict records the verdict of boot id.
func (s *State) setVerdict(id, verdict, reason string) {
	for i := range s.Boots {
		if s.Boots[i].ID == id {
			s.Boots[i].Verdict, s.Boots[i].Reason = verdict, reason
			return
		}
	}
}

// Patches are the patches the armed transactions applied, oldest first,
// each once.
func (s *State) Patches() []string {
	var out []string
	seen := map[string]bool{}
	for _, t := range s.Transactions {
		if t.Patch != "" && !seen[t.Patch] {
			seen[t.Patch] = true
			out = append(out, t.Patch)
		}
	}
	return out
}

func sha256hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
