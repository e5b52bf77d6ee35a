// Package hours is the time-of-day job: page views and visitors per local
// weekday and hour of the day over the whole range, the "when do people
// come" view.
package hours

import (
	"fmt"

	"github.com/pvjobs/pvjobs/jobs/tally"
	"github.com/pvjobs/pvjobs/mapreduce"
)

// Name is the job's and its report's name.
const Name = "hours"

// Job counts page views and visitors per weekday and hour of the local day
// of the run's time zone. The hour is the wall clock's: on the day daylight
// saving time ends, 02:00 comes twice and counts twice under hour 02; on
// the day it starts, 02:00 never comes.
type Job struct{}

// New returns the job as a task. Bots are left out.
func New() mapreduce.Task { return mapreduce.NewTask(Name, &Job{}) }

// Partial is one worker's counts, and the key id of each hour of the
// calendar.
type Partial struct {
	keys *tally.Keys
	t    *tally.Tally
	ids  []uint32
}

// NewPartial implements mapreduce.Job.
func (j *Job) NewPartial(plan *mapreduce.Plan) *Partial {
	p := &Partial{keys: tally.NewKeys(), t: tally.New(plan, 1, true)}
	var key []byte
	for _, h := range plan.Calendar.Hours {
		wall := h.Start.In(plan.Loc)
		key = tally.AppendField(tally.AppendField(key[:0], wall.Weekday().String()), fmt.Sprintf("%02d", wall.Hour()))
		p.ids = append(p.ids, p.keys.ID(key))
	}
	return p
}

// Map implements mapreduce.Job.
func (j *Job) Map(p *Partial, pv *mapreduce.PageView) { p.t.Count(pv, p.ids[pv.Bucket.Hour]) }

// Merge implements mapreduce.Job.
func (j *Job) Merge(dst, src *Partial) { dst.t.MergeKeyed(dst.keys, src.t, src.keys) }

// Reports implements mapreduce.Job: the report "hours", keyed by weekday
// (Monday ... Sunday) and hour (00 ... 23), over the whole range only.
func (j *Job) Reports(p *Partial, plan *mapreduce.Plan) []mapreduce.Report {
	return []mapreduce.Report{p.t.Report(plan, p.keys, tally.ReportSpec{
		Name: Name, Keys: []string{"weekday", "hour"},
		Measures: mapreduce.Counts("pageviews", "visitors"), Values: tally.PageViewsVisitors,
		Range: true,
	})}
}
