package main

import (
	"errors"

	"github.com/vincentos/clp/internal/fail"
)

// The error kinds of the domain packages below cmd (pkgtx, snapshot, hooks,
// update) and their exit codes: each package says what went wrong with a
// sentinel in the chain, and this is the one place that turns it into a
// code (internal/fail's kinds; patch's are mapped in errors.go).

// domainExitCode is the code of an error none of exitCode's kinds matched.
func domainExitCode(err error) int {
	switch {
	case errors.Is(err, fail.ErrRefused):
		return ExitRefused
	case errors.Is(err, fail.ErrVerify):
		return ExitVerify
	case errors.Is(err, fail.ErrDamaged):
		return ExitNoSystem
	case errors.Is(err, fail.ErrUsage):
		return ExitUsage
	}
	return ExitError
}

// nextStepper is a domain error that knows the user's next step.
type nextStepper interface{ NextStep() string }

// domainHint is the next step a domain error carries ("" for none).
func domainHint(err error) string {
	var ns nextStepper
	if errors.As(err, &ns) {
		return ns.NextStep()
	}
	return ""
}
