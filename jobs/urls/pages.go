package urls

import (
	"slices"

	"github.com/pvjobs/pvjobs/jobs/tally"
	"github.com/pvjobs/pvjobs/jobs/titles"
	"github.com/pvjobs/pvjobs/mapreduce"
)

// The names of the entry- and exit-page reports.
const (
	EntryPagesName = "entrypages"
	ExitPagesName  = "exitpages"
)

// The counters of the pages tally.
const (
	colPageViews = iota
	colEntries
	colEntryBounces
	colEntryDurationMs
	colExits
	pagesCols
)

// PagesJob makes any of the urls, entrypages and exitpages reports from one
// count of raw URLs: page views and visitors per URL, the visits that
// entered on each URL (their first page view's) with their bounces and
// durations, and the visits that left from each (their last page view's).
type PagesJob struct {
	opt     Options
	reports []string
	urls    bool // the urls report is asked for
}

// NewPages returns the job that makes the reports named (of urls,
// entrypages, exitpages) as one task.
func NewPages(opt Options, reports []string) mapreduce.Task {
	return mapreduce.NewTask(PagesName(reports), &PagesJob{opt: opt, reports: slices.Clone(reports), urls: slices.Contains(reports, Name)})
}

// PagesName names the task of the reports.
func PagesName(reports []string) string {
	n := ""
	for _, r := range reports {
		if n != "" {
			n += "+"
		}
		n += r
	}
	return n
}

func (j *PagesJob) has(name string) bool { return slices.Contains(j.reports, name) }

// NewPartial implements mapreduce.Job.
func (j *PagesJob) NewPartial(plan *mapreduce.Plan) *Partial {
	return newPartial(plan, pagesCols, j.has(Name))
}

// Map implements mapreduce.Job.
func (j *PagesJob) Map(p *Partial, pv *mapreduce.PageView) {
	if j.urls {
		p.count(pv)
	} else {
		id := p.keys.ID(pv.URL)
		p.keep.Set(pv, id)
		p.t.Count(pv, id)
	}
}

// MapVisit implements mapreduce.VisitJob: the visit counts as an entry on
// its first page's URL and an exit from its last page's.
func (j *PagesJob) MapVisit(p *Partial, v *mapreduce.Visit) {
	cell := p.t.Cell(v.Account, int(v.Bucket.Day))
	e := p.t.Entry(cell, p.urlID(v.Entry))
	p.t.Add(e, colEntries, 1)
	if v.Bounce() {
		p.t.Add(e, colEntryBounces, 1)
	}
	p.t.Add(e, colEntryDurationMs, v.Duration().Milliseconds())
	p.t.Add(p.t.Entry(cell, p.urlID(v.Exit)), colExits, 1)
}

// Merge implements mapreduce.Job.
func (j *PagesJob) Merge(dst, src *Partial) { dst.merge(src) }

// Reports implements mapreduce.Job: the reports asked for, in the order
// urls, entrypages, exitpages.
func (j *PagesJob) Reports(p *Partial, plan *mapreduce.Plan) []mapreduce.Report {
	canon := func(dst, raw []byte) ([]byte, bool) { return Normalize(dst, raw, j.opt.StripQuery), true }
	var reps []mapreduce.Report
	if j.has(Name) {
		reps = append(reps, p.t.Report(plan, p.keys, urlsSpec(canon, j.opt.MaxRows, p.titles)))
	}
	if j.has(EntryPagesName) {
		reps = append(reps, p.t.Report(plan, p.keys, tally.ReportSpec{
			Name: EntryPagesName, Keys: []string{"url"},
			Measures: []mapreduce.Measure{
				{Name: "entries", Kind: mapreduce.Count},
				{Name: "bounces", Kind: mapreduce.Count},
				{Name: "bounce_rate", Kind: mapreduce.Rate},
				{Name: "avg_visit_duration_s", Kind: mapreduce.Seconds},
			},
			Values: func(dst []float64, s []int64, _ uint64) {
				dst[0], dst[1] = float64(s[colEntries]), float64(s[colEntryBounces])
				dst[2], dst[3] = tally.Ratio(s[colEntryBounces], s[colEntries]), tally.Seconds(s[colEntryDurationMs], s[colEntries])
			},
			Keep:  func(s []int64) bool { return s[colEntries] > 0 },
			Canon: canon, CanonIdempotent: true, Days: true, Range: true, MaxRows: j.opt.MaxRows,
		}))
	}
	if j.has(ExitPagesName) {
		reps = append(reps, p.t.Report(plan, p.keys, tally.ReportSpec{
			Name: ExitPagesName, Keys: []string{"url"},
			Measures: []mapreduce.Measure{
				{Name: "exits", Kind: mapreduce.Count},
				{Name: "pageviews", Kind: mapreduce.Count},
				{Name: "exit_rate", Kind: mapreduce.Rate},
			},
			Values: func(dst []float64, s []int64, _ uint64) {
				dst[0], dst[1], dst[2] = float64(s[colExits]), float64(s[colPageViews]), tally.Ratio(s[colExits], s[colPageViews])
			},
			Keep:  func(s []int64) bool { return s[colExits] > 0 },
			Canon: canon, CanonIdempotent: true, Days: true, Range: true, MaxRows: j.opt.MaxRows,
		}))
	}
	return reps
}

// urlsSpec is the spec of the urls report: its title column is each URL's
// most frequent title (normalised as the titles job does) over the whole
// run, ties going to the title that sorts first.
func urlsSpec(canon func(dst, raw []byte) ([]byte, bool), maxRows int, titleCounts *tally.LabelCounts) tally.ReportSpec {
	return tally.ReportSpec{
		Name:       Name,
		Keys:       []string{"url"},
		Labels:     []string{"title"},
		RawLabels:  titleCounts,
		LabelCanon: titles.Normalize,
		Measures:   mapreduce.Counts("pageviews", "visitors"),
		Values:     tally.PageViewsVisitors,
		Canon:      canon,
		// Normalize is idempotent (FuzzNormalize checks it).
		CanonIdempotent: true,
		Days:            true,
		Range:           true,
		MaxRows:         maxRows,
	}
}
