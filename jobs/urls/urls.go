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

// Partial is one worker's counts: raw URLs interned in keys, and page views
// per (raw URL, raw title) for each URL's title.
type Partial struct {
	keys   *tally.Keys
	t      *tally.Tally
	titles *tally.LabelCounts
	// keep keeps each page view's URL id for the visit it may begin or end.
	keep mapreduce.Keeper
}

func newPartial(plan *mapreduce.Plan, cols int, visitors bool) *Partial {
	return &Partial{keys: tally.NewKeys(), t: tally.New(plan, cols, visitors), titles: tally.NewLabelCounts(), keep: mapreduce.NewKeeper()}
}

// count counts pv under its URL and its URL's title.
func (p *Partial) count(pv *mapreduce.PageView) {
	id := p.keys.ID(pv.URL)
	p.keep.Set(pv, id)
	p.t.Count(pv, id)
	p.titles.Add(pv.Account, id, pv.Title)
}

// urlID returns the id of pv's URL: the one kept when pv was counted, else
// (a page view of another worker's item) looked up.
func (p *Partial) urlID(pv *mapreduce.PageView) uint32 {
	if id, ok := p.keep.Get(pv); ok {
		return id
	}
	return p.keys.ID(pv.URL)
}

// merge adds src's counts.
func (p *Partial) merge(src *Partial) {
	ids := make([]uint32, src.keys.Len())
	for i := range ids {
		ids[i] = p.keys.ID(src.keys.Bytes(uint32(i)))
	}
	id := func(i uint32) uint32 { return ids[i] }
	p.t.Merge(src.t, id)
	p.titles.Merge(src.titles, id)
}

// NewPartial implements mapreduce.Job.
func (j *Job) NewPartial(plan *mapreduce.Plan) *Partial { return newPartial(plan, 1, true) }

// Map implements mapreduce.Job.
func (j *Job) Map(p *Partial, pv *mapreduce.PageView) { p.count(pv) }

// Merge implements mapreduce.Job.
func (j *Job) Merge(dst, src *Partial) { dst.merge(src) }

// Reports implements mapreduce.Job.
func (j *Job) Reports(p *Partial, plan *mapreduce.Plan) []mapreduce.Report {
	canon := func(dst, raw []byte) ([]byte, bool) { return Normalize(dst, raw, j.opt.StripQuery), true }
	return []mapreduce.Report{p.t.Report(plan, p.keys, urlsSpec(canon, j.opt.MaxRows, p.titles))}
}
