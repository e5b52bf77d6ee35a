package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/location"
	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/cassandra"
	"github.com/urfave/cli/v2"
)

// cassandraParams holds the --cql-* options given (by flag, environment
// variable or config key), keyed by the source URL's query parameter of the
// same name. They override the URL.
type cassandraParams = map[string]string

// cassandraConfig parses a cassandra:// URL and applies the flags on top.
// Mistakes are usage errors.
func cassandraConfig(spec string, cp cassandraParams) (*cassandra.Config, error) {
	loc, err := sources.Parse(spec)
	if err != nil {
		return nil, &usageError{err}
	}
	cfg, ok := loc.Config.(*cassandra.Config)
	if !ok {
		return nil, usagef("%q: want cassandra://host[:port]/keyspace", loc)
	}
	if err := applyCassandraParams(cfg, cp); err != nil {
		return nil, err
	}
	return cfg, nil
}

// applyCassandraParams applies the --cql-* flags to a parsed URL.
func applyCassandraParams(cfg *cassandra.Config, cp cassandraParams) error {
	for _, p := range cassandra.Params { // in a fixed order
		if v, ok := cp[p.Name]; ok {
			if err := cfg.Set(p.Name, v); err != nil {
				return usagef("--cql-%s: %v", p.Name, err)
			}
		}
	}
	if err := cfg.Check(); err != nil {
		return &usageError{err}
	}
	cfg.OnRetry = logRetry
	return nil
}

// logRetry reports a retry on the log, so a slow run says why.
func logRetry(e cassandra.RetryEvent) {
	slog.Warn("cassandra: retrying", "what", e.Op, "attempt", e.Attempt, "wait", e.Wait.Round(time.Millisecond),
		"outage", e.Outage.Round(time.Millisecond), "budget", e.Budget, "rows_done", e.Rows, "err", e.Err)
}

// openTable opens the table of a cassandra:// URL.
func openTable(ctx context.Context, spec string, cp cassandraParams) (*cassandra.Table, error) {
	cfg, err := cassandraConfig(spec, nil)
	if err != nil {
		return nil, err
	}
	t, err := openCassandraTable(ctx, cfg, cp)
	if err != nil {
		return nil, location.Scrub(err, spec)
	}
	return t, nil
}

// openCassandraTable opens the table of a parsed cassandra:// URL with the
// --cql-* flags applied: the table is a source (one query per time slice, as
// many in flight as --workers) and a discoverer (--accounts all scans its
// partition keys).
func openCassandraTable(ctx context.Context, cfg *cassandra.Config, cp cassandraParams) (*cassandra.Table, error) {
	if err := applyCassandraParams(cfg, cp); err != nil {
		return nil, err
	}
	t, err := cassandra.Open(ctx, cfg)
	if err != nil {
		if errors.Is(err, cassandra.ErrNoTable) || errors.Is(err, cassandra.ErrLayout) {
			return nil, &usageError{err}
		}
		return nil, err
	}
	return t, nil
}

// shardFilter selects shards by --accounts (a list, or all) and an optional
// --from/--to range of UTC days.
type shardFilter struct {
	accounts map[string]bool // nil: all
	from, to mapreduce.Date  // zero: unbounded
}

func newShardFilter(accounts []string, from, to string) (*shardFilter, error) {
	f := &shardFilter{}
	if !isAll(accounts) {
		f.accounts = map[string]bool{}
		for _, a := range accounts {
			f.accounts[a] = true
		}
	}
	var err error
	if from != "" {
		if f.from, err = mapreduce.ParseDate(from); err != nil {
			return nil, usagef("--from: %v", err)
		}
	}
	if to != "" {
		if f.to, err = mapreduce.ParseDate(to); err != nil {
			return nil, usagef("--to: %v", err)
		}
	}
	if !f.from.IsZero() && !f.to.IsZero() && f.to.Before(f.from) {
		return nil, usagef("--from %s is after --to %s", f.from, f.to)
	}
	return f, nil
}

func (f *shardFilter) keep(k mapreduce.ShardKey) bool {
	d := mapreduce.DateOf(k.Day)
	return (f.accounts == nil || f.accounts[k.Account]) &&
		(f.from.IsZero() || !d.Before(f.from)) && (f.to.IsZero() || !f.to.Before(d))
}

// startProgress prints "<verb> d/total shards, n page views, rate" to stderr
// every few seconds until the returned stop is called (not with --quiet).
func startProgress(c *cli.Context, quiet bool, verb string, total int, done, rows *atomic.Int64) (stop func()) {
	if quiet {
		return func() {}
	}
	start := time.Now()
	tick := time.NewTicker(3 * time.Second)
	quit := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			select {
			case <-tick.C:
				el := time.Since(start)
				fmt.Fprintf(c.App.ErrWriter, "%s: %d/%d shards, %d page views, %.0f/s, %s\n",
					verb, done.Load(), total, rows.Load(), float64(rows.Load())/el.Seconds(), el.Round(time.Second))
			case <-quit:
				return
			}
		}
	}()
	return func() {
		tick.Stop()
		close(quit)
		<-finished
	}
}

// fmtRate formats n rows in d.
func fmtRate(n int64, d time.Duration) string {
	if d <= 0 {
		return fmt.Sprintf("%d page views", n)
	}
	return fmt.Sprintf("%d page views in %s (%.0f/s)", n, d.Round(time.Millisecond), float64(n)/d.Seconds())
}
