package patch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// Apply carries out a plan made by Plan for the same archive, as one
// transaction: it either completes, or everything it changed is put back
// exactly as it was (content, mode, owner, xattrs, absence) and the error
// says what failed and that it was rolled back. Cancelling ctx (SIGINT,
// SIGTERM) rolls back too.
func (e *Engine) Apply(ctx context.Context, a Archive, p *Plan) error {
	if err := e.check(); err != nil {
		return err
	}
	m := a.Manifest()
	if p == nil || p.Name != m.Name || p.Version != m.Version {
		return fmt.Errorf("the plan is not for patch %s %s", m.Name, m.Version)
	}
	l, err := e.lockRecovered(ctx)
	if err != nil {
		return err
	}
	defer l.Release()
	hook("locked")
	// The plan was made without the lock; make sure the system still is
	// what it saw.
	if err := e.verifyPlan(ctx, a, p); err != nil {
		return err
	}

	txid := newTxID()
	ap := &Applied{
		Name: p.Name, Version: p.Version, Description: p.Description, Severity: p.Severity,
		TxID: txid, Dirs: p.Dirs, Packages: p.Packages, InstallScript: p.InstallScript, RemoveScript: p.RemoveScript, Force: p.Force,
	}
	if _, err := e.lstatAnchored(e.OptDir); errors.Is(err, fs.ErrNotExist) {
		ap.OptCreated = true
	}
	for _, s := range p.Steps {
		if s.Op == OpAdd || s.Op == OpReplace {
			s.Staged = filepath.Join(filepath.Dir(s.Target), "."+filepath.Base(s.Target)+".clp-new-"+txid)
		}
		if s.Before.Exists {
			s.Backup = filepath.Join("backup", s.Target)
		}
		ap.Steps = append(ap.Steps, s)
	}
	if ap.Seq, err = e.nextSeq(); err != nil {
		return err
	}
	// Leftovers of an apply that failed before its journal existed.
	if err := e.removeAllAnchored(e.patchDir(p.Name)); err != nil {
		return err
	}
	j, err := e.createJournal(&txBegin{Kind: txApply, TxID: txid, Name: p.Name, Version: p.Version, Applied: ap})
	if err != nil {
		return fmt.Errorf("apply %s: %w; nothing was changed", p.Name, err)
	}
	defer j.close()
	hook("journal")

	if err := e.applyPhases(ctx, j, a, ap); err != nil {
		if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			err = fmt.Errorf("%w (%v)", err, ctx.Err())
		}
		cause := err.Error()
		j.append(txRecord{Rec: "cause", Note: cause}, true)
		if uerr := e.undoApply(context.WithoutCancel(ctx), j, cause); uerr != nil {
			return fmt.Errorf("apply %s failed: %w; rolling back also failed: %v (run clp recover to finish the rollback)", p.Name, err, uerr)
		}
		return fmt.Errorf("apply %s failed: %w; rolled back, the system is as it was before", p.Name, err)
	}
	return nil
}

// verifyPlan checks, under the lock, that every target is still in the
// state the plan saw and that the patch was not applied meanwhile. A
// target whose inode is unchanged since Plan read it is not read again
// (state_seen.go).
func (e *Engine) verifyPlan(ctx context.Context, a Archive, p *Plan) error {
	if ap, err := e.readApplied(p.Name); err != nil {
		return err
	} else if ap != nil {
		return fmt.Errorf("patch %s is already applied (version %s)", p.Name, ap.Version)
	}
	if _, err := e.lstatAnchored(e.optPatchDir(p.Name)); err == nil {
		return fmt.Errorf("patch %s: %s already exists", p.Name, e.optPatchDir(p.Name))
	}
	r, err := e.openRoot()
	if err != nil {
		return err
	}
	defer closeRoot(r)
	for _, s := range p.Steps {
		if err := ctx.Err(); err != nil {
			return err
		}
		cur, err := statFileAgain(r, tname(s.Target), p.seen)
		if err != nil {
			return err
		}
		if cur.Exists != s.Before.Exists || cur.SHA256 != s.Before.SHA256 {
			return fmt.Errorf("target %s changed since the plan was made; nothing was changed, plan again", s.Target)
		}
		if s.Clpsave != "" {
			if _, err := r.Lstat(tname(s.Clpsave)); err == nil {
				return fmt.Errorf("%s already exists; move it away first", s.Clpsave)
			}
		}
	}
	for _, d := range p.Dirs {
		if _, err := r.Lstat(tname(d)); err == nil {
			return fmt.Errorf("directory %s appeared since the plan was made; nothing was changed, plan again", d)
		}
	}
	return nil
}

// applyPhases runs the phases of an apply in order. Each phase records
// itself in the journal before it changes anything.
//
// Only two of those records decide anything in recovery (recover.go):
// packages (revert the package actions) and script (give the remove
// script its chance), and each only when the patch has package actions or
// an install script. Those are made durable before their phase starts, as
// a barrier. The others (stage, backup, commit, unpack, and packages or
// script when there is nothing to do) are written like the step records,
// without a sync: undoing an apply restores every step from what is on
// disk (restoreStep decides from the files and the backups, which the
// backup phase made durable before the commit phase renamed anything), so
// losing them to a power cut changes no decision; the next synced record
// or the journal's removal makes them durable or moot. That is 4 fsyncs
// of the journal fewer for every apply, 6 for one without packages and
// script.
func (e *Engine) applyPhases(ctx context.Context, j *journal, a Archive, ap *Applied) error {
	// The folders the commit phase renamed into, made durable by the
	// unpack phase's sync (commit says why it can wait).
	var committed []string
	for _, ph := range []struct {
		name    string
		run     func(context.Context, *journal, Archive, *Applied) error
		barrier bool
	}{
		{phaseStage, e.stage, false},
		{phaseBackup, e.backup, false},
		{phaseCommit, func(ctx context.Context, j *journal, a Archive, ap *Applied) (err error) {
			committed, err = e.commit(ctx, j, a, ap)
			return err
		}, false},
		{phaseUnpack, func(ctx context.Context, j *journal, a Archive, ap *Applied) error {
			return e.unpack(ctx, j, a, ap, committed)
		}, false},
		{phasePackages, e.applyPackages, ap.Packages != nil},
		{phaseScript, e.installScript, ap.InstallScript != ""},
	} {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("interrupted: %w", err)
		}
		record := j.note
		if ph.barrier {
			record = j.phase
		}
		if err := record(ph.name); err != nil {
			return err
		}
		if err := ph.run(ctx, j, a, ap); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("interrupted: %w", err)
	}
	// The commit point: once applied.json is on disk the patch is applied.
	ap.AppliedAt = e.now()
	if err := e.writeApplied(ap); err != nil {
		return fmt.Errorf("record %s as applied: %w", ap.Name, err)
	}
	hook("applied")
	if err := e.addEvent(Event{Event: EventApplied, Name: ap.Name, Version: ap.Version, TxID: ap.TxID}); err != nil {
		e.rep().Warn(fmt.Sprintf("patch %s is applied but the history could not be written: %v", ap.Name, err))
	}
	hook("history")
	if err := j.remove(); err != nil {
		e.rep().Warn(fmt.Sprintf("patch %s is applied; %v (clp recover will clean up)", ap.Name, err))
	}
	hook("done")
	return nil
}

// stage writes every new file beside its target under a hidden temporary
// name, with its final mode, owner and xattrs. They become durable with
// the backups, in the one sync that ends the backup phase, before the
// commit phase is recorded and anything is renamed over a target.
func (e *Engine) stage(ctx context.Context, j *journal, a Archive, ap *Applied) error {
	rs, err := e.openRoots()
	if err != nil {
		return err
	}
	defer rs.close()
	for _, d := range ap.Dirs {
		if err := rs.sys.Mkdir(tname(d), 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("create directory %s: %w", d, err)
		}
	}
	var todo []int
	for i, s := range ap.Steps {
		if s.Staged != "" {
			todo = append(todo, i)
		}
	}
	// The files are written by up to GOMAXPROCS goroutines (at most 4)
	// in step order, each one taking the next step; this goroutine takes
	// their results in step order and does the rest as before (progress,
	// journal, crash point), so it stops at the first failure in step
	// order. Staged files a worker wrote past that point, or past a crash
	// point where the process dies, are what undoing an apply removes
	// anyway: every step's staged file, whether or not it was made.
	done := make([]chan error, len(todo))
	for k := range done {
		done[k] = make(chan error, 1)
	}
	var next atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stop.Store(true)
	for w := min(runtime.GOMAXPROCS(0), 4, len(todo)); w > 0; w-- {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				k := int(next.Add(1) - 1)
				if k >= len(todo) {
					return
				}
				done[k] <- e.stageOne(rs.sys, a, ap.Steps[todo[k]])
			}
		}()
	}
	for k, i := range todo {
		s := ap.Steps[i]
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("interrupted: %w", err)
		}
		e.rep().Progress("staging", int64(k+1), int64(len(ap.Steps)))
		if err := <-done[k]; err != nil {
			return err
		}
		j.step(i, "staged")
		hook("stage " + s.Target)
	}
	hook("staged")
	return nil
}

func (e *Engine) stageOne(r *os.Root, a Archive, s Step) error {
	rc, err := a.Open(s.Payload)
	if err != nil {
		return fmt.Errorf("read payload %s: %w", s.Payload, err)
	}
	defer rc.Close()
	staged := tname(s.Staged)
	// The payload is hashed as it is written, unless the archive binds
	// Open's bytes to that very sha256 already (archive.checkedSHA256:
	// then a changed byte fails the copy itself, and a second sha256 over
	// the 20 MB of a big patch would only cost).
	h := newHashingReader(rc)
	var src io.Reader = h
	if c, ok := a.(interface{ checkedSHA256(string) (string, bool) }); ok {
		if sum, ok := c.checkedSHA256(s.Payload); ok && sum == s.After.SHA256 {
			h, src = nil, rc
		}
	}
	var bad error
	err = copyFileIn(r, staged, src, func(f *os.File) error {
		if h != nil && h.sum() != s.After.SHA256 {
			bad = fmt.Errorf("payload %s for %s has sha256 %s, the patch says %s", s.Payload, s.Target, h.sum(), s.After.SHA256)
			return bad
		}
		// The final owner, mode and xattrs, on the descriptor just
		// written: no second look-up of the name.
		return setMetaFd(f, s.After)
	})
	if bad != nil {
		return bad
	}
	if err != nil {
		return fmt.Errorf("stage %s: %w", s.Target, err)
	}
	return nil
}

// backup keeps what every step replaces under the patch's state directory,
// then makes the backups and the staged files durable: one syncfs per
// file system for both phases (not one each).
func (e *Engine) backup(ctx context.Context, j *journal, _ Archive, ap *Applied) error {
	rs, err := e.openRoots()
	if err != nil {
		return err
	}
	defer rs.close()
	var made []string
	dirs := map[string]bool{}
	for i, s := range ap.Steps {
		if s.Backup == "" {
			continue
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("interrupted: %w", err)
		}
		dst := rs.backup(ap.Name, s.Backup)
		// Each folder is made once (the backup itself is still placed
		// through its folder opened inside the root).
		if dir := filepath.Dir(dst); !dirs[dir] {
			if err := rs.state.MkdirAll(dir, 0o700); err != nil {
				return fmt.Errorf("back up %s: %w", s.Target, err)
			}
			dirs[dir] = true
		}
		if err := backupFile(rs, tname(s.Target), dst, s); err != nil {
			return fmt.Errorf("back up %s: %w", s.Target, err)
		}
		j.step(i, "backed up")
		made = append(made, dst)
		hook("backup " + s.Target)
	}
	var staged []string
	for _, s := range ap.Steps {
		if s.Staged != "" {
			staged = append(staged, tname(s.Staged))
		}
	}
	synced := map[uint64]bool{}
	if err := syncFSOnce(synced, rs.sys, dirsOf(staged)); err != nil {
		return err
	}
	if err := syncFSOnce(synced, rs.state, append(dirsOf(made), rs.stateRel)); err != nil {
		return err
	}
	hook("backed-up")
	return nil
}

// backupFile links the target src (in rs.sys) into the backup dst (in
// rs.state): the old inode is never written by a replace, remove or add,
// which rename over or away from it, so a link is an exact copy with mtime
// and inode for free. Where it cannot or must not share the inode, it
// copies it.
func backupFile(rs *roots, src, dst string, s Step) error {
	sd, sb, err := parentIn(rs.sys, src)
	if err != nil {
		return err
	}
	defer unix.Close(sd)
	dd, db, err := parentIn(rs.state, dst)
	if err != nil {
		return err
	}
	defer unix.Close(dd)
	// A partial copy from an earlier failed attempt.
	if err := unix.Unlinkat(dd, db, 0); err != nil && !errors.Is(err, unix.ENOENT) {
		return &fs.PathError{Op: "remove", Path: dst, Err: err}
	}
	link := s.Op != OpMode && s.Op != OpOwner && s.Clpsave == ""
	if link {
		var st unix.Stat_t
		if err := unix.Fstatat(sd, sb, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return &fs.PathError{Op: "stat", Path: src, Err: err}
		}
		// Another name for the same inode could be edited in place, which
		// would change the backup with it.
		if st.Nlink > 1 {
			link = false
		}
	}
	if link && unix.Linkat(sd, sb, dd, db, 0) == nil {
		return nil
	}
	f, err := openNoFollowIn(rs.sys, src, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	return copyFileIn(rs.state, dst, f, nil)
}

// commit puts every step in place, one rename at a time, and returns the
// folders of the targets it touched. The renames become durable with the
// unpack phase's sync, one syncfs per file system for both phases (the
// targets and OptDir are one file system on most systems): a crash before
// that is undone by recovery anyway, which restores every step from the
// (already durable) backups whether its rename reached the disk or not,
// and nothing before that sync depends on the renames being durable. The
// commit point, applied.json, is written after it.
func (e *Engine) commit(ctx context.Context, j *journal, _ Archive, ap *Applied) ([]string, error) {
	r, err := e.openRoot()
	if err != nil {
		return nil, err
	}
	defer closeRoot(r)
	var touched []string
	for i, s := range ap.Steps {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("interrupted: %w", err)
		}
		hook("commit " + s.Target)
		t := tname(s.Target)
		if s.Clpsave != "" {
			if err := renameIn(r, t, r, tname(s.Clpsave)); err != nil {
				return nil, fmt.Errorf("keep your copy of %s: %w", s.Target, err)
			}
			e.rep().Warn(fmt.Sprintf("%s was changed; your copy is kept as %s", s.Target, s.Clpsave))
		}
		var err error
		switch s.Op {
		case OpAdd, OpReplace:
			err = renameIn(r, tname(s.Staged), r, t)
		case OpRemove:
			if s.Clpsave == "" {
				err = r.Remove(t)
			}
		case OpMode, OpOwner:
			err = setMetaIn(r, t, s.After)
		}
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", s.Op, s.Target, err)
		}
		j.step(i, "committed")
		touched = append(touched, t)
	}
	hook("committed")
	return dirsOf(touched), nil
}

// unpack puts the patch in OptDir/<name>/ for its scripts, as the original
// tool did. A patch without scripts gets only its PKGINFO.meta there: its
// payloads are already in place, and copying them again would only cost.
// It ends with one syncfs per file system for what it wrote and for the
// commit phase's renames into the folders committed (names inside the
// root).
func (e *Engine) unpack(ctx context.Context, _ *journal, a Archive, ap *Applied, committed []string) error {
	m := a.Manifest()
	dir := e.optPatchDir(ap.Name)
	// Anchored (anchor.go): the folder is made inside the root and every
	// entry is written inside it, through an os.Root of the folder itself,
	// so a symlink swapped in at <root>/opt or /opt/CLP cannot lead the
	// unpack out of the root.
	r, rel, err := e.anchor(dir)
	if err != nil {
		return err
	}
	defer r.Close()
	if err := r.MkdirAll(filepath.Join(rel, "backup"), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	pr, err := r.OpenRoot(rel)
	if err != nil {
		return fmt.Errorf("open %s: %w", dir, err)
	}
	defer pr.Close()
	full := m.InstallScript != "" || m.RemoveScript != ""
	for _, name := range a.Entries() {
		if strings.HasSuffix(name, "/") || (!full && name != "PKGINFO.meta") {
			continue
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("interrupted: %w", err)
		}
		dst := filepath.FromSlash(name)
		if !filepath.IsLocal(dst) {
			return fmt.Errorf("archive entry %q leaves %s", name, dir)
		}
		if err := pr.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		rc, err := a.Open(name)
		if err != nil {
			return fmt.Errorf("read %s: %w", name, err)
		}
		err = copyFileIn(pr, dst, rc, nil)
		rc.Close()
		if err != nil {
			return fmt.Errorf("unpack %s: %w", name, err)
		}
		mode := os.FileMode(0o644)
		if name == m.InstallScript || name == m.RemoveScript {
			mode = 0o755
		}
		if err := pr.Chmod(dst, mode); err != nil {
			return err
		}
	}
	synced := map[uint64]bool{}
	if err := syncFSOnce(synced, r, []string{rel}); err != nil {
		return err
	}
	if len(committed) > 0 {
		sys, err := e.openRoot()
		if err != nil {
			return err
		}
		err = syncFSOnce(synced, sys, committed)
		closeRoot(sys)
		if err != nil {
			return err
		}
	}
	hook("unpacked")
	return nil
}

func (e *Engine) applyPackages(ctx context.Context, _ *journal, a Archive, ap *Applied) error {
	if ap.Packages == nil {
		return nil
	}
	if e.Packages == nil {
		return fmt.Errorf("patch %s has package actions but no package actor is set", ap.Name)
	}
	if err := e.Packages.Apply(ctx, a, ap.Packages); err != nil {
		return fmt.Errorf("package actions: %w", err)
	}
	hook("packages")
	return nil
}

func (e *Engine) installScript(ctx context.Context, _ *journal, a Archive, ap *Applied) error {
	m := a.Manifest()
	if m.InstallScript == "" {
		return nil
	}
	hook("script")
	return e.runScript(ctx, ap.Name, "install", m.InstallScript)
}

// removeCreatedDirs removes the directories an apply created, deepest
// first, if they are empty (anything else in them is not ours to delete).
func removeCreatedDirs(r *os.Root, dirs []string) {
	for i := len(dirs) - 1; i >= 0; i-- {
		r.Remove(tname(dirs[i]))
	}
}

// restoreStep puts one target back in its Before state and removes what the
// step added beside it. Every branch is idempotent: recovery may run it
// again after a crash in the middle of it.
//
// With applied set, the step belongs to an applied patch (a rollback):
// its staged file cannot exist, since applied.json is written only after
// the commit phase renamed every staged file over its target and the
// renames were made durable, so it is not looked for (one anchored look-up
// and unlink less per added or replaced file). An apply being undone
// (applied false) may have left one.
func restoreStep(rs *roots, ap *Applied, s Step, tmpTag string, applied bool) error {
	t := tname(s.Target)
	if s.Staged != "" && !applied {
		if err := removeIn(rs.sys, tname(s.Staged)); err != nil {
			return err
		}
	}
	if !s.Before.Exists {
		if err := removeIn(rs.sys, t); err != nil {
			return fmt.Errorf("remove %s: %w", s.Target, err)
		}
		return nil
	}
	bk := rs.backup(ap.Name, s.Backup)
	// The backup is opened once: whether it is there, and the descriptor
	// its metadata is set through before it is renamed back.
	f, err := openNoFollowIn(rs.state, bk, unix.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("cannot restore %s: %w", s.Target, err)
	}
	if err == nil {
		if s.Op == OpMode || s.Op == OpOwner {
			// The content was never touched: put the metadata back in
			// place and keep the inode (and its mtime).
			if cur, err := statFileIn(rs.sys, t); err == nil && cur.Exists && cur.SHA256 == s.Before.SHA256 {
				f.Close()
				if err := setMetaIn(rs.sys, t, s.Before); err != nil {
					return err
				}
				return removeIn(rs.state, bk)
			}
		}
		err := setMetaFd(f, s.Before)
		f.Close()
		if err != nil {
			return fmt.Errorf("set metadata: %w", err)
		}
		return restoreFromBackup(rs, t, bk, s.Before, tmpTag)
	}
	// No backup: either it was restored already (renamed into place) or
	// it was never made, and then the target was never touched.
	cur, err := statFileIn(rs.sys, t)
	if err != nil {
		return err
	}
	if !cur.Exists || cur.SHA256 != s.Before.SHA256 {
		return fmt.Errorf("cannot restore %s: its backup %s is missing and the file is not as it was", s.Target, filepath.Join(rs.state.Name(), bk))
	}
	return setMetaIn(rs.sys, t, s.Before)
}

// restoreFromBackup moves the backup (bk in rs.state), its metadata
// already set to want, back over the target (t in rs.sys) with the exact
// metadata of want: a rename where both are on one file system (no space
// needed, so it works on a full disk), else a copy beside the target
// first.
func restoreFromBackup(rs *roots, t, bk string, want FileState, tmpTag string) error {
	err := renameIn(rs.state, bk, rs.sys, t)
	if err == nil {
		return nil
	}
	if !isEXDEV(err) {
		return fmt.Errorf("restore /%s: %w", t, err)
	}
	tmp := filepath.Join(filepath.Dir(t), "."+filepath.Base(t)+".clp-restore-"+tmpTag)
	rs.sys.Remove(tmp)
	f, err := openNoFollowIn(rs.state, bk, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return err
	}
	err = copyFileIn(rs.sys, tmp, f, func(t *os.File) error { return setMetaFd(t, want) })
	f.Close()
	if err == nil {
		err = renameIn(rs.sys, tmp, rs.sys, t)
	}
	if err != nil {
		rs.sys.Remove(tmp)
		return fmt.Errorf("restore /%s: %w", t, err)
	}
	return nil
}

type hashingReader struct {
	r io.Reader
	h interface {
		io.Writer
		Sum([]byte) []byte
	}
}

func newHashingReader(r io.Reader) *hashingReader {
	return &hashingReader{r: r, h: newSHA256()}
}

func (h *hashingReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.h.Write(p[:n])
	return n, err
}

func (h *hashingReader) sum() string { return fmt.Sprintf("%x", h.h.Sum(nil)) }
