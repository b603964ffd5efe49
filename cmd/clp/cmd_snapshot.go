package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/pflag"

	"github.com/vincentos/clp/alpm"
	"github.com/vincentos/clp/pkgtx"
	"github.com/vincentos/clp/snapshot"
)

type snapshotOptions struct {
	Desc     string
	LockWait time.Duration
}

func init() {
	registerOpts(&command{
		Name:    "snapshot",
		Summary: "list, compare, create, delete and restore package-state snapshots",
		Usage:   usageText("snapshot"),
		Args:    minArgs(1, "an action: list, show, diff, create, delete or restore"),
	}, func(fs *pflag.FlagSet, o *snapshotOptions) {
		fs.StringVarP(&o.Desc, "description", "d", "", "describe the snapshot (create)")
		fs.DurationVar(&o.LockWait, "lock-wait", time.Minute, "how long restore waits for pacman's database lock")
	}, runSnapshot)
}

func runSnapshot(ctx context.Context, env *Env, o snapshotOptions, args []string) error {
	action, rest := args[0], args[1:]
	want := func(min, max int, what string) error {
		if len(rest) < min || (max >= 0 && len(rest) > max) {
			return withHint(usageErrorf("snapshot %s: expected %s", action, what), "see 'clp snapshot --help'")
		}
		return nil
	}
	var err error
	switch action {
	case "list", "ls":
		err = want(0, 0, "no arguments")
	case "show", "restore":
		err = want(1, 1, "one snapshot ID")
	case "diff":
		err = want(1, 2, "one or two snapshot IDs")
	case "create":
		err = want(0, 0, "no arguments (the description goes in -d)")
	case "delete", "rm":
		err = want(1, -1, "snapshot IDs")
	default:
		return withHint(usageErrorf("unknown action %q", action), "see 'clp snapshot --help'")
	}
	if err != nil {
		return err
	}
	ids := make([]int, len(rest))
	for i, a := range rest {
		if ids[i], err = strconv.Atoi(a); err != nil || ids[i] <= 0 {
			return withHint(usageErrorf("%q is not a snapshot ID", a), "'clp snapshot list' shows the IDs")
		}
	}
	st, err := snapshot.OpenUnder(env.System().Root, snapshotDir(env))
	if err != nil {
		return err
	}
	for _, p := range st.Problems() {
		env.Warnf("%v", p)
	}
	switch action {
	case "list", "ls":
		return snapshotList(env, st)
	case "show":
		return snapshotShow(env, st, ids[0])
	case "diff":
		return snapshotDiff(env, st, ids)
	case "create":
		return snapshotCreate(env, st, o)
	case "delete", "rm":
		return snapshotDelete(env, st, ids)
	default:
		return snapshotRestore(ctx, env, st, o, ids[0])
	}
}

func notFound(err error) error {
	if errors.Is(err, snapshot.ErrNotFound) {
		return withHint(err, "'clp snapshot list' shows the IDs")
	}
	return err
}

func snapshotList(env *Env, st *snapshot.Store) error {
	list := st.List()
	if env.JSON {
		return printJSON(env.Stdout, list)
	}
	if len(list) == 0 {
		fmt.Fprintln(env.Stdout, "no snapshots")
		return nil
	}
	t := newTable("ID", "Date", "Kind", "Pair", "Pkgs", "Snapper", "Description").alignRight(0, 3, 4)
	orphans := false
	for _, s := range list {
		orphans = orphans || s.Orphan
		t.row(s.ListRow()...)
	}
	t.write(env)
	if orphans {
		fmt.Fprintln(env.Stdout, "pre! is an orphan: its transaction failed or was interrupted, so no post followed")
	}
	return nil
}

func snapshotShow(env *Env, st *snapshot.Store, id int) error {
	s, err := st.Get(id)
	if err != nil {
		return notFound(err)
	}
	if env.JSON {
		return printJSON(env.Stdout, s)
	}
	for _, f := range s.Fields() {
		env.field(f.Name, "%s", f.Value)
	}
	fmt.Fprintln(env.Stdout)
	for _, p := range s.Packages {
		fmt.Fprintln(env.Stdout, p.Line())
	}
	return nil
}

// installedNow reads the installed packages as a snapshot package set.
func installedNow(h *alpm.Handle) ([]snapshot.Pkg, error) {
	list, err := h.Installed()
	if err != nil {
		return nil, err
	}
	return pkgtx.SnapshotPkgs(list), nil
}

func snapshotDiff(env *Env, st *snapshot.Store, ids []int) error {
	a, err := st.Get(ids[0])
	if err != nil {
		return notFound(err)
	}
	var to []snapshot.Pkg
	toName := "installed"
	if len(ids) == 2 {
		b, err := st.Get(ids[1])
		if err != nil {
			return notFound(err)
		}
		to, toName = b.Packages, strconv.Itoa(b.ID)
	} else {
		h, err := env.openDB()
		if err != nil {
			return err
		}
		defer h.Close()
		if to, err = installedNow(h); err != nil {
			return err
		}
	}
	changes := snapshot.Diff(a.Packages, to, alpm.VerCmp)
	if env.JSON {
		if changes == nil {
			changes = []snapshot.Change{}
		}
		return printJSON(env.Stdout, map[string]any{"from": a.ID, "to": toName, "changes": changes})
	}
	if len(changes) == 0 {
		fmt.Fprintf(env.Stdout, "no changes from snapshot %d to %s\n", a.ID, toName)
		return nil
	}
	printChanges(env, changes, false)
	return nil
}

// printChanges lists package changes (snapshot.Change.Line).
func printChanges(env *Env, changes []snapshot.Change, planned bool) {
	for _, c := range changes {
		fmt.Fprintln(env.Stdout, c.Line(planned))
	}
}

func snapshotCreate(env *Env, st *snapshot.Store, o snapshotOptions) error {
	h, err := env.openDB()
	if err != nil {
		return err
	}
	pkgs, err := installedNow(h)
	h.Close()
	if err != nil {
		return err
	}
	desc := o.Desc
	if desc == "" {
		desc = "manual"
	}
	id, err := st.Create(snapshot.Snapshot{Kind: snapshot.KindManual, Description: desc, Packages: pkgs})
	if err != nil {
		return err
	}
	if _, err := st.Retain(env.retention()); err != nil {
		env.Warnf("snapshot retention: %v", err)
	}
	if env.JSON {
		s, err := st.Get(id)
		if err != nil {
			return err
		}
		s.Packages = nil
		return printJSON(env.Stdout, s)
	}
	fmt.Fprintf(env.Stdout, "created snapshot %d (%d packages)\n", id, len(pkgs))
	return nil
}

func snapshotDelete(env *Env, st *snapshot.Store, ids []int) error {
	for _, id := range ids {
		if _, err := st.Get(id); errors.Is(err, snapshot.ErrNotFound) {
			return notFound(fmt.Errorf("delete: %w", err))
		}
	}
	if err := st.Delete(ids...); err != nil {
		return notFound(err)
	}
	if env.JSON {
		return printJSON(env.Stdout, map[string][]int{"deleted": ids})
	}
	for _, id := range ids {
		fmt.Fprintf(env.Stdout, "deleted snapshot %d\n", id)
	}
	return nil
}
