package main

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/configfile"
	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/location"
	"github.com/pvjobs/pvjobs/jobs"
	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/reports/csv"
	"github.com/pvjobs/pvjobs/reports/redis"
)

// outputs is the registry of --out (and the config file's out:): one entry
// per scheme, each parsing, opening and redacting its locations. Adding an
// output is adding an entry.
var outputs = location.NewRegistry("output",
	location.New(location.Spec[string, *runParams, sink]{
		Scheme: "csv", Syntax: "csv:DIR", Prefix: "csv:",
		Parse: parseCSVOut, Open: openCSVSink,
	}),
	location.New(location.Spec[string, *runParams, sink]{
		Scheme: "html", Syntax: "html:DIR", Prefix: "html:",
		Parse: parseHTMLOut, Open: openHTMLSink,
	}),
	redisOutput("redis"),
	redisOutput("rediss"),
)

// openRedisSink opens a Redis output (a test hook).
var openRedisSink = newRedisSink

// configLocations checks the locations of config files with the registries.
var configLocations = configfile.Locations{Sources: sources, Outputs: outputs, Locks: locks}

// redisURL is a parsed redis:// or rediss:// location: the URL as written
// (the --redis-* flags are applied to it when it is opened) and what it
// says.
type redisURL struct {
	raw    string
	target *redis.Target
}

// parseRedisURL parses a redis:// or rediss:// location.
func parseRedisURL(raw string) (redisURL, error) {
	tg, err := redis.ParseURL(raw)
	return redisURL{raw, tg}, err
}

func redisOutput(scheme string) location.Factory[*runParams, sink] {
	return location.New(location.Spec[redisURL, *runParams, sink]{
		Scheme: scheme, Syntax: scheme + "://host:port/db", Prefix: scheme + "://",
		Parse: parseRedisURL,
		Open: func(_ context.Context, u redisURL, p *runParams) (sink, error) {
			return openRedisSink(u.raw, p)
		},
	})
}

// sink is one output of a run. The run calls its methods from one
// goroutine: Check before it reads any data; after a successful read,
// Prepare for every output, then Commit (or Abort) on what each returned.
// Outputs are thus committed together, after every one of them was written
// where nothing sees it yet.
type sink interface {
	// String describes the output without secrets: "CSV files in out".
	fmt.Stringer
	// Check checks that the reports can be written to the output. With
	// probe it also tries the output (a temporary file in the directory; a
	// Redis PING and test write): a dry run does not probe. Check leaves
	// nothing behind.
	Check(ctx context.Context, reports []string, plan *mapreduce.Plan, probe bool) error
	// Prepare writes the reports where they are not visible yet (temporary
	// files, temporary keys). When ctx is done it stops, removes what it
	// wrote and returns ctx's error.
	Prepare(ctx context.Context, reps []mapreduce.Report, plan *mapreduce.Plan) (prepared, error)
}

// prepared is an output written by Prepare, waiting to be committed.
type prepared interface {
	// Commit makes what Prepare wrote visible, replacing the previous
	// reports.
	Commit(ctx context.Context) error
	// Abort removes what Prepare wrote; the previous reports stay.
	Abort(ctx context.Context) error
	// early reports whether the output commits before the others: its
	// Commit still does work that may fail, so that a failure there leaves
	// the other outputs unchanged.
	early() bool
}

// output is a sink and its location as written (secrets hidden).
type output struct {
	sink
	loc string
}

// openOutput parses and opens one --out location.
func openOutput(ctx context.Context, raw string, p *runParams) (output, error) {
	loc, err := outputs.Parse(raw)
	if err != nil {
		return output{}, usagef("--out %w", err)
	}
	s, err := loc.Open(ctx, p)
	if err != nil {
		return output{}, fmt.Errorf("--out %w", err)
	}
	return output{s, loc.String()}, nil
}

// onPrepared is called after each output was prepared (a test hook).
var onPrepared = func(out string) {}

// writeOutputs writes the run's reports to every output: all are prepared,
// then all committed. When preparing fails or ctx is done before the commit,
// every output is left as it was. When a commit fails the error is a
// *commitError saying which outputs were committed. fence, when not nil, is
// asked just before the commit whether the run may still commit (a
// scheduled run's lock: scheduler.Run.Fence); when it says no, nothing is.
func writeOutputs(ctx context.Context, outs []output, reps []mapreduce.Report, plan *mapreduce.Plan, fence func(context.Context) error) error {
	var preps []prepared
	abort := func() {
		for i, pr := range preps {
			if err := pr.Abort(context.WithoutCancel(ctx)); err != nil {
				slog.Warn("cannot remove what was written for an output", "output", outs[i].String(), "err", err)
			}
		}
	}
	for _, o := range outs {
		pr, err := o.Prepare(ctx, reps, plan)
		if err != nil {
			abort()
			return fmt.Errorf("writing %s: %w (no output was changed)", o, err)
		}
		preps = append(preps, pr)
		onPrepared(o.String())
	}
	if err := ctx.Err(); err != nil {
		abort()
		return fmt.Errorf("before the commit, no output was changed: %w", err)
	}
	if fence != nil {
		if err := fence(ctx); err != nil {
			abort()
			return fmt.Errorf("before the commit, no output was changed: %w", err)
		}
	}
	return commitAll(ctx, outs, preps)
}

// commitAll commits the prepared outputs: the early ones first, with ctx;
// then the others, which finish once begun. After a failure it aborts the
// outputs not committed yet.
func commitAll(ctx context.Context, outs []output, preps []prepared) error {
	order := make([]int, len(preps))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		rank := func(i int) int {
			if preps[i].early() {
				return 0
			}
			return 1
		}
		return cmp.Compare(rank(a), rank(b))
	})
	var done []string
	for k, i := range order {
		cctx := ctx
		if !preps[i].early() {
			cctx = context.WithoutCancel(ctx)
		}
		if err := preps[i].Commit(cctx); err != nil {
			var rest []string
			for _, j := range order[k+1:] {
				rest = append(rest, outs[j].String())
				if aerr := preps[j].Abort(context.WithoutCancel(ctx)); aerr != nil {
					slog.Warn("cannot remove what was written for an output", "output", outs[j].String(), "err", aerr)
				}
			}
			return &commitError{Output: outs[i].String(), Committed: done, NotCommitted: rest, Err: err}
		}
		done = append(done, outs[i].String())
	}
	return nil
}

// commitError is a commit that failed after the outputs were prepared.
type commitError struct {
	// Output is the output whose commit failed.
	Output string
	// Committed lists the outputs committed before it, NotCommitted those
	// left as they were after it.
	Committed, NotCommitted []string
	Err                     error
}

func (e *commitError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "writing %s: %v", e.Output, e.Err)
	if len(e.Committed) > 0 {
		fmt.Fprintf(&b, "; committed before the failure: %s", strings.Join(e.Committed, "; "))
	} else {
		b.WriteString("; no other output was changed")
	}
	if len(e.NotCommitted) > 0 {
		fmt.Fprintf(&b, "; left as they were: %s", strings.Join(e.NotCommitted, "; "))
	}
	return b.String()
}

func (e *commitError) Unwrap() error { return e.Err }

// reportNames returns the names of the reports defs make.
func reportNames(defs []jobs.Def) []string {
	var out []string
	for _, d := range defs {
		out = append(out, d.Reports...)
	}
	return out
}

// parseCSVOut parses csv:DIR.
func parseCSVOut(raw string) (string, error) {
	dir := strings.TrimPrefix(raw, "csv:")
	if strings.TrimSpace(dir) == "" {
		return "", fmt.Errorf("want csv:DIR")
	}
	return dir, nil
}

// openCSVSink opens csv:DIR with --csv-pattern and --csv-raw.
func openCSVSink(_ context.Context, dir string, p *runParams) (sink, error) {
	return &csvSink{csv.Options{Dir: dir, Pattern: p.CSVPattern, Raw: p.CSVRaw}}, nil
}

// checkPattern checks --csv-pattern for the reports, when an output writes
// CSV files.
func checkPattern(outs []output, pattern string, reports []string) error {
	for _, o := range outs {
		if _, ok := o.sink.(*csvSink); ok {
			if err := csv.CheckPattern(pattern, reports); err != nil {
				return usagef("--csv-pattern: %v", err)
			}
			break
		}
	}
	return nil
}

// csvSink writes reports as CSV files (package reports/csv).
type csvSink struct{ opt csv.Options }

func (s *csvSink) String() string { return "CSV files in " + s.opt.Dir }

// Check checks the pattern, the directory and the report files; a problem
// is a usage error.
func (s *csvSink) Check(_ context.Context, reports []string, plan *mapreduce.Plan, probe bool) error {
	if err := csv.Check(reports, plan, s.opt, probe); err != nil {
		return &usageError{err}
	}
	return nil
}

func (s *csvSink) Prepare(ctx context.Context, reps []mapreduce.Report, plan *mapreduce.Plan) (prepared, error) {
	p, err := csv.Prepare(ctx, reps, plan, s.opt)
	if err != nil {
		return nil, err
	}
	return csvPrepared{p}, nil
}

// csvPrepared is CSV files written under temporary names; Commit renames
// them, which does not look at the context.
type csvPrepared struct{ p *csv.Prepared }

func (c csvPrepared) Commit(context.Context) error { return c.p.Commit() }
func (c csvPrepared) Abort(context.Context) error  { return c.p.Abort() }
func (c csvPrepared) early() bool                  { return false }
