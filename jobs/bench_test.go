package jobs_test

import (
	"context"
	"os"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/jobs"
	"github.com/pvjobs/pvjobs/jobs/geo"
	"github.com/pvjobs/pvjobs/jobs/tally"
	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/pageview"
	"github.com/pvjobs/pvjobs/readers/synth"
)

// geoLite2 is the real GeoLite2-City database the benchmarks look IPs up in
// (make bench fetches it), or "" for the generated test database.
var geoLite2 = os.Getenv("PVJOBS_GEOLITE2")

// benchData is about a million page views of synth's realistic mix (see
// readers/synth): two accounts over a week, held in memory so the
// benchmarks measure decoding and the jobs, not I/O. With a real
// GeoLite2-City database (PVJOBS_GEOLITE2) every visitor has a distinct
// address anywhere in the public address space; without, the addresses come
// from the test database's sample networks.
var benchData = sync.OnceValues(func() (*synth.MemSource, *mapreduce.Plan) {
	from, _ := mapreduce.ParseDate("2024-08-01")
	to, _ := mapreduce.ParseDate("2024-08-07")
	cfg := synth.Config{Accounts: []string{"blog", "shop"}, From: from, To: to, RowsPerDay: 75_000, Seed: 7}
	if geoLite2 == "" {
		cfg.Networks = geo.SamplePrefixes()
	}
	g, err := synth.New(cfg)
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

func geoDB() string {
	if geoLite2 != "" {
		return geoLite2
	}
	return "geo/testdb/test-city.mmdb"
}

// benchJobs runs the jobs names over benchData as pvjobs run does: the
// run's enricher (user agents, and sources when a job needs them), bots
// left out of every report but devices.
func benchJobs(b *testing.B, names []string, cfg *jobs.Config) {
	src, plan := benchData()
	defs, err := jobs.Lookup(names)
	if err != nil {
		b.Fatal(err)
	}
	cfg.MaxRows = tally.DefaultMaxRows // as pvjobs run
	opt := mapreduce.Options{NewDecoder: pageview.NewMapreduceDecoder, NewEnricher: jobs.Enricher(defs, cfg)}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
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
	// CPU time per page view: on a machine shared with other processes it
	// is a steadier measure of the work than the elapsed time (with
	// GOMAXPROCS=1, 1e9 / cpu-ns/pageview is the rate of one idle core).
	b.ReportMetric(float64(cpuTime()-cpu)/float64(rows), "cpu-ns/pageview")
}

// cpuTime returns the CPU time the process has used, in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkURLJob is the URL job end to end (decode, count, merge, report).
// Run with GOMAXPROCS=1 and =2 (one process each, as make bench does) to see
// the gain per core; procs and workers are reported with the figures.
func BenchmarkURLJob(b *testing.B) {
	benchJobs(b, []string{"urls"}, &jobs.Config{})
}

// BenchmarkVisitsJob is the visits job alone: every page view classified
// (user agent, source) and sessionized, visits stitched across work items.
func BenchmarkVisitsJob(b *testing.B) {
	benchJobs(b, []string{"visits"}, &jobs.Config{})
}

// BenchmarkGeoJob is the geo job alone, on GeoLite2-City when
// PVJOBS_GEOLITE2 names it.
func BenchmarkGeoJob(b *testing.B) {
	benchJobs(b, []string{"geo"}, &jobs.Config{GeoIP: geoDB()})
}

// BenchmarkAllJobs is every job in one pass, with geo on GeoLite2-City when
// PVJOBS_GEOLITE2 names it.
func BenchmarkAllJobs(b *testing.B) {
	benchJobs(b, []string{"all"}, &jobs.Config{GeoIP: geoDB()})
}
