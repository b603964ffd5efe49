package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"github.com/vincentos/clp/patch"
	"github.com/vincentos/clp/pkgtx"
)

func init() {
	register(&command{
		Name:    "list",
		Summary: "list the applied patches",
		Usage:   usageText("list"),
		Args:    noArgs,
		Run:     runList,
	})
	register(&command{
		Name:    "history",
		Summary: "show every apply, rollback and recovery",
		Usage:   usageText("history"),
		Args:    noArgs,
		Run:     runHistory,
	})
	registerOpts(&command{
		Name:    "recover",
		Summary: "finish a transaction a crash interrupted",
		Usage:   usageText("recover"),
		Args:    noArgs,
	}, func(fs *pflag.FlagSet, o *recoverOptions) {
		fs.BoolVar(&o.Show, "show", false, "print the journal of the interrupted transaction as read (each line with whether its checksum holds, the transaction and the phases it reached); change nothing")
	}, runRecover)
}

type recoverOptions struct {
	Show bool
}

func runList(ctx context.Context, env *Env, args []string) error {
	_, applied, err := env.appliedPatches(ctx)
	if err != nil {
		return err
	}
	if env.JSON {
		out := []patch.AppliedView{}
		for _, a := range applied {
			out = append(out, a.View())
		}
		return printJSON(env.Stdout, out)
	}
	if len(applied) == 0 {
		fmt.Fprintln(env.Stdout, "no patches applied")
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVERSION\tSEVERITY\tAPPLIED\tFILES\tPACKAGES")
	for _, a := range applied {
		fmt.Fprintln(tw, strings.Join(a.ListRow(), "\t"))
	}
	return tw.Flush()
}

func runHistory(ctx context.Context, env *Env, args []string) error {
	eng, _, err := env.openEngine(ctx, true)
	if err != nil {
		return err
	}
	events, err := eng.History()
	if err != nil {
		return err
	}
	if env.JSON {
		if events == nil {
			events = []patch.Event{}
		}
		return printJSON(env.Stdout, events)
	}
	if len(events) == 0 {
		fmt.Fprintln(env.Stdout, "no history yet")
		return nil
	}
	for _, e := range events {
		fmt.Fprintln(env.Stdout, e.Line())
	}
	return nil
}

func runRecover(ctx context.Context, env *Env, o recoverOptions, _ []string) error {
	eng, _, err := env.openEngine(ctx, false)
	if err != nil {
		return err
	}
	if o.Show {
		return showJournal(env, eng)
	}
	recovered, err := eng.Recover(ctx)
	if err != nil {
		return err
	}
	dg, err := recoverDowngrade(ctx, env)
	if err != nil {
		return err
	}
	half := halfWritten(env)
	if env.JSON {
		out := map[string]any{"recovered": recovered || dg != nil}
		if dg != nil {
			out["downgrade"] = dg
		}
		if len(half) > 0 {
			out["half_written"] = half
		}
		return printJSON(env.Stdout, out)
	}
	if recovered {
		fmt.Fprintln(env.Stdout, "recovered: the interrupted transaction was finished; see 'clp history'")
	}
	if dg != nil {
		fmt.Fprintf(env.Stdout, "recovered: %s\n", downgradeRecovered(dg))
	}
	if !recovered && dg == nil {
		fmt.Fprintln(env.Stdout, "nothing to recover")
	}
	return nil
}

// downgradeRecovered says what the recovery of a killed clp downgrade did.
func downgradeRecovered(dg *pkgtx.DowngradeRecovery) string {
	done := "no entry was left half written"
	if len(dg.Mended) > 0 {
		done = "mended the half-written local database entries of " + strings.Join(dg.Mended, ", ")
	}
	return fmt.Sprintf("the interrupted clp downgrade of %s: %s", strings.Join(dg.Packages, ", "), done)
}

// recoverDowngrade mends what a pacman killed with clp downgrade left
// half written, from the record that downgrade wrote (nil when there is
// none), under clp's lock.
func recoverDowngrade(ctx context.Context, env *Env) (*pkgtx.DowngradeRecovery, error) {
	p, err := env.System().Paths()
	if err != nil {
		return nil, err
	}
	if rec, err := pkgtx.ReadDowngradeRecord(p.Root, env.State()); err != nil || rec == nil {
		return nil, err
	}
	cfg, err := env.loadConfig()
	if err != nil {
		return nil, err
	}
	l, err := env.stateLock(ctx)
	if err != nil {
		return nil, err
	}
	defer l.Release()
	return pkgtx.NewActor(pkgtxDB, p, env.pacmanRunner(p), cfg, env.State(), env.Reporter()).RecoverDowngrade(ctx)
}

// halfWritten finds the local database entries a killed pacman left half
// written that recovery did not mend (clp mends those of its journaled
// transactions; a pacman killed in clp downgrade, a snapshot restore or
// by hand leaves them to the user) and warns of each, with what to do.
// A database it cannot read is a warning, not a failed recovery.
func halfWritten(env *Env) []string {
	p, err := env.System().Paths()
	var half []string
	if err == nil {
		half, err = pkgtx.HalfWritten(p)
	}
	if err != nil {
		env.Warnf("could not check pacman's local database for half-written entries: %v", err)
		return nil
	}
	if len(half) > 0 && !env.JSON {
		for _, h := range half {
			dir, why, _ := strings.Cut(h, ": ")
			env.Warnf("pacman's local database entry %s is half written (%s), by a pacman killed in a transaction clp has no journal or record of (a snapshot restore, pacman run by hand, a clp downgrade of an older clp); clp recover does not mend it", filepath.Join(p.DBPath, "local", dir), why)
		}
		fmt.Fprintf(env.Stderr, "clp: hint: move the entry out of %s, reinstall the package from its file with 'pacman -U --nodeps --overwrite PATTERN FILE' (PATTERN its own files, e.g. '/usr/share/NAME/*'), then check it with 'pacman -Qkk NAME'\n", filepath.Join(p.DBPath, "local"))
	}
	return half
}

// showJournal prints the journal of an interrupted transaction as read,
// trusted or not, and changes nothing.
func showJournal(env *Env, eng *patch.Engine) error {
	r, err := eng.ShowJournal()
	if err != nil {
		return err
	}
	if env.JSON {
		if r == nil {
			return printJSON(env.Stdout, map[string]any{"journal": nil})
		}
		return printJSON(env.Stdout, r)
	}
	if r == nil {
		fmt.Fprintln(env.Stdout, "no interrupted transaction (no journal)")
		return nil
	}
	for _, l := range r.Text() {
		fmt.Fprintln(env.Stdout, l)
	}
	return nil
}
