// Package visits is the visits job: per account and per local hour, day,
// month and over the whole range, the visitors, visits, page views,
// bounces, bounce rate, average visit duration and page views per visit.
//
// The definitions are the engine's (see mapreduce.Visit): a visit is a
// visitor's run of page views with no gap longer than the visit timeout
// (30 minutes by default), cut at local midnight and where a page view
// brings a campaign or an external referrer other than the visit's own. A
// visit belongs to the hour and day of its first page view; so do its page
// views in this report, which makes page views per visit exact for every
// period (and, as visits end at midnight, a day's page views are those of
// the day). A bounce is a visit of one page view; a visit's duration is the
// time from its first page view to its last, 0 s for a bounce, and the
// average counts bounces. Visitors are distinct visitor keys, counted with
// Redis-compatible HyperLogLog sketches per hour whose unions make the days,
// months and range (never sums), as in the uniques job.
package visits

import (
	"github.com/pvjobs/pvjobs/jobs/tally"
	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/mapreduce/hll"
)

// Name is the job's and its report's name.
const Name = "visits"

// Measures are the report's measures.
var Measures = []mapreduce.Measure{
	{Name: "visitors", Kind: mapreduce.Count},
	{Name: "visits", Kind: mapreduce.Count},
	{Name: "pageviews", Kind: mapreduce.Count},
	{Name: "bounces", Kind: mapreduce.Count},
	{Name: "bounce_rate", Kind: mapreduce.Rate},
	{Name: "avg_visit_duration_s", Kind: mapreduce.Seconds},
	{Name: "pageviews_per_visit", Kind: mapreduce.Mean},
}

// Job counts visits. Bots are left out unless the run includes them.
type Job struct{}

// New returns the job as a task.
func New() mapreduce.Task { return mapreduce.NewTask(Name, &Job{}) }

// counts are the counters of one account's hour.
type counts struct {
	visits, bounces, pageviews, durationMs int64
}

func (c *counts) add(o *counts) {
	c.visits += o.visits
	c.bounces += o.bounces
	c.pageviews += o.pageviews
	c.durationMs += o.durationMs
}

// Partial is one worker's counters and visitor sketches per account and
// hour.
type Partial struct {
	hours    int
	counts   []counts
	sketches []*hll.Sketch
}

// NewPartial implements mapreduce.Job.
func (j *Job) NewPartial(plan *mapreduce.Plan) *Partial {
	n := len(plan.Accounts) * len(plan.Calendar.Hours)
	return &Partial{hours: len(plan.Calendar.Hours), counts: make([]counts, n), sketches: make([]*hll.Sketch, n)}
}

// Map implements mapreduce.Job: it adds the page view's visitor to its
// hour's sketch.
func (j *Job) Map(p *Partial, pv *mapreduce.PageView) {
	i := pv.Account*p.hours + int(pv.Bucket.Hour)
	s := p.sketches[i]
	if s == nil {
		s = hll.New()
		p.sketches[i] = s
	}
	s.AddHash(pv.Visitor)
}

// MapVisit implements mapreduce.VisitJob.
func (j *Job) MapVisit(p *Partial, v *mapreduce.Visit) {
	c := &p.counts[v.Account*p.hours+int(v.Bucket.Hour)]
	c.visits++
	if v.Bounce() {
		c.bounces++
	}
	c.pageviews += int64(v.PageViews)
	c.durationMs += v.Duration().Milliseconds()
}

// Merge implements mapreduce.Job.
func (j *Job) Merge(dst, src *Partial) {
	for i := range dst.counts {
		dst.counts[i].add(&src.counts[i])
		switch s := src.sketches[i]; {
		case s == nil:
		case dst.sketches[i] == nil:
			dst.sketches[i] = s
		default:
			dst.sketches[i].Merge(s)
		}
	}
}

// Reports implements mapreduce.Job: the report "visits", with rows per hour
// (hours with visitors only), day, month and range.
func (j *Job) Reports(p *Partial, plan *mapreduce.Plan) []mapreduce.Report {
	cal := plan.Calendar
	rep := mapreduce.Report{Name: Name, Measures: Measures}
	add := func(account string, period mapreduce.Period, span *mapreduce.Span, c *counts, s *hll.Sketch) {
		var visitors uint64
		if s != nil {
			visitors = s.Count()
		}
		rep.Rows = append(rep.Rows, mapreduce.ReportRow{
			Account: account, Period: period, Start: span.Start,
			Partial: !span.Covers(plan.Start, plan.End),
			Values: []float64{float64(visitors), float64(c.visits), float64(c.pageviews), float64(c.bounces),
				tally.Ratio(c.bounces, c.visits), tally.Seconds(c.durationMs, c.visits), tally.Ratio(c.pageviews, c.visits)},
		})
	}
	for a, account := range plan.Accounts {
		days := make([]counts, len(cal.Days))
		daySk := make([]*hll.Sketch, len(cal.Days))
		months := make([]counts, len(cal.Months))
		monthSk := make([]*hll.Sketch, len(cal.Months))
		var total, prev counts
		totalSk, prevSk := hll.New(), (*hll.Sketch)(nil)
		union := func(dst **hll.Sketch, s *hll.Sketch) {
			if s == nil {
				return
			}
			if *dst == nil {
				*dst = hll.New()
			}
			(*dst).Merge(s)
		}
		for h := range cal.Hours {
			i := a*p.hours + h
			c, s := &p.counts[i], p.sketches[i]
			if s == nil && c.visits == 0 {
				continue
			}
			if !plan.HourInRange(h) {
				prev.add(c)
				union(&prevSk, s)
				continue
			}
			span := &cal.Hours[h]
			add(account, mapreduce.PeriodHour, span, c, s)
			days[span.Parent].add(c)
			union(&daySk[span.Parent], s)
		}
		inMonth := make([]bool, len(cal.Months))
		for d := range cal.Days {
			if !plan.InRange(d) {
				continue
			}
			add(account, mapreduce.PeriodDay, &cal.Days[d], &days[d], daySk[d])
			m := cal.Days[d].Parent
			months[m].add(&days[d])
			union(&monthSk[m], daySk[d])
			inMonth[m] = true
		}
		for m := range cal.Months {
			if !inMonth[m] {
				continue
			}
			add(account, mapreduce.PeriodMonth, &cal.Months[m], &months[m], monthSk[m])
			total.add(&months[m])
			union(&totalSk, monthSk[m])
		}
		rng := mapreduce.Span{Start: plan.Start.In(plan.Loc), End: plan.End.In(plan.Loc)}
		add(account, mapreduce.PeriodRange, &rng, &total, totalSk)
		if !plan.PrevStart.IsZero() {
			ps := mapreduce.Span{Start: plan.PrevStart.In(plan.Loc), End: plan.PrevEnd.In(plan.Loc)}
			add(account, mapreduce.PeriodPrevious, &ps, &prev, prevSk)
		}
	}
	return []mapreduce.Report{rep}
}
