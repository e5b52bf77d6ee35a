package devices

import (
	"strings"

	"github.com/pvjobs/pvjobs/jobs/tally"
	"github.com/pvjobs/pvjobs/mapreduce"
)

// Name is the job's and its report's name.
const Name = "devices"

// Job counts page views per device class, browser family and OS family, bots
// included. It is built WithBots, so it sees the bots that the engine
// withholds from other jobs.
type Job struct{ opt Options }

// Options configures the job.
type Options struct {
	// MaxRows is the number of rows kept per account and period (the rest
	// are summed into an "(other)" row); 0 keeps every row.
	MaxRows int
}

// New returns the job as a task.
func New(opt Options) mapreduce.Task {
	return mapreduce.NewTask(Name, &Job{opt: opt}, mapreduce.WithBots())
}

// Partial is one worker's state of the job: the counts, the key id of each
// Agent seen (Agents are shared and read-only, so their pointers identify
// them), and a cache of its own for rows that come without an Agent (when
// the run has no enricher).
type Partial struct {
	keys  *tally.Keys
	t     *tally.Tally
	ids   map[*mapreduce.Agent]uint32
	cache *cache
	key   []byte
	// last and lastID are the Agent of the previous row and its key id.
	last   *mapreduce.Agent
	lastID uint32
	// keep keeps each page view's key id for the visit it may begin and
	// for the visitor's next page views (PageView.Earlier).
	keep mapreduce.Keeper
}

// NewPartial implements mapreduce.Job.
func (j *Job) NewPartial(plan *mapreduce.Plan) *Partial {
	return &Partial{keys: tally.NewKeys(), t: tally.New(plan, tally.TrafficCols, true), ids: map[*mapreduce.Agent]uint32{}, key: make([]byte, 0, 64), keep: mapreduce.NewKeeper()}
}

// Map implements mapreduce.Job: it counts the row under (class, browser,
// os), from pv.Agent or, when no enricher set it, from its own
// classification.
func (j *Job) Map(p *Partial, pv *mapreduce.PageView) {
	id, ok := p.keep.Earlier(pv) // the same user agent's
	if !ok {
		id = p.id(pv)
	}
	p.keep.Set(pv, id)
	p.t.Count(pv, id)
}

// MapVisit implements mapreduce.VisitJob: a visit counts under the device
// of its first page view.
func (j *Job) MapVisit(p *Partial, v *mapreduce.Visit) {
	id, ok := p.keep.Get(v.Entry)
	if !ok { // the page view of another worker's item
		id = p.id(v.Entry)
	}
	p.t.CountVisit(v, id)
}

// id returns the key id of pv's device.
func (p *Partial) id(pv *mapreduce.PageView) uint32 {
	a := pv.Agent
	if a == nil {
		if p.cache == nil {
			p.cache = newCache(DefaultCacheSize)
		}
		a = p.cache.agent(pv.UserAgent)
	}
	if a != p.last {
		id, ok := p.ids[a]
		if !ok {
			id = p.keys.ID(appendKey(p.key[:0], a))
			p.ids[a] = id
		}
		p.last, p.lastID = a, id
	}
	return p.lastID
}

// appendKey appends the tally key of a: its class, browser and OS, each
// field defaulted when empty, with tabs and line breaks (which would break
// the report's key columns in a table) made spaces.
func appendKey(dst []byte, a *mapreduce.Agent) []byte {
	dst = tally.AppendField(dst, clean(a.Class, Unknown))
	dst = tally.AppendField(dst, clean(a.Browser, Other))
	return tally.AppendField(dst, clean(a.OS, Other))
}

func clean(v, def string) string {
	if v == "" {
		return def
	}
	if !strings.ContainsAny(v, "\t\n\r") {
		return v
	}
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, v)
}

// Merge implements mapreduce.Job.
func (j *Job) Merge(dst, src *Partial) { dst.t.MergeKeyed(dst.keys, src.t, src.keys) }

// Reports implements mapreduce.Job: the report "devices", keyed by class,
// browser and OS, per account per local day and over the whole range.
func (j *Job) Reports(p *Partial, plan *mapreduce.Plan) []mapreduce.Report {
	return []mapreduce.Report{p.t.Report(plan, p.keys, tally.ReportSpec{
		Name:     Name,
		Keys:     []string{"class", "browser", "os"},
		Measures: tally.TrafficMeasures,
		Values:   tally.TrafficValues,
		Days:     true,
		Range:    true,
		MaxRows:  j.opt.MaxRows,
	})}
}
