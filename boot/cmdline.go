package boot

import "strings"

// Cmdline is what the kernel command line says to the guard.
type Cmdline struct {
	// GuardOff is clp.guard=off (or 0, no, false): this boot is neither
	// counted, judged nor restored.
	GuardOff bool
	// Rollback is clp.rollback=1 (or a bare clp.rollback, yes, true): restore
	// the armed snapshot now, whatever the count.
	Rollback bool
}

// ParseCmdline reads /proc/cmdline's content. Words are separated by
// blanks; double quotes group (as the kernel reads them); the last
// occurrence of an option wins, as for systemd's own options.
func ParseCmdline(s string) Cmdline {
	var c Cmdline
	for _, w := range splitCmdline(s) {
		key, val, hasVal := strings.Cut(w, "=")
		switch key {
		case "clp.guard":
			c.GuardOff = hasVal && isFalse(val)
		case "clp.rollback":
			c.Rollback = !hasVal || isTrue(val)
		}
	}
	return c
}

func isTrue(v string) bool {
	switch strings.ToLower(v) {
	case "1", "yes", "true", "on", "y":
		return true
	}
	return false
}

func isFalse(v string) bool {
	switch strings.ToLower(v) {
	case "0", "no", "false", "off", "n":
		return true
	}
	return false
}

func splitCmdline(s string) []string {
	var out []string
	var b strings.Builder
	quoted, in := false, false
	for _, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
			in = true
		case !quoted && (r == ' ' || r == '\t' || r == '\n'):
			if in {
				out = append(out, b.String())
				b.Reset()
				in = false
			}
		default:
			b.WriteRune(r)
			in = true
		}
	}
	if in {
		out = append(out, b.String())
	}
	return out
}
