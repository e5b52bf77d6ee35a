package sources

import (
	"bytes"

	"github.com/pvjobs/pvjobs/jobs/tally"
	"github.com/pvjobs/pvjobs/mapreduce"
)

// CampaignsName is the campaigns job's and report's name.
const CampaignsName = "campaigns"

// CampaignsJob counts page views, visitors and visits per campaign: the
// utm_campaign, utm_source, utm_medium, utm_term and utm_content
// parameters of the page URL, each percent- and plus-decoded, converted to
// valid UTF-8, lower-cased and white-space-collapsed the way the sources job
// reads them; utm_source names a known engine, network or web mail by the
// tables' name ("google" and "Google.com" are "Google"). A page view whose
// URL carries none of the five is not counted; one that carries some has
// "(not set)" for the others. A visit counts under its first page view's
// campaign.
type CampaignsJob struct{ maxRows int }

// NewCampaigns returns the campaigns job as a task. Bots are left out.
func NewCampaigns(opt Options) mapreduce.Task {
	return mapreduce.NewTask(CampaignsName, &CampaignsJob{maxRows: opt.MaxRows})
}

// CampaignsPartial is one worker's counts and decoding scratch.
type CampaignsPartial struct {
	Partial
	// keep keeps each page view's campaign id (noCampaign: none) for the
	// visit it may begin.
	keep mapreduce.Keeper
}

const noCampaign = ^uint32(0)

// NewPartial implements mapreduce.Job.
func (j *CampaignsJob) NewPartial(plan *mapreduce.Plan) *CampaignsPartial {
	return &CampaignsPartial{Partial{keys: tally.NewKeys(), t: tally.New(plan, tally.TrafficCols, true), cache: defaultClassifier().NewCache()}, mapreduce.NewKeeper()}
}

// Map implements mapreduce.Job.
func (j *CampaignsJob) Map(p *CampaignsPartial, pv *mapreduce.PageView) {
	id, ok := p.campaignID(pv.URL)
	if !ok {
		p.keep.Set(pv, noCampaign)
		return
	}
	p.keep.Set(pv, id)
	p.t.Count(pv, id)
}

// MapVisit implements mapreduce.VisitJob.
func (j *CampaignsJob) MapVisit(p *CampaignsPartial, v *mapreduce.Visit) {
	id, ok := p.keep.Get(v.Entry)
	if !ok { // the page view of another worker's item
		id, ok = p.campaignID(v.Entry.URL)
		if !ok {
			return
		}
	}
	if id != noCampaign {
		p.t.CountVisit(v, id)
	}
}

var utmPrefix = []byte("utm_")

// campaignID returns the key id of the campaign of the page URL, and false
// when it has none.
func (p *CampaignsPartial) campaignID(url []byte) (uint32, bool) {
	if !bytes.Contains(url, utmPrefix) && !bytes.Contains(url, []byte("UTM_")) && !bytes.Contains(url, []byte("Utm_")) {
		return 0, false
	}
	q := url
	if i := bytes.IndexByte(q, '?'); i >= 0 {
		q = q[i+1:]
	} else {
		return 0, false
	}
	if i := bytes.IndexByte(q, '#'); i >= 0 {
		q = q[:i]
	}
	var vals [5][]byte // campaign, source, medium, term, content
	found := false
	for len(q) > 0 {
		var pr param
		pr, q = nextParam(q)
		if len(pr.name) < 7 || len(pr.value) == 0 || !equalFoldASCII(pr.name[:4], "utm_") {
			continue
		}
		i := -1
		switch {
		case equalFoldASCII(pr.name, "utm_campaign"):
			i = 0
		case equalFoldASCII(pr.name, "utm_source"):
			i = 1
		case equalFoldASCII(pr.name, "utm_medium"):
			i = 2
		case equalFoldASCII(pr.name, "utm_term"):
			i = 3
		case equalFoldASCII(pr.name, "utm_content"):
			i = 4
		}
		if i >= 0 {
			vals[i], found = pr.value, true
		}
	}
	if !found {
		return 0, false
	}
	k := p.key[:0]
	for i, v := range vals {
		s := p.cache.utmValue(v)
		if i == 1 {
			s = canonSource(s)
		}
		if s == "" {
			s = NotSet
		}
		k = tally.AppendField(k, s)
	}
	p.key = k
	return p.keys.ID(k), true
}

// Merge implements mapreduce.Job.
func (j *CampaignsJob) Merge(dst, src *CampaignsPartial) { dst.merge(&src.Partial) }

// Reports implements mapreduce.Job: the report "campaigns", keyed by
// campaign, source, medium, term and content.
func (j *CampaignsJob) Reports(p *CampaignsPartial, plan *mapreduce.Plan) []mapreduce.Report {
	return []mapreduce.Report{p.report(plan, tally.ReportSpec{Name: CampaignsName,
		Keys:     []string{"campaign", "source", "medium", "term", "content"},
		Measures: tally.TrafficMeasures, Values: tally.TrafficValues, Days: true, Range: true}, j.maxRows)}
}
