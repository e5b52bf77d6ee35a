// Package urls is the top-pages job: page views and visitors per URL, per
// account per day and over the whole range, with URLs normalised (see
// Normalize).
package urls

import (
	"github.com/pvjobs/pvjobs/jobs/tally"
	"github.com/pvjobs/pvjobs/jobs/titles"
	"github.com/pvjobs/pvjobs/jobs/validtext"
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
	tkeys  *tally.Keys
	titles map[uint64]int64
}

func newPartial(plan *mapreduce.Plan, cols int, visitors bool) *Partial {
	return &Partial{keys: tally.NewKeys(), t: tally.New(plan, cols, visitors), tkeys: tally.NewKeys(), titles: map[uint64]int64{}}
}

// count counts pv under its URL and its URL's title.
func (p *Partial) count(pv *mapreduce.PageView) {
	id := p.keys.ID(pv.URL)
	p.t.Count(pv, id)
	p.titles[uint64(id)<<32|uint64(p.tkeys.ID(pv.Title))]++
}

// merge adds src's counts.
func (p *Partial) merge(src *Partial) {
	ids := make([]uint32, src.keys.Len())
	for i := range ids {
		ids[i] = p.keys.ID(src.keys.Bytes(uint32(i)))
	}
	p.t.Merge(src.t, func(id uint32) uint32 { return ids[id] })
	tids := make([]uint32, src.tkeys.Len())
	for i := range tids {
		tids[i] = p.tkeys.ID(src.tkeys.Bytes(uint32(i)))
	}
	for k, n := range src.titles {
		p.titles[uint64(ids[k>>32])<<32|uint64(tids[uint32(k)])] += n
	}
}

// label sets the title column of the urls report's rows: each URL's most
// frequent title (normalised as the titles job does) over the whole run,
// ties going to the title that sorts first.
func (p *Partial) label(rep *mapreduce.Report, stripQuery bool) {
	want := map[string]map[string]int64{}
	for _, r := range rep.Rows {
		if !r.Other {
			want[r.Keys[0]] = nil
		}
	}
	canon := make([]string, p.keys.Len())
	done := make([]bool, len(canon))
	title := make([]string, p.tkeys.Len())
	tdone := make([]bool, len(title))
	for k, n := range p.titles {
		u, t := uint32(k>>32), uint32(k)
		if !done[u] {
			// As the report's keys are: normalised, then valid UTF-8.
			canon[u], done[u] = validtext.Cell("url", string(Normalize(nil, p.keys.Bytes(u), stripQuery))), true
		}
		counts, ok := want[canon[u]]
		if !ok {
			continue
		}
		if counts == nil {
			counts = map[string]int64{}
			want[canon[u]] = counts
		}
		if !tdone[t] {
			title[t], tdone[t] = string(titles.Normalize(nil, p.tkeys.Bytes(t))), true
		}
		counts[title[t]] += n
	}
	best := make(map[string][]string, len(want))
	for u, counts := range want {
		var b string
		var bn int64 = -1
		for t, n := range counts {
			if n > bn || n == bn && t < b {
				b, bn = t, n
			}
		}
		best[u] = []string{b}
	}
	rep.Labels = []string{"title"}
	for i := range rep.Rows {
		if r := &rep.Rows[i]; !r.Other {
			r.Labels = best[r.Keys[0]]
		}
	}
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
	rep := p.t.Report(plan, p.keys, urlsSpec(canon, j.opt.MaxRows))
	p.label(&rep, j.opt.StripQuery)
	return []mapreduce.Report{rep}
}
