// Package jobstest runs registered jobs over hand-made page views, for the
// tests of package jobs and of the jobs' own packages.
package jobstest

import (
	"context"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/jobs"
	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/pageview"
	"github.com/pvjobs/pvjobs/readers/synth"
)

// Run runs the named jobs over views of account blog on the local days from
// to to (YYYY-MM-DD) in loc, read in time slices, with RunPlan. It returns
// the reports by name and the run's summary.
func Run(t testing.TB, views []synth.View, loc *time.Location, from, to string, cfg *jobs.Config, opt mapreduce.Options, names ...string) (map[string]mapreduce.Report, mapreduce.Summary) {
	t.Helper()
	f, _ := mapreduce.ParseDate(from)
	l, _ := mapreduce.ParseDate(to)
	start, end, err := mapreduce.DayRange(f, l, loc)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := mapreduce.NewPlan(mapreduce.PlanSpec{Accounts: []string{"blog"}, Start: start, End: end, Loc: loc})
	if err != nil {
		t.Fatal(err)
	}
	src, err := synth.MemoryOf(mapreduce.SplitSlices, views)
	if err != nil {
		t.Fatal(err)
	}
	res, _ := RunPlan(t, plan, src, cfg, opt, names...)
	return ByName(res.Reports), res.Summary
}

// RunPlan runs the named jobs over src as pvjobs run does: with the jobs'
// enricher and cfg (spam kept when cfg says so). opt gives the run's other
// options (Workers, IncludeBots). It returns the run's result and the
// number of tasks the jobs made.
func RunPlan(t testing.TB, plan *mapreduce.Plan, src mapreduce.Source, cfg *jobs.Config, opt mapreduce.Options, names ...string) (*mapreduce.Result, int) {
	t.Helper()
	defs, err := jobs.Lookup(names)
	if err != nil {
		t.Fatal(err)
	}
	tasks, done, err := jobs.Build(defs, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	opt.NewDecoder = pageview.NewMapreduceDecoder
	opt.NewEnricher = jobs.Enricher(defs, cfg)
	opt.IncludeSpam = opt.IncludeSpam || cfg.IncludeSpam
	res, err := mapreduce.Run(context.Background(), plan, src, tasks, opt)
	if err != nil {
		t.Fatal(err)
	}
	return res, len(tasks)
}

// ByName returns reports by their names.
func ByName(reports []mapreduce.Report) map[string]mapreduce.Report {
	out := map[string]mapreduce.Report{}
	for _, r := range reports {
		out[r.Name] = r
	}
	return out
}
