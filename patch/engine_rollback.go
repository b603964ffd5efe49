package patch

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Rollback undoes an applied patch: it runs the patch's remove script,
// reverts its package actions, puts back every file it changed exactly as
// it was, and records the rollback. It refuses, changing nothing, when a
// patch applied later changed the same files (naming it), or when a file
// was changed by the user since the patch applied (unless opts.Force, which
// keeps the user's copy as <file>.clpsave).
//
// The remove script is the commit point: if it fails, nothing is restored
// and the patch stays applied; once it has succeeded the rollback is
// finished, by Recover if need be.
func (e *Engine) Rollback(ctx context.Context, name string, opts RollbackOptions) error {
	if err := e.check(); err != nil {
		return err
	}
	if err := checkName(name); err != nil {
		return err
	}
	// Refuse an unknown name before the lock, which would create the
	// state directory on a system clp never touched. The record itself is
	// read (and checked) under the lock: here a regular file is enough to
	// go on, without parsing 1,000 steps of JSON a third time; anything
	// else there is read as before (a symbolic link that leads nowhere is
	// no record).
	if !e.appliedFileExists(name) {
		if ap, err := e.readApplied(name); err == nil && ap == nil {
			if _, err := e.lstatAnchored(e.journalPath()); errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("patch %s is not applied", name)
			}
		}
	}
	l, err := e.lockRecovered(ctx)
	if err != nil {
		return err
	}
	defer l.Release()
	hook("locked")
	ap, err := e.readApplied(name)
	if err != nil {
		return err
	}
	if ap == nil {
		return fmt.Errorf("patch %s is not applied", name)
	}
	seen := seenFiles{}
	if err := e.checkRollback(ap, opts, seen); err != nil {
		return err
	}
	if ap.Legacy {
		if err := e.checkLegacyRollback(ap); err != nil {
			return err
		}
	}

	j, err := e.createJournal(&txBegin{Kind: txRollback, TxID: newTxID(), Name: ap.Name, Version: ap.Version, Applied: ap, Force: opts.Force, Reason: opts.Reason})
	if err != nil {
		return fmt.Errorf("roll back %s: %w; nothing was changed", name, err)
	}
	defer j.close()
	hook("journal")

	abandon := func(err error) error {
		e.addEvent(Event{Event: EventRollbackFailed, Name: ap.Name, Version: ap.Version, TxID: j.begin.TxID, Detail: err.Error()})
		j.remove()
		return fmt.Errorf("roll back %s: %w; no file was restored, the patch stays applied", name, err)
	}
	if ap.RemoveScript != "" {
		script := filepath.Join(e.optPatchDir(name), ap.RemoveScript)
		if _, err := e.lstatAnchored(script); err != nil {
			e.rep().Warn(fmt.Sprintf("remove script of %s is missing (%v); restoring the files without it", name, err))
		} else {
			if err := j.phase(phaseScript); err != nil {
				return abandon(err)
			}
			hook("script")
			if err := e.runScript(ctx, name, "remove", ap.RemoveScript); err != nil {
				return abandon(err)
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return abandon(fmt.Errorf("interrupted: %w", err))
	}
	if err := j.phase(phaseScriptDone); err != nil {
		return abandon(err)
	}
	hook("commit-point")
	// Past the commit point the only way to a consistent system is
	// forward, so a cancellation no longer stops it.
	if err := e.finishRollback(context.WithoutCancel(ctx), j, seen); err != nil {
		return &UnfinishedError{Err: fmt.Errorf("roll back %s: %w (run clp recover to finish it)", name, err)}
	}
	return nil
}

// checkRollback refuses a rollback that would undo a later patch's work or
// silently overwrite the user's changes. What it reads of each target is
// kept in seen (state_seen.go) for finishRollback.
func (e *Engine) checkRollback(ap *Applied, opts RollbackOptions, seen seenFiles) error {
	// ap was read under the lock a moment ago: the list takes it as it
	// is instead of reading and checking it again.
	list, err := e.listWith(ap)
	if err != nil {
		return err
	}
	mine := map[string]bool{}
	for _, s := range ap.Steps {
		mine[s.Target] = true
	}
	for _, o := range list {
		if o.Seq <= ap.Seq || o.Name == ap.Name {
			continue
		}
		for _, s := range o.Steps {
			if mine[s.Target] {
				return fmt.Errorf("cannot roll back %s: patch %s, applied after it, also changed %s; roll back %s first", ap.Name, o.Name, s.Target, o.Name)
			}
		}
	}
	r, err := e.openRoot()
	if err != nil {
		return err
	}
	defer closeRoot(r)
	var changed []string
	names := make([]string, len(ap.Steps))
	for i, s := range ap.Steps {
		names[i] = tname(s.Target)
	}
	found := statFilesSeen(r, names, seen)
	for i, s := range ap.Steps {
		cur, err := found[i].st, found[i].err
		if err != nil {
			return err
		}
		if !userChangedSince(s, cur, true) {
			continue
		}
		if !opts.Force {
			changed = append(changed, s.Target)
			continue
		}
		if !userChangedSince(s, cur, false) {
			// Only its mode or owner changed: the content is the
			// patch's, so there is no copy to keep; say what is lost.
			e.rep().Warn(fmt.Sprintf("%s had its mode or owner changed since the patch was applied (now %04o %d:%d); rolling back anyway (--force) puts back %04o %d:%d", s.Target, cur.Mode, cur.UID, cur.GID, s.Before.Mode, s.Before.UID, s.Before.GID))
			continue
		}
		cs := s.Target + ".clpsave"
		if _, err := r.Lstat(tname(cs)); err == nil && !isOwnClpsave(r, s) {
			return fmt.Errorf("cannot roll back %s: %s was changed and %s already exists; move it away first", ap.Name, s.Target, cs)
		}
	}
	if len(changed) > 0 {
		return fmt.Errorf("cannot roll back %s: %s changed since the patch was applied; not overwriting (hint: use --force to roll back anyway and keep your copy as .clpsave)", ap.Name, strings.Join(changed, ", "))
	}
	return nil
}

// isOwnClpsave says whether the step's .clpsave is the one apply made and
// it still holds the content the backup has (so it can go).
func isOwnClpsave(r *os.Root, s Step) bool {
	if s.Clpsave == "" {
		return false
	}
	st, err := statFileIn(r, tname(s.Clpsave))
	return err == nil && st.Exists && st.SHA256 == s.Before.SHA256
}

// userChangedSince says whether cur is neither what the patch left nor what
// was there before it: the user changed the file. A deleted file is not a
// change worth keeping.
//
// Checked before a rollback's commit point, mode and owner count too: a
// file the patch placed whose mode or owner alone was changed since (a
// chmod by the admin) is the user's change, not something to drop
// silently.
// With meta, mode and owner count as well as content.
func userChangedSince(s Step, cur FileState, meta bool) bool {
	if !cur.Exists {
		return false
	}
	if s.After.Exists && sameFile(cur, s.After, meta) {
		return false
	}
	if s.Before.Exists && sameFile(cur, s.Before, meta) {
		return false
	}
	return true
}

// sameFile compares what a rollback restores and a user sees: content,
// and with meta the permission bits and owner.
func sameFile(a, b FileState, meta bool) bool {
	return a.SHA256 == b.SHA256 && (!meta || a.Mode == b.Mode && a.UID == b.UID && a.GID == b.GID)
}

// finishRollback restores every file from the backups and forgets the
// patch. It is idempotent: Recover runs it again after a crash (seen nil;
// else what checkRollback read, reused for a target whose inode did not
// change since).
func (e *Engine) finishRollback(ctx context.Context, j *journal, seen seenFiles) error {
	ap := j.begin.Applied
	if ap.Packages != nil {
		if e.Packages == nil {
			return fmt.Errorf("patch %s changed packages but no package actor is set to revert them", ap.Name)
		}
		j.phase(phasePackages) // informational, like every record past the commit point
		if err := e.Packages.Revert(ctx, ap.Packages); err != nil {
			return fmt.Errorf("revert package actions: %w", err)
		}
		hook("packages")
	}
	j.phase(phaseRestore)
	rs, err := e.openRoots()
	if err != nil {
		return err
	}
	defer rs.close()
	var touched []string
	for i := len(ap.Steps) - 1; i >= 0; i-- {
		s := ap.Steps[i]
		t := tname(s.Target)
		if isOwnClpsave(rs.sys, s) {
			if err := removeIn(rs.sys, tname(s.Clpsave)); err != nil {
				return err
			}
		}
		cur, err := statFileAgain(rs.sys, t, seen)
		if err != nil {
			return err
		}
		// Content only here: a crash in the middle of restoring a file's
		// metadata must not make the restore of the rest impossible; a
		// mode or owner change was refused (or accepted with --force)
		// by checkRollback before the commit point.
		if userChangedSince(s, cur, false) {
			if !j.begin.Force {
				return fmt.Errorf("%s changed since the patch was applied", s.Target)
			}
			cs := s.Target + ".clpsave"
			if err := renameIn(rs.sys, t, rs.sys, tname(cs)); err != nil {
				return fmt.Errorf("keep your copy of %s: %w", s.Target, err)
			}
			e.rep().Warn(fmt.Sprintf("%s was changed; your copy is kept as %s", s.Target, cs))
		}
		if err := restoreStep(rs, ap, s, j.begin.TxID, true); err != nil {
			return err
		}
		j.step(i, "restored")
		touched = append(touched, t)
		hook("restore " + s.Target)
	}
	if err := e.clearTraces(rs, ap, touched, "restored"); err != nil {
		return err
	}
	if err := e.addEvent(Event{Event: EventRolledBack, Name: ap.Name, Version: ap.Version, TxID: j.begin.TxID, Detail: j.begin.Reason}); err != nil {
		e.rep().Warn(fmt.Sprintf("patch %s is rolled back but the history could not be written: %v", ap.Name, err))
	}
	if err := j.remove(); err != nil {
		return err
	}
	hook("done")
	return nil
}

// clearTraces removes what a patch leaves besides the files it changed,
// once those are restored (rollback) or undone (an interrupted apply): the
// directories it created, its /opt/CLP folder, then, after syncing, its
// state folder. restoredStep names the crash boundary after the sync.
// touched are the targets' names in rs.sys.
func (e *Engine) clearTraces(rs *roots, ap *Applied, touched []string, restoredStep string) error {
	removeCreatedDirs(rs.sys, ap.Dirs)
	if err := e.removeAllAnchored(e.optPatchDir(ap.Name)); err != nil {
		return err
	}
	dirs := dirsOf(touched)
	if opt, ok := under(e.Root, e.OptDir); ok {
		if ap.OptCreated {
			rs.sys.Remove(opt)
		}
		dirs = append(dirs, filepath.Dir(opt))
	}
	if err := syncFSIn(rs.sys, dirs); err != nil {
		return err
	}
	hook(restoredStep)
	if err := e.removeAllAnchored(e.patchDir(ap.Name)); err != nil {
		return err
	}
	hook("forgotten")
	return nil
}

// ErrUnfinished is in the chain of an error that stopped a transaction
// past its commit point: something was changed, and clp recover finishes
// it. It is never a refusal ("nothing was changed").
var ErrUnfinished = errors.New("transaction unfinished")

// UnfinishedError is a transaction that failed past its commit point.
type UnfinishedError struct{ Err error }

func (e *UnfinishedError) Error() string   { return e.Err.Error() }
func (e *UnfinishedError) Unwrap() []error { return []error{e.Err, ErrUnfinished} }

// NextStep is the hint under the error.
func (e *UnfinishedError) NextStep() string {
	return "the rollback passed its point of no return; fix the cause above, then run 'clp recover' to finish it"
}
