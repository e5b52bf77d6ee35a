package sources

import (
	"sync"

	"github.com/pvjobs/pvjobs/jobs/sources/spam"
	"github.com/pvjobs/pvjobs/jobs/tally"
	"github.com/pvjobs/pvjobs/mapreduce"
)

// The jobs' and their reports' names.
const (
	SourcesName     = "sources"
	SearchTermsName = "searchterms"
)

// Options configures both jobs.
type Options struct {
	// InternalDomains are referrer domains counted as internal besides the
	// page's own host (see NewClassifier).
	InternalDomains []string
	// MaxRows is the number of rows kept per account and period (the rest
	// are summed into an "(other)" row); 0 keeps every row.
	MaxRows int
	// Spam is the list of referrer-spam hosts (see NewEnricher); nil means
	// the embedded list.
	Spam *spam.List
}

// Partial is one worker's state of either job: its counts, and its Cache of
// classifications.
type Partial struct {
	keys  *tally.Keys
	t     *tally.Tally
	cache *Cache
	key   []byte
}

func newPartial(c *Classifier, plan *mapreduce.Plan) *Partial {
	if c == nil {
		c = defaultClassifier()
	}
	return &Partial{keys: tally.NewKeys(), t: tally.New(plan, tally.TrafficCols, true), cache: c.NewCache()}
}

// merge adds src's counts.
func (p *Partial) merge(src *Partial) { p.t.MergeKeyed(p.keys, src.t, src.keys) }

// report builds the report of spec, keeping at most maxRows rows per account
// and period.
func (p *Partial) report(plan *mapreduce.Plan, spec tally.ReportSpec, maxRows int) mapreduce.Report {
	spec.MaxRows = maxRows
	return p.t.Report(plan, p.keys, spec)
}

// defaultClassifier serves the zero jobs: no internal domains.
var defaultClassifier = sync.OnceValue(func() *Classifier { return NewClassifier(nil) })

// SourcesJob counts page views per medium and source. It classifies each row
// on the per-row path, through the worker's Cache, and counts the
// "medium\tsource" key: the key space is small, while counting raw referrers
// would keep every distinct referrer URL (and, for internal detection and
// campaigns, the page's host and query) until report time. The zero
// SourcesJob has no internal domains.
type SourcesJob struct {
	c       *Classifier
	maxRows int
}

// NewSources returns the sources job as a task. Bots are left out.
func NewSources(opt Options) mapreduce.Task {
	return mapreduce.NewTask(SourcesName, &SourcesJob{c: NewClassifier(opt.InternalDomains), maxRows: opt.MaxRows})
}

// NewPartial implements mapreduce.Job.
func (j *SourcesJob) NewPartial(plan *mapreduce.Plan) *Partial { return newPartial(j.c, plan) }

// Map implements mapreduce.Job.
func (j *SourcesJob) Map(p *Partial, pv *mapreduce.PageView) {
	r := p.result(pv, false, true)
	p.countSource(pv, &r)
}

// sourceID returns the key id of r's medium and source.
func (p *Partial) sourceID(r *Result) uint32 {
	p.key = tally.AppendField(tally.AppendField(p.key[:0], r.Medium), r.Source)
	return p.keys.ID(p.key)
}

// termID returns the key id of r's engine and term; r must be a search.
func (p *Partial) termID(r *Result) uint32 {
	p.key = tally.AppendField(tally.AppendField(p.key[:0], r.Engine), r.Term)
	return p.keys.ID(p.key)
}

// countSource counts pv under r's medium and source.
func (p *Partial) countSource(pv *mapreduce.PageView, r *Result) { p.t.Count(pv, p.sourceID(r)) }

// countTerm counts pv under r's engine and term when r is a search.
func (p *Partial) countTerm(pv *mapreduce.PageView, r *Result) {
	if r.IsSearch {
		p.t.Count(pv, p.termID(r))
	}
}

// visitSource counts v under the medium and source of its first page view.
func (p *Partial) visitSource(v *mapreduce.Visit) {
	r := p.result(v.Entry, false, true)
	p.t.CountVisit(v, p.sourceID(&r))
}

// visitTerm counts v under the engine and term of its first page view when
// that came from a search engine.
func (p *Partial) visitTerm(v *mapreduce.Visit) {
	if r := p.result(v.Entry, true, false); r.IsSearch {
		p.t.CountVisit(v, p.termID(&r))
	}
}

// sourcesSpec and termsSpec describe the two reports.
var (
	sourcesSpec = tally.ReportSpec{Name: SourcesName, Keys: []string{"medium", "source"},
		Measures: tally.TrafficMeasures, Values: tally.TrafficValues, Days: true, Range: true}
	termsSpec = tally.ReportSpec{Name: SearchTermsName, Keys: []string{"engine", "term"},
		Measures: tally.TrafficMeasures, Values: tally.TrafficValues, Days: true, Range: true}
)

// MapVisit implements mapreduce.VisitJob: a visit counts under the source
// of its first page view.
func (j *SourcesJob) MapVisit(p *Partial, v *mapreduce.Visit) { p.visitSource(v) }

// Merge implements mapreduce.Job.
func (j *SourcesJob) Merge(dst, src *Partial) { dst.merge(src) }

// Reports implements mapreduce.Job: the report "sources" with key columns
// medium and source.
func (j *SourcesJob) Reports(p *Partial, plan *mapreduce.Plan) []mapreduce.Report {
	return []mapreduce.Report{p.report(plan, sourcesSpec, j.maxRows)}
}

// SearchTermsJob counts page views referred by search engines per engine and
// search term. It goes by the referrer alone: campaign parameters on the
// page URL do not change the engine or term. The zero SearchTermsJob has no
// internal domains.
type SearchTermsJob struct {
	c       *Classifier
	maxRows int
}

// NewSearchTerms returns the searchterms job as a task. Bots are left out.
func NewSearchTerms(opt Options) mapreduce.Task {
	return mapreduce.NewTask(SearchTermsName, &SearchTermsJob{c: NewClassifier(opt.InternalDomains), maxRows: opt.MaxRows})
}

// NewPartial implements mapreduce.Job.
func (j *SearchTermsJob) NewPartial(plan *mapreduce.Plan) *Partial { return newPartial(j.c, plan) }

// Map implements mapreduce.Job.
func (j *SearchTermsJob) Map(p *Partial, pv *mapreduce.PageView) {
	r := p.result(pv, true, false)
	p.countTerm(pv, &r)
}

// MapVisit implements mapreduce.VisitJob: a visit counts under the search
// term of its first page view.
func (j *SearchTermsJob) MapVisit(p *Partial, v *mapreduce.Visit) { p.visitTerm(v) }

// Merge implements mapreduce.Job.
func (j *SearchTermsJob) Merge(dst, src *Partial) { dst.merge(src) }

// Reports implements mapreduce.Job: the report "searchterms" with key
// columns engine and term.
func (j *SearchTermsJob) Reports(p *Partial, plan *mapreduce.Plan) []mapreduce.Report {
	return []mapreduce.Report{p.report(plan, termsSpec, j.maxRows)}
}
