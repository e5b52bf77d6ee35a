package sources

import (
	"github.com/pvjobs/pvjobs/jobs/tally"
	"github.com/pvjobs/pvjobs/mapreduce"
)

// BothName names the task that makes the sources and searchterms reports
// together.
const BothName = SourcesName + "+" + SearchTermsName

// NewBoth returns one task that makes both the sources and the searchterms
// reports, classifying each row's referrer once for both: the campaign
// override of sources changes only the medium and source, never the engine
// and term that searchterms counts, so one classification serves both. Its
// reports equal those of NewSources and NewSearchTerms run side by side.
// Bots are left out.
func NewBoth(opt Options) mapreduce.Task {
	return mapreduce.NewTask(BothName, &BothJob{c: NewClassifier(opt.InternalDomains), maxRows: opt.MaxRows})
}

// BothJob counts sources and search terms in one pass over the referrers.
type BothJob struct {
	c       *Classifier
	maxRows int
}

// BothPartial is one worker's counts of both reports; sources owns the
// worker's Cache.
type BothPartial struct{ sources, terms *Partial }

// NewPartial implements mapreduce.Job.
func (j *BothJob) NewPartial(plan *mapreduce.Plan) *BothPartial {
	return &BothPartial{sources: newPartial(j.c, plan), terms: &Partial{keys: tally.NewKeys(), t: tally.New(plan, tally.TrafficCols, true), cache: nil}}
}

// Map implements mapreduce.Job.
func (j *BothJob) Map(p *BothPartial, pv *mapreduce.PageView) {
	r := p.sources.result(pv, true, true)
	p.sources.countSource(pv, &r)
	p.terms.countTerm(pv, &r)
}

// MapVisit implements mapreduce.VisitJob.
func (j *BothJob) MapVisit(p *BothPartial, v *mapreduce.Visit) {
	r := p.sources.result(v.Entry, true, true)
	p.sources.t.CountVisit(v, p.sources.sourceID(&r))
	if r.IsSearch {
		p.terms.t.CountVisit(v, p.terms.termID(&r))
	}
}

// Merge implements mapreduce.Job.
func (j *BothJob) Merge(dst, src *BothPartial) {
	dst.sources.merge(src.sources)
	dst.terms.merge(src.terms)
}

// Reports implements mapreduce.Job: "sources", then "searchterms".
func (j *BothJob) Reports(p *BothPartial, plan *mapreduce.Plan) []mapreduce.Report {
	return []mapreduce.Report{p.sources.report(plan, sourcesSpec, j.maxRows), p.terms.report(plan, termsSpec, j.maxRows)}
}
