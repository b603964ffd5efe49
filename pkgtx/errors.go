package pkgtx

import "github.com/vincentos/clp/internal/fail"

// ErrRefused is in the chain of an error that refused a transaction before
// anything changed: a file that is nowhere, a pin that would be broken, an
// archive that could not be asked or fetched from.
var ErrRefused = fail.ErrRefused
