// Package fail lets the packages below cmd say what kind of failure an
// error is, where it happens, and what the user can do next, so that cmd
// maps kinds to exit codes in one place instead of guessing from where it
// prints.
//
// It must not print, exit, or know exit codes (cmd/clp owns those).
package fail

import "errors"

// Kinds. A kind is a sentinel in an error's chain (errors.Is).
var (
	// ErrRefused: nothing was changed, because the system or the request
	// is not as the operation needs (a file nowhere, a pin in the way).
	ErrRefused = errors.New("refused")
	// ErrVerify: a signature, hash or archive check failed.
	ErrVerify = errors.New("verification failed")
	// ErrDamaged: a state file clp wrote (the journal, an applied record)
	// fails its checksum or holds what clp never writes; it is kept and
	// not acted on.
	ErrDamaged = errors.New("damaged state")
	// ErrUsage: the request itself is malformed (a bad argument); nothing
	// was looked at or changed.
	ErrUsage = errors.New("bad usage")
)

// Error is a failure with its kind (nil for none) and the next step a
// user can take ("" for none).
type Error struct {
	Err  error
	Kind error
	Hint string
}

func (e *Error) Error() string { return e.Err.Error() }

// Unwrap keeps the cause's chain (a *pacman.PacmanError stays one) and
// adds the kind.
func (e *Error) Unwrap() []error {
	if e.Kind != nil {
		return []error{e.Err, e.Kind}
	}
	return []error{e.Err}
}

// NextStep is the hint the CLI prints under the error.
func (e *Error) NextStep() string { return e.Hint }

// Refused marks err as a refusal that changed nothing.
func Refused(err error, hint string) error { return &Error{Err: err, Kind: ErrRefused, Hint: hint} }

// Verify marks err as a failed verification.
func Verify(err error, hint string) error { return &Error{Err: err, Kind: ErrVerify, Hint: hint} }

// Usage marks err as a malformed request.
func Usage(err error) error { return &Error{Err: err, Kind: ErrUsage} }

// Hint attaches a next step to err without giving it a kind.
func Hint(err error, hint string) error {
	if err == nil {
		return nil
	}
	return &Error{Err: err, Hint: hint}
}
