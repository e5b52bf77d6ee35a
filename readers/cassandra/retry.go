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

// retry runs attempt until it succeeds, fails for good, or an outage outlasts
// the budget; progress reports the rows delivered so far (more rows than at
// the last failure end an outage, and the hook reports them). It returns the
// callback's error (fnError) unwrapped, ctx's error when ctx ends, and
// otherwise an error that says how long the outage lasted.
//
// The last wait is cut to end at the budget, so the final attempt comes when
// the budget is spent, not before.
func (c *Config) retry(ctx context.Context, op string, progress func() int64, attempt func() error) error {
	var (
		outage   time.Time // first failure of the current outage
		failures int       // failed attempts in the current outage
		rows     int64     // progress at the last failure
	)
	for {
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
		now := time.Now()
		if p := progress(); failures == 0 || p > rows {
			outage, failures, rows = now, 0, p
		}
		failures++
		elapsed := now.Sub(outage)
		left := c.Retry.Budget - elapsed
		if left <= 0 {
			return fmt.Errorf("giving up after %d attempts in %s (retry budget %s): %w",
				failures, elapsed.Round(time.Millisecond), c.Retry.Budget, err)
		}
		d := min(c.Retry.wait(failures), left)
		if h := c.OnRetry; h != nil {
			h(RetryEvent{Op: op, Attempt: failures, Wait: d, Outage: elapsed, Budget: c.Retry.Budget, Rows: rows, Err: err})
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

// noProgress is the progress of an operation retried as a whole (a batch, a
// token range): what a failed attempt did is redone, so it is no progress.
func noProgress() int64 { return 0 }
