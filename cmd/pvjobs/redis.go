package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/urfave/cli/v2"

	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/location"
	"github.com/pvjobs/pvjobs/jobs"
	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/reports/redis"
)

// redisParams holds the --redis-* and --uv-* flags of the Redis sink.
type redisParams struct {
	Prefix          string
	Batch, Pipeline int
	Top             int
	TTL             string
	Range           bool
	UVMerge         bool
	Cluster         bool
	Timeout         string
	User            string
	// Password comes from $PVJOBS_REDIS_PASSWORD only, not from a flag.
	Password      string
	CA, Cert, Key string
}

// redisFlags are the flags of the Redis sink (--out redis://...).
func redisFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "redis-prefix", Value: redis.DefaultPrefix, Usage: "redis: first part of every key, as in pv:{blog}:urls:20240801 (URL: prefix=)", EnvVars: []string{"PVJOBS_REDIS_PREFIX"}, Category: "Redis"},
		&cli.IntFlag{Name: "redis-batch", Value: redis.DefaultBatch, Usage: "redis: members per ZADD (URL: batch=)", EnvVars: []string{"PVJOBS_REDIS_BATCH"}, Category: "Redis"},
		&cli.IntFlag{Name: "redis-pipeline", Value: redis.DefaultPipeline, Usage: "redis: commands per round trip (URL: pipeline=)", EnvVars: []string{"PVJOBS_REDIS_PIPELINE"}, Category: "Redis"},
		&cli.IntFlag{Name: "redis-top", Usage: "redis: keep only the N highest counts of each sorted set (0: all)", EnvVars: []string{"PVJOBS_REDIS_TOP"}, Category: "Redis"},
		&cli.StringFlag{Name: "redis-ttl", Aliases: []string{"ttl"}, Usage: "redis: expiry of every key written: 90d, 36h (default: none)", EnvVars: []string{"PVJOBS_REDIS_TTL"}, Category: "Redis"},
		&cli.BoolFlag{Name: "redis-range", Usage: "redis: also write the keys of the whole range, as in pv:{blog}:urls:20240801-20240807", Category: "Redis"},
		&cli.BoolFlag{Name: "uv-merge", Usage: "redis: PFMERGE unique visitors into the existing keys (that a live producer PFADDs to) instead of replacing them", EnvVars: []string{"PVJOBS_UV_MERGE"}, Category: "Redis"},
		&cli.StringFlag{Name: "uv-granularity", Value: "hour", Usage: "uniques: finest period of sketches and Redis keys: hour, or minute (adds minute keys)", EnvVars: []string{"PVJOBS_UV_GRANULARITY"}, Category: "Redis",
			Action: func(_ *cli.Context, v string) error { return checkGranularity(v) }},
		&cli.BoolFlag{Name: "redis-cluster", Usage: "redis: the URL names a node of a Redis Cluster (URL: cluster=true, or addr= for more seed nodes)", EnvVars: []string{"PVJOBS_REDIS_CLUSTER"}, Category: "Redis"},
		&cli.StringFlag{Name: "redis-timeout", Usage: "redis: dial, read and write timeout: 5s (URL: dial_timeout=, read_timeout=, write_timeout=; default go-redis's 5s dial, 3s read and write)", EnvVars: []string{"PVJOBS_REDIS_TIMEOUT"}, Category: "Redis"},
		&cli.StringFlag{Name: "redis-user", Usage: "redis: ACL user name when the URL has none (the password: $PVJOBS_REDIS_PASSWORD)", EnvVars: []string{"PVJOBS_REDIS_USER"}, Category: "Redis"},
		&cli.StringFlag{Name: "redis-ca", Usage: "redis: PEM file of the certificate authorities to trust for rediss:// (default: the system's)", EnvVars: []string{"PVJOBS_REDIS_CA"}, Category: "Redis"},
		&cli.StringFlag{Name: "redis-cert", Usage: "redis: PEM client certificate for rediss://", EnvVars: []string{"PVJOBS_REDIS_CERT"}, Category: "Redis"},
		&cli.StringFlag{Name: "redis-key", Usage: "redis: PEM key of --redis-cert", EnvVars: []string{"PVJOBS_REDIS_KEY"}, Category: "Redis"},
	}
}

// redisParamsFromFlags reads the flags of redisFlags.
func redisParamsFromFlags(c *cli.Context) redisParams {
	return redisParams{
		Prefix:   c.String("redis-prefix"),
		Batch:    c.Int("redis-batch"),
		Pipeline: c.Int("redis-pipeline"),
		Top:      c.Int("redis-top"),
		TTL:      c.String("redis-ttl"),
		Range:    c.Bool("redis-range"),
		UVMerge:  c.Bool("uv-merge"),
		Cluster:  c.Bool("redis-cluster"),
		Timeout:  c.String("redis-timeout"),
		User:     c.String("redis-user"),
		Password: os.Getenv("PVJOBS_REDIS_PASSWORD"),
		CA:       c.String("redis-ca"),
		Cert:     c.String("redis-cert"),
		Key:      c.String("redis-key"),
	}
}

// uvMinutes reads --uv-granularity: whether the uniques job makes minute
// sketches.
func uvMinutes(c *cli.Context) bool { return c.String("uv-granularity") == "minute" }

func checkGranularity(v string) error {
	if v != "hour" && v != "minute" {
		return usagef("--uv-granularity %q: want hour or minute", v)
	}
	return nil
}

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
	if rp.Timeout != "" {
		d, err := time.ParseDuration(rp.Timeout)
		if err != nil || d <= 0 {
			return nil, usagef("--redis-timeout %q: want a duration such as 5s", rp.Timeout)
		}
		tg.SetTimeout(d)
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
		Minutes:  p.UniqueMinutes,
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
	if rp.TTL != "" {
		d, err := parseDuration(rp.TTL)
		if err != nil || d <= 0 {
			return nil, usagef("--redis-ttl %q: want a duration such as 90d or 36h", rp.TTL)
		}
		opt.TTL = d
	}
	if p.ExactUniques {
		if defs, err := jobs.Lookup(splitList(p.Jobs)); err == nil && slices.ContainsFunc(defs, func(d jobs.Def) bool { return d.Name == "uniques" }) {
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
		"members", st.Members, "round_trips", st.RoundTrips, "retries", st.Retries, "took", time.Since(r.t0).Round(time.Millisecond))
	if st.SkippedPartial > 0 {
		slog.Warn("redis: rows of days the range covers only in part were not written: sorted sets hold whole days only",
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
