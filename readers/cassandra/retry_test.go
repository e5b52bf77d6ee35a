package cassandra

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
)

// TestRetryBudget drives the retry loop with attempts that fail at once: it
// gives up once an outage has lasted the budget, and an attempt that
// delivers rows starts a new outage with a fresh budget.
func TestRetryBudget(t *testing.T) {
	const budget = 150 * time.Millisecond
	transient := errors.New("connection refused")
	tests := []struct {
		name string
		// deliver returns the rows an attempt delivers before failing.
		deliver func(attempt int) int64
		// succeed says whether an attempt succeeds, by its number and the
		// time since the first.
		succeed func(attempt int, since time.Duration) bool
		wantErr bool
	}{
		{"no progress: gives up", func(int) int64 { return 0 }, func(int, time.Duration) bool { return false }, true},
		{"recovers within the budget", func(int) int64 { return 0 }, func(n int, _ time.Duration) bool { return n == 4 }, false},
		{"progress keeps it going past the budget", func(int) int64 { return 1 }, func(_ int, d time.Duration) bool { return d > 3*budget }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Config{Retry: Retry{Budget: budget, Wait: time.Millisecond, MaxWait: 10 * time.Millisecond}}
			var events []RetryEvent
			c.OnRetry = func(e RetryEvent) { events = append(events, e) }
			var rows int64
			attempts := 0
			start := time.Now()
			err := c.retry(context.Background(), "op", func() int64 { return rows }, func() error {
				attempts++
				rows += tt.deliver(attempts)
				if tt.succeed(attempts, time.Since(start)) {
					return nil
				}
				return transient
			})
			took := time.Since(start)
			if (err != nil) != tt.wantErr {
				t.Fatalf("retry = %v after %d attempts in %s", err, attempts, took)
			}
			if len(events) != attempts-1 {
				t.Errorf("%d retry events for %d attempts", len(events), attempts)
			}
			for i, e := range events {
				if e.Outage+e.Wait > budget || e.Budget != budget {
					t.Errorf("retry %d: outage %s + wait %s beyond the budget %s", i, e.Outage, e.Wait, budget)
				}
			}
			if !tt.wantErr {
				return
			}
			if !errors.Is(err, transient) || !strings.Contains(err.Error(), "(retry budget 150ms)") {
				t.Errorf("retry = %v, want the last error and the budget", err)
			}
			if took < budget {
				t.Errorf("gave up after %s, before the budget of %s", took, budget)
			}
			if last := events[len(events)-1]; last.Attempt != attempts-1 {
				t.Errorf("last retry event counts %d failures, want %d", last.Attempt, attempts-1)
			}
		})
	}
	t.Run("progress restarts the count", func(t *testing.T) {
		c := Config{Retry: Retry{Budget: budget, Wait: time.Millisecond, MaxWait: time.Millisecond}}
		var events []RetryEvent
		c.OnRetry = func(e RetryEvent) { events = append(events, e) }
		var rows int64
		n := 0
		c.retry(context.Background(), "op", func() int64 { return rows }, func() error {
			n++
			if n == 3 {
				rows = 10
			}
			if n == 5 {
				return nil
			}
			return transient
		})
		var got []int
		for _, e := range events {
			got = append(got, e.Attempt)
		}
		if want := []int{1, 2, 1, 2}; !equalInts(got, want) {
			t.Errorf("attempts of the retry events = %v, want %v", got, want)
		}
	})
	t.Run("permanent errors and the callback's are not retried", func(t *testing.T) {
		c := Config{Retry: DefaultRetry}
		for _, e := range []error{&permanentError{errors.New("bad row")}, &fnError{errors.New("stop")}, gocql.ErrSessionClosed} {
			n := 0
			c.retry(context.Background(), "op", noProgress, func() error { n++; return e })
			if n != 1 {
				t.Errorf("%v: %d attempts, want 1", e, n)
			}
		}
	})
	t.Run("cancelled while waiting", func(t *testing.T) {
		c := Config{Retry: Retry{Budget: time.Hour, Wait: time.Hour, MaxWait: time.Hour}}
		ctx, cancel := context.WithCancel(context.Background())
		c.OnRetry = func(RetryEvent) { cancel() }
		err := c.retry(ctx, "op", noProgress, func() error { return transient })
		if !errors.Is(err, context.Canceled) {
			t.Errorf("retry = %v, want context.Canceled", err)
		}
	})
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestConnWatch checks the two things a connWatch tells: whether a failed
// session never reached a node, and whether a node took credentials without
// asking for them (one warning, naming the node, never the password).
func TestConnWatch(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	host := &gocql.HostInfo{}
	tests := []struct {
		name            string
		user            string
		connects        []error // one per connection; nil = set up
		askFirst        bool    // the node asks for credentials on every connection
		wantUnreachable bool
		wantWarnings    int
	}{
		{"every dial refused", "", []error{refused, refused}, false, true, 0},
		{"refused, then TLS fails", "", []error{refused, errors.New("tls: bad certificate")}, false, false, 0},
		{"nothing tried", "", nil, false, false, 0},
		{"no credentials given", "", []error{nil, nil}, false, false, 0},
		{"credentials asked for", "ana", []error{nil, nil}, true, false, 0},
		{"credentials not asked for", "ana", []error{nil, nil, nil}, false, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log bytes.Buffer
			w := &connWatch{user: tt.user, log: slog.New(slog.NewTextHandler(&log, nil))}
			auth := &watchedAuth{gocql.PasswordAuthenticator{Username: tt.user, Password: "s3cret-pw"}, w, host.ConnectAddressAndPort()}
			for _, err := range tt.connects {
				if tt.askFirst && err == nil {
					if _, _, err := auth.Challenge([]byte("org.apache.cassandra.auth.PasswordAuthenticator")); err != nil {
						t.Fatal(err)
					}
				}
				w.ObserveConnect(gocql.ObservedConnect{Host: host, Err: err})
			}
			if got := w.unreachable(); got != tt.wantUnreachable {
				t.Errorf("unreachable = %v, want %v", got, tt.wantUnreachable)
			}
			if got := strings.Count(log.String(), "did not ask for credentials"); got != tt.wantWarnings {
				t.Errorf("%d warnings, want %d:\n%s", got, tt.wantWarnings, log.String())
			}
			if strings.Contains(log.String(), "s3cret-pw") {
				t.Errorf("the log shows the password:\n%s", log.String())
			}
		})
	}
}
