package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/urfave/cli/v2"

	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/configfile"
	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/daterange"
	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/location"
	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/options"
	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/scheduler"
	"github.com/pvjobs/pvjobs/reports/metrics"
)

// Test hooks: the scheduler's clock, and a function told the address
// /metrics listens on.
var (
	scheduleClock   = scheduler.Real
	onMetricsListen = func(addr string) {}
	shutdownGrace   = 5 * time.Second
)

func scheduleCommand() *cli.Command {
	return &cli.Command{
		Name:      "schedule",
		Usage:     "run the config file's jobs on their cron schedules (a long-running scheduler)",
		UsageText: "pvjobs schedule --config FILE [--job NAME]... [--lock redis://host:port/db] [--state FILE] [--metrics-addr :9464]",
		Description: "Runs each job of the config file that has a schedule, in the job's time zone, over the\n" +
			"job's range (default: yesterday) relative to the time it fires, one slot at a time; with\n" +
			"--lock (or scheduler.lock) across machines too, and of two runs that overlap because a\n" +
			"holder stalled past lock_ttl only the lock's holder writes its outputs. Slots missed while\n" +
			"the scheduler was down run at start within the job's catch_up window; older ones are\n" +
			"dropped, logged and counted. SIGTERM or SIGINT cancels the runs in progress (they write\n" +
			"nothing and their slots stay due) and stops: exit 130 if runs were stopped, else 0.\n\n" +
			"The other flags apply to every job and win over the config file (flag > env > file > default).",
		Flags:  scheduleFlags(),
		Action: scheduleAction,
	}
}

// scheduleFlags are the scheduler's own flags and the run flags that make
// sense for every scheduled job (options.Table).
func scheduleFlags() []cli.Flag { return options.Flags(options.Schedule) }

// locks is the registry of the scheduler's lock (--lock, scheduler.lock): a
// Redis server, opened with the connection flags of the Redis sink (user and
// $PVJOBS_REDIS_PASSWORD, TLS files, cluster, timeout).
var locks = location.NewRegistry("lock", redisLock("redis"), redisLock("rediss"))

// lockClient is an opened lock server.
type lockClient struct {
	client goredis.UniversalClient
	desc   string // "redis 10.0.0.1:6379 db 0"
}

func redisLock(scheme string) location.Factory[*redisParams, lockClient] {
	return location.New(location.Spec[redisURL, *redisParams, lockClient]{
		Scheme: scheme, Syntax: scheme + "://[user:password@]host:port/db", Prefix: scheme + "://",
		Parse: parseRedisURL,
		Open: func(ctx context.Context, u redisURL, rp *redisParams) (lockClient, error) {
			tg, err := redisTarget(u.raw, rp)
			if err != nil {
				return lockClient{}, err
			}
			client := tg.NewClient()
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			if err := client.Ping(pctx).Err(); err != nil {
				client.Close()
				return lockClient{}, fmt.Errorf("%s: %w", tg, err)
			}
			return lockClient{client, tg.String()}, nil
		},
	})
}

// scheduledJob is a config job ready for the scheduler.
type scheduledJob struct {
	job    scheduler.Job
	params runParams
}

func scheduleAction(c *cli.Context) error {
	reportsGC()
	if c.NArg() > 0 {
		return usagef("schedule: unexpected argument %q", c.Args().First())
	}
	v, err := resolve(options.Schedule, c, nil)
	if err != nil {
		return err
	}
	if v.Config == "" {
		return usagef("schedule: --config FILE is required")
	}
	f, err := configfile.Load(v.Config, configLocations)
	if err != nil {
		return &usageError{err}
	}
	// The scheduler's settings: flags, environment, the scheduler section,
	// and for the lock's connection the defaults section's redis_* keys.
	set, err := resolve(options.Schedule, c, f.For(nil))
	if err != nil {
		return err
	}
	jobs, err := scheduledJobs(c, f, set.ScheduleJobs)
	if err != nil {
		return err
	}
	cfg := scheduler.Config{Clock: scheduleClock, Logger: slog.Default()}
	lockDesc := "in-process"
	switch {
	case set.Lock != "":
		loc, err := locks.Parse(set.Lock)
		if err != nil {
			return usagef("--lock %w", err)
		}
		lc, err := loc.Open(c.Context, &set.Redis)
		if err != nil {
			return fmt.Errorf("--lock %w", err)
		}
		defer lc.client.Close()
		cfg.Locker = &scheduler.RedisLocker{Client: lc.client, TTL: set.LockTTL}
		cfg.Store = &scheduler.RedisStore{Client: lc.client}
		lockDesc = lc.desc
	case set.State != "":
		cfg.Store = &scheduler.FileStore{Path: set.State}
	}
	reg := &metrics.Registry{}
	if set.MetricsAddr != "" {
		stop, err := serveMetrics(set.MetricsAddr, reg)
		if err != nil {
			return err
		}
		defer stop()
	}
	params := map[string]runParams{}
	var names []string
	for _, j := range jobs {
		reg.Scheduled(j.job.Name)
		cfg.Jobs = append(cfg.Jobs, j.job)
		params[j.job.Name] = j.params
		names = append(names, j.job.Name)
	}
	stderr := c.App.ErrWriter
	cfg.Run = func(ctx context.Context, r scheduler.Run) error {
		p := params[r.Job]
		setRange(&p, r.Start, r.End)
		p.fence = r.Fence // checked just before the outputs are written
		err := executeOps(ctx, &p, io.Discard, stderr, reg)
		var late *committedError
		if errors.As(err, &late) {
			// Stopped while committing, after the commit: the slot is
			// done.
			err = nil
		}
		if !errors.Is(err, context.Canceled) {
			logRun(&p, err)
		}
		return err
	}
	cfg.OnEvent = func(ev scheduler.Event) {
		if ev.Kind == scheduler.EventSkipped && errors.Is(ev.Err, scheduler.ErrMissed) {
			reg.Dropped(ev.Job)
		}
	}
	s, err := scheduler.New(cfg)
	if err != nil {
		return err
	}
	slog.Info("scheduler started", "config", f.Path, "jobs", names, "lock", lockDesc, "state", set.State, "metrics_addr", set.MetricsAddr)
	if err := s.Run(c.Context); err != nil {
		// A signal stopped runs in progress (exit 130): they wrote
		// nothing, and their slots stay due.
		return &interruptedError{msg: "interrupted: " + err.Error() + "; their slots stay due", err: err}
	}
	return nil
}

// scheduledJobs returns the jobs of f to schedule: those named in want, or
// every job with a schedule, each with its run parameters (flag > env > file
// > default).
func scheduledJobs(c *cli.Context, f *configfile.File, want []string) ([]scheduledJob, error) {
	for _, n := range want {
		if _, err := f.Job(n); err != nil {
			return nil, &usageError{fmt.Errorf("--job: %w", err)}
		}
	}
	var out []scheduledJob
	for _, j := range f.Jobs {
		if len(want) > 0 && !slices.Contains(want, j.Name) {
			continue
		}
		v, err := resolve(options.Schedule, c, f.For(j))
		if err != nil {
			return nil, err
		}
		if v.Schedule == "" {
			if len(want) > 0 {
				return nil, usagef("--job %s: the job has no schedule in %s", j.Name, f.Path)
			}
			slog.Info("job not scheduled: it has no schedule", "job", j.Name)
			continue
		}
		p := runParams{Values: *v}
		p.Job = j.Name
		p.Quiet, p.Progress = true, "log"
		loc, err := time.LoadLocation(p.TZ)
		if err != nil {
			return nil, usagef("job %s: --tz %q: unknown time zone", j.Name, p.TZ)
		}
		sch, err := scheduler.ParseCron(p.Schedule, loc)
		if err != nil {
			pos, _ := j.Pos("schedule")
			return nil, usagef("%s: jobs.%s.schedule: %v", pos, j.Name, err)
		}
		sj := scheduler.Job{Name: j.Name, Schedule: sch, Loc: loc, Window: daterange.Yesterday, CatchUp: p.CatchUp}
		if !p.Range.IsZero() {
			sj.Window = p.Range
		}
		out = append(out, scheduledJob{job: sj, params: p})
	}
	if len(out) == 0 {
		return nil, usagef("no job in %s has a schedule", f.Path)
	}
	return out, nil
}

// serveMetrics serves reg on addr at /metrics (and /healthz) and returns the
// function that shuts the server down.
func serveMetrics(addr string, reg *metrics.Registry) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", reg)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Error("metrics server stopped", "err", err)
		}
	}()
	slog.Info("serving metrics", "url", "http://"+ln.Addr().String()+"/metrics")
	onMetricsListen(ln.Addr().String())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		srv.Shutdown(ctx)
	}, nil
}
