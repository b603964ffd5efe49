package boot

import (
	"fmt"
	"strings"

	"github.com/vincentos/clp/internal/config"
)

// Report is the guard's state as clp shows it: 'clp boot status --json',
// and the boot_guard of 'clp status --json'.
type Report struct {
	Enabled     bool     `json:"enabled"`
	GuardOff    bool     `json:"cmdline_guard_off"`
	Rollback    bool     `json:"cmdline_rollback"`
	FailedBoots int      `json:"failed_boots_limit"`
	Summary     string   `json:"summary"`
	Damaged     string   `json:"damaged,omitempty"`
	State       *State   `json:"state,omitempty"`
	Critical    []string `json:"critical_packages,omitempty"`
}

// Report reads the guard's state without changing it; a damaged state is
// reported in Damaged, never obeyed.
func (g *Guard) Report() Report {
	cl := g.Cmdline()
	rep := Report{Enabled: g.Config.BootGuard, GuardOff: cl.GuardOff, Rollback: cl.Rollback, FailedBoots: g.Config.BootFailures}
	st, err := g.Load()
	if err != nil {
		rep.Damaged = err.Error()
		rep.Summary = "damaged state: not obeyed ('clp boot status')"
		return rep
	}
	rep.State = st
	rep.Summary = summary(g.Config, cl, st)
	return rep
}

// summary is the guard's state in one line.
func summary(cfg *config.Config, cl Cmdline, st *State) string {
	var s string
	switch st.Phase {
	case Armed:
		s = fmt.Sprintf("armed (snapshot %d, %d of %d failed boots)", st.Snapshot, st.Failed, cfg.BootFailures)
	case Restoring:
		s = fmt.Sprintf("restoring snapshot %d (interrupted if no restore runs now)", st.Snapshot)
	case Restored:
		s = fmt.Sprintf("restored snapshot %d on %s", st.Snapshot, st.Restore.Time.Local().Format("2006-01-02 15:04"))
	case RestoreFailed:
		s = fmt.Sprintf("the restore of snapshot %d FAILED: %s ('clp boot disarm' once fixed)", st.Snapshot, st.Restore.Error)
	default:
		s = "disarmed"
	}
	switch {
	case !cfg.BootGuard:
		s = "off (Guard = no in clp.conf); " + s
	case cl.GuardOff:
		s = "off for this boot (clp.guard=off); " + s
	}
	return s
}

// DescribeTransactions says what armed the guard, in one line.
func DescribeTransactions(txs []Transaction) string {
	var parts []string
	for _, t := range txs {
		s := fmt.Sprintf("%s (%s) at %s", t.Source, strings.Join(t.Packages, " "), t.Time.Local().Format("2006-01-02 15:04"))
		if t.Patch != "" {
			s = fmt.Sprintf("%s, patch %s", s, t.Patch)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

// Field is one "name: value" line of clp boot status.
type Field struct{ Name, Value string }

// Fields are the lines of clp boot status for a state that is not
// damaged: the summary, what armed the guard, each boot judged and its
// verdict, the restore, the last event and the command line's request.
func (r Report) Fields() []Field {
	out := []Field{{"boot guard", r.Summary}}
	st := r.State
	if st == nil {
		return out
	}
	if len(st.Transactions) > 0 {
		out = append(out, Field{"armed by", DescribeTransactions(st.Transactions)})
	}
	for _, b := range st.Boots {
		v := b.Verdict
		if v == "" {
			v = "being judged"
		}
		if b.Reason != "" {
			v += ": " + b.Reason
		}
		out = append(out, Field{"boot " + b.ID[:8], b.Started.Local().Format("2006-01-02 15:04") + " " + v})
	}
	if rs := st.Restore; rs != nil {
		what := "ok"
		if !rs.OK {
			what = "FAILED: " + rs.Error
		}
		if len(rs.Patches) > 0 {
			what += "; patches rolled back: " + strings.Join(rs.Patches, ", ")
		}
		out = append(out, Field{"restore", fmt.Sprintf("snapshot %d in boot %s: %s", rs.Snapshot, rs.Boot[:8], what)})
	}
	if st.Last != "" {
		out = append(out, Field{"last", st.Last})
	}
	if r.Rollback {
		out = append(out, Field{"command line", "clp.rollback=1"})
	}
	return out
}
