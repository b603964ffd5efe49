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
		// Like pacman's: the file, the bar, bytes done of the size
		// (KiB/MiB), the speed and elapsed:remaining time; the line stays
		// once complete.
		w := r.w
		r.bar = progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(task),
			progressbar.OptionShowBytes(true),
			progressbar.OptionShowTotalBytes(true),
			progressbar.OptionShowCount(),
			progressbar.OptionUseIECUnits(true),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionShowElapsedTimeOnFinish(),
			progressbar.OptionSetWidth(30),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
		)
	}
	r.bar.Set64(done)
	if total >= 0 && done >= total {
		r.finishBar()
	}
}

func (r *reporter) finishBar() {
	if r.bar != nil {
		// A complete bar ended its line itself; one cut short (an error,
		// a retry) stays as it stood, with its line ended.
		if !r.bar.IsFinished() {
			r.bar.Exit()
		}
		r.bar = nil
		r.task = ""
	}
}
