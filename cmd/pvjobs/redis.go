package main

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/location"
	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/options"
	"github.com/pvjobs/pvjobs/jobs"
	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/reports/redis"
)

// redisParams holds the settings of Redis connections and of the Redis
// sink (the --redis-* options).
type redisParams = options.Redis

// redisTarget parses a redis:// URL and applies the connection flags of rp:
// user and password, TLS files, timeout, cluster.
func redisTarget(spec string, rp *redisParams) (*redis.Target, error) {
	goredis.SetLogger(redisLog{})
	if rp.Cluster {
		spec = withQuery(spec, "cluster=true")
	}
	tg, err := redis.ParseURL(spec)
	if err != nil {
		return nil, usagef("%v", location.Scrub(err, spec))
	}
	tg.SetAuth(rp.User, rp.Password)
	if err := tg.SetTLS(rp.CA, rp.Cert, rp.Key); err != nil {
		return nil, usagef("%v", err)
	}
	if rp.Timeout > 0 {
		tg.SetTimeout(rp.Timeout)
	}
	return tg, nil
}

// withQuery adds kv to the URL's query.
func withQuery(spec, kv string) string {
	for i := 0; i < len(spec); i++ {
		if spec[i] == '?' {
			return spec + "&" + kv
		}
	}
	return spec + "?" + kv
}

// newRedisSink opens one --out redis://... or rediss://... sink: the URL's
// query wins over the flags for that output. It does not connect: Check
// does (every command the writes need), so that a run does not read for an
// hour to fail at the end.
func newRedisSink(spec string, p *runParams) (sink, error) {
	rp := &p.Redis
	tg, err := redisTarget(spec, rp)
	if err != nil {
		return nil, err
	}
	opt := redis.Options{
		Prefix:   rp.Prefix,
		Batch:    rp.Batch,
		Pipeline: rp.Pipeline,
		Top:      rp.Top,
		Range:    rp.Range,
		UVMerge:  rp.UVMerge,
		Minutes:  p.UniqueMinutes(),
		TTL:      rp.TTL,
	}
	if tg.Prefix != "" {
		opt.Prefix = tg.Prefix
	}
	if tg.Batch > 0 {
		opt.Batch = tg.Batch
	}
	if tg.Pipeline > 0 {
		opt.Pipeline = tg.Pipeline
	}
	opt.RetryBudget = tg.RetryBudget
	if opt.Prefix == "" {
		opt.Prefix = redis.DefaultPrefix
	}
	if err := redis.ValidPrefix(opt.Prefix); err != nil {
		return nil, usagef("--redis-prefix: %v", err)
	}
	if opt.Batch < 1 || opt.Pipeline < 1 || opt.Top < 0 {
		return nil, usagef("--redis-batch %d, --redis-pipeline %d, --redis-top %d: want batch and pipeline 1 or more, top 0 or more", opt.Batch, opt.Pipeline, opt.Top)
	}
	if p.ExactUniques {
		if defs, err := jobs.Lookup(p.Jobs); err == nil && slices.ContainsFunc(defs, func(d jobs.Def) bool { return d.Name == "uniques" }) {
			return nil, usagef("--exact-uniques: exact counts cannot be written to Redis, whose unique-visitor keys are HyperLogLogs")
		}
	}
	return &redisSink{target: tg, opt: opt}, nil
}

// redisSink writes reports to Redis (package reports/redis). It opens a
// client for each run (Prepare) and closes it after the commit or abort,
// so that the scheduler's runs hold no connections between runs.
type redisSink struct {
	target *redis.Target
	opt    redis.Options
}

// Check runs every command the writes need on probe keys in the slots of
// the plan's accounts (redis.Check), not in a dry run, so that a server or a
// user that would refuse the commit is refused before any data is read.
func (s *redisSink) Check(ctx context.Context, _ []string, plan *mapreduce.Plan, probe bool) error {
	if !probe {
		return nil
	}
	var accounts []string
	if plan != nil {
		accounts = plan.Accounts
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	c := s.target.NewClient()
	defer c.Close()
	if err := redis.Check(ctx, c, redis.Keys{Prefix: s.opt.Prefix}, accounts...); err != nil {
		return fmt.Errorf("%s: pre-flight check: %w", s.target, err)
	}
	return nil
}

// Prepare writes the reports under temporary keys (redis.Writer.Prepare):
// nothing readers see changes; on error, or when ctx is done, the keys
// written are deleted. The client stays open until Commit or Abort.
func (s *redisSink) Prepare(ctx context.Context, reps []mapreduce.Report, plan *mapreduce.Plan) (prepared, error) {
	c := s.target.NewClient()
	t0 := time.Now()
	p, err := redis.NewWriter(c, s.opt).Prepare(ctx, reps, plan)
	if err != nil {
		c.Close()
		return nil, err
	}
	return &redisPrepared{s: s, c: c, p: p, t0: t0}, nil
}

// redisPrepared is a Redis output whose temporary keys are written,
// waiting for its commit.
type redisPrepared struct {
	s  *redisSink
	c  goredis.UniversalClient
	p  *redis.Prepared
	t0 time.Time
}

// Commit swaps every account in (once begun, whatever ctx says). When it
// fails, the temporary keys of the accounts not swapped in are deleted and
// the error (a *redis.CommitError) says which accounts were swapped in.
func (r *redisPrepared) Commit(ctx context.Context) error {
	defer r.c.Close()
	s := r.s
	st, err := r.p.Commit(ctx)
	if err != nil {
		if aerr := r.p.Abort(ctx); aerr != nil {
			slog.Warn("redis: deleting temporary keys failed; they expire by themselves", "target", s.target.String(), "err", aerr)
		}
		return err
	}
	slog.Info("redis written", "target", s.target.String(), "prefix", s.opt.Prefix, "accounts", st.Accounts,
		"replaced", st.Replaced, "merged", st.Merged, "deleted", st.Deleted, "unchanged", st.Unchanged,
		"members", st.Members, "fields", st.Fields, "round_trips", st.RoundTrips, "retries", st.Retries, "took", time.Since(r.t0).Round(time.Millisecond))
	if st.SkippedPartial > 0 {
		slog.Warn("redis: rows of days and hours the range covers only in part were not written: sorted sets and visits hashes hold whole periods only",
			"rows", st.SkippedPartial)
	}
	return nil
}

// Abort deletes the temporary keys.
func (r *redisPrepared) Abort(ctx context.Context) error {
	defer r.c.Close()
	return r.p.Abort(ctx)
}

// early: the swaps can still fail (the server going away for longer than
// the retry budget), so Redis commits before the outputs whose commit is a
// rename, which are then left as they were.
func (r *redisPrepared) early() bool { return true }

func (s *redisSink) String() string {
	return fmt.Sprintf("%s, keys %s:{account}:…", s.target, s.opt.Prefix)
}

// redisLog sends go-redis's own log lines (such as each failed dial) to
// slog at debug level: the errors that matter reach the user anyway.
type redisLog struct{}

func (redisLog) Printf(_ context.Context, format string, v ...any) {
	slog.Debug("go-redis: " + fmt.Sprintf(format, v...))
}
