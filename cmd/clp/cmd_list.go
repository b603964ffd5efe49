package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

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
	var recoverOpts recoverOptions
	register(&command{
		Name:    "recover",
		Summary: "finish a transaction a crash interrupted",
		Usage:   usageText("recover"),
		Flags: func(fs *pflag.FlagSet) {
			fs.BoolVar(&recoverOpts.Show, "show", false, "print the journal of the interrupted transaction as read (each line with whether its checksum holds, the transaction and the phases it reached); change nothing")
		},
		Args: noArgs,
		Run: func(ctx context.Context, env *Env, args []string) error {
			return runRecover(ctx, env, recoverOpts)
		},
	})
}

type recoverOptions struct {
	Show bool
}

func runList(ctx context.Context, env *Env, args []string) error {
	eng, _, err := env.openEngine(ctx, true)
	if err != nil {
		return err
	}
	applied, err := eng.List()
	if err != nil {
		return err
	}
	if env.JSON {
		out := []listEntry{}
		for _, a := range applied {
			out = append(out, listView(a))
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
		n := 0
		if a.Packages != nil {
			n = len(a.Packages.Actions)
		}
		sev := a.Severity
		if sev == "" {
			sev = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\n", a.Name, a.Version, sev, a.AppliedAt.Local().Format("2006-01-02 15:04"), len(a.Steps), n)
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
		line := fmt.Sprintf("[%s] %s %s", e.Time.Local().Format("2006-01-02 15:04:05"), e.Event, e.Name)
		if e.Version != "" {
			line += " " + e.Version
		}
		if e.Detail != "" {
			line += ": " + e.Detail
		}
		fmt.Fprintln(env.Stdout, line)
	}
	return nil
}

func runRecover(ctx context.Context, env *Env, o recoverOptions) error {
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

// listEntry is an applied patch as 'clp list --json' shows it: what it
// changed, never clp's own bookkeeping (staging names, backup paths,
// transaction ids, the package actor's undo data).
type listEntry struct {
	Name        string        `json:"name"`
	Version     string        `json:"version"`
	Description string        `json:"description,omitempty"`
	Severity    string        `json:"severity,omitempty"`
	Seq         int64         `json:"seq"`
	AppliedAt   time.Time     `json:"applied_at"`
	Files       []listFile    `json:"files"`
	Packages    []listPackage `json:"packages"`
	Pins        []listPin     `json:"pins"`
	Legacy      bool          `json:"legacy,omitempty"`
}

type listFile struct {
	Action string          `json:"action"`
	Path   string          `json:"path"`
	Before patch.FileState `json:"before"`
	After  patch.FileState `json:"after"`
}

type listPackage struct {
	Name string `json:"name"`
	From string `json:"from"` // "" when the patch installed it
	To   string `json:"to"`
}

type listPin struct {
	Name  string `json:"name"`
	Until string `json:"until,omitempty"`
}

func listView(a patch.Applied) listEntry {
	e := listEntry{Name: a.Name, Version: a.Version, Description: a.Description, Severity: a.Severity,
		Seq: a.Seq, AppliedAt: a.AppliedAt, Legacy: a.Legacy,
		Files: []listFile{}, Packages: []listPackage{}, Pins: []listPin{}}
	for _, s := range a.Steps {
		e.Files = append(e.Files, listFile{Action: s.Op, Path: s.Target, Before: s.Before, After: s.After})
	}
	if p := a.Packages; p != nil {
		for _, act := range p.Actions {
			switch act.Op {
			case patch.OpDowngrade:
				e.Packages = append(e.Packages, listPackage{Name: act.Name, From: p.Previous[act.Name], To: act.Version})
			case patch.OpPin:
				e.Pins = append(e.Pins, listPin{Name: act.Name, Until: act.Until})
			}
		}
	}
	return e
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
	fmt.Fprintf(env.Stdout, "journal: %s\n", r.Path)
	switch {
	case r.Damage != "":
		fmt.Fprintf(env.Stdout, "checksums: DAMAGED: %s\n", r.Damage)
		fmt.Fprintln(env.Stdout, "clp will not act on this journal; check the system by hand, then move the file away")
	case r.Sealed:
		fmt.Fprintln(env.Stdout, "checksums: hold")
	default:
		fmt.Fprintln(env.Stdout, "checksums: none (written by an older clp)")
	}
	if r.Damage == "" {
		fmt.Fprintf(env.Stdout, "transaction: %s of %s %s (id %s)\n", r.Kind, r.Name, r.Version, r.TxID)
		phases := strings.Join(r.Phases, ", ")
		if phases == "" {
			phases = "none"
		}
		fmt.Fprintf(env.Stdout, "phases: %s\n", phases)
		if r.Cause != "" {
			fmt.Fprintf(env.Stdout, "cause: %s\n", r.Cause)
		}
	}
	for _, l := range r.Lines {
		body := string(l.Record)
		if body == "" {
			body = strconv.Quote(l.Raw)
		}
		fmt.Fprintf(env.Stdout, "line %d (%s): %s\n", l.N, l.Status, body)
	}
	return nil
}
