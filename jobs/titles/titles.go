// Package titles is the page-titles job: page views and visitors per page
// title, per account per day and over the whole range. It also gives the
// urls report its title column (see Normalize).
package titles

import (
	"unicode"
	"unicode/utf8"

	"github.com/pvjobs/pvjobs/jobs/tally"
	"github.com/pvjobs/pvjobs/mapreduce"
)

// Name is the job's and its report's name.
const Name = "titles"

// NotSet is the title of page views without one.
const NotSet = "(not set)"

// MaxRunes is the longest title kept; longer ones are cut and end in "…".
const MaxRunes = 300

// Normalize appends the report form of a raw title to dst: invalid UTF-8
// replaced by U+FFFD, control characters (tabs, line breaks, ...) and runs
// of white space made one space, no white space at the ends, at most
// MaxRunes characters; NotSet when nothing is left.
func Normalize(dst, raw []byte) []byte {
	start := len(dst)
	space, n := false, 0
	for len(raw) > 0 {
		r, size := utf8.DecodeRune(raw)
		raw = raw[size:]
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == '\u200b' {
			space = len(dst) > start
			continue
		}
		if n == MaxRunes {
			dst = append(dst, "…"...)
			break
		}
		if space {
			dst = append(dst, ' ')
			space = false
			n++
		}
		dst = utf8.AppendRune(dst, r)
		n++
	}
	if len(dst) == start {
		dst = append(dst, NotSet...)
	}
	return dst
}

// Options configures the job.
type Options struct {
	// MaxRows is the number of rows kept per account and period (the rest
	// are summed into an "(other)" row); 0 keeps every row.
	MaxRows int
}

// Job counts page views and visitors per title. It counts raw titles on the
// per-row path and normalises each distinct one once, for the report.
type Job struct{ opt Options }

// New returns the job as a task. Bots are left out.
func New(opt Options) mapreduce.Task { return mapreduce.NewTask(Name, &Job{opt: opt}) }

// Partial is one worker's counts.
type Partial struct {
	keys *tally.Keys
	t    *tally.Tally
}

// NewPartial implements mapreduce.Job.
func (j *Job) NewPartial(plan *mapreduce.Plan) *Partial {
	return &Partial{keys: tally.NewKeys(), t: tally.New(plan, 1, true)}
}

// Map implements mapreduce.Job.
func (j *Job) Map(p *Partial, pv *mapreduce.PageView) { p.t.Count(pv, p.keys.ID(pv.Title)) }

// Merge implements mapreduce.Job.
func (j *Job) Merge(dst, src *Partial) { dst.t.MergeKeyed(dst.keys, src.t, src.keys) }

// Reports implements mapreduce.Job: the report "titles".
func (j *Job) Reports(p *Partial, plan *mapreduce.Plan) []mapreduce.Report {
	return []mapreduce.Report{p.t.Report(plan, p.keys, tally.ReportSpec{
		Name: Name, Keys: []string{"title"},
		Measures: mapreduce.Counts("pageviews", "visitors"), Values: tally.PageViewsVisitors,
		Canon: func(dst, raw []byte) ([]byte, bool) { return Normalize(dst, raw), true },
		// Normalize is idempotent (FuzzNormalize checks it).
		CanonIdempotent: true,
		Days:            true, Range: true, MaxRows: j.opt.MaxRows,
	})}
}
