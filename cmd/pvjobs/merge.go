package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/daterange"
	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/options"
	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/sharding"
	"github.com/pvjobs/pvjobs/jobs"
	"github.com/pvjobs/pvjobs/jobs/validtext"
	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/reports/partials"
	"github.com/pvjobs/pvjobs/reports/table"
)

func mergeCommand() *cli.Command {
	return &cli.Command{
		Name:      "merge",
		Usage:     "merge the partial results of the shards of a run cut by days into its reports",
		UsageText: "pvjobs merge --partials DIR [--partials DIR|FILE]... [--out csv:DIR|redis://...]...",
		Description: "Reads the partial-result files that 'pvjobs run --shard-by day --partials DIR' wrote,\n" +
			"checks that they are whole (checksums), of one run (fingerprint of its parameters and\n" +
			"the pvjobs version) and cover every local day of it exactly once (a shard run twice\n" +
			"counts once; overlapping days of different shards are refused), merges them and writes\n" +
			"the reports one unsharded run would write, to every output. With dates (--from/--to,\n" +
			"--yesterday, --last, or a config job's range) it also refuses partial results of another\n" +
			"range: a nightly merge never writes an older night's reports again.",
		Flags:  options.Flags(options.Merge),
		Action: mergeAction,
	}
}

// mergeFile is one checked partial-result file and its run's facts.
type mergeFile struct {
	*partials.File
	facts runFacts
}

// mergeError lists the partial-result files merge refused and why.
type mergeError struct {
	// Title says what is wrong as a whole ("" : the problems say it).
	Title string
	// Problems says what is wrong, one line each, naming the files.
	Problems []string
}

func (e *mergeError) Error() string {
	title := e.Title
	switch {
	case title == "" && len(e.Problems) == 1:
		return "merge refused: " + e.Problems[0]
	case title == "":
		title = fmt.Sprintf("%d problems", len(e.Problems))
	}
	return fmt.Sprintf("merge refused, %s:\n  %s", title, strings.Join(e.Problems, "\n  "))
}

// dayRuns formats sorted dates as runs of consecutive days: "2024-08-01
// to 2024-08-03 (3 days), 2024-08-05".
func dayRuns(plan *mapreduce.Plan, days []int) string {
	var parts []string
	for i := 0; i < len(days); {
		j := i + 1
		for j < len(days) && days[j] == days[j-1]+1 {
			j++
		}
		first := mapreduce.DateOf(plan.Calendar.Days[days[i]].Start).String()
		if j-i == 1 {
			parts = append(parts, first)
		} else {
			last := mapreduce.DateOf(plan.Calendar.Days[days[j-1]].Start).String()
			parts = append(parts, fmt.Sprintf("%s to %s (%d days)", first, last, j-i))
		}
		i = j
	}
	return strings.Join(parts, ", ")
}

func mergeAction(c *cli.Context) error {
	reportsGC()
	if c.NArg() > 0 {
		return usagef("merge: unexpected argument %q", c.Args().First())
	}
	p, err := paramsFor(options.Merge, c)
	if err != nil {
		return err
	}
	return merge(c.Context, &p, p.Partials, c.App.Writer)
}

// merge merges the partial results at paths and writes the reports to p's
// outputs.
func merge(ctx context.Context, p *runParams, paths []string, stdout io.Writer) error {
	names, err := partials.List(paths)
	if err != nil {
		return usagef("--partials: %v", err)
	}
	if len(names) == 0 {
		return usagef("--partials %s: no partial-result files (*%s)", strings.Join(paths, ", "), partials.Ext)
	}
	files, err := checkPartials(names)
	for _, f := range files {
		defer f.Close()
	}
	if err != nil {
		return err
	}
	kept, dropped, err := pickPartials(files)
	if err != nil {
		return err
	}
	facts := kept[0].facts
	if err := checkRange(p, &facts, kept); err != nil {
		return err
	}
	plan, tasks, closeTasks, err := mergePlan(&facts)
	if err != nil {
		return fmt.Errorf("%s: %w", kept[0].Path, err)
	}
	defer closeTasks()
	if err := coverage(plan, kept); err != nil {
		return err
	}
	// The outputs, as the run would have written them.
	p.Jobs, p.ExactUniques, p.UVGranularity = facts.Jobs, facts.ExactUniques, "hour"
	if facts.UniqueMinutes {
		p.UVGranularity = "minute"
	}
	outs := p.Out
	if len(outs) == 0 {
		outs = []string{"csv:pvjobs-out"}
	}
	defs, err := jobs.Lookup(facts.Jobs)
	if err != nil {
		return err
	}
	var opened []output
	for _, o := range outs {
		out, err := openOutput(ctx, o, p)
		if err != nil {
			return err
		}
		opened = append(opened, out)
	}
	if err := checkPattern(opened, p.CSVPattern, reportNames(defs)); err != nil {
		return err
	}
	for _, o := range opened {
		if err := o.Check(ctx, reportNames(defs), plan, !p.DryRun); err != nil {
			return fmt.Errorf("--out %s: %w", o.loc, err)
		}
	}
	for _, d := range dropped {
		slog.Warn("partial results of the same days twice: one copy merged", "merged", d.kept, "skipped", d.skipped, "identical", d.identical)
	}
	if p.DryRun {
		return printMerge(stdout, &facts, kept, opened)
	}
	t0 := time.Now()
	var merged *mapreduce.Partials
	var rows int64
	sum := mapreduce.Summary{Shards: len(plan.Shards)}
	for _, f := range kept {
		body, size := f.Body()
		ps, err := mapreduce.DecodePartials(body, size, plan, tasks)
		if err != nil {
			return fmt.Errorf("%s: %w", f.Path, err)
		}
		rows += f.Header.Rows
		// Rows and spam are each of one day, so of one shard; a UTC
		// partition on the edge of two shards' days is read by both, so
		// its bad rows may count twice and the partitions are not summed.
		sum.BadRows += f.Header.Read.BadRows
		sum.Spam += f.Header.Read.Spam
		if merged == nil {
			merged = ps
		} else if err := merged.Merge(ps); err != nil {
			return fmt.Errorf("%s: %w", f.Path, err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	if rows == 0 && !p.AllowEmpty {
		return fmt.Errorf("%w: the shards of run %.12s read none (%s); check the source and the accounts, or give --allow-empty to write empty reports",
			errNoRows, kept[0].Header.Fingerprint, facts.describe())
	}
	reps := merged.Reports()
	if n := validtext.Reports(reps); n > 0 {
		slog.Info("report keys with invalid UTF-8 made valid (URLs percent-encoded, other text U+FFFD)", "cells", n)
	}
	sum.Rows, sum.Duration = rows, time.Since(t0)
	describeRun(opened, &sum, reps, plan)
	if err := writeOutputs(ctx, opened, reps, plan, p.fence); err != nil {
		return err
	}
	if !p.Quiet {
		if p.Top > 0 {
			if err := table.Top(stdout, reps, p.Top); err != nil {
				return err
			}
		}
		fmt.Fprintf(stdout, "\nmerged %s of run %.12s (%s rows read by its shards) · %s\n  %s\n", plural(len(kept), "partial-result file"),
			kept[0].Header.Fingerprint, humanCount(float64(rows)), time.Since(t0).Round(time.Millisecond), facts.describe())
		for _, r := range reps {
			fmt.Fprintf(stdout, "report %-12s %d rows\n", r.Name, len(r.Rows))
		}
		for _, o := range opened {
			fmt.Fprintf(stdout, "wrote %s\n", o)
		}
	}
	return nil
}

// checkPartials opens and checks every file; it refuses, naming each, the
// files that are damaged, of another format version, of another pvjobs
// version, or of another run than the others.
func checkPartials(names []string) ([]*mergeFile, error) {
	var files []*mergeFile
	var problems []string
	for _, n := range names {
		f, err := partials.Open(n)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		mf := &mergeFile{File: f}
		files = append(files, mf)
		dec := json.NewDecoder(bytes.NewReader(f.Header.Params))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&mf.facts); err != nil {
			problems = append(problems, fmt.Sprintf("%s: the run's parameters are unreadable (%v): written by pvjobs %s, this is pvjobs %s", n, err, f.Header.Pvjobs, version))
			continue
		}
		if fp, _, err := partials.Fingerprint(&mf.facts); err != nil || fp != f.Header.Fingerprint {
			problems = append(problems, fmt.Sprintf("%s: the fingerprint does not match the run's parameters", n))
			continue
		}
		if f.Header.Pvjobs != version || mf.facts.Pvjobs != version {
			problems = append(problems, fmt.Sprintf("%s: written by pvjobs %s, this is pvjobs %s: merge with the version that ran the shards", n, f.Header.Pvjobs, version))
		}
	}
	if len(problems) > 0 {
		return files, &mergeError{Problems: problems}
	}
	// One run: one fingerprint.
	runs := map[string][]*mergeFile{}
	var order []string
	for _, f := range files {
		fp := f.Header.Fingerprint
		if runs[fp] == nil {
			order = append(order, fp)
		}
		runs[fp] = append(runs[fp], f)
	}
	if len(order) > 1 {
		for _, fp := range order {
			var ns []string
			for _, f := range runs[fp] {
				ns = append(ns, f.Path)
			}
			problems = append(problems, fmt.Sprintf("run %.12s (%s): %s", fp, runs[fp][0].facts.describe(), strings.Join(ns, ", ")))
		}
		return files, &mergeError{Title: fmt.Sprintf("the files are of %d different runs (merge the files of one run, move the others away)", len(order)), Problems: problems}
	}
	return files, nil
}

// checkRange refuses partial results of another range than the one p's
// dates (or its config job's range) name, when they name one.
func checkRange(p *runParams, f *runFacts, files []*mergeFile) error {
	if p.From == "" && p.To == "" {
		return nil
	}
	loc, err := time.LoadLocation(p.TZ)
	if err != nil {
		return usagef("--tz %q: unknown time zone", p.TZ)
	}
	start, end, err := daterange.ParseRange(p.From, p.To, loc)
	if err != nil {
		return usagef("%v", err)
	}
	fs, err1 := time.Parse(time.RFC3339Nano, f.Start)
	fe, err2 := time.Parse(time.RFC3339Nano, f.End)
	if err1 == nil && err2 == nil && fs.Equal(start) && fe.Equal(end) {
		return nil
	}
	var names []string
	for _, mf := range files {
		names = append(names, mf.Path)
	}
	msg := fmt.Sprintf("the partial results are of %s to %s in %s, not of the range asked, %s to %s in %s: %s",
		fs.In(time.UTC).Format(time.RFC3339), fe.In(time.UTC).Format(time.RFC3339), f.TZ,
		start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339), loc, strings.Join(names, ", "))
	if f.TZ != loc.String() {
		msg += fmt.Sprintf(" (the shards ran in %s: give --tz %s)", f.TZ, f.TZ)
	}
	return &mergeError{Problems: []string{msg}}
}

// duplicate is a file left out because another holds the same days.
type duplicate struct {
	kept, skipped string
	identical     bool
}

// pickPartials keeps one file of each set of days: files of the same shard
// and days (a shard that ran twice, a Kubernetes retry) are one result, and
// the newest is merged; files whose days overlap otherwise are refused.
func pickPartials(files []*mergeFile) ([]*mergeFile, []duplicate, error) {
	type key struct {
		shard, shards int
		days          string
	}
	byKey := map[key]*mergeFile{}
	var keys []key
	var dups []duplicate
	for _, f := range files {
		k := key{f.Header.Shard, f.Header.Shards, strings.Join(f.Header.Days, ",")}
		old, ok := byKey[k]
		if !ok {
			byKey[k] = f
			keys = append(keys, k)
			continue
		}
		newer, older := f, old
		if f.Header.Created.Before(old.Header.Created) {
			newer, older = old, f
		}
		byKey[k] = newer
		dups = append(dups, duplicate{kept: newer.Path, skipped: older.Path, identical: newer.Sum == older.Sum})
	}
	var kept []*mergeFile
	held := map[string]*mergeFile{}
	type pair struct{ a, b *mergeFile }
	var pairs []pair
	both := map[pair][]string{}
	for _, k := range keys {
		f := byKey[k]
		kept = append(kept, f)
		for _, d := range f.Header.Days {
			if o, ok := held[d]; ok {
				pr := pair{o, f}
				if both[pr] == nil {
					pairs = append(pairs, pr)
				}
				both[pr] = append(both[pr], d)
				continue
			}
			held[d] = f
		}
	}
	if len(pairs) > 0 {
		var problems []string
		for _, pr := range pairs {
			days := both[pr]
			what := days[0]
			if len(days) > 1 {
				what = fmt.Sprintf("%s to %s (%d days)", days[0], days[len(days)-1], len(days))
			}
			problems = append(problems, fmt.Sprintf("%s (shard %d of %d) and %s (shard %d of %d) both hold %s",
				pr.a.Path, pr.a.Header.Shard, pr.a.Header.Shards, pr.b.Path, pr.b.Header.Shard, pr.b.Header.Shards, what))
		}
		return nil, nil, &mergeError{Title: "partial results of different shards hold the same days", Problems: problems}
	}
	return kept, dups, nil
}

// coverage refuses partial results that leave a local day of the run out,
// naming the days and the shards that should have held them.
func coverage(plan *mapreduce.Plan, files []*mergeFile) error {
	held := map[string]bool{}
	for _, f := range files {
		for _, d := range f.Header.Days {
			held[d] = true
		}
	}
	n := files[0].Header.Shards
	sameN := !slices.ContainsFunc(files, func(f *mergeFile) bool { return f.Header.Shards != n })
	days := len(plan.Calendar.Days)
	// The missing days, by the shard that should have held them (-1: the
	// files disagree on the number of shards).
	missing := map[int][]int{}
	var shards []int
	for d := range days {
		if held[mapreduce.DateOf(plan.Calendar.Days[d].Start).String()] {
			continue
		}
		i := -1
		if sameN {
			for j := range n {
				if first, last := (sharding.Spec{Index: j, Count: n}).Days(days); d >= first && d < last {
					i = j
				}
			}
		}
		if missing[i] == nil {
			shards = append(shards, i)
		}
		missing[i] = append(missing[i], d)
	}
	var problems []string
	for _, i := range shards {
		msg := "no partial result holds " + dayRuns(plan, missing[i])
		if i >= 0 {
			msg += fmt.Sprintf(": shard %d of %d (%s) is missing or failed", i, n, partials.Name(i, n))
		}
		problems = append(problems, msg)
	}
	if len(problems) > 0 {
		return &mergeError{Problems: problems}
	}
	return nil
}

// mergePlan rebuilds the plan and the tasks of the run of facts, for
// merging its partial results.
func mergePlan(f *runFacts) (*mapreduce.Plan, []mapreduce.Task, func(), error) {
	loc, err := time.LoadLocation(f.TZ)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("time zone %q: %w", f.TZ, err)
	}
	start, err1 := time.Parse(time.RFC3339Nano, f.Start)
	end, err2 := time.Parse(time.RFC3339Nano, f.End)
	if err := errors.Join(err1, err2); err != nil {
		return nil, nil, nil, fmt.Errorf("range: %w", err)
	}
	plan, err := mapreduce.NewPlan(mapreduce.PlanSpec{Accounts: f.Accounts, Start: start, End: end, Loc: loc, Compare: f.Compare})
	if err != nil {
		return nil, nil, nil, err
	}
	defs, err := jobs.Lookup(f.Jobs)
	if err != nil {
		return nil, nil, nil, err
	}
	cfg := &jobs.Config{
		StripQuery:      f.StripQuery,
		InternalDomains: f.InternalDomains,
		ExactUniques:    f.ExactUniques,
		UniqueMinutes:   f.UniqueMinutes,
		MaxRows:         f.MaxRows,
		SpamDomains:     f.SpamDomains,
		IncludeSpam:     f.IncludeSpam,
		Merging:         true,
	}
	tasks, closeTasks, err := jobs.Build(defs, cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	return plan, tasks, closeTasks, nil
}

// printMerge prints what a merge would read and write (--dry-run).
func printMerge(w io.Writer, facts *runFacts, files []*mergeFile, outs []output) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "dry run: nothing is written\n")
	fmt.Fprintf(tw, "run\t%.12s: %s\n", files[0].Header.Fingerprint, facts.describe())
	for _, f := range files {
		days := "no day"
		if d := f.Header.Days; len(d) > 0 {
			days = d[0] + " to " + d[len(d)-1]
		}
		fmt.Fprintf(tw, "partials\t%s\tshard %d of %d\t%s\t%s rows\t%s bytes\n", f.Path, f.Header.Shard, f.Header.Shards, days, humanCount(float64(f.Header.Rows)), humanCount(float64(f.Size)))
	}
	for _, o := range outs {
		fmt.Fprintf(tw, "output\t%s\n", o)
	}
	return tw.Flush()
}
