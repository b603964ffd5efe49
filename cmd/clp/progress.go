package main

import (
	"fmt"
	"io"

	"github.com/schollz/progressbar/v3"

	"github.com/vincentos/clp/internal/report"
)

// reporter turns progress from the packages below cmd into lines on stderr
// and, on a terminal, a progress bar. Hooks and the timer run without a
// terminal and so without bars.
type reporter struct {
	w    io.Writer
	tty  bool
	bar  *progressbar.ProgressBar
	task string
}

// Reporter returns the reporter for this run: silent with --json except for
// warnings, which always reach stderr.
func (e *Env) Reporter() report.Reporter {
	return &reporter{w: e.Stderr, tty: isTerminal(e.Stderr) && !e.JSON}
}

func (r *reporter) Step(msg string) {
	r.finishBar()
	fmt.Fprintf(r.w, ":: %s\n", msg)
}

func (r *reporter) Warn(msg string) {
	r.finishBar()
	fmt.Fprintf(r.w, "clp: warning: %s\n", msg)
}

func (r *reporter) Progress(task string, done, total int64) {
	if !r.tty {
		return
	}
	if r.bar == nil || r.task != task {
		r.finishBar()
		r.task = task
		r.bar = progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(r.w),
			progressbar.OptionSetDescription(task),
			progressbar.OptionShowBytes(true),
			progressbar.OptionSetWidth(30),
			progressbar.OptionClearOnFinish(),
		)
	}
	r.bar.Set64(done)
	if total >= 0 && done >= total {
		r.finishBar()
	}
}

func (r *reporter) finishBar() {
	if r.bar != nil {
		r.bar.Finish()
		r.bar = nil
		r.task = ""
	}
}
