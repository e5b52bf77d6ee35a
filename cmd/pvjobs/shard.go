package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/sharding"
	"github.com/pvjobs/pvjobs/jobs"
	"github.com/pvjobs/pvjobs/jobs/geo"
	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/reports/atomicfile"
	"github.com/pvjobs/pvjobs/reports/csv"
	"github.com/pvjobs/pvjobs/reports/html"
	"github.com/pvjobs/pvjobs/reports/partials"
	"github.com/pvjobs/pvjobs/reports/table"
)

// resolveShard checks the shard options of p (--shard, --shard-count with
// $JOB_COMPLETION_INDEX, --shard-by, --partials, --run-id; see package
// sharding and the README's "Running on many machines") and returns the
// shard this run is (the zero Spec: the whole run). --partials without a
// shard is shard 0/1 by day: the whole run, written as partial results.
func resolveShard(p *runParams) (sharding.Spec, error) {
	if p.wholeRun {
		return sharding.Spec{}, nil
	}
	spec, err := sharding.Resolve(sharding.Inputs{Shard: p.Shard, Count: p.ShardCount, By: p.ShardBy,
		CompletionIndex: os.Getenv("JOB_COMPLETION_INDEX")})
	if err != nil {
		return spec, usagef("%v", err)
	}
	if len(p.Partials) > 1 {
		return spec, usagef("--partials %s: a shard writes into one directory", strings.Join(p.Partials, ","))
	}
	if len(p.Partials) == 1 && spec.IsZero() {
		spec = sharding.Spec{Index: 0, Count: 1, By: sharding.ByDay}
	}
	switch {
	case spec.By == sharding.ByDay && len(p.Partials) == 0:
		return spec, usagef("--shard-by day: a shard of days writes partial results, give --partials DIR (pvjobs merge --partials DIR --out ... makes the reports)")
	case spec.By == sharding.ByAccount && len(p.Partials) > 0:
		return spec, usagef("--partials: only a run cut by days writes partial results (--shard-by day); a shard of accounts writes its accounts' final reports")
	case spec.By == sharding.ByDay && p.outGiven:
		return spec, usagef("--out: a shard of days writes partial results to --partials, not reports; give the outputs to pvjobs merge")
	case p.RunID != "" && spec.By != sharding.ByDay:
		return spec, usagef("--run-id names the partial results of a run cut by days (--shard-by day --partials DIR)")
	}
	return spec, nil
}

// errEmptyShard is returned by setup for a shard that has no account or no
// day: it has nothing to do, and succeeds.
type errEmptyShard struct {
	shard sharding.Spec
	why   string
}

func (e *errEmptyShard) Error() string {
	return fmt.Sprintf("shard %d of %d by %s has %s: nothing to do", e.shard.Index, e.shard.Count, e.shard.By, e.why)
}

// checkShardOutputs checks that the outputs of a shard of accounts do not
// overwrite each other: several shards write into one CSV directory, so
// the pattern must give each account its own files. An HTML report's pages
// are each account's; its index, which lists the accounts, is the shard's:
// index-shard-0003-of-0008.html for index.html.
func checkShardOutputs(spec sharding.Spec, outs []output, pattern string) error {
	if spec.IsZero() || spec.By != sharding.ByAccount {
		return nil
	}
	for _, o := range outs {
		if hs, ok := o.sink.(*htmlSink); ok {
			hs.opt.Index = shardIndex(hs.opt.Index, spec)
		}
	}
	if pattern == "" {
		pattern = csv.DefaultPattern
	}
	for _, o := range outs {
		if _, ok := o.sink.(*csvSink); ok && !csv.PerAccount(pattern) {
			return usagef("--csv-pattern %q: the shards of a run cut by account write into one CSV directory, so each account needs files of its own: put {account} in the pattern, as in {report}-{account}.csv (one run writes the same files with it)", pattern)
		}
	}
	return nil
}

// partialsTarget is where a shard of days writes: the file, and the header
// that says which run and days it holds.
type partialsTarget struct {
	path   string
	header partials.Header
}

// runFacts are the parameters of a run that its results depend on: the
// partial results of shards whose facts are equal merge into the reports
// of one run. Their JSON is fingerprinted (partials.Fingerprint): fields
// are only ever added, with omitempty, so that older fingerprints stay.
type runFacts struct {
	Pvjobs   string   `json:"pvjobs"`
	RunID    string   `json:"run_id,omitempty"`
	Accounts []string `json:"accounts"`
	// Start and End are the range's instants, RFC 3339 in UTC.
	Start   string   `json:"start"`
	End     string   `json:"end"`
	TZ      string   `json:"tz"`
	Compare bool     `json:"compare,omitempty"`
	Jobs    []string `json:"jobs"`
	// The jobs' options (jobs.Config) and the run's choices.
	StripQuery      bool     `json:"strip_query,omitempty"`
	InternalDomains []string `json:"internal_domains,omitempty"`
	// GeoIP names the database by its metadata (geo.Identity), not its
	// path.
	GeoIP         string   `json:"geoip,omitempty"`
	ExactUniques  bool     `json:"exact_uniques,omitempty"`
	UniqueMinutes bool     `json:"unique_minutes,omitempty"`
	MaxRows       int      `json:"max_rows"`
	SpamDomains   []string `json:"spam_domains,omitempty"`
	IncludeSpam   bool     `json:"include_spam,omitempty"`
	IncludeBots   bool     `json:"include_bots,omitempty"`
	VisitTimeout  string   `json:"visit_timeout"`
	// MaxRowSize bounds a page view in shard files: a longer one is a bad
	// row, left out.
	MaxRowSize int `json:"max_row_size,omitempty"`
}

// factsOf returns the facts of the run s of p.
func factsOf(p *runParams, s *runSetup, cfg *jobs.Config) (*runFacts, error) {
	f := &runFacts{
		Pvjobs:          version,
		RunID:           p.RunID,
		Accounts:        s.plan.Accounts,
		Start:           s.plan.Start.UTC().Format(time.RFC3339Nano),
		End:             s.plan.End.UTC().Format(time.RFC3339Nano),
		TZ:              s.plan.Loc.String(),
		Compare:         !s.plan.PrevStart.IsZero(),
		StripQuery:      cfg.StripQuery,
		InternalDomains: sortedLower(cfg.InternalDomains),
		ExactUniques:    cfg.ExactUniques,
		UniqueMinutes:   cfg.UniqueMinutes,
		MaxRows:         cfg.MaxRows,
		SpamDomains:     sortedLower(cfg.SpamDomains),
		IncludeSpam:     cfg.IncludeSpam,
		IncludeBots:     p.IncludeBots,
		VisitTimeout:    s.opts.VisitTimeout.String(),
		MaxRowSize:      p.MaxRowSize,
	}
	for _, d := range s.defs {
		f.Jobs = append(f.Jobs, d.Name)
		if d.Name == geo.Name {
			id, err := geo.Identity(cfg.GeoIP)
			if err != nil {
				return nil, err
			}
			f.GeoIP = id
		}
	}
	return f, nil
}

func sortedLower(list []string) []string {
	var out []string
	for _, s := range list {
		if s = strings.ToLower(strings.TrimSpace(s)); s != "" {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// describe says what the facts are of, for messages: "2024-08-01 to
// 2024-08-07 in Europe/Berlin, 3 accounts, jobs urls,uniques, pvjobs v1.2".
func (f *runFacts) describe() string {
	s := fmt.Sprintf("%s to %s in %s, %s, jobs %s, pvjobs %s", f.Start, f.End, f.TZ, plural(len(f.Accounts), "account"), strings.Join(f.Jobs, ","), f.Pvjobs)
	if f.RunID != "" {
		s += ", run id " + f.RunID
	}
	return s
}

// setupPartials prepares the partial-result file of a shard of days: the
// plan restricted to the shard's days, the run's facts and their
// fingerprint, and a check that the directory can take the file.
func setupPartials(p *runParams, s *runSetup, cfg *jobs.Config, probe bool) error {
	if err := mapreduce.CheckCodecs(s.tasks); err != nil {
		return fmt.Errorf("--partials: %w", err)
	}
	facts, err := factsOf(p, s, cfg)
	if err != nil {
		return err
	}
	fp, params, err := partials.Fingerprint(facts)
	if err != nil {
		return err
	}
	spec := s.shard
	first, last := s.plan.DaysRead()
	var days []string
	for d := first; d < last; d++ {
		days = append(days, mapreduce.DateOf(s.plan.Calendar.Days[d].Start).String())
	}
	s.partials = &partialsTarget{
		path:   filepath.Join(p.Partials[0], partials.Name(spec.Index, spec.Count)),
		header: partials.Header{Pvjobs: version, Fingerprint: fp, Params: params, Shard: spec.Index, Shards: spec.Count, Days: days},
	}
	return checkDir(p.Partials[0], s.partials.path, probe)
}

// checkDir checks that file can be written in dir (created when missing):
// the nearest existing directory must be one, and, with probe, take a
// file; file must not be a directory.
func checkDir(dir, file string, probe bool) error {
	d := dir
	for {
		st, err := os.Stat(d)
		if err == nil {
			if !st.IsDir() {
				return usagef("--partials %s: %s is not a directory", dir, d)
			}
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return usagef("--partials %s: %v", dir, err)
		}
		up := filepath.Dir(d)
		if up == d {
			return usagef("--partials %s: %v", dir, err)
		}
		d = up
	}
	if probe {
		if err := atomicfile.Probe(d); err != nil {
			return usagef("--partials %s: %v", dir, err)
		}
	}
	if st, err := os.Lstat(file); err == nil && !st.Mode().IsRegular() {
		return usagef("--partials: %s exists and is not a regular file", file)
	}
	return nil
}

// writePartials writes the partial results of a finished shard of days.
func writePartials(ctx context.Context, s *runSetup, res *mapreduce.Result) (int64, error) {
	if err := os.MkdirAll(filepath.Dir(s.partials.path), 0o777); err != nil {
		return 0, fmt.Errorf("--partials: %w", err)
	}
	h := s.partials.header
	sum := &res.Summary
	h.Rows = sum.Rows
	h.Read = partials.Counts{BadRows: sum.BadRows, Spam: sum.Spam, Skipped: sum.Skipped, ShardsFound: sum.ShardsFound, ShardsMissing: sum.ShardsMissing}
	h.Created = time.Now().UTC()
	return partials.Write(ctx, s.partials.path, &h, func(w io.Writer) error {
		return mapreduce.EncodePartials(w, res.Partials)
	})
}

// finishPartials writes the partial results of a successful shard of days
// and says what it wrote.
func finishPartials(ctx context.Context, p *runParams, s *runSetup, res *mapreduce.Result, stdout io.Writer) error {
	size, err := writePartials(ctx, s, res)
	if err != nil {
		return fmt.Errorf("run done, partial results not written: %w", err)
	}
	if p.Quiet {
		return nil
	}
	table.Summary(stdout, &res.Summary, nil)
	days := s.partials.header.Days
	what := "no day (the run has fewer days than shards)"
	switch len(days) {
	case 0:
	case 1:
		what = "1 local day, " + days[0]
	default:
		what = fmt.Sprintf("%d local days, %s to %s", len(days), days[0], days[len(days)-1])
	}
	fmt.Fprintf(stdout, "wrote partial results of shard %d of %d (%s) to %s, %s bytes\n", s.shard.Index, s.shard.Count, what, s.partials.path, humanCount(float64(size)))
	return nil
}

// shardIndex returns the index page pattern of shard spec of a run cut by
// account: index.html becomes index-shard-0003-of-0008.html.
func shardIndex(pattern string, spec sharding.Spec) string {
	if pattern == "" {
		pattern = html.DefaultIndex
	}
	ext := filepath.Ext(pattern)
	return fmt.Sprintf("%s-shard-%04d-of-%04d%s", strings.TrimSuffix(pattern, ext), spec.Index, spec.Count, ext)
}
