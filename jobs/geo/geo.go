package geo

import (
	"errors"
	"hash/maphash"

	"github.com/oschwald/maxminddb-golang/v2"

	"github.com/pvjobs/pvjobs/jobs/tally"
	"github.com/pvjobs/pvjobs/mapreduce"
)

// Name is the job's and its report's name.
const Name = "geo"

// ErrNoDatabase is returned by Check when no database is given.
var ErrNoDatabase = errors.New("no GeoIP database: the geo job needs --geoip PATH, a GeoIP2/GeoLite2 City or Country .mmdb file (make geo-real fetches GeoLite2-City)")

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

// Per-worker cache sizes. A worker's IP cache has ipSlots slots of 64
// bytes (2 MiB): enough for the visitors active within a few minutes, whose
// next page views it answers, and small enough to stay in the processor's
// cache (with a distinct address per visitor, a larger one mostly holds
// visitors gone). Its record cache maps the offsets of the database records
// it decoded to their locations, at most maxRecords of them (GeoLite2-City
// has about 343,000 records) before it is cleared; its location table holds
// at most maxLocations entries and is cleared when full.
const (
	ipSlots      = 1 << 15
	ipInline     = 59
	maxRecords   = 1 << 19
	maxLocations = 1 << 17
)

// Job counts page views per location (country, region, city). Map resolves
// each page view's IP through a per-worker cache keyed by the raw ip bytes,
// so a visitor's next page views cost one probe that does not allocate; a
// new IP is parsed and answered by the network cache when another address of
// its database network was looked up before (see netCache), else looked up in
// the database, and a database record already seen (many networks share one)
// is not decoded again. The tally then counts the
// location's key, so partials, merging and reports are as small as the set of
// locations, not of IPs.
type Job struct {
	db  *DB
	opt Options
}

// Options configures the job.
type Options struct {
	// MaxRows is the number of rows kept per account and period (the rest
	// are summed into an "(other)" row); 0 keeps every row.
	MaxRows int
}

// New returns the geo job over db as a task. db must stay open until the run
// has finished.
func New(db *DB, opt Options) mapreduce.Task { return mapreduce.NewTask(Name, &Job{db: db, opt: opt}) }

// Partial is one worker's state: its counts, its lookup caches, and the
// tally key id of each of the resolver's locations (ids[i], or noID), valid
// for the resolver's generation gen.
type Partial struct {
	keys *tally.Keys
	t    *tally.Tally
	r    *resolver
	ids  []uint32
	gen  int
	// keep keeps each page view's location id for the visit it may begin.
	keep mapreduce.Keeper
}

const noID = ^uint32(0)

// NewPartial implements mapreduce.Job.
func (j *Job) NewPartial(plan *mapreduce.Plan) *Partial {
	return &Partial{keys: tally.NewKeys(), t: tally.New(plan, tally.TrafficCols, true), r: newResolver(j.db), keep: mapreduce.NewKeeper()}
}

// Map implements mapreduce.Job.
func (j *Job) Map(p *Partial, pv *mapreduce.PageView) {
	id, ok := p.keep.Earlier(pv) // the same ip's
	if !ok {
		id = p.id(pv.IP)
	}
	p.keep.Set(pv, id)
	p.t.Count(pv, id)
}

// MapVisit implements mapreduce.VisitJob: a visit counts under the location
// of its first page view.
func (j *Job) MapVisit(p *Partial, v *mapreduce.Visit) {
	id, ok := p.keep.Get(v.Entry)
	if !ok { // the page view of another worker's item
		id = p.id(v.Entry.IP)
	}
	p.t.CountVisit(v, id)
}

// id returns the tally key id of the location of the raw ip field.
func (p *Partial) id(ip []byte) uint32 {
	i := p.r.loc(ip)
	if p.gen != p.r.gen {
		p.ids, p.gen = p.ids[:0], p.r.gen
	}
	for int(i) >= len(p.ids) {
		p.ids = append(p.ids, noID)
	}
	id := p.ids[i]
	if id == noID {
		id = p.keys.ID(p.r.keys[i])
		p.ids[i] = id
	}
	return id
}

// Merge implements mapreduce.Job.
func (j *Job) Merge(dst, src *Partial) { dst.t.MergeKeyed(dst.keys, src.t, src.keys) }

// Reports implements mapreduce.Job: page views and visitors per country,
// region and city, per account per day and over the whole range.
func (j *Job) Reports(p *Partial, plan *mapreduce.Plan) []mapreduce.Report {
	return []mapreduce.Report{p.t.Report(plan, p.keys, tally.ReportSpec{
		Name:     Name,
		Keys:     []string{"country", "region", "city"},
		Measures: tally.TrafficMeasures,
		Values:   tally.TrafficValues,
		Days:     true,
		Range:    true,
		MaxRows:  j.opt.MaxRows,
	})}
}

// resolver maps raw ip fields to tally keys for one worker. keys[0] is
// Unknown's; the caches hold indexes into keys.
//
// The IP cache is direct-mapped: a field hashes to one 64-byte slot that
// holds the field itself (up to ipInline bytes: any IPv4 or IPv6 address in
// text form) and its location, so a hit costs a hash and one cache line, and
// a new field replaces the slot's old one. A Go map of strings was measured
// about 1.7 times slower on the job's whole path (250 against 145 ns of the
// resolver per page view on the bench data): a map lookup touches the map's
// control word, its slot and the key's bytes elsewhere in memory, and at
// 100,000 distinct IPs each of those is a cache miss.
type resolver struct {
	db *DB
	// gen counts the resets: location indexes of an older generation are
	// void.
	gen     int
	seed    maphash.Seed
	slots   []ipSlot
	nets    *netCache
	records map[uintptr]int32
	index   map[string]int32
	keys    [][]byte
}

// ipSlot is one slot of the IP cache; n == 0 marks it empty.
type ipSlot struct {
	n   uint8
	ip  [ipInline]byte
	loc int32
}

func newResolver(db *DB) *resolver {
	r := &resolver{
		db:      db,
		seed:    maphash.MakeSeed(),
		slots:   make([]ipSlot, ipSlots),
		nets:    newNetCache(),
		records: make(map[uintptr]int32),
		index:   make(map[string]int32),
	}
	r.reset()
	return r
}

// reset empties every cache, as the indexes they hold are about to change.
func (r *resolver) reset() {
	r.gen++
	clear(r.slots)
	r.nets.reset()
	clear(r.records)
	clear(r.index)
	k := unknown.key()
	r.keys = append(r.keys[:0], []byte(k))
	r.index[k] = 0
}

// key returns the tally key of the location of the raw ip field. The result
// is owned by the resolver.
func (r *resolver) key(ip []byte) []byte { return r.keys[r.loc(ip)] }

// loc returns the index in keys of the location of the raw ip field.
func (r *resolver) loc(ip []byte) int32 {
	if len(ip) == 0 {
		return 0
	}
	if len(ip) > ipInline {
		return r.resolve(ip)
	}
	s := &r.slots[maphash.Bytes(r.seed, ip)&(ipSlots-1)]
	if int(s.n) == len(ip) && string(s.ip[:s.n]) == string(ip) {
		return s.loc
	}
	i := r.resolve(ip)
	s = &r.slots[maphash.Bytes(r.seed, ip)&(ipSlots-1)] // resolve may have reset
	s.n = uint8(copy(s.ip[:], ip))
	s.loc = i
	return i
}

// resolve parses and looks up one ip field and returns its location's index:
// from the network cache when another address of its network was looked up
// before, else from the database (decoding the record only when its offset
// is new).
func (r *resolver) resolve(field []byte) int32 {
	ip, ok := parseIPv4(field)
	if !ok {
		var err error
		if ip, err = ParseIP(string(field)); err != nil {
			return 0
		}
	}
	if !Routable(ip) {
		return 0
	}
	if i, ok := r.nets.get(ip); ok {
		return i
	}
	res := r.db.mm.Lookup(ip)
	i := r.record(res)
	if res.Err() == nil {
		r.nets.put(ip, res.Prefix(), i)
	}
	return i
}

// record returns the location index of a lookup's result.
func (r *resolver) record(res maxminddb.Result) int32 {
	if !res.Found() {
		return 0
	}
	off := res.Offset()
	if i, ok := r.records[off]; ok {
		return i
	}
	i := r.intern(r.db.decode(res)) // may reset
	if len(r.records) >= maxRecords {
		clear(r.records)
	}
	r.records[off] = i
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
