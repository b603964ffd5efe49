package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// Every command's help lists its options once, in pacman's style: no
// second "Options:" from the usage text, no "[=true|false]" on switches.
func TestHelpOptionsOnce(t *testing.T) {
	for name, c := range commands {
		if c.Hidden {
			continue
		}
		var out, errb bytes.Buffer
		if code := Main(context.Background(), []string{"help", name}, nil, &out, &errb); code != 0 {
			t.Fatalf("clp help %s: exit %d\n%s", name, code, errb.String())
		}
		help := out.String()
		if n := strings.Count(help, "\nOptions:\n"); n > 1 {
			t.Errorf("clp help %s: %d Options sections\n%s", name, n, help)
		}
		if strings.Contains(help, "[=true|false]") || strings.Contains(help, "[=true]") {
			t.Errorf("clp help %s: switches shown with a value\n%s", name, help)
		}
	}
}
