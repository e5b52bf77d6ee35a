package cassandra

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
)

// Transient reports whether err is worth retrying: a timeout, an unavailable,
// overloaded or bootstrapping coordinator, a lost or refused connection. The
// server's verdicts on the query itself (syntax, invalid, unauthorized, a bad
// column type) are not. A context error counts as transient: the driver
// returns one when a connection closes under a request, and the retry loop
// checks the caller's own context before asking.
func Transient(err error) bool {
	if err == nil {
		return false
	}
	var perm *permanentError
	if errors.As(err, &perm) {
		return false
	}
	if errors.Is(err, gocql.ErrSessionClosed) || errors.Is(err, gocql.ErrNotFound) {
		return false
	}
	var re gocql.RequestError
	if errors.As(err, &re) {
		switch re.Code() {
		case gocql.ErrCodeUnavailable, gocql.ErrCodeOverloaded, gocql.ErrCodeBootstrapping,
			gocql.ErrCodeReadTimeout, gocql.ErrCodeWriteTimeout, gocql.ErrCodeTruncate:
			return true
		}
		return false
	}
	// Everything else is the network or the driver's view of it: connection
	// closed or refused, no response within the timeout, no hosts available
	// (all connections lost), a per-request deadline.
	return true
}

// permanentError marks an error that must not be retried (a row that cannot
// be decoded, for example).
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// fnError carries the callback's error through the retry loop unchanged.
type fnError struct{ err error }

func (e *fnError) Error() string { return e.err.Error() }
func (e *fnError) Unwrap() error { return e.err }

// wait returns the random wait before retry n (n = 1 after the first failed
// attempt): full jitter over [0, min(MaxWait, Wait·2ⁿ⁻¹)], at least a tenth of
// that cap so retries never hammer a restarting node back to back.
func (r Retry) wait(n int) time.Duration {
	limit := r.Wait
	for i := 1; i < n && limit < r.MaxWait; i++ {
		limit *= 2
	}
	limit = min(limit, r.MaxWait)
	floor := limit / 10
	return floor + rand.N(limit-floor+1)
}

// retry runs attempt until it succeeds, fails for good, or runs out of
// attempts; rows reports the rows delivered so far for the retry hook. It
// returns the callback's error (fnError) unwrapped, ctx's error when ctx ends,
// and otherwise an error that says how many attempts failed.
func (t *Table) retry(ctx context.Context, op string, rows func() int64, attempt func() error) error {
	start := time.Now()
	for n := 1; ; n++ {
		err := attempt()
		if err == nil {
			return nil
		}
		var fe *fnError
		if errors.As(err, &fe) {
			return fe.err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !Transient(err) {
			return err
		}
		if n >= t.cfg.Retry.Attempts {
			if n == 1 {
				return err
			}
			return fmt.Errorf("giving up after %d attempts in %s: %w", n, time.Since(start).Round(time.Millisecond), err)
		}
		d := t.cfg.Retry.wait(n)
		if h := t.cfg.OnRetry; h != nil {
			h(RetryEvent{Op: op, Attempt: n, Wait: d, Rows: rows(), Err: err})
		}
		tm := time.NewTimer(d)
		select {
		case <-tm.C:
		case <-ctx.Done():
			tm.Stop()
			return ctx.Err()
		}
	}
}
