// Package languages is the languages job: page views, visitors and visits
// per visitor language, read from the page view's language field (the
// browser's preferred language, the first tag of Accept-Language).
package languages

import (
	"bytes"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"github.com/pvjobs/pvjobs/jobs/tally"
	"github.com/pvjobs/pvjobs/mapreduce"
)

// Name is the job's and its report's name.
const Name = "languages"

// NotSet is the language or region of page views that tell none.
const NotSet = "(not set)"

// Parse returns the primary language and the region of a language field:
// its first tag (a whole Accept-Language header such as
// "de-CH,de;q=0.9,en;q=0.8" is cut at the first comma or semicolon), read
// as BCP 47 by golang.org/x/text/language, so "en-US", "en_us" and "EN" are
// all the language "en", the first two with the region "US"; "zh-Hant-TW"
// is "zh" in "TW"; grandfathered tags map to their modern form
// ("i-klingon" is "tlh"). The region is only one the tag names (never a
// guessed one). NotSet stands for what the field does not tell: empty,
// "*", "und", private use, or not a tag.
func Parse(raw []byte) (lang, region string) {
	if i := bytes.IndexAny(raw, ",;"); i >= 0 {
		raw = raw[:i]
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || len(raw) > 64 {
		return NotSet, NotSet
	}
	tag, err := language.Parse(string(raw))
	if err != nil {
		return NotSet, NotSet
	}
	base, conf := tag.Base()
	if conf != language.Exact || base.String() == "und" {
		return NotSet, NotSet
	}
	lang, region = base.String(), NotSet
	if r, conf := tag.Region(); conf == language.Exact {
		region = r.String()
	}
	return lang, region
}

// EnglishName returns the English name of a language code, or the code
// when it has none (NotSet stays NotSet).
func EnglishName(lang string) string {
	if lang == NotSet {
		return NotSet
	}
	b, err := language.ParseBase(lang)
	if err != nil {
		return lang
	}
	if n := display.English.Languages().Name(b); n != "" {
		return n
	}
	return lang
}

// Options configures the job.
type Options struct {
	// MaxRows is the number of rows kept per account and period (the rest
	// are summed into an "(other)" row); 0 keeps every row.
	MaxRows int
}

// Job counts page views, visitors and visits per language and region. It
// counts raw language fields on the per-row path and parses each distinct
// one once, for the report. A visit counts under its first page view's
// language.
type Job struct{ opt Options }

// New returns the job as a task. Bots are left out.
func New(opt Options) mapreduce.Task { return mapreduce.NewTask(Name, &Job{opt: opt}) }

// Partial is one worker's counts.
type Partial struct {
	keys *tally.Keys
	t    *tally.Tally
	// keep keeps each page view's language id for the visit it may begin.
	keep mapreduce.Keeper
}

// NewPartial implements mapreduce.Job.
func (j *Job) NewPartial(plan *mapreduce.Plan) *Partial {
	return &Partial{keys: tally.NewKeys(), t: tally.New(plan, tally.TrafficCols, true), keep: mapreduce.NewKeeper()}
}

// Map implements mapreduce.Job.
func (j *Job) Map(p *Partial, pv *mapreduce.PageView) {
	id := p.keys.ID(pv.Language)
	p.keep.Set(pv, id)
	p.t.Count(pv, id)
}

// MapVisit implements mapreduce.VisitJob.
func (j *Job) MapVisit(p *Partial, v *mapreduce.Visit) {
	id, ok := p.keep.Get(v.Entry)
	if !ok { // the page view of another worker's item
		id = p.keys.ID(v.Entry.Language)
	}
	p.t.CountVisit(v, id)
}

// Merge implements mapreduce.Job.
func (j *Job) Merge(dst, src *Partial) { dst.t.MergeKeyed(dst.keys, src.t, src.keys) }

// Reports implements mapreduce.Job: the report "languages", keyed by
// language and region, with the language's English name.
func (j *Job) Reports(p *Partial, plan *mapreduce.Plan) []mapreduce.Report {
	return []mapreduce.Report{p.t.Report(plan, p.keys, tally.ReportSpec{
		Name: Name, Keys: []string{"language", "region"}, Labels: []string{"name"},
		Measures: tally.TrafficMeasures, Values: tally.TrafficValues,
		Canon: func(dst, raw []byte) ([]byte, bool) {
			l, r := Parse(raw)
			return tally.AppendField(tally.AppendField(dst, l), r), true
		},
		Label: func(keys []string) []string { return []string{EnglishName(keys[0])} },
		Days:  true, Range: true, MaxRows: j.opt.MaxRows,
	})}
}
