package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/vincentos/clp/alpm"
	"github.com/vincentos/clp/internal/config"
	"github.com/vincentos/clp/internal/fail"
	"github.com/vincentos/clp/internal/lock"
	"github.com/vincentos/clp/pacman"
	"github.com/vincentos/clp/patch"
	"github.com/vincentos/clp/pkgtx"
	"github.com/vincentos/clp/snapshot"
)

// lockWait is how long a command waits for another clp before refusing.
var lockWait = 10 * time.Second

// loadConfig reads <root>/etc/clp/clp.conf (defaults when it is missing).
func (e *Env) loadConfig() (*config.Config, error) {
	c, err := e.System().Config()
	if err != nil && domainHint(err) != "" {
		return nil, err
	}
	if err != nil {
		return nil, withHint(err, "fix clp.conf; 'man 5 clp.conf' lists the settings")
	}
	return c, nil
}

// engine builds the patch engine for this root.
func (e *Env) engine(cfg *config.Config) (*patch.Engine, error) {
	eng := &patch.Engine{
		Root:     e.Root,
		StateDir: e.State(),
		OptDir:   e.System().OptDir(),
		LogPath:  e.System().PatchLog(),
		Config:   cfg,
		Reporter: e.Reporter(),
		LockWait: lockWait,
	}
	eng.Packages = pkgtx.Lazy(func() (patch.PackageActor, error) {
		p, err := e.System().Paths()
		if err != nil {
			return nil, err
		}
		return pkgtx.NewActor(pkgtxDB, p, e.pacmanRunner(p), cfg, e.State(), e.Reporter()), nil
	})
	return eng, nil
}

// openDB opens libalpm on the installation this run manages.
func (e *Env) openDB() (*alpm.Handle, error) {
	p, err := e.System().Paths()
	if err != nil {
		return nil, err
	}
	return alpm.OpenPaths(p)
}

// pkgtxDB is pkgtx's Opener: libalpm behind pkgtx's small Query.
func pkgtxDB(p *pacman.Paths) (pkgtx.DB, error) {
	h, err := alpm.OpenPaths(p)
	if err != nil {
		return nil, err
	}
	return h, nil
}

// preflight finishes a transaction that a crash interrupted, before a
// command looks at or changes the system.
func preflight(ctx context.Context, env *Env) error {
	_, _, err := env.openEngine(ctx, true)
	return err
}

// openEngine loads clp.conf and builds the engine; with recover it first
// finishes a transaction that a crash interrupted. Another clp holding the
// lock is not an error then: its journal belongs to a live transaction.
func (e *Env) openEngine(ctx context.Context, recover bool) (*patch.Engine, *config.Config, error) {
	cfg, err := e.loadConfig()
	if err != nil {
		return nil, nil, err
	}
	eng, err := e.engine(cfg)
	if err != nil || !recover {
		return eng, cfg, err
	}
	eng.LockWait = 0
	recovered, err := eng.Recover(ctx)
	eng.LockWait = lockWait
	if errors.Is(err, lock.ErrHeld) {
		e.Debugf("another clp holds the lock; not checking for an interrupted transaction")
		return eng, cfg, nil
	}
	if errors.Is(err, fail.ErrDamaged) {
		// The damaged file's own hint says how to inspect it.
		return nil, nil, err
	}
	if err != nil {
		return nil, nil, withHint(fmt.Errorf("recover the interrupted transaction: %w", err), "run 'clp recover' for details")
	}
	if recovered {
		e.Warnf("an interrupted transaction was found and finished (see 'clp history')")
	}
	return eng, cfg, nil
}

// appliedPatches opens the engine (finishing an interrupted transaction
// first) and lists the applied patches.
func (e *Env) appliedPatches(ctx context.Context) (*patch.Engine, []patch.Applied, error) {
	eng, _, err := e.openEngine(ctx, true)
	if err != nil {
		return nil, nil, err
	}
	applied, err := eng.List()
	return eng, applied, err
}

// installedQuery answers a patch's package conditions from libalpm, opening
// the database only when a patch asks.
type installedQuery struct {
	env *Env
	h   *alpm.Handle
}

func (q *installedQuery) InstalledVersion(name string) (string, bool, error) {
	if q.h == nil {
		h, err := q.env.openDB()
		if err != nil {
			return "", false, err
		}
		q.h = h
	}
	p, ok, err := q.h.Installed1(name)
	return p.Version, ok, err
}

func (q *installedQuery) VerCmp(a, b string) int { return alpm.VerCmp(a, b) }

func (q *installedQuery) Close() {
	if q.h != nil {
		q.h.Close()
	}
}

// pacmanRunner runs pacman for this command: its output goes to the
// terminal, or to stderr with --json so stdout stays JSON.
func (e *Env) pacmanRunner(p *pacman.Paths) *pacman.Runner {
	out := e.Stdout
	if e.JSON {
		out = e.Stderr
	}
	return &pacman.Runner{Paths: p, LockWait: lockWait, Stdout: out, Stderr: e.Stderr, Children: e.State(),
		Waiting: func(lf string) { e.Warnf("waiting for pacman's lock %s", lf) },
		// A db.lck older than this boot belongs to no running pacman: it
		// was left by a crash, or came back with a rolled-back snapshot.
		RemoveStale:  snapshot.RemoveStaleDBLock,
		StaleRemoved: func(lf string) { e.Warnf("removed %s: it predates this boot, so no pacman holds it", lf) },
	}
}

// stateLock takes clp's single-writer lock in the state directory.
func (e *Env) stateLock(ctx context.Context) (*lock.Lock, error) {
	l, err := lock.AcquireUnder(ctx, e.System().Root, filepath.Join(e.State(), "lock"), lockWait)
	if errors.Is(err, lock.ErrHeld) {
		return nil, fmt.Errorf("another clp is running: %w", err)
	}
	if err != nil {
		return nil, err
	}
	return l, nil
}
