package redis

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"syscall"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// CommandError is Redis refusing one command, with the reply that says why:
// NOPERM (the ACL user lacks the command or the key), OOM (maxmemory
// reached), READONLY (a replica), WRONGTYPE, ... Inside a transaction the
// refusal of one queued command makes EXEC fail with EXECABORT; the error
// reported is the queued command's own.
type CommandError struct {
	// Command is the command's name in capitals, "ZADD"; Key its first key.
	Command, Key string
	// Err is the server's error reply (a goredis.Error).
	Err error
}

// Error returns "ZADD pv:{blog}:tmp:...: OOM command not allowed ...".
func (e *CommandError) Error() string {
	if e.Key == "" {
		return e.Command + ": " + e.Err.Error()
	}
	return e.Command + " " + e.Key + ": " + e.Err.Error()
}

// Unwrap returns the error reply, so goredis.IsOOMError and the like work.
func (e *CommandError) Unwrap() error { return e.Err }

// CommitError is returned by Prepared.Commit (and Writer.Write) when the
// swap of an account failed: it says which accounts were swapped in, which
// were not, and which one (if any) may or may not have been, its outcome
// unknown because the server stopped answering after EXEC was sent.
// Each account is either swapped in whole or not at all.
type CommitError struct {
	// Committed lists the accounts swapped in, Pending those not swapped in
	// (the failed one first), in account order.
	Committed, Pending []string
	// Unknown is the account whose swap may have happened, or "".
	Unknown string
	// Err is the cause.
	Err error
}

// Error names the account that failed and says what was committed.
func (e *CommitError) Error() string {
	var b strings.Builder
	switch {
	case e.Unknown != "":
		fmt.Fprintf(&b, "account %s: swap: %v (whether it was swapped in is unknown: all of it or none)", e.Unknown, e.Err)
	case len(e.Pending) > 0:
		fmt.Fprintf(&b, "account %s: swap: %v", e.Pending[0], e.Err)
	default:
		fmt.Fprintf(&b, "swap: %v", e.Err)
	}
	if len(e.Committed) > 0 {
		fmt.Fprintf(&b, "; swapped in: %s", strings.Join(e.Committed, ", "))
	}
	if len(e.Pending) > 0 {
		fmt.Fprintf(&b, "; not swapped in: %s", strings.Join(e.Pending, ", "))
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *CommitError) Unwrap() error { return e.Err }

// cmdError returns the error of a pipeline or transaction whose commands
// are cmds and whose Exec returned err: the first command's own error reply
// when there is one (for EXECABORT, the reply to the command that Redis
// refused to queue), else err.
func cmdError(cmds []goredis.Cmder, err error) error {
	if err == nil {
		return nil
	}
	for _, c := range cmds {
		cerr := c.Err()
		if cerr == nil || errors.Is(cerr, goredis.Nil) || !isReply(cerr) || goredis.IsExecAbortError(cerr) || errors.Is(cerr, goredis.TxFailedErr) {
			continue
		}
		return &CommandError{Command: strings.ToUpper(c.Name()), Key: firstKey(c), Err: cerr}
	}
	return err
}

// firstKey returns the first argument after the command's name when it is
// a string, the key of every command this package sends.
func firstKey(c goredis.Cmder) string {
	args := c.Args()
	if len(args) < 2 {
		return ""
	}
	s, _ := args[1].(string)
	return s
}

// isReply reports whether err is an error reply of the server (as opposed
// to a failure of the connection or of the client).
func isReply(err error) bool {
	var re goredis.Error
	return errors.As(err, &re)
}

// transient reports whether trying again may cure err:
//   - the connection: refused, reset, closed (EOF), timed out, the pool
//     waiting too long for one;
//   - the server loading its data (LOADING), a cluster failing over or
//     moving slots (TRYAGAIN, CLUSTERDOWN, MASTERDOWN), too many clients,
//     a busy script (BUSY);
//   - READONLY: the server was a master when the run began (Check refuses
//     a replica before any data is read), so a replica answering now is a
//     failover in progress, and go-redis reconnects, to the new master when
//     the address follows it;
//   - a transaction aborted because a WATCHed key changed.
//
// Other error replies (NOPERM, OOM, WRONGTYPE, NOAUTH, EXECABORT of such a
// cause, syntax errors) are not transient, nor are a cancelled context and a
// closed client.
func transient(err error) bool {
	if err == nil || errors.Is(err, goredis.ErrClosed) {
		return false
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true // also when the dial timed out
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var re goredis.Error
	if errors.As(err, &re) { // The server's reply (the checks' fallbacks need it unwrapped).
		return errors.Is(re, goredis.TxFailedErr) ||
			goredis.IsLoadingError(re) || goredis.IsTryAgainError(re) || goredis.IsClusterDownError(re) ||
			goredis.IsMasterDownError(re) || goredis.IsReadOnlyError(re) || goredis.IsMaxClientsError(re) ||
			goredis.HasErrorPrefix(re, "BUSY ")
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, goredis.ErrPoolTimeout) || errors.Is(err, goredis.ErrPoolExhausted) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne)
}

// errBudget wraps the last error of an operation retried for the whole
// budget.
type errBudget struct {
	err      error
	attempts int
	took     time.Duration
}

func (e *errBudget) Error() string {
	return fmt.Sprintf("%v (still failing after %d attempts in %s: the retry budget)", e.err, e.attempts, e.took.Round(time.Millisecond))
}

func (e *errBudget) Unwrap() error { return e.err }

// retry runs f until it succeeds, fails for a reason that is not transient,
// or keeps failing for w.opt.RetryBudget from its first failure, waiting
// between attempts with exponential backoff and jitter. f runs with ctx;
// the waits end early when stop is done (nil: ctx), and retry then returns
// the last error.
func (w *Writer) retry(ctx context.Context, stop context.Context, what string, st *Stats, f func(context.Context) error) error {
	if stop == nil {
		stop = ctx
	}
	var first time.Time
	wait := 20 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := f(ctx)
		if err == nil || !transient(err) {
			return err
		}
		if stop.Err() != nil {
			return fmt.Errorf("%w (not retried: %w)", err, stop.Err())
		}
		now := time.Now()
		if first.IsZero() {
			first = now
		}
		if now.Add(wait).Sub(first) > w.opt.RetryBudget {
			return &errBudget{err: err, attempts: attempt, took: now.Sub(first)}
		}
		if testHooks.retry != nil {
			testHooks.retry(what, err)
		}
		w.log.Warn("redis: transient error, retrying", "op", what, "attempt", attempt, "wait", wait.Round(time.Millisecond), "err", err)
		st.Retries++
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-stop.Done():
			t.Stop()
			return fmt.Errorf("%w (not retried: %w)", err, stop.Err())
		}
		// Double up to 2s, with up to 25% jitter so that the runs of several
		// schedulers do not hit a server coming back in step.
		wait = min(2*wait, 2*time.Second)
		wait += time.Duration(rand.Int64N(int64(wait)/4 + 1))
	}
}
