// Package uniques is the unique-visitors job: HyperLogLog sketches per account
// per hour, day and month of the run's time zone, and over the whole range.
//
// # The visitor key
//
// The element added to the sketches for each page view is its visitor key:
// visitor_id when the page view has one, else ip + "\n" + user_agent. Live
// producers that PFADD into the same Redis keys must build the key the same
// way (see VisitorKey).
//
// # Sketches
//
// The sketches are Redis's (package mapreduce/hll): the count pvjobs prints
// equals Redis's PFCOUNT of the same registers, and the Redis sink stores them
// as native HyperLogLog values. Each row is added to one hour sketch; days,
// months and the range are unions of hours, which HyperLogLog computes
// without loss. With Options.Exact the job counts with hash sets instead, for
// small data and for checking the sketches' error.
package uniques

import (
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/mapreduce/hll"
)

// Name is the job's and its report's name.
const Name = "uniques"

// Options configures the job.
type Options struct {
	// Exact counts visitors with hash sets instead of sketches.
	Exact bool
	// Minutes adds per-minute rows (for Redis minute keys).
	Minutes bool
}

// Job counts unique visitors.
type Job struct{ opt Options }

// New returns the job as a task.
func New(opt Options) mapreduce.Task { return mapreduce.NewTask(Name, &Job{opt: opt}) }

// VisitorKey appends the visitor key of pv to dst: visitor_id when present,
// else ip + "\n" + user_agent (see mapreduce.VisitorKey).
func VisitorKey(dst []byte, pv *mapreduce.PageView) []byte { return mapreduce.VisitorKey(dst, pv) }

// Partial is one worker's sketches (or sets), per account and hour.
type Partial struct {
	accounts, hours int
	cal             *mapreduce.Calendar
	sketches        []*hll.Sketch
	sets            []map[string]struct{}
	// minutes maps (account*hours+hour)*60+minute to its sketch.
	minutes map[int]*hll.Sketch
	buf     []byte
}

// NewPartial implements mapreduce.Job.
func (j *Job) NewPartial(plan *mapreduce.Plan) *Partial {
	p := &Partial{accounts: len(plan.Accounts), hours: len(plan.Calendar.Hours), cal: plan.Calendar}
	if j.opt.Exact {
		p.sets = make([]map[string]struct{}, p.accounts*p.hours)
	} else {
		p.sketches = make([]*hll.Sketch, p.accounts*p.hours)
	}
	if j.opt.Minutes {
		p.minutes = map[int]*hll.Sketch{}
	}
	return p
}

// Map implements mapreduce.Job.
func (j *Job) Map(p *Partial, pv *mapreduce.PageView) {
	cell := pv.Account*p.hours + int(pv.Bucket.Hour)
	if p.sets != nil {
		m := p.sets[cell]
		if m == nil {
			m = map[string]struct{}{}
			p.sets[cell] = m
		}
		p.buf = VisitorKey(p.buf[:0], pv)
		if _, ok := m[string(p.buf)]; !ok {
			m[string(p.buf)] = struct{}{}
		}
		return
	}
	h := pv.Visitor
	s := p.sketches[cell]
	if s == nil {
		s = hll.New()
		p.sketches[cell] = s
	}
	s.AddHash(h)
	if p.minutes != nil {
		m := int((pv.Time - p.cal.Hours[pv.Bucket.Hour].StartNs) / int64(time.Minute))
		k := cell*60 + m
		ms := p.minutes[k]
		if ms == nil {
			ms = hll.New()
			p.minutes[k] = ms
		}
		ms.AddHash(h)
	}
}

// Merge implements mapreduce.Job.
func (j *Job) Merge(dst, src *Partial) {
	for i, s := range src.sketches {
		switch {
		case s == nil:
		case dst.sketches[i] == nil:
			dst.sketches[i] = s
		default:
			dst.sketches[i].Merge(s)
		}
	}
	for i, m := range src.sets {
		switch {
		case m == nil:
		case dst.sets[i] == nil:
			dst.sets[i] = m
		default:
			for k := range m {
				dst.sets[i][k] = struct{}{}
			}
		}
	}
	for k, s := range src.minutes {
		if d := dst.minutes[k]; d != nil {
			d.Merge(s)
		} else {
			dst.minutes[k] = s
		}
	}
}

// counter is a sketch or an exact set behind one interface for the unions.
type counter interface {
	add(o counter)
	row(r *mapreduce.ReportRow)
}

type sketchCounter struct{ s *hll.Sketch }

func (c *sketchCounter) add(o counter) {
	if os := o.(*sketchCounter).s; os != nil {
		c.s.Merge(os)
	}
}

func (c *sketchCounter) row(r *mapreduce.ReportRow) {
	r.Values = []float64{float64(c.s.Count())}
	r.Sketch = c.s
}

type setCounter struct{ m map[string]struct{} }

func (c *setCounter) add(o counter) {
	for k := range o.(*setCounter).m {
		c.m[k] = struct{}{}
	}
}

func (c *setCounter) row(r *mapreduce.ReportRow) { r.Values = []float64{float64(len(c.m))} }

func (p *Partial) empty() counter {
	if p.sets != nil {
		return &setCounter{m: map[string]struct{}{}}
	}
	return &sketchCounter{s: hll.New()}
}

func (p *Partial) cell(i int) counter {
	if p.sets != nil {
		if p.sets[i] == nil {
			return nil
		}
		return &setCounter{m: p.sets[i]}
	}
	if p.sketches[i] == nil {
		return nil
	}
	return &sketchCounter{s: p.sketches[i]}
}

// Reports implements mapreduce.Job: one report "uniques" with rows of periods
// hour (hours with visitors only), day, month and range (always), and minute
// when asked.
func (j *Job) Reports(p *Partial, plan *mapreduce.Plan) []mapreduce.Report {
	cal := plan.Calendar
	rep := mapreduce.Report{Name: Name, Measures: mapreduce.Counts("visitors")}
	add := func(account string, period mapreduce.Period, span *mapreduce.Span, c counter) {
		r := mapreduce.ReportRow{Account: account, Period: period, Start: span.Start,
			Partial: !span.Covers(plan.Start, plan.End)}
		c.row(&r)
		rep.Rows = append(rep.Rows, r)
	}
	for a, account := range plan.Accounts {
		days := make([]counter, len(cal.Days))
		months := make([]counter, len(cal.Months))
		for d := range days {
			days[d] = p.empty()
		}
		for m := range months {
			months[m] = p.empty()
		}
		total, prev := p.empty(), p.empty()
		for h := range cal.Hours {
			c := p.cell(a*p.hours + h)
			if c == nil {
				continue
			}
			if !plan.HourInRange(h) {
				prev.add(c)
				continue
			}
			span := &cal.Hours[h]
			add(account, mapreduce.PeriodHour, span, c)
			days[span.Parent].add(c)
		}
		inMonth := make([]bool, len(cal.Months))
		for d := range cal.Days {
			if !plan.InRange(d) {
				continue
			}
			add(account, mapreduce.PeriodDay, &cal.Days[d], days[d])
			months[cal.Days[d].Parent].add(days[d])
			inMonth[cal.Days[d].Parent] = true
		}
		for m := range cal.Months {
			if !inMonth[m] {
				continue
			}
			add(account, mapreduce.PeriodMonth, &cal.Months[m], months[m])
			total.add(months[m])
		}
		rng := mapreduce.Span{Start: plan.Start.In(plan.Loc), End: plan.End.In(plan.Loc)}
		add(account, mapreduce.PeriodRange, &rng, total)
		if !plan.PrevStart.IsZero() {
			ps := mapreduce.Span{Start: plan.PrevStart.In(plan.Loc), End: plan.PrevEnd.In(plan.Loc)}
			add(account, mapreduce.PeriodPrevious, &ps, prev)
		}
		for k, s := range p.minutes {
			if k/60/p.hours != a || !plan.HourInRange(k/60%p.hours) {
				continue
			}
			h := k / 60 % p.hours
			start := cal.Hours[h].Start.Add(time.Duration(k%60) * time.Minute)
			sp := mapreduce.Span{Start: start, End: start.Add(time.Minute)}
			add(account, mapreduce.PeriodMinute, &sp, &sketchCounter{s: s})
		}
	}
	return []mapreduce.Report{rep}
}
