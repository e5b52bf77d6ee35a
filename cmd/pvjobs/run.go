package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/daterange"
	"github.com/pvjobs/pvjobs/jobs"
	"github.com/pvjobs/pvjobs/jobs/geo/testdb"
	"github.com/pvjobs/pvjobs/jobs/tally"
	"github.com/pvjobs/pvjobs/jobs/validtext"
	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/file"
	"github.com/pvjobs/pvjobs/readers/pageview"
	"github.com/pvjobs/pvjobs/reports/table"
	"github.com/urfave/cli/v2"
)

func runFlags() []cli.Flag {
	return append([]cli.Flag{
		&cli.StringFlag{Name: "source", Aliases: []string{"s"}, Usage: "where page views come from: a directory of shard files, or cassandra://host[:port]/keyspace (default: the embedded sample)", EnvVars: []string{"PVJOBS_SOURCE"}},
		&cli.StringFlag{Name: "accounts", Aliases: []string{"a"}, Value: "all", Usage: "comma-separated account ids, or all (every account the source has in the range)", EnvVars: []string{"PVJOBS_ACCOUNTS"}},
		&cli.StringFlag{Name: "from", Usage: "first day, YYYY-MM-DD, or first instant, RFC 3339 (default: the source's first day, for shard files)"},
		&cli.StringFlag{Name: "to", Usage: "last day, inclusive, YYYY-MM-DD, or the instant after the range, RFC 3339 (default: the source's last day, for shard files)"},
		&cli.StringFlag{Name: "tz", Value: "UTC", Usage: "time zone whose days, hours and months reports use, e.g. Europe/Berlin", EnvVars: []string{"PVJOBS_TZ"}},
		&cli.StringFlag{Name: "jobs", Aliases: []string{"j"}, Value: "all", Usage: "comma-separated jobs to run in one pass, or all (see 'pvjobs jobs')", EnvVars: []string{"PVJOBS_JOBS"}},
		&cli.StringSliceFlag{Name: "out", Aliases: []string{"o"}, Usage: "output, repeatable: csv:DIR or redis://[user:pass@]host:port/db (default csv:pvjobs-out)", EnvVars: []string{"PVJOBS_OUT"}},
		&cli.IntFlag{Name: "top", Value: 10, Usage: "rows per report in the table printed to stdout (0: no table)"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print neither table nor summary"},
		&cli.IntFlag{Name: "slices", Value: mapreduce.DefaultSlices, Usage: "time slices per day (work items for sources that read slices in parallel)"},
		&cli.IntFlag{Name: "workers", Usage: "worker goroutines (default: GOMAXPROCS)", EnvVars: []string{"PVJOBS_WORKERS"}},
		&cli.StringFlag{Name: "max-bad-rows", Value: "0.1%", Usage: "bad rows tolerated before the run fails: a count (100) or a share of rows read (0.1%)", EnvVars: []string{"PVJOBS_MAX_BAD_ROWS"}},
		&cli.BoolFlag{Name: "strip-query", Usage: "urls: drop query strings entirely (tracking parameters are always dropped)"},
		&cli.StringFlag{Name: "csv-pattern", Value: "{report}.csv", Usage: "CSV file names; {report}, {from}, {to} are replaced"},
		&cli.BoolFlag{Name: "csv-raw", Usage: "write CSV cells as they are, without neutralising spreadsheet formulas (=, +, -, @)"},
		&cli.StringSliceFlag{Name: "internal-domains", Usage: "sources: referrer hosts that count as internal besides the page's own host"},
		&cli.StringFlag{Name: "geoip", Usage: "geo: path of a GeoIP2/GeoLite2 City or Country database (.mmdb)", EnvVars: []string{"PVJOBS_GEOIP"}},
		&cli.BoolFlag{Name: "include-bots", Usage: "count bots in every report, not only in devices"},
		&cli.BoolFlag{Name: "exact-uniques", Usage: "uniques: count visitors exactly with a hash set (small data; for checking the sketches)"},
		&cli.StringSliceFlag{Name: "spam-domains", Usage: "referrer-spam hosts to leave out besides the embedded list (a host covers its subdomains)", EnvVars: []string{"PVJOBS_SPAM_DOMAINS"}},
		&cli.BoolFlag{Name: "include-spam", Usage: "keep referrer spam in the reports (it is left out by default, like bots)"},
		&cli.StringFlag{Name: "compare", Usage: "also report the period of the same number of days just before the range (previous rows, read in the same pass): previous or none", EnvVars: []string{"PVJOBS_COMPARE"}},
		&cli.IntFlag{Name: "max-rows", Value: tally.DefaultMaxRows, Usage: "rows each report keeps per account and period; the rest are summed into an (other) row (0: every row)", EnvVars: []string{"PVJOBS_MAX_ROWS"}},
		&cli.StringFlag{Name: "visit-timeout", Value: "30m", Usage: "visits: the longest gap between two page views of one visit", EnvVars: []string{"PVJOBS_VISIT_TIMEOUT"}},
		&cli.IntFlag{Name: "max-row-size", Value: file.DefaultMaxRowSize, Usage: "shard files: the most bytes a page view may take; a longer one is a bad row"},
	}, append(append(cassandraFlags(), opsFlags()...), redisFlags()...)...)
}

func runCommand() *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "run jobs over a date range and write reports",
		UsageText: "pvjobs run [--source DIR|cassandra://...] [--accounts a,b|all] [--from YYYY-MM-DD --to YYYY-MM-DD] [--jobs urls,...|all] [--out csv:DIR]...",
		Description: "With no flags, runs every job on the embedded sample and writes CSV to ./pvjobs-out.\n\n" +
			"Example:\n  pvjobs run --source ./shards --accounts blog,shop --from 2024-08-01 --to 2024-08-07 --jobs urls --out csv:reports",
		Flags:  runFlags(),
		Action: runAction,
	}
}

// runParams describes one run: what the flags, environment variables and a
// config file say, merged (flag > env > file > default).
type runParams struct {
	Source          string
	Accounts        string
	From, To        string
	TZ              string
	Jobs            string
	Out             []string
	Top             int
	Quiet           bool
	Slices          int
	Workers         int
	MaxBadRows      string
	StripQuery      bool
	CSVPattern      string
	CSVRaw          bool
	InternalDomains []string
	GeoIP           string
	IncludeBots     bool
	ExactUniques    bool
	UniqueMinutes   bool
	MaxRows         int
	VisitTimeout    string
	SpamDomains     []string
	IncludeSpam     bool
	Compare         string
	// MaxRowSize bounds a page view's bytes in shard files (0: the default).
	MaxRowSize int
	// Cassandra holds the --cql-* flags given (see cassandra.go).
	Cassandra cassandraParams
	// Redis holds the --redis-* flags (see redis.go).
	Redis redisParams
	// runOps: config job, dry run, timeout, progress, metrics (config.go).
	runOps
}

// paramsFromFlags reads the run flags of c.
func paramsFromFlags(c *cli.Context) runParams {
	return runParams{
		Source:          c.String("source"),
		Accounts:        c.String("accounts"),
		From:            c.String("from"),
		To:              c.String("to"),
		TZ:              c.String("tz"),
		Jobs:            c.String("jobs"),
		Out:             c.StringSlice("out"),
		Top:             c.Int("top"),
		Quiet:           c.Bool("quiet"),
		Slices:          c.Int("slices"),
		Workers:         c.Int("workers"),
		MaxBadRows:      c.String("max-bad-rows"),
		StripQuery:      c.Bool("strip-query"),
		CSVPattern:      c.String("csv-pattern"),
		CSVRaw:          c.Bool("csv-raw"),
		InternalDomains: c.StringSlice("internal-domains"),
		GeoIP:           c.String("geoip"),
		IncludeBots:     c.Bool("include-bots"),
		ExactUniques:    c.Bool("exact-uniques"),
		MaxRows:         c.Int("max-rows"),
		SpamDomains:     c.StringSlice("spam-domains"),
		IncludeSpam:     c.Bool("include-spam"),
		Compare:         c.String("compare"),
		VisitTimeout:    c.String("visit-timeout"),
		Cassandra:       cassandraParamsFromFlags(c),
		Redis:           redisParamsFromFlags(c),
		UniqueMinutes:   uvMinutes(c),
		MaxRowSize:      c.Int("max-row-size"),
	}
}

// runSetup is everything a run needs, checked before any data is read.
type runSetup struct {
	src     source
	plan    *mapreduce.Plan
	defs    []jobs.Def
	tasks   []mapreduce.Task
	outs    []output
	opts    mapreduce.Options
	cleanup []func()
	// notes say which jobs of --jobs all were left out, and why.
	notes []string
	// files names the file of each shard of the plan ("": none), for a
	// source of shard files.
	files []string
}

func (s *runSetup) close() {
	for _, f := range slices.Backward(s.cleanup) {
		f()
	}
}

// setupRun checks p and opens everything a run needs, its outputs included.
func setupRun(ctx context.Context, p *runParams) (*runSetup, error) { return setup(ctx, p, true) }

// setupRead is setupRun without outputs, for commands that only read
// (pvjobs uniques --source).
func setupRead(ctx context.Context, p *runParams) (*runSetup, error) { return setup(ctx, p, false) }

func setup(ctx context.Context, p *runParams, withOutputs bool) (*runSetup, error) {
	s := &runSetup{}
	ok := false
	defer func() {
		if !ok {
			s.close()
		}
	}()
	loc, err := time.LoadLocation(p.TZ)
	if err != nil {
		return nil, usagef("--tz %q: unknown time zone", p.TZ)
	}
	budget, err := mapreduce.ParseBudget(p.MaxBadRows)
	if err != nil {
		return nil, usagef("--max-bad-rows: %v", err)
	}
	defs, err := jobs.Lookup(splitList(p.Jobs))
	if err != nil {
		return nil, usagef("--jobs: %v", err)
	}
	s.defs = defs
	cfg := &jobs.Config{
		StripQuery:      p.StripQuery,
		InternalDomains: p.InternalDomains,
		GeoIP:           p.GeoIP,
		ExactUniques:    p.ExactUniques,
		UniqueMinutes:   p.UniqueMinutes,
		MaxRows:         p.MaxRows,
		SpamDomains:     p.SpamDomains,
		IncludeSpam:     p.IncludeSpam,
	}
	if err := jobs.CheckSpam(cfg); err != nil {
		return nil, usagef("%v", err)
	}
	if p.MaxRows < 0 {
		return nil, usagef("--max-rows %d: want 0 (every row) or more", p.MaxRows)
	}
	visitTimeout := mapreduce.DefaultVisitTimeout
	if p.VisitTimeout != "" {
		d, err := parseDuration(p.VisitTimeout)
		if err != nil || d <= 0 || d > 24*time.Hour {
			return nil, usagef("--visit-timeout %q: want a duration from 1s to 24h, such as 30m", p.VisitTimeout)
		}
		visitTimeout = d
	}
	if p.Source == "" && cfg.GeoIP == "" {
		path, cleanup, err := defaultGeoIP()
		if err != nil {
			return nil, err
		}
		cfg.GeoIP = path
		s.cleanup = append(s.cleanup, cleanup)
	}
	if slices.Contains(splitList(p.Jobs), "all") {
		// all is every job that can run: without a GeoIP database, geo is
		// left out and the summary says so.
		defs, s.notes = jobs.Available(defs, cfg)
		s.defs = defs
	}
	if err := jobs.Check(defs, cfg); err != nil {
		return nil, usagef("%v", err)
	}
	outs := p.Out
	if len(outs) == 0 {
		outs = []string{"csv:pvjobs-out"}
	}
	if !withOutputs {
		outs = nil
	}
	for _, o := range outs {
		out, err := openOutput(ctx, o, p)
		if err != nil {
			return nil, err
		}
		s.outs = append(s.outs, out)
	}
	if err := checkPattern(s.outs, p.CSVPattern, reportNames(defs)); err != nil {
		return nil, err
	}
	if p.Workers < 0 {
		return nil, usagef("--workers %d: want 0 (GOMAXPROCS) or more", p.Workers)
	}
	if p.Top < 0 {
		return nil, usagef("--top %d: want 0 or more", p.Top)
	}
	src, err := openSource(ctx, p)
	if err != nil {
		return nil, err
	}
	s.src = src
	s.cleanup = append(s.cleanup, src.Close)
	spec, err := planSpec(ctx, p, src, loc)
	if err != nil {
		return nil, err
	}
	plan, err := mapreduce.NewPlan(spec)
	if err != nil {
		return nil, usagef("%v", err)
	}
	s.plan = plan
	// Shard files are checked before any is read: two files of one shard,
	// or a FIFO named like a shard, are refused.
	if sf, ok := src.(interface {
		Files(context.Context, []mapreduce.ShardKey) ([]string, error)
	}); ok {
		if s.files, err = sf.Files(ctx, plan.Shards); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, usagef("--source: %v", err)
		}
	}
	// Every output is checked (and, unless this is a dry run, tried) before
	// any data is read.
	for _, o := range s.outs {
		if err := o.Check(ctx, reportNames(defs), plan, !p.DryRun); err != nil {
			return nil, fmt.Errorf("--out %s: %w", o.loc, err)
		}
	}
	tasks, closeTasks, err := jobs.Build(defs, cfg)
	if err != nil {
		return nil, err
	}
	s.cleanup = append(s.cleanup, closeTasks)
	s.tasks = tasks
	s.opts = mapreduce.Options{
		Workers:      p.Workers,
		NewDecoder:   pageview.NewMapreduceDecoder,
		NewEnricher:  jobs.Enricher(defs, cfg),
		VisitTimeout: visitTimeout,
		IncludeBots:  p.IncludeBots,
		MaxBad:       budget,
	}
	ok = true
	return s, nil
}

func runAction(c *cli.Context) error {
	if c.NArg() > 0 {
		return usagef("run: unexpected argument %q", c.Args().First())
	}
	p, err := paramsFromContext(c)
	if err != nil {
		return err
	}
	return executeOps(c.Context, &p, c.App.Writer, c.App.ErrWriter, nil)
}

// execute checks p, runs it and writes its outputs.
func execute(ctx context.Context, p *runParams, stdout, stderr io.Writer) error {
	s, err := setupRun(ctx, p)
	if err != nil {
		return err
	}
	defer s.close()
	if p.DryRun {
		return printPlan(stdout, p, s)
	}
	slog.Debug("run planned", "source", s.src, "accounts", s.plan.Accounts, "shards", len(s.plan.Shards),
		"start", s.plan.Start, "end", s.plan.End, "jobs", len(s.tasks))
	finish := startRun(p, s, stderr)
	res, err := mapreduce.Run(ctx, s.plan, s.src, s.tasks, s.opts)
	finish(res, err)
	if err != nil {
		if res != nil && !p.Quiet {
			table.Summary(stderr, &res.Summary, nil)
		}
		return fmt.Errorf("run failed, no reports written: %w", budgetContext(err, p))
	}
	if n := validtext.Reports(res.Reports); n > 0 {
		slog.Info("report keys with invalid UTF-8 made valid (URLs percent-encoded, other text U+FFFD)", "cells", n)
	}
	if err := writeOutputs(ctx, s.outs, res.Reports, s.plan); err != nil {
		return err
	}
	if !p.Quiet {
		w := stdout
		if n := p.Top; n > 0 {
			if err := table.Top(w, res.Reports, n); err != nil {
				return err
			}
		}
		table.Summary(w, &res.Summary, res.Reports)
		for _, n := range s.notes {
			fmt.Fprintf(w, "note: %s\n", n)
		}
		if len(res.Summary.Missing) > 0 {
			fmt.Fprintf(w, "missing shards: %s\n", shardList(res.Summary.Missing, 8))
		}
		for _, o := range s.outs {
			fmt.Fprintf(w, "wrote %s\n", o)
		}
	}
	for _, re := range res.Summary.BadSamples {
		attrs := []any{"shard", re.Shard.String(), "row", re.Index, "offset", re.Offset, "err", re.Err}
		if re.Decompressed {
			attrs = append(attrs, "offset_in", "decompressed data")
		}
		slog.Warn("bad row skipped", attrs...)
	}
	return nil
}

// budgetContext adds the flag that sets the bad-row budget to an engine
// error that says the budget was exceeded (the engine knows no flags).
func budgetContext(err error, p *runParams) error {
	if errors.Is(err, mapreduce.ErrTooManyBadRows) {
		return fmt.Errorf("%w (raise --max-bad-rows, now %s, to tolerate more)", err, p.MaxBadRows)
	}
	return err
}

func shardList(keys []mapreduce.ShardKey, n int) string {
	var parts []string
	for i, k := range keys {
		if i == n {
			parts = append(parts, fmt.Sprintf("… (%d more)", len(keys)-n))
			break
		}
		parts = append(parts, k.String())
	}
	return strings.Join(parts, ", ")
}

// planSpec turns --accounts, --from, --to into a PlanSpec, asking the source
// for accounts and days it has when they are not given.
func planSpec(ctx context.Context, p *runParams, src source, loc *time.Location) (mapreduce.PlanSpec, error) {
	spec := mapreduce.PlanSpec{Loc: loc, Slices: p.Slices}
	switch p.Compare {
	case "", "none":
	case "previous":
		spec.Compare = true
	default:
		return spec, usagef("--compare %q: want previous or none", p.Compare)
	}
	start, end, err := daterange.ParseRange(p.From, p.To, loc)
	if err != nil {
		return spec, usagef("%v", err)
	}
	spec.Start, spec.End = start, end
	given := !start.IsZero()
	accounts := splitList(p.Accounts)
	all := len(accounts) == 1 && accounts[0] == "all"
	for _, a := range accounts {
		if a != "all" {
			if err := mapreduce.ValidateAccount(a); err != nil {
				return spec, usagef("--accounts: %v", err)
			}
		}
	}
	if len(accounts) == 0 {
		return spec, usagef("--accounts: no accounts named")
	}
	if all || !given {
		d, ok := src.(discoverer)
		if !ok {
			if all {
				return spec, usagef("--accounts all: this source cannot list its accounts; name them")
			}
			return spec, usagef("--from and --to are required for this source")
		}
		found, first, last, err := d.Discover(ctx, spec.Start, spec.End)
		if err != nil {
			return spec, err
		}
		if !given {
			if first.IsZero() {
				return spec, usagef("the source %s has no shards; give --from and --to", src)
			}
			spec.Start, spec.End, _ = mapreduce.DayRange(first, last, loc)
		}
		if all {
			accounts = found
			if len(accounts) == 0 {
				return spec, usagef("--accounts all: the source %s has no accounts in the range", src)
			}
		}
	}
	spec.Accounts = accounts
	return spec, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// defaultGeoIP returns the path of the generated test City database for the
// embedded default run: the embedded copy, written to a temporary file that
// cleanup removes (the database is memory-mapped from a path).
func defaultGeoIP() (path string, cleanup func(), err error) {
	f, err := os.CreateTemp("", "pvjobs-test-city-*.mmdb")
	if err != nil {
		return "", nil, fmt.Errorf("test GeoIP database: %w", err)
	}
	cleanup = func() { os.Remove(f.Name()) }
	if _, err := f.Write(testdb.TestCity); err != nil {
		f.Close()
		cleanup()
		return "", nil, fmt.Errorf("test GeoIP database: %w", err)
	}
	if err := f.Close(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("test GeoIP database: %w", err)
	}
	return f.Name(), cleanup, nil
}
