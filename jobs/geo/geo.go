package geo

import (
	"errors"

	"github.com/pvjobs/pvjobs/jobs/tally"
	"github.com/pvjobs/pvjobs/mapreduce"
)

// Name is the job's and its report's name.
const Name = "geo"

// ErrNoDatabase is returned by Check when no database is given.
var ErrNoDatabase = errors.New("no GeoIP database: the geo job needs --geoip PATH, a GeoIP2/GeoLite2 City or Country .mmdb file (testdata/geoip/fetch-geolite2.sh fetches GeoLite2-City)")

// Check validates the database path of a run before any data is read:
// ErrNoDatabase when path is "", else the error of Open.
func Check(path string) error {
	if path == "" {
		return ErrNoDatabase
	}
	db, err := Open(path)
	if err != nil {
		return err
	}
	return db.Close()
}

// Per-worker cache bounds. A worker's caches hold at most maxIPs raw IP
// strings (about 10 MB), maxOffsets database records and maxLocations
// distinct locations; each is cleared when full.
const (
	maxIPs       = 1 << 17
	maxIPLen     = 128
	maxOffsets   = 1 << 16
	maxLocations = 1 << 16
)

// Job counts page views per location (country, region, city). Map resolves
// each page view's IP through a per-worker cache keyed by the raw ip bytes,
// so a repeat visitor costs one map lookup that does not allocate; only a new
// IP is parsed and looked up in the database, and a database record already
// seen (many IPs share one) is not decoded again. The tally then counts the
// location's key, so partials, merging and reports are as small as the set of
// locations, not of IPs.
type Job struct{ db *DB }

// New returns the geo job over db as a task. db must stay open until the run
// has finished.
func New(db *DB) mapreduce.Task { return mapreduce.NewTask(Name, &Job{db: db}) }

// Partial is one worker's state: its counts and its lookup caches.
type Partial struct {
	t *tally.Tally
	r *resolver
}

// NewPartial implements mapreduce.Job.
func (j *Job) NewPartial(plan *mapreduce.Plan) *Partial {
	return &Partial{t: tally.New(plan), r: newResolver(j.db)}
}

// Map implements mapreduce.Job.
func (j *Job) Map(p *Partial, pv *mapreduce.PageView) { p.t.Add(pv, p.r.key(pv.IP)) }

// Merge implements mapreduce.Job.
func (j *Job) Merge(dst, src *Partial) { dst.t.Merge(src.t) }

// Reports implements mapreduce.Job: page views per country, region and city,
// per account per day and over the whole range.
func (j *Job) Reports(p *Partial, plan *mapreduce.Plan) []mapreduce.Report {
	return []mapreduce.Report{p.t.Report(plan, tally.ReportSpec{
		Name:    Name,
		Keys:    []string{"country", "region", "city"},
		Measure: "pageviews",
		Days:    true,
		Range:   true,
	})}
}

// resolver maps raw ip fields to tally keys for one worker. keys[0] is
// Unknown's; the other caches hold indexes into keys.
type resolver struct {
	db      *DB
	ips     map[string]int32
	offsets map[uintptr]int32
	index   map[string]int32
	keys    [][]byte
}

func newResolver(db *DB) *resolver {
	r := &resolver{
		db:      db,
		ips:     make(map[string]int32),
		offsets: make(map[uintptr]int32),
		index:   make(map[string]int32),
	}
	r.reset()
	return r
}

// reset empties every cache, as the indexes they hold are about to change.
func (r *resolver) reset() {
	clear(r.ips)
	clear(r.offsets)
	clear(r.index)
	k := unknown.key()
	r.keys = append(r.keys[:0], []byte(k))
	r.index[k] = 0
}

// key returns the tally key of the location of the raw ip field. The result
// is owned by the resolver.
func (r *resolver) key(ip []byte) []byte {
	if i, ok := r.ips[string(ip)]; ok {
		return r.keys[i]
	}
	if len(ip) > maxIPLen {
		return r.keys[r.resolve(string(ip))]
	}
	s := string(ip)
	i := r.resolve(s)
	if len(r.ips) >= maxIPs {
		clear(r.ips)
	}
	r.ips[s] = i
	return r.keys[i]
}

// resolve parses and looks up one ip field and returns its location's index.
func (r *resolver) resolve(s string) int32 {
	ip, err := ParseIP(s)
	if err != nil || !Routable(ip) {
		return 0
	}
	res := r.db.mm.Lookup(ip)
	if !res.Found() {
		return 0
	}
	off := res.Offset()
	if i, ok := r.offsets[off]; ok {
		return i
	}
	i := r.intern(r.db.decode(res))
	if len(r.offsets) >= maxOffsets {
		clear(r.offsets)
	}
	r.offsets[off] = i
	return i
}

// intern returns the index of loc's key, adding it when new.
func (r *resolver) intern(loc Location) int32 {
	k := loc.key()
	if i, ok := r.index[k]; ok {
		return i
	}
	if len(r.keys) >= maxLocations {
		r.reset()
	}
	i := int32(len(r.keys))
	r.keys = append(r.keys, []byte(k))
	r.index[k] = i
	return i
}
