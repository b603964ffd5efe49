package patch

// On-disk state of the apply engine. Every path below is under Engine.Root
// (clp --root); StateDir is normally <root>/var/lib/clp.
//
//	<StateDir>/lock                     flock held by the one clp that writes (internal/lock);
//	                                    it holds the pid of the holder for error messages
//	<StateDir>/journal/current          the journal of the transaction in flight, if any:
//	                                    JSON lines, each sealed as "<sha256 of the JSON> <JSON>"
//	                                    (seal.go); the first ("begin") carries the whole
//	                                    plan (every file's before and after state: sha256,
//	                                    mode, uid/gid, xattrs, backup and staging paths),
//	                                    later lines record progress. It is created
//	                                    atomically (fsx.WriteFile) so a torn begin never
//	                                    exists; a torn last line (no newline, checksum not
//	                                    holding) is ignored, any other bad line makes the
//	                                    journal damaged: kept, never acted on (exit 7)
//	<StateDir>/patches/<name>/applied.json   the record of an applied patch: its plan
//	                                    (as journalled), package plan, scripts, time and
//	                                    sequence number, sealed with a "checksum" field;
//	                                    writing it is the commit point of an apply
//	<StateDir>/patches/<name>/backup/<target path>   what the patch replaced or removed:
//	                                    a hard link to the old file when it is on the
//	                                    same file system (the old inode is never written,
//	                                    so the link is an exact copy for free), else a
//	                                    copy; mode/owner/xattrs are restored from the
//	                                    plan, not from the backup file
//	<StateDir>/children                 scripts and pacman runs in flight (internal/child):
//	                                    the marker each carries in its environment, so the
//	                                    next clp ends what a killed one left before it
//	                                    recovers anything
//	<StateDir>/history.jsonl            one JSON line per event (applied, apply-failed,
//	                                    rolled-back, rollback-failed), append-only
//	<OptDir>/<name>/                    the unpacked patch, for scripts written for the
//	                                    original clpctl (they expect /opt/CLP/<name>/ as
//	                                    working directory and keep their own backups in
//	                                    /opt/CLP/<name>/backup/); removed on rollback
//	<target dir>/.<base>.clp-new-<txid> a new file staged beside its target during a
//	                                    transaction; renamed over the target at commit
//	<target>.clpsave                    the user's edited copy of a target, kept when
//	                                    apply or rollback was forced over it
//	<LogPath>                           script output (/var/log/CLP.log, as the original)
//
// A transaction is an apply or a rollback. An apply that did not reach its
// commit point (applied.json written) is undone by Recover; one that did is
// finished. A rollback's commit point is the moment its remove script has
// succeeded (or, without a script, its begin record): before it, Recover
// leaves the patch applied; after it, Recover finishes restoring the backups.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"time"

	"github.com/vincentos/clp/internal/fsx"
)

// Event kinds in the history.
const (
	EventApplied        = "applied"
	EventApplyFailed    = "apply-failed"
	EventRolledBack     = "rolled-back"
	EventRollbackFailed = "rollback-failed"
)

// Applied is the record of an applied patch (applied.json).
type Applied struct {
	Name        string       `json:"name"`
	Version     string       `json:"version"`
	Description string       `json:"description,omitempty"`
	Severity    string       `json:"severity,omitempty"`
	Seq         int64        `json:"seq"`
	TxID        string       `json:"txid"`
	AppliedAt   time.Time    `json:"applied_at"`
	Steps       []Step       `json:"steps"`
	Dirs        []string     `json:"dirs,omitempty"`
	Packages    *PackagePlan `json:"packages,omitempty"`
	// InstallScript is the archive entry name of the install script.
	InstallScript string `json:"install_script,omitempty"`
	// RemoveScript is the archive entry name of the remove script, which
	// stays unpacked in OptDir/<name>/ until rollback.
	RemoveScript string `json:"remove_script,omitempty"`
	Force        bool   `json:"force,omitempty"`
	// OptCreated says OptDir did not exist before this patch.
	OptCreated bool `json:"opt_created,omitempty"`
	// Legacy marks a patch the original clpctl installed and clp migrate
	// adopted (AdoptLegacy): clp has no backups of it, so rolling it back
	// is its remove script alone.
	Legacy bool `json:"legacy,omitempty"`
	// Checksum is the sha256 of the record without it (see seal.go); a
	// record an older clp wrote has none.
	Checksum string `json:"checksum,omitempty"`
}

// Event is one line of the history.
type Event struct {
	Time    time.Time `json:"time"`
	Event   string    `json:"event"`
	Name    string    `json:"name"`
	Version string    `json:"version,omitempty"`
	TxID    string    `json:"txid,omitempty"`
	Detail  string    `json:"detail,omitempty"`
}

func (e *Engine) patchDir(name string) string  { return filepath.Join(e.StateDir, "patches", name) }
func (e *Engine) backupDir(name string) string { return filepath.Join(e.patchDir(name), "backup") }
func (e *Engine) appliedPath(name string) string {
	return filepath.Join(e.patchDir(name), "applied.json")
}
func (e *Engine) historyPath() string { return filepath.Join(e.StateDir, "history.jsonl") }
func (e *Engine) lockPath() string    { return filepath.Join(e.StateDir, "lock") }
func (e *Engine) journalDir() string  { return filepath.Join(e.StateDir, "journal") }
func (e *Engine) journalPath() string { return filepath.Join(e.journalDir(), "current") }
func (e *Engine) optPatchDir(name string) string {
	return filepath.Join(e.OptDir, name)
}

// sys joins a system path with the root.
func (e *Engine) sys(p string) string { return fsx.UnderRoot(e.Root, p) }

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now().UTC()
	}
	return time.Now().UTC()
}

// readApplied returns the applied record of name, or nil if it is not
// applied. A record whose checksum does not hold, or that names what no
// apply writes, is a *DamagedError: it is kept and never acted on.
func (e *Engine) readApplied(name string) (*Applied, error) {
	path := e.appliedPath(name)
	data, err := e.readAnchored(path, fsx.StateFileMax)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var a Applied
	if err := json.Unmarshal(data, &a); err != nil {
		return nil, damaged(path, "not a record clp wrote: %v", err)
	}
	if _, ok := appliedChecksumHolds(&a); !ok {
		return nil, damaged(path, "its checksum does not match its content")
	}
	if err := validateApplied(&a); err != nil {
		return nil, damaged(path, "%v", err)
	}
	if a.Name != name {
		return nil, damaged(path, "it records patch %s in the folder of %s", a.Name, name)
	}
	return &a, nil
}

func (e *Engine) writeApplied(a *Applied) error {
	data, err := appliedFile(a)
	if err != nil {
		return err
	}
	// A patch that only adds files has no backups, so nothing before
	// this made its state folder. Anchored to the root (anchor.go).
	return e.writeAnchored(e.appliedPath(a.Name), append(data, '\n'), 0o700, 0o600)
}

// appliedFileExists says whether name's applied record is there as a
// regular file (not whether it holds a valid record).
func (e *Engine) appliedFileExists(name string) bool {
	fi, err := e.lstatAnchored(e.appliedPath(name))
	return err == nil && fi.Mode().IsRegular()
}

// List returns the applied patches, oldest first.
func (e *Engine) List() ([]Applied, error) { return e.listWith(nil) }

// listWith is List with known (when not nil) as the record of its name,
// not read again: for a caller that holds the lock and read it already.
func (e *Engine) listWith(known *Applied) ([]Applied, error) {
	ents, err := e.readDirAnchored(filepath.Join(e.StateDir, "patches"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Applied
	for _, d := range ents {
		if !d.IsDir() {
			continue
		}
		a := known
		if a == nil || d.Name() != known.Name {
			if a, err = e.readApplied(d.Name()); err != nil {
				return nil, err
			}
		}
		if a != nil {
			out = append(out, *a)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out, nil
}

// History returns every recorded event, oldest first. A torn last line (a
// crash while appending) is skipped.
func (e *Engine) History() ([]Event, error) {
	data, err := e.readAnchored(e.historyPath(), fsx.StateFileMax)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Event
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	for sc.Scan() {
		var ev Event
		if json.Unmarshal(sc.Bytes(), &ev) == nil {
			out = append(out, ev)
		}
	}
	return out, sc.Err()
}

// addEvent appends ev to the history unless an event of the same kind for
// the same transaction is already there, so a recovery that repeats a step
// does not record it twice.
func (e *Engine) addEvent(ev Event) error {
	if ev.TxID != "" {
		evs, err := e.History()
		if err != nil {
			return err
		}
		for _, old := range evs {
			if old.TxID == ev.TxID && old.Event == ev.Event {
				return nil
			}
		}
	}
	if ev.Time.IsZero() {
		ev.Time = e.now()
	}
	line, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	// Anchored to the root (anchor.go): a symlink at the history's
	// place cannot make clp append outside the root.
	f, r, err := e.openAppendAnchored(e.historyPath(), 0o644)
	if err != nil {
		return fmt.Errorf("open history: %w", err)
	}
	defer r.Close()
	// A previous append torn by a crash would glue this line to its
	// remains; start on a fresh line if the file does not end with one.
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, st.Size()-1); err == nil && last[0] != '\n' {
			line = append([]byte{'\n'}, line...)
		}
	}
	_, err = f.Write(append(line, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write history: %w", err)
	}
	return nil
}

// nextSeq returns the sequence number for a new applied patch.
func (e *Engine) nextSeq() (int64, error) {
	list, err := e.List()
	if err != nil {
		return 0, err
	}
	var max int64
	for _, a := range list {
		if a.Seq > max {
			max = a.Seq
		}
	}
	return max + 1, nil
}
