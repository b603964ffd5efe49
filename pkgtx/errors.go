package pkgtx

import "errors"

// ErrRefused is in the chain of an error that refused a transaction before
// anything changed: a file that is nowhere, a pin that would be broken, an
// archive that could not be asked or fetched from.
var ErrRefused = errors.New("refused")

// Error is a package transaction's failure with the next step a user can
// take. Refused says nothing was changed (errors.Is(err, ErrRefused)).
type Error struct {
	Err     error
	Hint    string
	Refused bool
}

func (e *Error) Error() string { return e.Err.Error() }

// Unwrap keeps the cause's chain (a *pacman.PacmanError stays one) and adds
// ErrRefused to a refusal's.
func (e *Error) Unwrap() []error {
	if e.Refused {
		return []error{e.Err, ErrRefused}
	}
	return []error{e.Err}
}

// NextStep is the hint the CLI prints under the error.
func (e *Error) NextStep() string { return e.Hint }
