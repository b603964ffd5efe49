package alpm

import (
	"testing"
)

func TestVerCmp(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"550.78-1", "560.35.03-1", -1},
		{"560.35.03-1", "560.35.03-1", 0},
		{"1:1.0-1", "2.0-1", 1},
		{"1.0a-1", "1.0-1", -1},
		{"1.0.1-1", "1.0-1", 1},
		{"1.0-2", "1.0-1", 1},
	} {
		if got := VerCmp(c.a, c.b); sign(got) != c.want {
			t.Errorf("VerCmp(%s, %s) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}
