// Package urls is the top-pages job: page views and visitors per URL, per
// account per day and over the whole range, with URLs normalised (see
// Normalize).
package urls

import (
	"github.com/pvjobs/pvjobs/jobs/tally"
	"github.com/pvjobs/pvjobs/mapreduce"
)

// Name is the job's and its report's name.
const Name = "urls"

// Options configures the job.
type Options struct {
	// StripQuery drops the whole query string from URLs.
	StripQuery bool
	// MaxRows is the number of rows kept per account and period (the rest
	// are summed into an "(other)" row); 0 keeps every row.
	MaxRows int
}

// Job counts page views and visitors per URL. It counts raw URLs on the
// per-row path and normalises each distinct URL once, when the report is
// built.
type Job struct{ opt Options }

// New returns the job as a task.
func New(opt Options) mapreduce.Task { return mapreduce.NewTask(Name, &Job{opt: opt}) }

// Partial is one worker's counts: raw URLs interned in keys.
type Partial struct {
	keys *tally.Keys
	t    *tally.Tally
}

// NewPartial implements mapreduce.Job.
func (j *Job) NewPartial(plan *mapreduce.Plan) *Partial {
	return &Partial{keys: tally.NewKeys(), t: tally.New(plan, 1, true)}
}

// Map implements mapreduce.Job.
func (j *Job) Map(p *Partial, pv *mapreduce.PageView) { p.t.Count(pv, p.keys.ID(pv.URL)) }

// Merge implements mapreduce.Job.
func (j *Job) Merge(dst, src *Partial) { dst.t.MergeKeyed(dst.keys, src.t, src.keys) }

// Reports implements mapreduce.Job.
func (j *Job) Reports(p *Partial, plan *mapreduce.Plan) []mapreduce.Report {
	canon := func(dst, raw []byte) ([]byte, bool) { return Normalize(dst, raw, j.opt.StripQuery), true }
	return []mapreduce.Report{p.t.Report(plan, p.keys, urlsSpec(canon, j.opt.MaxRows))}
}
