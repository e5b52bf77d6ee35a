// Package urls is the top-pages job: page views per URL, per account per day
// and over the whole range, with URLs normalised (see Normalize).
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
}

// Job counts page views per URL. It counts raw URLs on the per-row path and
// normalises each distinct URL once, when the report is built.
type Job struct{ opt Options }

// New returns the job as a task.
func New(opt Options) mapreduce.Task { return mapreduce.NewTask(Name, &Job{opt: opt}) }

// NewPartial implements mapreduce.Job.
func (j *Job) NewPartial(plan *mapreduce.Plan) *tally.Tally { return tally.New(plan) }

// Map implements mapreduce.Job.
func (j *Job) Map(t *tally.Tally, pv *mapreduce.PageView) { t.Add(pv, pv.URL) }

// Merge implements mapreduce.Job.
func (j *Job) Merge(dst, src *tally.Tally) { dst.Merge(src) }

// Reports implements mapreduce.Job.
func (j *Job) Reports(t *tally.Tally, plan *mapreduce.Plan) []mapreduce.Report {
	return []mapreduce.Report{t.Report(plan, tally.ReportSpec{
		Name:    Name,
		Keys:    []string{"url"},
		Measure: "pageviews",
		Canon:   func(raw string) string { return string(Normalize(nil, []byte(raw), j.opt.StripQuery)) },
		Days:    true,
		Range:   true,
	})}
}
