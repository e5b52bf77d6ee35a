package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/configfile"
	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/daterange"
	"github.com/pvjobs/pvjobs/mapreduce"
)

// runOps is the part of runParams that is about operating pvjobs rather than
// about what a run reads and writes: the config job, dry runs, timeouts,
// progress and metrics.
type runOps struct {
	// Job is the config file's job being run: the job label of metrics
	// ("" when the run is not a config job).
	Job string
	// DryRun prints the plan and reads no data.
	DryRun bool
	// Timeout fails the run after this long (0: none).
	Timeout time.Duration
	// MetricsFile is where the run's metrics go (Prometheus text format).
	MetricsFile string
	// Progress is auto, bar, log or none.
	Progress string
	// ProgressEvery is the interval of progress log lines (default 10s).
	ProgressEvery time.Duration

	// result is the engine's result, kept for the metrics (see startRun).
	result *mapreduce.Result
}

// opsFlags are the run flags of config files, relative dates, dry runs,
// timeouts, progress and metrics.
func opsFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "config", Aliases: []string{"c"}, Usage: "config file (YAML) of named jobs: values for the flags not given (flag > env > file > default)", EnvVars: []string{"PVJOBS_CONFIG"}},
		&cli.StringFlag{Name: "job", Usage: "the config file's job to run (default: its only job)", EnvVars: []string{"PVJOBS_JOB"}},
		&cli.BoolFlag{Name: "yesterday", Usage: "report yesterday: the whole local day (in --tz) before today"},
		&cli.BoolFlag{Name: "today", Usage: "report today: the whole local day (in --tz), so far"},
		&cli.StringFlag{Name: "last", Usage: "report the last N whole local days before today, today not included: 7d, 2w"},
		&cli.StringFlag{Name: "now", Usage: "compute --yesterday, --today, --last and a config job's range as of this RFC 3339 time (to re-run a missed night)", EnvVars: []string{"PVJOBS_NOW"}},
		&cli.BoolFlag{Name: "dry-run", Usage: "print the plan (range, shard keys, time slices, reports, outputs) and read no data"},
		&cli.StringFlag{Name: "timeout", Usage: "fail the run, writing nothing, after this long: 90m, 2h", EnvVars: []string{"PVJOBS_TIMEOUT"}},
		&cli.StringFlag{Name: "metrics-file", Usage: "write the run's metrics (Prometheus text format) to this file, for node_exporter's textfile collector", EnvVars: []string{"PVJOBS_METRICS_FILE"}},
		&cli.StringFlag{Name: "progress", Value: "auto", Usage: "progress: auto (a bar on a terminal, else a log line every 10s), bar, log or none", EnvVars: []string{"PVJOBS_PROGRESS"}},
	}
}

// opsFromFlags reads the flags of opsFlags.
func opsFromFlags(c *cli.Context) (runOps, error) {
	o := runOps{
		DryRun:      c.Bool("dry-run"),
		MetricsFile: c.String("metrics-file"),
		Progress:    c.String("progress"),
	}
	switch o.Progress {
	case "", "auto", "bar", "log", "none":
	default:
		return o, usagef("--progress %q: want auto, bar, log or none", o.Progress)
	}
	if v := c.String("timeout"); v != "" {
		d, err := parseDuration(v)
		if err != nil || d <= 0 {
			return o, usagef("--timeout %q: want a duration such as 90m or 2h", v)
		}
		o.Timeout = d
	}
	return o, nil
}

// parseDuration parses a Go duration (90m, 1h30m) or days (3d).
func parseDuration(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 0 || days > mapreduce.MaxDays {
			return 0, fmt.Errorf("duration %q: want a number of days such as 3d", s)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

// paramsFromContext reads the run flags of c, fills what they leave unset from
// the config job (--config, --job), and resolves relative dates into From and
// To.
func paramsFromContext(c *cli.Context) (runParams, error) {
	p := paramsFromFlags(c)
	ops, err := opsFromFlags(c)
	if err != nil {
		return p, err
	}
	p.runOps = ops
	var job *configfile.Job
	if path := c.String("config"); path != "" {
		f, err := configfile.Load(path, configLocations)
		if err != nil {
			return p, &usageError{err}
		}
		if job, err = pickJob(f, c.String("job")); err != nil {
			return p, err
		}
		applyJob(&p, job, c.IsSet)
	} else if c.String("job") != "" {
		return p, usagef("--job %q needs --config", c.String("job"))
	}
	if err := resolveDates(c, &p, job); err != nil {
		return p, err
	}
	return p, nil
}

// pickJob returns the job of f named name, or f's only job when name is "".
func pickJob(f *configfile.File, name string) (*configfile.Job, error) {
	if name == "" {
		if len(f.Jobs) == 1 {
			return f.Jobs[0], nil
		}
		var names []string
		for _, j := range f.Jobs {
			names = append(names, j.Name)
		}
		return nil, usagef("%s has %d jobs: name one with --job (%s)", f.Path, len(f.Jobs), strings.Join(names, ", "))
	}
	j, err := f.Job(name)
	if err != nil {
		return nil, &usageError{fmt.Errorf("--job: %w", err)}
	}
	return j, nil
}

// applyJob copies the values of j into p where isSet says no flag (or its
// environment variable) gave one: flag > env > file > default.
func applyJob(p *runParams, j *configfile.Job, isSet func(flag string) bool) {
	p.Job = j.Name
	str := func(flag string, dst *string, v *string) {
		if v != nil && !isSet(flag) {
			*dst = *v
		}
	}
	list := func(flag string, dst *[]string, v []string) {
		if v != nil && !isSet(flag) {
			*dst = v
		}
	}
	joined := func(flag string, dst *string, v []string) {
		if v != nil && !isSet(flag) {
			*dst = strings.Join(v, ",")
		}
	}
	num := func(flag string, dst *int, v *int) {
		if v != nil && !isSet(flag) {
			*dst = *v
		}
	}
	flag := func(flag string, dst *bool, v *bool) {
		if v != nil && !isSet(flag) {
			*dst = *v
		}
	}
	str("source", &p.Source, j.Source)
	joined("accounts", &p.Accounts, j.Accounts)
	joined("jobs", &p.Jobs, j.Reports)
	list("out", &p.Out, j.Out)
	str("csv-pattern", &p.CSVPattern, j.CSVPattern)
	flag("csv-raw", &p.CSVRaw, j.CSVRaw)
	str("tz", &p.TZ, j.TZ)
	num("top", &p.Top, j.Top)
	flag("quiet", &p.Quiet, j.Quiet)
	num("slices", &p.Slices, j.Slices)
	num("workers", &p.Workers, j.Workers)
	str("max-bad-rows", &p.MaxBadRows, j.MaxBadRows)
	flag("strip-query", &p.StripQuery, j.StripQuery)
	list("internal-domains", &p.InternalDomains, j.InternalDomains)
	str("geoip", &p.GeoIP, j.GeoIP)
	flag("include-bots", &p.IncludeBots, j.IncludeBots)
	flag("exact-uniques", &p.ExactUniques, j.ExactUniques)
	flag("uv-granularity", &p.UniqueMinutes, j.UniqueMinutes) // unique_minutes: true is --uv-granularity minute
	str("metrics-file", &p.MetricsFile, j.MetricsFile)
	if j.Timeout != nil && !isSet("timeout") {
		p.Timeout = *j.Timeout
	}
}

// resolveDates turns --yesterday, --today, --last (or, when no dates are
// given at all, the config job's range) into From and To: RFC 3339 instants
// that daterange.ParseRange reads back. --from/--to and the relative flags
// exclude each other.
func resolveDates(c *cli.Context, p *runParams, job *configfile.Job) error {
	yesterday, today, last := c.Bool("yesterday"), c.Bool("today"), c.String("last")
	relative := yesterday || today || last != ""
	if relative && (p.From != "" || p.To != "") {
		return usagef("give either --from and --to, or one of --yesterday, --today, --last")
	}
	if !relative && (p.From != "" || p.To != "" || job == nil || job.Range == nil) {
		return nil
	}
	loc, err := time.LoadLocation(p.TZ)
	if err != nil {
		return usagef("--tz %q: unknown time zone", p.TZ)
	}
	now := time.Now()
	if v := c.String("now"); v != "" {
		if now, err = time.Parse(time.RFC3339, v); err != nil {
			return usagef("--now %q: want an RFC 3339 time such as 2024-08-08T02:30:00+02:00", v)
		}
	}
	var start, end time.Time
	if relative {
		if start, end, err = daterange.Relative(now, loc, yesterday, today, last); err != nil {
			return usagef("%v", err)
		}
	} else {
		start, end = job.Range.Range(now, loc)
	}
	setRange(p, start, end)
	return nil
}

// setRange sets From and To to the range [start, end).
func setRange(p *runParams, start, end time.Time) {
	p.From, p.To = start.Format(time.RFC3339Nano), end.Format(time.RFC3339Nano)
}
