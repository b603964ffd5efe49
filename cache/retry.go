package cache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// RetryPolicy says how often a transient failure (a connection reset, a
// 5xx answer, a timeout, a body cut short) is tried again, with
// exponential backoff and jitter (github.com/cenkalti/backoff). The zero
// value means 4 tries, the first retry after about 200ms.
type RetryPolicy struct {
	// MaxTries counts the first try; 1 means no retry.
	MaxTries uint
	// Initial is the first wait; each next one is about twice as long,
	// at most 5s.
	Initial time.Duration
}

func (p RetryPolicy) tries() uint {
	if p.MaxTries > 0 {
		return p.MaxTries
	}
	return 4
}

func (p RetryPolicy) initial() time.Duration {
	if p.Initial > 0 {
		return p.Initial
	}
	return 200 * time.Millisecond
}

// HTTPStatusError is an answer other than the one asked for.
type HTTPStatusError struct {
	Code   int
	Status string
}

func (e *HTTPStatusError) Error() string {
	if e.Code == http.StatusNotFound {
		return fmt.Sprintf("HTTP %s: %v", e.Status, ErrNotInArchive)
	}
	return "HTTP " + e.Status
}

// Unwrap makes a 404 ErrNotInArchive.
func (e *HTTPStatusError) Unwrap() error {
	if e.Code == http.StatusNotFound {
		return ErrNotInArchive
	}
	return nil
}

// Transient reports whether err is worth trying again: a connection
// reset or closed early, a server error (5xx) or 429, a timeout, a body
// cut short. A 404, any other 4xx, a cap exceeded, a checksum mismatch or
// a cancelled context is not.
func Transient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) && !isTimeout(err) {
		return false
	}
	var se *HTTPStatusError
	if errors.As(err, &se) {
		return se.Code >= 500 || se.Code == http.StatusTooManyRequests
	}
	var ie *idleError
	if errors.As(err, &ie) {
		return true
	}
	return isTimeout(err) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// retry runs op until it succeeds, fails for good (not Transient), or has
// been tried RetryPolicy.MaxTries times; each retry is reported.
func (c *Client) retry(ctx context.Context, op func() error) error {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = c.Retry.initial()
	b.MaxInterval = 5 * time.Second
	_, err := backoff.Retry(ctx, func() (struct{}, error) {
		err := op()
		if err != nil && !Transient(err) {
			return struct{}{}, backoff.Permanent(err)
		}
		return struct{}{}, err
	},
		backoff.WithBackOff(b),
		backoff.WithMaxTries(c.Retry.tries()),
		backoff.WithMaxElapsedTime(0),
		backoff.WithNotify(func(err error, d time.Duration) {
			c.rep().Warn(fmt.Sprintf("%v; trying again in %s", err, d.Round(10*time.Millisecond)))
		}),
	)
	var pe *backoff.PermanentError
	if errors.As(err, &pe) {
		return pe.Unwrap()
	}
	return err
}
