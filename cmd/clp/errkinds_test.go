package main

import (
	"errors"
	"fmt"
	"testing"

	"github.com/vincentos/clp/internal/fail"
	"github.com/vincentos/clp/pkgtx"
)

// TestDomainKindsMapOnce: a kind returned by a package below cmd decides
// the exit code wherever it is wrapped, and its next step is printed.
func TestDomainKindsMapOnce(t *testing.T) {
	for _, c := range []struct {
		err  error
		code int
		hint string
	}{
		{fmt.Errorf("restore: %w", fail.Refused(errors.New("no file"), "put it in the cache")), ExitRefused, "put it in the cache"},
		{fmt.Errorf("restore: %w", pkgtx.ErrRefused), ExitRefused, ""},
		{fail.Verify(errors.New("feed tampered"), "report it"), ExitVerify, "report it"},
		{fail.Hint(errors.New("mirror down"), "check the network"), ExitError, "check the network"},
		{withCode(fail.Refused(errors.New("x"), ""), ExitPacman), ExitPacman, ""},
	} {
		if got := exitCode(c.err); got != c.code {
			t.Errorf("exitCode(%v) = %d, want %d", c.err, got, c.code)
		}
		if got := hintFor(c.err); got != c.hint {
			t.Errorf("hintFor(%v) = %q, want %q", c.err, got, c.hint)
		}
	}
}
