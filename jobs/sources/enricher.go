package sources

import (
	"hash/maphash"

	"github.com/pvjobs/pvjobs/jobs/sources/spam"
	"github.com/pvjobs/pvjobs/mapreduce"
)

// NewEnricher returns the run's per-worker origin enricher: each call returns
// the page-view function of one worker, which sets pv.Origin to the
// classification of pv's page URL and referrer (see Cache.Classify), through
// the worker's own Cache. The sources and searchterms jobs then read it
// instead of classifying again, and so do the engine's sessions, which start
// a new visit when a page view brings a source other than its visit's: any
// medium but direct and internal brings one. pv.Origin points to the
// worker's scratch space, overwritten by the next row.
//
// A page view whose referrer is on the spam list (opt.Spam, or the embedded
// list when nil) is marked Origin.Spam.
func NewEnricher(opt Options) func() func(*mapreduce.PageView) {
	c := NewClassifier(opt.InternalDomains)
	list := opt.Spam
	if list == nil {
		list = spam.Embedded()
	}
	seed := maphash.MakeSeed()
	return func() func(*mapreduce.PageView) {
		cache := c.NewCache()
		var o mapreduce.Origin
		return func(pv *mapreduce.PageView) {
			r := cache.classify(pv.URL, pv.Referrer, true, true)
			o = mapreduce.Origin{Medium: r.Medium, Name: r.Source, Campaign: r.Campaign,
				IsSearch: r.IsSearch, Engine: r.Engine, Term: r.Term}
			if r.Medium != MediumDirect && r.Medium != MediumInternal {
				o.Key = originKey(seed, r.Medium, r.Source)
			}
			if r.Medium == MediumReferral && !r.Campaign && list.Has(r.Source) {
				o.Spam = true
			}
			pv.Origin = &o
		}
	}
}

// originKey hashes a medium and source into an Origin.Key: never 0, 1 or 2
// (the engine's marks for no source).
func originKey(seed maphash.Seed, medium, source string) uint64 {
	var h maphash.Hash
	h.SetSeed(seed)
	h.WriteString(medium)
	h.WriteByte(0)
	h.WriteString(source)
	return h.Sum64() | 4
}

// result returns the classification of pv: its Origin when the run's
// enricher set one, else the Cache's.
func (p *Partial) result(pv *mapreduce.PageView, terms, sources bool) Result {
	if o := pv.Origin; o != nil {
		return Result{Medium: o.Medium, Source: o.Name, Campaign: o.Campaign, IsSearch: o.IsSearch, Engine: o.Engine, Term: o.Term}
	}
	return p.cache.classify(pv.URL, pv.Referrer, terms, sources)
}
