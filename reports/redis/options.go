package redis

import (
	"errors"
	"log/slog"
	"time"
)

// Defaults of Options.
const (
	// DefaultBatch is the number of members per ZADD.
	DefaultBatch = 1000
	// DefaultPipeline is the number of commands per round trip.
	DefaultPipeline = 100
	// DefaultTempTTL is the safety expiry of temporary keys: what a killed
	// run leaves behind disappears after it.
	DefaultTempTTL = time.Hour
	// DefaultRetryBudget is how long a failing command is retried when the
	// failure is transient (see Options.RetryBudget): longer than a restart
	// of a server, the loading of its data included, or a failover.
	DefaultRetryBudget = time.Minute
)

// ErrNoSketch is returned for a uniques report whose rows carry no
// HyperLogLog sketch (counted exactly, with hash sets).
var ErrNoSketch = errors.New("uniques row without a HyperLogLog sketch (exact counts cannot be stored as Redis HyperLogLogs)")

// ErrTempExpired is returned when temporary keys vanished before the swap:
// they expired (the writes took longer than Options.TempTTL), were deleted,
// or were lost by a server that restarted without persistence. Nothing of
// the account was changed.
var ErrTempExpired = errors.New("temporary keys vanished before the swap (expired: raise the temporary-key TTL; or lost in a restart of a server without persistence)")

// Options configures a Writer. Zero values mean the defaults.
type Options struct {
	// Prefix is the first part of every key (DefaultPrefix).
	Prefix string
	// Batch is the number of members per ZADD (DefaultBatch).
	Batch int
	// Pipeline is the number of commands per round trip (DefaultPipeline).
	// A temporary key's expiry goes in the same transaction as the commands
	// that write it, so a round trip may hold one command more.
	Pipeline int
	// Top keeps only the Top highest-scoring members of each sorted set, the
	// ones ZREVRANGE key 0 Top-1 lists (0: all).
	Top int
	// TTL is the expiry of every key written (0: none). Replaced keys get it
	// before the rename; merged keys get it after the merge.
	TTL time.Duration
	// TempTTL is the safety expiry of temporary keys (DefaultTempTTL). The
	// swap fails with ErrTempExpired when the writes took longer than this.
	TempTTL time.Duration
	// RetryBudget is how long a command that fails for a transient reason
	// (the connection, LOADING, TRYAGAIN, CLUSTERDOWN, MASTERDOWN, READONLY
	// after a failover, a transaction whose reply was lost) is retried, with
	// backoff, from its first failure (DefaultRetryBudget). Other errors
	// fail at once.
	RetryBudget time.Duration
	// Range also writes the keys of the run's whole range ("20240801-20240807").
	Range bool
	// UVMerge merges every unique-visitor sketch into the existing key with
	// PFMERGE, for keys that a live producer also PFADDs to; periods without
	// visitors are then left alone. Without it, sketches of whole periods
	// replace their keys, and only partial periods are merged.
	UVMerge bool
	// Minutes says the uniques report was built with minute rows: whole
	// minutes of the run without visitors then lose their key, as hours do.
	Minutes bool
	// Logger receives a debug line per phase and a warning per retry
	// (slog.Default() when nil).
	Logger *slog.Logger
}

// Stats says what a Write (or a Prepare and its Commit) did.
type Stats struct {
	Accounts int
	// Replaced counts keys swapped in with RENAME.
	Replaced int
	// Merged counts keys PFMERGEd or unioned into.
	Merged int
	// Deleted counts keys of whole periods without rows, deleted.
	Deleted int
	// Unchanged counts the replaced or merged HyperLogLog keys that held
	// the registers written already, and were left as they were.
	Unchanged int
	// Members counts sorted-set members written, in the sorted sets of
	// every measure.
	Members int
	// Trimmed counts members left out by Options.Top.
	Trimmed int
	// Fields counts hash fields written (reports of totals).
	Fields int
	// SkippedPartial counts rows of counting reports not written because
	// the run covered only part of their day or hour.
	SkippedPartial int
	// Commands counts the commands sent to write temporary keys, and
	// RoundTrips their transactions.
	Commands, RoundTrips int
	// Retries counts the attempts repeated after a transient failure.
	Retries int
}
