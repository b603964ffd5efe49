package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"github.com/vincentos/clp/patch"
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
	if env.JSON {
		return printJSON(env.Stdout, map[string]bool{"recovered": recovered})
	}
	if recovered {
		fmt.Fprintln(env.Stdout, "recovered: the interrupted transaction was finished; see 'clp history'")
	} else {
		fmt.Fprintln(env.Stdout, "nothing to recover")
	}
	return nil
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
