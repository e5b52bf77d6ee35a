package jobs_test

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/jobs"
	"github.com/pvjobs/pvjobs/jobs/devices"
	"github.com/pvjobs/pvjobs/jobs/geo"
	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/pageview"
	"github.com/pvjobs/pvjobs/readers/synth"
)

// benchData is 1.2 million generated page views of two accounts over a week,
// held in memory so the benchmarks measure decoding and the jobs, not I/O.
var benchData = sync.OnceValues(func() (*synth.MemSource, *mapreduce.Plan) {
	from, _ := mapreduce.ParseDate("2024-08-01")
	to, _ := mapreduce.ParseDate("2024-08-07")
	g, err := synth.New(synth.Config{
		Accounts: []string{"blog", "shop"}, From: from, To: to,
		RowsPerDay: 90_000, Visitors: 40_000, Agents: 3000, Seed: 7,
		Networks: geo.SamplePrefixes(),
	})
	if err != nil {
		panic(err)
	}
	src := g.Memory(mapreduce.SplitShards)
	start, end, _ := mapreduce.DayRange(from, to, time.UTC)
	plan, err := mapreduce.NewPlan(mapreduce.PlanSpec{Accounts: []string{"blog", "shop"}, Start: start, End: end})
	if err != nil {
		panic(err)
	}
	return src, plan
})

func benchJobs(b *testing.B, names []string, cfg *jobs.Config, opt mapreduce.Options) {
	src, plan := benchData()
	defs, err := jobs.Lookup(names)
	if err != nil {
		b.Fatal(err)
	}
	opt.NewDecoder = pageview.NewMapreduceDecoder
	b.ResetTimer()
	var rows int64
	workers := 0
	for b.Loop() {
		tasks, closeTasks, err := jobs.Build(defs, cfg)
		if err != nil {
			b.Fatal(err)
		}
		res, err := mapreduce.Run(context.Background(), plan, src, tasks, opt)
		if err != nil {
			b.Fatal(err)
		}
		closeTasks()
		rows += res.Summary.Rows
		workers = res.Summary.Workers
	}
	b.ReportMetric(float64(workers), "workers")
	b.ReportMetric(float64(runtime.GOMAXPROCS(0)), "procs")
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "pageviews/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(rows), "ns/pageview")
}

// BenchmarkURLJob is the URL job end to end (decode, count, merge, report).
// Run with GOMAXPROCS=1 and =2 (one process each, as make bench does) to see
// the gain per core; procs and workers are reported with the figures.
func BenchmarkURLJob(b *testing.B) {
	benchJobs(b, []string{"urls"}, &jobs.Config{}, mapreduce.Options{})
}

// BenchmarkAllJobs is every job in one pass (urls, sources, searchterms,
// devices, geo on the generated City database, uniques) with the user-agent
// enricher that keeps bots out of the other reports.
func BenchmarkAllJobs(b *testing.B) {
	benchJobs(b, []string{"all"}, &jobs.Config{GeoIP: "geo/testdb/test-city.mmdb"},
		mapreduce.Options{NewEnricher: devices.NewEnricher(0)})
}
