package patch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/vincentos/clp/internal/fsx"
)

// Journal kinds.
const (
	txApply    = "apply"
	txRollback = "rollback"
)

// Journal record types after "begin".
const (
	recPhase = "phase" // a phase started (Phase names it); fsynced where recovery decides on it (applyPhases)
	recStep  = "step"  // progress on one file (Index); not fsynced, informational
)

// Phases a journal can record. Recovery decisions depend only on phases that
// are fsynced and on the state of the files themselves, never on recStep.
const (
	phaseStage       = "stage"
	phaseBackup      = "backup"
	phaseCommit      = "commit"
	phaseUnpack      = "unpack"
	phasePackages    = "packages"     // package actions started
	phaseScript      = "script"       // install or remove script started
	phaseScriptDone  = "script-done"  // remove script succeeded: rollback commit point
	phaseRestore     = "restore"      // rollback: restoring backups
	phaseUndo        = "undo"         // apply: undo started
	phaseUndoScript  = "undo-script"  // apply undo: remove script started
	phaseUndoPackage = "undo-package" // apply undo: package revert started
)

// txBegin is the first journal record: everything recovery needs to undo or
// finish the transaction without the archive.
type txBegin struct {
	Kind    string   `json:"kind"`
	TxID    string   `json:"txid"`
	Name    string   `json:"name"`
	Version string   `json:"version"`
	Applied *Applied `json:"applied"`
	// Force (rollback): move user-edited targets to .clpsave.
	Force bool `json:"force,omitempty"`
	// Reason (rollback): why, for the history (a feed withdrawal).
	Reason string `json:"reason,omitempty"`
}

type txRecord struct {
	Rec   string   `json:"rec"`
	Begin *txBegin `json:"begin,omitempty"`
	Phase string   `json:"phase,omitempty"`
	Index int      `json:"i,omitempty"`
	Note  string   `json:"note,omitempty"`
}

// journal is an open journal, appended to as the transaction goes.
type journal struct {
	e     *Engine
	path  string
	f     *os.File
	begin *txBegin
	// phases seen so far (from disk when recovering).
	phases map[string]bool
	// cause is why the transaction is being undone, if it said so
	// before it was interrupted.
	cause string
	// pending are step records not written yet. Recovery never reads
	// them, so they reach the file in batches (with the next record that
	// matters, or once stepBatch bytes wait) instead of one write(2) per
	// file: 3,000 writes for a 1,000-file apply. A kill loses at most the
	// last batch of them, as a power failure could lose any of them.
	pending []byte
	// line is step's buffer for one record.
	line []byte
}

// stepBatch is how many bytes of step records wait before they are
// written (about 400 records).
const stepBatch = 48 << 10

// createJournal writes the begin record atomically and durably: until it is
// on disk nothing else is touched, so a crash before it leaves nothing to do.
//
// It is written, and later appended to, through an os.Root of the target
// root (anchor.go): a symlink at <root>/var/lib/clp/journal cannot lead it
// out of the root.
func (e *Engine) createJournal(b *txBegin) (*journal, error) {
	path := e.journalPath()
	line, err := json.Marshal(txRecord{Rec: "begin", Begin: b})
	if err != nil {
		return nil, err
	}
	if err := e.writeAnchored(path, sealLine(line), 0o700, 0o600); err != nil {
		return nil, fmt.Errorf("write journal: %w", err)
	}
	return e.openJournalAppend(path, b, map[string]bool{})
}

// openJournalAppend opens the journal to add records. A last line torn by
// a crash (no newline, checksum not holding) is cut off first, so every
// complete line in the journal is one that was written whole; a last line
// that is whole but lost its newline gets it back.
func (e *Engine) openJournalAppend(path string, b *txBegin, phases map[string]bool) (*journal, error) {
	r, name, err := e.anchor(path)
	if err != nil {
		return nil, err
	}
	f, err := r.OpenFile(name, os.O_RDWR|os.O_APPEND, 0)
	r.Close()
	if err != nil {
		return nil, fmt.Errorf("open journal: %w", err)
	}
	if err := repairTail(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("open journal: %w", err)
	}
	return &journal{e: e, path: path, f: f, begin: b, phases: phases}, nil
}

func repairTail(f *os.File) error {
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return err
	}
	n := min(st.Size(), maxJournalSize)
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, st.Size()-n); err != nil {
		return err
	}
	if buf[len(buf)-1] == '\n' {
		return nil
	}
	cut := bytes.LastIndexByte(buf, '\n') + 1
	tail := buf[cut:]
	if _, ok := openSealed(tail); ok || tail[0] == '{' {
		// Whole (or written by an older clp, which never cut): end it.
		_, err := f.Write([]byte("\n"))
		return err
	}
	if err := f.Truncate(st.Size() - n + int64(cut)); err != nil {
		return err
	}
	return f.Sync()
}

// maxJournalSize bounds what clp reads of a journal: the begin record of
// the largest patch (10,000 files, each with its before and after states)
// is a few MiB.
const maxJournalSize = 64 << 20

// JournalLine is one line of the journal as read (clp recover --show).
type JournalLine struct {
	N int `json:"line"`
	// Status is "ok", "unsealed" (an older clp's line, no checksum),
	// "torn" (the last line, cut short by a crash: ignored) or "damaged".
	Status string          `json:"status"`
	Record json.RawMessage `json:"record,omitempty"`
	Raw    string          `json:"raw,omitempty"`
}

// JournalReport is the journal of an interrupted transaction as read,
// whether or not it can be trusted.
type JournalReport struct {
	Path  string        `json:"path"`
	Lines []JournalLine `json:"lines"`
	// Damage says why the journal cannot be acted on ("" when it can).
	Damage string `json:"damage,omitempty"`
	// Sealed says the journal carries checksums (false: an older clp's).
	Sealed  bool     `json:"sealed"`
	Kind    string   `json:"kind,omitempty"`
	Name    string   `json:"name,omitempty"`
	Version string   `json:"version,omitempty"`
	TxID    string   `json:"txid,omitempty"`
	Phases  []string `json:"phases,omitempty"`
	Cause   string   `json:"cause,omitempty"`

	begin  *txBegin
	phases map[string]bool
}

var knownPhases = map[string]bool{phaseStage: true, phaseBackup: true, phaseCommit: true, phaseUnpack: true,
	phasePackages: true, phaseScript: true, phaseScriptDone: true, phaseRestore: true, phaseUndo: true,
	phaseUndoScript: true, phaseUndoPackage: true}

// inspectJournal reads the journal without changing it, inside the root
// (anchor.go). It returns nil, nil when there is none.
func (e *Engine) inspectJournal() (*JournalReport, error) {
	path := e.journalPath()
	data, err := e.readAnchored(path, maxJournalSize)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read journal: %w", err)
	}
	r := &JournalReport{Path: path, phases: map[string]bool{}}
	r.Damage = r.parse(data)
	if r.Damage == "" && r.begin != nil {
		r.Kind, r.Name, r.Version, r.TxID = r.begin.Kind, r.begin.Name, r.begin.Version, r.begin.TxID
	}
	return r, nil
}

// parse reads the lines of data and returns why they cannot be trusted
// ("" when they can).
func (r *JournalReport) parse(data []byte) string {
	if len(data) == 0 {
		return "the file is empty (a journal always starts with its begin record)"
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	if len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	r.Sealed = data[0] != '{'
	damage := ""
	for i, raw := range lines {
		n := i + 1
		whole := bytes.HasSuffix(raw, []byte("\n"))
		line := bytes.TrimSuffix(raw, []byte("\n"))
		jl := JournalLine{N: n}
		var rec []byte
		if r.Sealed {
			var ok bool
			rec, ok = openSealed(line)
			switch {
			case ok:
				jl.Status = "ok"
			case !whole:
				jl.Status = "torn"
			default:
				jl.Status = "damaged"
				if damage == "" {
					damage = fmt.Sprintf("line %d: its checksum does not match its content", n)
				}
			}
		} else {
			rec = line
			jl.Status = "unsealed"
			if !json.Valid(rec) {
				// An older clp's journal: a line torn by a crash was
				// followed by a newline, and skipped.
				jl.Status = "torn"
			}
		}
		if jl.Status == "ok" || jl.Status == "unsealed" {
			if json.Valid(rec) {
				jl.Record = append(json.RawMessage{}, rec...)
			}
			if d := r.record(n, rec); d != "" && damage == "" {
				damage = d
			}
		} else {
			jl.Raw = string(line)
			if len(jl.Raw) > 512 {
				jl.Raw = jl.Raw[:512] + "..."
			}
		}
		r.Lines = append(r.Lines, jl)
	}
	if damage == "" && r.begin == nil {
		damage = "it has no begin record (clp writes it whole before anything else)"
	}
	return damage
}

// record takes in one checked line and returns why it cannot be trusted.
func (r *JournalReport) record(n int, rec []byte) string {
	var t txRecord
	dec := json.NewDecoder(bytes.NewReader(rec))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		return fmt.Sprintf("line %d: %v", n, err)
	}
	switch t.Rec {
	case "begin":
		if r.begin != nil || n != 1 {
			return fmt.Sprintf("line %d: a begin record that is not the first line", n)
		}
		if t.Begin == nil {
			return fmt.Sprintf("line %d: a begin record without its plan", n)
		}
		if err := validateBegin(t.Begin); err != nil {
			return fmt.Sprintf("line %d: %v", n, err)
		}
		r.begin = t.Begin
	case recPhase:
		if !knownPhases[t.Phase] {
			return fmt.Sprintf("line %d: unknown phase %q", n, t.Phase)
		}
		if !r.phases[t.Phase] {
			r.Phases = append(r.Phases, t.Phase)
		}
		r.phases[t.Phase] = true
	case recStep:
	case "cause":
		if len(t.Note) > 64<<10 {
			return fmt.Sprintf("line %d: a cause longer than 64 KiB", n)
		}
		r.Cause = t.Note
	default:
		return fmt.Sprintf("line %d: unknown record %q", n, t.Rec)
	}
	if r.begin == nil {
		return fmt.Sprintf("line %d: a record before the begin record", n)
	}
	return ""
}

// validateBegin checks a begin record as strictly as a patch.
func validateBegin(b *txBegin) error {
	if b.Kind != txApply && b.Kind != txRollback {
		return fmt.Errorf("unknown transaction kind %q", b.Kind)
	}
	if !validTxID(b.TxID) {
		return fmt.Errorf("transaction id %q is not one clp makes", b.TxID)
	}
	if b.Applied == nil {
		return errors.New("the begin record holds no plan")
	}
	if err := validateApplied(b.Applied); err != nil {
		return err
	}
	if b.Name != b.Applied.Name || b.Version != b.Applied.Version {
		return fmt.Errorf("the begin record names %s %s but its plan is %s %s", b.Name, b.Version, b.Applied.Name, b.Applied.Version)
	}
	if b.Kind == txApply && b.Applied.TxID != b.TxID {
		return fmt.Errorf("the plan's transaction id %q is not the apply's (%s)", b.Applied.TxID, b.TxID)
	}
	return nil
}

func (r *JournalReport) damagedError() error {
	return &DamagedError{Path: r.Path, Problem: "the journal of an interrupted transaction: " + r.Damage, Journal: true}
}

// readJournal loads a journal left by an interrupted transaction. It
// returns nil, nil when there is none, and a *DamagedError (keeping the
// file) when it cannot be trusted.
func (e *Engine) readJournal() (*journal, error) {
	path := e.journalPath()
	r, err := e.inspectJournal()
	if r == nil || err != nil {
		return nil, err
	}
	if r.Damage != "" {
		return nil, r.damagedError()
	}
	j, err := e.openJournalAppend(path, r.begin, r.phases)
	if err != nil {
		return nil, err
	}
	j.cause = r.Cause
	return j, nil
}

// ShowJournal reads the journal of an interrupted transaction as it is,
// without acting on it or taking the lock (clp recover --show). It
// returns nil when there is none.
func (e *Engine) ShowJournal() (*JournalReport, error) {
	if err := e.check(); err != nil {
		return nil, err
	}
	return e.inspectJournal()
}

// phase records that a phase starts, durably: recovery relies on it.
func (j *journal) phase(name string) error {
	j.phases[name] = true
	return j.append(txRecord{Rec: recPhase, Phase: name}, true)
}

// note records that a phase starts, written at once but not synced: for
// a phase recovery never decides on (applyPhases says which). A power cut
// may lose it, as it may lose a step record; the next synced record
// makes it durable with everything before it.
func (j *journal) note(name string) error {
	j.phases[name] = true
	return j.append(txRecord{Rec: recPhase, Phase: name}, false)
}

// step records progress on file i; it is not fsynced because recovery
// decides from the files themselves, so losing it costs nothing.
func (j *journal) step(i int, note string) {
	line, err := stepRecord(j.line[:0], i, note)
	if err != nil {
		return
	}
	j.line = line
	j.pending = append(j.pending, sealLine(line)...)
	if len(j.pending) >= stepBatch {
		j.flushSteps()
	}
}

// stepRecord appends to buf the JSON json.Marshal writes for the step
// record (i, note), written out directly where note needs no escaping
// (the notes clp writes: "staged", "backed up", "restored"...): 3,000 of
// them for a 1,000-file apply, where reflection cost more than the rest
// of the record.
func stepRecord(buf []byte, i int, note string) ([]byte, error) {
	for k := 0; k < len(note); k++ {
		if c := note[k]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return json.Marshal(txRecord{Rec: recStep, Index: i, Note: note})
		}
	}
	buf = append(buf, `{"rec":"step"`...)
	if i != 0 {
		buf = append(buf, `,"i":`...)
		buf = strconv.AppendInt(buf, int64(i), 10)
	}
	if note != "" {
		buf = append(buf, `,"note":"`...)
		buf = append(buf, note...)
		buf = append(buf, '"')
	}
	return append(buf, '}'), nil
}

// flushSteps writes the step records waiting in j.pending, not synced.
func (j *journal) flushSteps() {
	if len(j.pending) > 0 && j.f != nil {
		j.f.Write(j.pending)
	}
	j.pending = j.pending[:0]
}

// append writes r after the step records waiting, in one write(2), and
// with sync makes the journal durable up to it.
func (j *journal) append(r txRecord, sync bool) error {
	line, err := json.Marshal(r)
	if err != nil {
		return err
	}
	buf := append(j.pending, sealLine(line)...)
	j.pending = j.pending[:0]
	if _, err := j.f.Write(buf); err != nil {
		return fmt.Errorf("write journal: %w", err)
	}
	if sync {
		if err := j.f.Sync(); err != nil {
			return fmt.Errorf("sync journal: %w", err)
		}
	}
	return nil
}

func (j *journal) close() {
	if j != nil && j.f != nil {
		j.flushSteps()
		j.f.Close()
		j.f = nil
	}
}

// remove deletes the journal durably: the transaction is over.
func (j *journal) remove() error {
	j.pending = nil // the file goes: no use writing them
	j.close()
	r, name, err := j.e.anchor(j.path)
	if err != nil {
		return fmt.Errorf("remove journal: %w", err)
	}
	defer r.Close()
	if err := removeIn(r, name); err != nil {
		return fmt.Errorf("remove journal: %w", err)
	}
	return fsx.SyncDirIn(r, filepath.Dir(name))
}
