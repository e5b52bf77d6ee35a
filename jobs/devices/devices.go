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
type Job struct{}

// New returns the job as a task.
func New() mapreduce.Task { return mapreduce.NewTask(Name, &Job{}, mapreduce.WithBots()) }

// Partial is one worker's state of the job: the counts, and a cache of its
// own for rows that come without an Agent (when the run has no enricher).
type Partial struct {
	t     *tally.Tally
	cache *cache
	// key is the tally key of last, the Agent of the previous row.
	key  []byte
	last *mapreduce.Agent
}

// NewPartial implements mapreduce.Job.
func (j *Job) NewPartial(plan *mapreduce.Plan) *Partial {
	return &Partial{t: tally.New(plan), key: make([]byte, 0, 64)}
}

// Map implements mapreduce.Job: it counts the row under "class\tbrowser\tos",
// from pv.Agent or, when no enricher set it, from its own classification.
func (j *Job) Map(p *Partial, pv *mapreduce.PageView) {
	a := pv.Agent
	if a == nil {
		if p.cache == nil {
			p.cache = newCache(DefaultCacheSize)
		}
		a = p.cache.agent(pv.UserAgent)
	}
	if a != p.last {
		k := appendField(p.key[:0], a.Class, Unknown)
		k = append(k, '\t')
		k = appendField(k, a.Browser, Other)
		k = append(k, '\t')
		k = appendField(k, a.OS, Other)
		p.key, p.last = k, a
	}
	p.t.Add(pv, p.key)
}

// appendField appends v, or def when v is empty, with tabs and line breaks
// (which would break the report's key columns) made spaces.
func appendField(dst []byte, v, def string) []byte {
	if v == "" {
		v = def
	}
	if strings.IndexByte(v, '\t') < 0 && strings.IndexByte(v, '\n') < 0 && strings.IndexByte(v, '\r') < 0 {
		return append(dst, v...)
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '\t' || c == '\n' || c == '\r' {
			c = ' '
		}
		dst = append(dst, c)
	}
	return dst
}

// Merge implements mapreduce.Job.
func (j *Job) Merge(dst, src *Partial) { dst.t.Merge(src.t) }

// Reports implements mapreduce.Job: the report "devices", keyed by class,
// browser and OS, per account per local day and over the whole range.
func (j *Job) Reports(p *Partial, plan *mapreduce.Plan) []mapreduce.Report {
	return []mapreduce.Report{p.t.Report(plan, tally.ReportSpec{
		Name:    Name,
		Keys:    []string{"class", "browser", "os"},
		Measure: "pageviews",
		Days:    true,
		Range:   true,
	})}
}
