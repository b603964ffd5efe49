package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

// The download bar shows, like pacman's, the file, the bytes done of the
// size in KiB/MiB, the speed and the time; when complete it stays on the
// screen (its last state, 100%, then a newline) instead of being cleared.
func TestProgressBarLikePacman(t *testing.T) {
	var b bytes.Buffer
	r := &reporter{w: &b, tty: true}
	const total = 3 << 20
	for _, done := range []int64{0, 1 << 20, 2 << 20, total} {
		r.Progress("nvidia-utils-550.78-1-x86_64.pkg.tar.zst", done, total)
	}
	out := b.String()
	last := out[strings.LastIndex(out, "\r")+1:]
	for _, re := range []string{
		`^nvidia-utils-550\.78-1-x86_64\.pkg\.tar\.zst`,
		`100%`,
		`\(3\.0/3\.0 MiB, `,       // done of the size
		`, [0-9.]+ [KMG]?i?B/s\)`, // the speed
		`\[[0-9hms]+\]`,           // elapsed on finish
		`\n$`,                     // the line stays, ended
	} {
		// an intermediate state: size, speed, elapsed:remaining
		if !regexp.MustCompile(re).MatchString(last) {
			t.Errorf("the final bar %q lacks %s\nwhole output: %q", last, re, out)
		}
	}
	// an intermediate state: size, speed, elapsed:remaining
	if !regexp.MustCompile(`33% .*\(1\.0/3\.0 MiB, [0-9.]+ [KMG]?i?B/s\) \[[0-9hms]+:[0-9hms]+\]`).MatchString(out) {
		t.Errorf("no intermediate state with the size: %q", out)
	}

	// A bar cut short (a warning in the middle of a download) keeps its
	// state and ends its line before the warning.
	b.Reset()
	r.Progress("foo-1-1-any.pkg.tar.zst", 1<<20, total)
	r.Warn("connection reset; trying again in 200ms")
	out = b.String()
	if !strings.Contains(out, "(1.0/3.0 MiB") || strings.Contains(out, "100%") {
		t.Errorf("a bar cut short: %q", out)
	}
	if !strings.Contains(out, "\nclp: warning: connection reset") {
		t.Errorf("the warning does not start on its own line: %q", out)
	}
}
