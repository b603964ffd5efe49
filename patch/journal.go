package patch

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/vincentos/clp/internal/fsx"
)

// Journal kinds.
const (
	txApply    = "apply"
	txRollback = "rollback"
)

// Journal record types after "begin".
const (
	recPhase = "phase" // a phase started (Phase names it); fsynced
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
	path  string
	f     *os.File
	begin *txBegin
	// phases seen so far (from disk when recovering).
	phases map[string]bool
	// cause is why the transaction is being undone, if it said so
	// before it was interrupted.
	cause string
}

// createJournal writes the begin record atomically and durably: until it is
// on disk nothing else is touched, so a crash before it leaves nothing to do.
func createJournal(path string, b *txBegin) (*journal, error) {
	line, err := json.Marshal(txRecord{Rec: "begin", Begin: b})
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create journal directory: %w", err)
	}
	if err := fsx.WriteFile(path, append(line, '\n'), 0o600); err != nil {
		return nil, fmt.Errorf("write journal: %w", err)
	}
	return openJournalAppend(path, b, map[string]bool{})
}

func openJournalAppend(path string, b *txBegin, phases map[string]bool) (*journal, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil, fmt.Errorf("open journal: %w", err)
	}
	// Start on a fresh line after a record torn by a crash.
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		buf := make([]byte, 1)
		if r, err := os.Open(path); err == nil {
			r.ReadAt(buf, st.Size()-1)
			r.Close()
			if buf[0] != '\n' {
				f.Write([]byte("\n"))
			}
		}
	}
	return &journal{path: path, f: f, begin: b, phases: phases}, nil
}

// readJournal loads a journal left by an interrupted transaction. It returns
// nil, nil when there is none, and nil with no error when the file holds no
// complete begin record (nothing was done before it was written).
func readJournal(path string) (*journal, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read journal: %w", err)
	}
	var b *txBegin
	phases := map[string]bool{}
	cause := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<30)
	for sc.Scan() {
		var r txRecord
		if json.Unmarshal(sc.Bytes(), &r) != nil {
			continue // a torn record
		}
		switch r.Rec {
		case "begin":
			if b == nil {
				b = r.Begin
			}
		case recPhase:
			phases[r.Phase] = true
		case "cause":
			cause = r.Note
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read journal %s: %w", path, err)
	}
	if b == nil || b.Applied == nil {
		return &journal{path: path}, nil
	}
	j, err := openJournalAppend(path, b, phases)
	if err != nil {
		return nil, err
	}
	j.cause = cause
	return j, nil
}

// phase records that a phase starts, durably: recovery relies on it.
func (j *journal) phase(name string) error {
	j.phases[name] = true
	return j.append(txRecord{Rec: recPhase, Phase: name}, true)
}

// step records progress on file i; it is not fsynced because recovery
// decides from the files themselves, so losing it costs nothing.
func (j *journal) step(i int, note string) {
	j.append(txRecord{Rec: recStep, Index: i, Note: note}, false)
}

func (j *journal) append(r txRecord, sync bool) error {
	line, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if _, err := j.f.Write(append(line, '\n')); err != nil {
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
		j.f.Close()
		j.f = nil
	}
}

// remove deletes the journal durably: the transaction is over.
func (j *journal) remove() error {
	j.close()
	if err := os.Remove(j.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove journal: %w", err)
	}
	return fsx.SyncDir(filepath.Dir(j.path))
}
