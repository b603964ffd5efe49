package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/vincentos/clp/pacman"
	"github.com/vincentos/clp/pkgtx"
	"github.com/vincentos/clp/snapshot"
)

// restoreReport is `clp snapshot restore --json`.
type restoreReport struct {
	Snapshot   int                 `json:"snapshot"`
	RestorePre int                 `json:"restore_pre,omitempty"`
	Changes    []snapshot.Change   `json:"changes"`
	Install    []pkgtx.RestoreFile `json:"install"`
	Remove     []string            `json:"remove"`
	AsDeps     []string            `json:"asdeps"`
	AsExplicit []string            `json:"asexplicit"`
	Done       bool                `json:"done"`
}

func snapshotRestore(ctx context.Context, env *Env, st *snapshot.Store, o snapshotOptions, id int) error {
	if _, err := st.Get(id); err != nil {
		return notFound(err)
	}
	h, err := env.openDB()
	if err != nil {
		return err
	}
	defer h.Close()
	out := env.Stdout
	if env.JSON {
		out = env.Stderr // stdout is for the JSON report
	}
	x := &pkgtx.Restorer{Query: h, Paths: h.Paths, Store: st, StateDir: env.State(), Config: env.loadConfig, Reporter: env.Reporter(),
		Runner: &pacman.Runner{Paths: h.Paths, LockWait: o.LockWait, Stdin: nil, Stdout: out, Stderr: env.Stderr,
			Waiting: func(lf string) { env.Warnf("waiting for pacman's database lock %s", lf) }}}
	r, err := x.Plan(ctx, id)
	if err != nil {
		return err
	}
	rep := restoreReport{Snapshot: id, Changes: r.Changes, Install: r.Files, Remove: r.Plan.Remove, AsDeps: r.Plan.AsDeps, AsExplicit: r.Plan.AsExplicit}
	if r.Empty() {
		if env.JSON {
			rep.Done = true
			return printJSON(env.Stdout, rep)
		}
		fmt.Fprintf(env.Stdout, "the installed packages already match snapshot %d: nothing to do\n", id)
		return nil
	}
	if !env.JSON {
		fmt.Fprintf(env.Stdout, "Restoring snapshot %d (%s, %s):\n", id, snapTime(r.Target.Time), r.Target.Description)
		printChanges(env, rep.Changes)
		if n := r.FromArchive(); n > 0 {
			fmt.Fprintf(env.Stdout, "\n%d package file(s) to download from the archive:\n", n)
			for _, f := range r.Files {
				if f.URL != "" {
					fmt.Fprintf(env.Stdout, "  %s\n", f.URL)
				}
			}
		}
		fmt.Fprintln(env.Stdout)
	}
	if !env.confirm("Proceed with the restore?", true) {
		return withCode(errors.New("restore cancelled: nothing was changed"), ExitRefused)
	}
	err = x.Apply(ctx, r)
	rep.Install, rep.RestorePre = r.Files, r.Pre
	if err != nil {
		return err
	}
	rep.Done = true
	if env.JSON {
		return printJSON(env.Stdout, rep)
	}
	fmt.Fprintf(env.Stdout, "restored snapshot %d; %s\n", id, r.Undo())
	return nil
}
