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
	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/options"
	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/sharding"
	"github.com/pvjobs/pvjobs/jobs"
	"github.com/pvjobs/pvjobs/jobs/geo/testdb"
	"github.com/pvjobs/pvjobs/jobs/validtext"
	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/pageview"
	"github.com/pvjobs/pvjobs/reports/table"
	"github.com/urfave/cli/v2"
)

// runFlags are the flags of 'pvjobs run' (options.Table).
func runFlags() []cli.Flag { return options.Flags(options.Run) }

func runCommand() *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "run jobs over a date range and write reports",
		UsageText: "pvjobs run [--source DIR|cassandra://...] [--accounts a,b|all] [--from YYYY-MM-DD --to YYYY-MM-DD] [--jobs urls,...|all] [--out csv:DIR]...",
		Description: "With no flags, runs every job on the embedded sample and writes CSV files and an HTML report per account to ./pvjobs-out.\n\n" +
			"Example:\n  pvjobs run --source ./shards --accounts blog,shop --from 2024-08-01 --to 2024-08-07 --jobs urls --out csv:reports",
		Flags:  runFlags(),
		Action: runAction,
	}
}

// runParams describes one run: the values of its options (flag > env > file
// > default, see options.Resolve), with From and To resolved from relative
// dates.
type runParams struct {
	options.Values
	// ProgressEvery is the interval of progress log lines (default 10s).
	ProgressEvery time.Duration
	// fence, when set, checks just before the outputs are written that
	// the run may still commit (a scheduled run's lock, see
	// scheduler.Run.Fence).
	fence func(context.Context) error

	// result is the engine's result, kept for the metrics (see startRun).
	result *mapreduce.Result
	// outGiven says --out or $PVJOBS_OUT gave the outputs (not a config
	// file or the default): a shard of days, which writes no reports,
	// refuses them.
	outGiven bool
	// wholeRun ignores the shard options (pvjobs accounts of a run cut by
	// days: every shard has every account).
	wholeRun bool
}

// resolve returns the values of cmd's options: c's flags, the environment,
// file (nil: none) and the defaults. Bad values are usage errors.
func resolve(cmd options.Command, c *cli.Context, file options.File) (*options.Values, error) {
	v, err := options.Resolve(cmd, c, file, configLocations)
	if err != nil {
		return nil, &usageError{err}
	}
	return v, nil
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
	// named are the accounts --accounts names (nil for all); listed says
	// the source listed its shards before the run, and the named accounts
	// without one were warned about then.
	named  []string
	listed bool
	// shard is the part of the run this process does (zero: all of it).
	shard sharding.Spec
	// partials is where a shard of days writes its partial results (nil:
	// it writes reports).
	partials *partialsTarget
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
	if s.shard, err = resolveShard(p); err != nil {
		return nil, err
	}
	defs, err := jobs.Lookup(p.Jobs)
	if err != nil {
		return nil, usagef("--jobs: %v", err)
	}
	s.defs = defs
	cfg := &jobs.Config{
		StripQuery:      p.StripQuery,
		InternalDomains: p.InternalDomains,
		GeoIP:           p.GeoIP,
		ExactUniques:    p.ExactUniques,
		UniqueMinutes:   p.UniqueMinutes(),
		MaxRows:         p.MaxRows,
		SpamDomains:     p.SpamDomains,
		IncludeSpam:     p.IncludeSpam,
	}
	if err := jobs.CheckSpam(cfg); err != nil {
		return nil, usagef("%v", err)
	}
	if p.Source == "" && cfg.GeoIP == "" {
		path, cleanup, err := defaultGeoIP()
		if err != nil {
			return nil, err
		}
		cfg.GeoIP = path
		s.cleanup = append(s.cleanup, cleanup)
	}
	if slices.Contains(p.Jobs, "all") {
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
		outs = []string{"csv:pvjobs-out", "html:pvjobs-out"}
	}
	if !withOutputs || s.shard.By == sharding.ByDay {
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
	if err := checkShardOutputs(s.shard, s.outs, p.CSVPattern); err != nil {
		return nil, err
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
	if !s.shard.IsZero() && s.shard.By == sharding.ByAccount {
		n := len(spec.Accounts)
		if spec.Accounts = s.shard.Accounts(spec.Accounts); len(spec.Accounts) == 0 {
			return nil, &errEmptyShard{shard: s.shard, why: fmt.Sprintf("none of the run's %s (an account's shard is FNV-1a-64 of its id mod %d)", plural(n, "account"), s.shard.Count)}
		}
	}
	plan, err := mapreduce.NewPlan(spec)
	if err != nil {
		return nil, usagef("%v", err)
	}
	if s.shard.By == sharding.ByDay {
		days := len(plan.Calendar.Days)
		first, last := s.shard.Days(days)
		if first == last {
			return nil, &errEmptyShard{shard: s.shard, why: fmt.Sprintf("no day: the run has %s", plural(days, "local day"))}
		}
		plan = plan.ReadDays(first, last)
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
	if !isAll(p.Accounts) {
		s.named = plan.Accounts
		if l, ok := src.(shardLister); ok {
			keys, err := l.Shards()
			if err != nil {
				return nil, err
			}
			warnAccounts(s, func(k mapreduce.ShardKey) bool { return slices.Contains(keys, k) })
			s.listed = true
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
		VisitTimeout: p.VisitTimeout,
		IncludeBots:  p.IncludeBots,
		MaxBad:       p.MaxBadRows,
		KeepPartials: s.shard.By == sharding.ByDay,
		// The GeoIP database is released before the merge, whose memory
		// would otherwise come on top of it.
		OnMapped: closeTasks,
	}
	if s.shard.By == sharding.ByDay {
		if err := setupPartials(p, s, cfg, !p.DryRun); err != nil {
			return nil, err
		}
	}
	ok = true
	return s, nil
}

func runAction(c *cli.Context) error {
	reportsGC()
	if c.NArg() > 0 {
		return usagef("run: unexpected argument %q", c.Args().First())
	}
	p, err := paramsFromContext(c)
	if err != nil {
		return err
	}
	p.outGiven = c.IsSet("out") || os.Getenv("PVJOBS_OUT") != ""
	return executeOps(c.Context, &p, c.App.Writer, c.App.ErrWriter, nil)
}

// execute checks p, runs it and writes its outputs.
func execute(ctx context.Context, p *runParams, stdout, stderr io.Writer) error {
	s, err := setupRun(ctx, p)
	var empty *errEmptyShard
	if errors.As(err, &empty) {
		slog.Info("nothing to do", "why", empty.Error())
		if !p.Quiet {
			fmt.Fprintf(stdout, "note: %v\n", empty)
		}
		return nil
	}
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
	if err == nil {
		if !s.listed {
			missing := map[mapreduce.ShardKey]bool{}
			for _, k := range res.Summary.Missing {
				missing[k] = true
			}
			warnAccounts(s, func(k mapreduce.ShardKey) bool { return !missing[k] })
		}
		if s.partials == nil {
			// A shard of days may hold days without page views; pvjobs
			// merge checks that the run as a whole read some.
			err = checkNotEmpty(p, s, res)
		}
	}
	if err != nil {
		if res != nil && !p.Quiet {
			table.Summary(stderr, &res.Summary, nil)
		}
		return fmt.Errorf("run failed, no reports written: %w", budgetContext(err, p))
	}
	if s.partials != nil {
		return finishPartials(ctx, p, s, res, stdout)
	}
	if n := validtext.Reports(res.Reports); n > 0 {
		slog.Info("report keys with invalid UTF-8 made valid (URLs percent-encoded, other text U+FFFD)", "cells", n)
	}
	describeRun(s.outs, &res.Summary, res.Reports, s.plan)
	if err := writeOutputs(ctx, s.outs, res.Reports, s.plan, p.fence); err != nil {
		return err
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		// A signal came while the outputs were written, and they were
		// written whole (a Redis swap finishes what it began): say so,
		// and exit 130 as an interrupted run does.
		var outs []string
		for _, o := range s.outs {
			outs = append(outs, o.String())
		}
		return &committedError{outs: outs, err: context.Cause(ctx)}
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

// committedError is a run interrupted while its outputs were written, after
// they were: exit 130, with a message that says they were.
type committedError struct {
	outs []string
	err  error
}

func (e *committedError) Error() string {
	return "interrupted while the reports were written; they were written whole: " + strings.Join(e.outs, "; ")
}

func (e *committedError) Unwrap() error { return e.err }

// shardLister is a source that lists its shards cheaply (shard files).
type shardLister interface {
	Shards() ([]mapreduce.ShardKey, error)
}

// warnAccounts logs a warning for each account --accounts names that has
// none of the run's shards, by the word of has.
func warnAccounts(s *runSetup, has func(mapreduce.ShardKey) bool) {
	for _, a := range s.named {
		if !slices.ContainsFunc(s.plan.Shards, func(k mapreduce.ShardKey) bool { return k.Account == a && has(k) }) {
			slog.Warn("account has no page views in the range: no shard", "account", a, "source", s.src.String(),
				"from", s.plan.Start.In(s.plan.Loc).Format(time.RFC3339), "to", s.plan.End.In(s.plan.Loc).Format(time.RFC3339))
		}
	}
}

// errNoRows is the error of a run that read no row at all.
var errNoRows = errors.New("no page views")

// checkNotEmpty fails a run that read no row at all, unless --allow-empty:
// a failed mount, a wrong table or a mistyped account must not replace the
// published reports with empty ones.
func checkNotEmpty(p *runParams, s *runSetup, res *mapreduce.Result) error {
	if res.Summary.Rows > 0 || p.AllowEmpty {
		return nil
	}
	loc := s.plan.Loc
	return fmt.Errorf("%w: %s has none for %s from %s to %s (%d of %d shards missing); "+
		"check the source and the accounts, or give --allow-empty to write empty reports",
		errNoRows, s.src, strings.Join(s.plan.Accounts, ", "), s.plan.Start.In(loc).Format(time.RFC3339),
		s.plan.End.In(loc).Format(time.RFC3339), res.Summary.ShardsMissing, len(s.plan.Shards))
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
	// Whether dates were given, not whether they are zero: 0001-01-01 is a
	// day like any other.
	given := p.From != "" || p.To != ""
	accounts, err := accountList(p.Accounts)
	if err != nil {
		return spec, err
	}
	all := isAll(accounts)
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

// isAll reports whether accounts is "all" (options.Table refuses "all"
// with other accounts).
func isAll(accounts []string) bool { return len(accounts) == 1 && accounts[0] == "all" }

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
