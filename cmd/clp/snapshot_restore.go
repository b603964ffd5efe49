package main

import (
	"context"
	"fmt"
	"time"

	"github.com/vincentos/clp/alpm"
	"github.com/vincentos/clp/boot"

	"github.com/vincentos/clp/pacman"
	"github.com/vincentos/clp/pkgtx"
	"github.com/vincentos/clp/snapshot"
)

func snapshotRestore(ctx context.Context, env *Env, st *snapshot.Store, o snapshotOptions, id int) error {
	if _, err := st.Get(id); err != nil {
		return notFound(err)
	}
	h, err := env.openDB()
	if err != nil {
		return err
	}
	defer h.Close()
	x := env.restorer(h, st, o.LockWait)
	r, err := x.Plan(ctx, id)
	if err != nil {
		return err
	}
	rep := r.Report(id)
	if r.Empty() {
		if env.JSON {
			rep.Done = true
			return printJSON(env.Stdout, rep)
		}
		fmt.Fprintf(env.Stdout, "the installed packages already match snapshot %d: nothing to do\n", id)
		return nil
	}
	if !env.JSON {
		for _, l := range r.Lines() {
			fmt.Fprintln(env.Stdout, l)
		}
	}
	if err := env.confirm(ctx, "Proceed with the restore?", true); err != nil {
		return err
	}
	err = x.Apply(ctx, r)
	rep.Install, rep.RestorePre = r.Files, r.Pre
	if err != nil {
		return err
	}
	rep.Done = true
	armGuard(env, boot.Transaction{Source: fmt.Sprintf("clp snapshot restore %d", id), Snapshot: r.Pre, Packages: snapshot.Names(rep.Changes)})
	if env.JSON {
		return printJSON(env.Stdout, rep)
	}
	fmt.Fprintf(env.Stdout, "restored snapshot %d; %s\n", id, r.Undo())
	return nil
}

// restorer is the pkgtx.Restorer of this installation: pacman's output goes
// to the terminal, or to stderr with --json so stdout stays JSON.
func (e *Env) restorer(h *alpm.Handle, st *snapshot.Store, lockWait time.Duration) *pkgtx.Restorer {
	out := e.Stdout
	if e.JSON {
		out = e.Stderr // stdout is for the JSON report
	}
	return &pkgtx.Restorer{Query: h, Paths: h.Paths, Store: st, StateDir: e.State(), Config: e.loadConfig, Reporter: e.Reporter(),
		Runner: &pacman.Runner{Paths: h.Paths, LockWait: lockWait, Stdin: nil, Stdout: out, Stderr: e.Stderr,
			Waiting: func(lf string) { e.Warnf("waiting for pacman's database lock %s", lf) }}}
}

// restoreSnapshot restores snapshot id with no question asked: the one
// call the boot guard makes (why names it in the guard's allow file).
func restoreSnapshot(ctx context.Context, env *Env, id int, why string) (*pkgtx.Restore, error) {
	st, err := snapshot.OpenUnder(env.System().Root, snapshotDir(env))
	if err != nil {
		return nil, err
	}
	h, err := env.openDB()
	if err != nil {
		return nil, err
	}
	defer h.Close()
	x := env.restorer(h, st, lockWait)
	x.Why = why
	return x.Restore(ctx, id)
}
