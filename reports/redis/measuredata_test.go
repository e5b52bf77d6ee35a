package redis_test

import (
	"math"

	"github.com/pvjobs/pvjobs/mapreduce"
)

// The measures of the jobs' reports, as jobs/tally, jobs/urls and
// jobs/visits declare them (reports do not import jobs).
var (
	trafficMeasures = []mapreduce.Measure{
		{Name: "pageviews", Kind: mapreduce.Count},
		{Name: "visitors", Kind: mapreduce.Count},
		{Name: "visits", Kind: mapreduce.Count},
		{Name: "bounces", Kind: mapreduce.Count},
		{Name: "bounce_rate", Kind: mapreduce.Rate},
		{Name: "avg_visit_duration_s", Kind: mapreduce.Seconds},
	}
	entryMeasures = []mapreduce.Measure{
		{Name: "entries", Kind: mapreduce.Count},
		{Name: "bounces", Kind: mapreduce.Count},
		{Name: "bounce_rate", Kind: mapreduce.Rate},
		{Name: "avg_visit_duration_s", Kind: mapreduce.Seconds},
	}
	exitMeasures = []mapreduce.Measure{
		{Name: "exits", Kind: mapreduce.Count},
		{Name: "pageviews", Kind: mapreduce.Count},
		{Name: "exit_rate", Kind: mapreduce.Rate},
	}
	visitsMeasures = []mapreduce.Measure{
		{Name: "visitors", Kind: mapreduce.Count},
		{Name: "visits", Kind: mapreduce.Count},
		{Name: "pageviews", Kind: mapreduce.Count},
		{Name: "bounces", Kind: mapreduce.Count},
		{Name: "bounce_rate", Kind: mapreduce.Rate},
		{Name: "avg_visit_duration_s", Kind: mapreduce.Seconds},
		{Name: "pageviews_per_visit", Kind: mapreduce.Mean},
	}
)

// ratio and avgSeconds compute rates and average durations as jobs/tally
// does (Ratio, Seconds): NaN of nothing.
func ratio(n, d int64) float64 {
	if d == 0 {
		return math.NaN()
	}
	return float64(n) / float64(d)
}

func avgSeconds(ms, n int64) float64 {
	if n == 0 {
		return math.NaN()
	}
	return float64(ms) / float64(n) / 1000
}

// traffic holds the counters of a row of traffic (or of the visits
// report).
type traffic struct {
	pageviews, visitors, visits, bounces, durationMs int64
}

// values returns the Values of trafficMeasures.
func (c traffic) values() []float64 {
	return []float64{float64(c.pageviews), float64(c.visitors), float64(c.visits), float64(c.bounces),
		ratio(c.bounces, c.visits), avgSeconds(c.durationMs, c.visits)}
}

// visitsValues returns the Values of visitsMeasures.
func (c traffic) visitsValues() []float64 {
	return []float64{float64(c.visitors), float64(c.visits), float64(c.pageviews), float64(c.bounces),
		ratio(c.bounces, c.visits), avgSeconds(c.durationMs, c.visits), ratio(c.pageviews, c.visits)}
}
