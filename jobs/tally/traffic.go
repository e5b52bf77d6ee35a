package tally

import (
	"math"

	"github.com/pvjobs/pvjobs/mapreduce"
)

// The counters of a traffic tally: page views with the row's key, and the
// visits whose first page view has it (see CountVisit).
const (
	PageViews = iota
	Visits
	Bounces
	// DurationMs sums the visits' durations in milliseconds.
	DurationMs
	// TrafficCols is the number of counters of a traffic tally.
	TrafficCols
)

// TrafficMeasures are the measures of a report of traffic per key, most
// important first: page views, visitors, visits, bounces, bounce rate and
// average visit duration. A visit counts under the key of its first page
// view; bounce rate is bounces / visits and the average duration counts a
// bounce as 0 s, as in Matomo and Plausible.
var TrafficMeasures = []mapreduce.Measure{
	{Name: "pageviews", Kind: mapreduce.Count},
	{Name: "visitors", Kind: mapreduce.Count},
	{Name: "visits", Kind: mapreduce.Count},
	{Name: "bounces", Kind: mapreduce.Count},
	{Name: "bounce_rate", Kind: mapreduce.Rate},
	{Name: "avg_visit_duration_s", Kind: mapreduce.Seconds},
}

// TrafficValues is the Values of TrafficMeasures.
func TrafficValues(dst []float64, sums []int64, visitors uint64) {
	dst[0], dst[1], dst[2], dst[3] = float64(sums[PageViews]), float64(visitors), float64(sums[Visits]), float64(sums[Bounces])
	dst[4], dst[5] = Ratio(sums[Bounces], sums[Visits]), Seconds(sums[DurationMs], sums[Visits])
}

// Ratio returns n / d, or NaN (written as an empty cell) when d is 0.
func Ratio(n, d int64) float64 {
	if d == 0 {
		return nan
	}
	return float64(n) / float64(d)
}

// Seconds returns the average of ms milliseconds over n, in seconds, or NaN
// when n is 0.
func Seconds(ms, n int64) float64 {
	if n == 0 {
		return nan
	}
	return float64(ms) / float64(n) / 1000
}

var nan = math.NaN()

// CountVisit counts visit v under key id, in the cell of its account and
// first day: one visit, a bounce when it has one page view, and its
// duration. It returns the entry.
func (t *Tally) CountVisit(v *mapreduce.Visit, id uint32) int32 {
	e := t.Entry(v.Account*t.days+int(v.Bucket.Day), id)
	i := t.at(e) + 1
	t.ents[i+Visits]++
	if v.Bounce() {
		t.ents[i+Bounces]++
	}
	t.ents[i+DurationMs] += uint64(v.Duration().Milliseconds())
	return e
}
