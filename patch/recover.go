package patch

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	"github.com/vincentos/clp/internal/child"
	"github.com/vincentos/clp/internal/fsx"
)

// Recover finishes a transaction a crash interrupted (power cut, kill -9):
// an apply that had not reached its commit point is undone, one that had is
// finished; a rollback that had not passed its remove script is abandoned
// (the patch stays applied), one that had is finished. It reports whether
// there was anything to recover. It is idempotent: every step it takes can
// be taken again, so a crash during Recover is recovered by the next one.
// Every command calls it first.
func (e *Engine) Recover(ctx context.Context) (bool, error) {
	if err := e.check(); err != nil {
		return false, err
	}
	left, err := child.Leftovers(e.children())
	if err != nil {
		return false, err
	}
	if _, err := e.lstatAnchored(e.journalPath()); errors.Is(err, fs.ErrNotExist) && len(left) == 0 && !e.hasTemps() {
		return false, nil
	}
	l, err := e.lock(ctx)
	if err != nil {
		return false, err
	}
	defer l.Release()
	return e.recoverLocked(ctx)
}

// leftoverWait bounds how long recovery waits for the processes a killed
// clp left to end after SIGKILL (they end at once unless stuck in the
// kernel, on a hung mount for instance).
var leftoverWait = 30 * time.Second

// endLeftovers ends what a killed clp left running (pacman, its hooks, a
// script and their children) and releases the db.lck such a pacman held,
// before anything is decided: recovery must not run beside a pacman that
// is still changing packages or a script that is still writing.
func (e *Engine) endLeftovers() error {
	left, err := child.Leftovers(e.children())
	if err != nil || len(left) == 0 {
		return err
	}
	n, err := child.EndLeftovers(e.children(), leftoverWait)
	if err != nil {
		return fmt.Errorf("end what the interrupted clp left running: %w", err)
	}
	if n > 0 {
		var what []string
		for _, r := range left {
			what = append(what, r.What)
		}
		e.rep().Warn(fmt.Sprintf("ended %d process(es) an interrupted clp left running (%s)", n, strings.Join(what, ", ")))
	}
	return nil
}

// recoverLocked is Recover with the lock already held.
func (e *Engine) recoverLocked(ctx context.Context) (bool, error) {
	if err := e.endLeftovers(); err != nil {
		return false, err
	}
	if err := e.sweepTemps(); err != nil {
		return false, err
	}
	j, err := e.readJournal()
	if err != nil || j == nil {
		return false, err
	}
	defer j.close()
	ctx = context.WithoutCancel(ctx)
	b := j.begin
	switch b.Kind {
	case txApply:
		ap, err := e.readApplied(b.Name)
		if err != nil {
			return true, err
		}
		if ap != nil && ap.TxID == b.TxID {
			e.rep().Step(fmt.Sprintf("finishing the interrupted apply of %s", b.Name))
			return true, e.finishApply(j)
		}
		e.rep().Step(fmt.Sprintf("rolling back the interrupted apply of %s", b.Name))
		cause := j.cause
		if cause == "" {
			cause = "interrupted (clp stopped before it finished)"
		}
		if err := e.undoApply(ctx, j, cause); err != nil {
			return true, fmt.Errorf("recover the interrupted apply of %s: %w", b.Name, err)
		}
		return true, nil
	case txRollback:
		if j.phases[phaseScriptDone] {
			e.rep().Step(fmt.Sprintf("finishing the interrupted rollback of %s", b.Name))
			if err := e.finishRollback(ctx, j, nil); err != nil {
				return true, fmt.Errorf("recover the interrupted rollback of %s: %w", b.Name, err)
			}
			return true, nil
		}
		detail := "interrupted before it changed anything; the patch stays applied"
		if j.phases[phaseScript] {
			detail = "interrupted while its remove script ran (whatever the script changed was not undone); the patch stays applied"
		}
		e.rep().Warn(fmt.Sprintf("the rollback of %s was %s", b.Name, detail))
		if err := e.addEvent(Event{Event: EventRollbackFailed, Name: b.Name, Version: b.Version, TxID: b.TxID, Detail: detail}); err != nil {
			return true, err
		}
		return true, j.remove()
	}
	return true, fmt.Errorf("journal %s has unknown kind %q", j.path, b.Kind)
}

// finishApply completes an apply that crashed after its commit point.
func (e *Engine) finishApply(j *journal) error {
	ap := j.begin.Applied
	r, err := e.openRoot()
	if err != nil {
		return err
	}
	defer closeRoot(r)
	for _, s := range ap.Steps {
		if s.Staged != "" {
			if err := removeIn(r, tname(s.Staged)); err != nil {
				return err
			}
		}
	}
	if err := e.addEvent(Event{Event: EventApplied, Name: ap.Name, Version: ap.Version, TxID: ap.TxID}); err != nil {
		e.rep().Warn(fmt.Sprintf("patch %s is applied but the history could not be written: %v", ap.Name, err))
	}
	return j.remove()
}

// undoApply puts the system back in its state before the apply in j.
func (e *Engine) undoApply(ctx context.Context, j *journal, cause string) error {
	ap := j.begin.Applied
	e.rep().Step(fmt.Sprintf("rolling back %s", ap.Name))
	// Journal records written while undoing are informational: undoing
	// must work on a full disk, where they may fail.
	j.phase(phaseUndo)
	hook("undo")
	// The install script ran (maybe halfway): its own changes are only
	// known to the remove script, so give it one chance (best effort;
	// never twice, a crash during it does not make it run again).
	if j.phases[phaseScript] && ap.InstallScript != "" && ap.RemoveScript != "" && !j.phases[phaseUndoScript] {
		if _, err := e.lstatAnchored(filepath.Join(e.optPatchDir(ap.Name), ap.RemoveScript)); err == nil {
			j.phase(phaseUndoScript)
			if err := e.runScript(ctx, ap.Name, "remove", ap.RemoveScript); err != nil {
				e.rep().Warn(fmt.Sprintf("while rolling back %s: %v", ap.Name, err))
			}
			hook("undo-script")
		}
	}
	if j.phases[phasePackages] && ap.Packages != nil {
		if e.Packages == nil {
			return fmt.Errorf("patch %s changed packages but no package actor is set to revert them", ap.Name)
		}
		j.phase(phaseUndoPackage)
		if err := e.Packages.Revert(ctx, ap.Packages); err != nil {
			return fmt.Errorf("revert package actions of %s: %w", ap.Name, err)
		}
		hook("undo-packages")
	}
	rs, err := e.openRoots()
	if err != nil {
		return err
	}
	defer rs.close()
	var touched []string
	for i := len(ap.Steps) - 1; i >= 0; i-- {
		s := ap.Steps[i]
		if s.Clpsave != "" {
			// The .clpsave is the user's file renamed aside; its copy in
			// the backup goes back to the target.
			if err := removeIn(rs.sys, tname(s.Clpsave)); err != nil {
				return err
			}
		}
		if err := restoreStep(rs, ap, s, j.begin.TxID, false); err != nil {
			return err
		}
		touched = append(touched, tname(s.Target))
		hook("undo " + s.Target)
	}
	if err := e.clearTraces(rs, ap, touched, "undone"); err != nil {
		return err
	}
	if err := e.addEvent(Event{Event: EventApplyFailed, Name: ap.Name, Version: ap.Version, TxID: ap.TxID, Detail: cause + "; rolled back"}); err != nil {
		// The system is back as it was; a history line must not keep
		// the journal (and every later command) stuck on a full disk.
		e.rep().Warn(fmt.Sprintf("the rollback of %s is complete but the history could not be written: %v", ap.Name, err))
	}
	if err := j.remove(); err != nil {
		return err
	}
	hook("recovered")
	return nil
}

// tempRe matches the temporary file of one of clp's durable writes:
// fsx.WriteFile/WriteFileIn's ".NAME.clp-tmp-PID" and renameio's ".NAME"
// followed by its random digits.
var tempRe = lazyRegexp(`^\..+(\.clp-tmp-[0-9]+|[0-9]{3,})$`)

// hasTemps says whether a killed write left a temporary file in the state
// folder or the journal's (those of an applied patch's folder are swept
// with the journal that any write there comes with).
func (e *Engine) hasTemps() bool {
	for _, dir := range []string{e.StateDir, e.journalDir()} {
		ents, err := e.readDirAnchored(dir)
		if err != nil {
			continue
		}
		for _, d := range ents {
			if d.Type().IsRegular() && tempRe.MatchString(d.Name()) {
				return true
			}
		}
	}
	return false
}

// sweepTemps removes, under clp's lock, the temporary files a clp killed
// in the middle of a durable write left in clp's own folders (the state
// folder, the journal's, each applied patch's): the write never reached
// its rename, so the file it was replacing is intact and the temporary
// one is garbage. A file some process still holds open (a clp-hook
// writing the pins right now) is left to it. Nothing outside these
// folders is touched; every removal is anchored to the root.
func (e *Engine) sweepTemps() error {
	dirs := []string{e.StateDir, e.journalDir()}
	if ents, err := e.readDirAnchored(filepath.Join(e.StateDir, "patches")); err == nil {
		for _, d := range ents {
			if d.IsDir() && checkName(d.Name()) == nil {
				dirs = append(dirs, e.patchDir(d.Name()))
			}
		}
	}
	for _, dir := range dirs {
		ents, err := e.readDirAnchored(dir)
		if err != nil {
			continue // a folder not made yet, or unreadable: nothing of ours to sweep
		}
		for _, d := range ents {
			if !d.Type().IsRegular() || !tempRe.MatchString(d.Name()) {
				continue
			}
			p := filepath.Join(dir, d.Name())
			if child.HeldOpen(p) {
				continue
			}
			r, name, err := fsx.Anchor(e.Root, e.StateDir, p, false)
			if err != nil {
				return err
			}
			err = r.Remove(name)
			r.Close()
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("remove %s, which an interrupted clp left: %w", p, err)
			}
		}
	}
	return nil
}
