package synth

import (
	"cmp"
	"container/heap"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/file"
)

// Config says what to generate.
type Config struct {
	Accounts []string
	From, To mapreduce.Date
	// RowsPerDay is the mean number of page views per account per UTC
	// weekday, bots included (weekends have 70% of it).
	RowsPerDay int
	// Pages is the number of distinct pages per account (default 2000).
	Pages int
	// Agents is the number of generated long-tail user-agent variants
	// besides the real table's (default 4000; negative: none).
	Agents int
	// BotShare is the share of page views made by bots (default 0.1;
	// negative: none).
	BotShare float64
	// Networks, when set, are the IP networks every visitor comes from: the
	// test GeoIP databases' sample networks (geo.SamplePrefixes), so a geo
	// report on those databases has locations. Empty: visitors come from the
	// whole public IPv4 space and from IPv6 access networks.
	Networks []netip.Prefix
	Seed     uint64
}

// Generator produces the page views of a Config.
type Generator struct {
	cfg    Config
	agents *weighted[string]
	sites  map[string]*site
	// meanPV is the expected number of page views of a human visit.
	meanPV float64
}

// New checks cfg and returns a Generator.
func New(cfg Config) (*Generator, error) {
	if len(cfg.Accounts) == 0 {
		return nil, fmt.Errorf("synth: no accounts")
	}
	for _, a := range cfg.Accounts {
		if err := mapreduce.ValidateAccount(a); err != nil {
			return nil, err
		}
	}
	if cfg.To.Before(cfg.From) {
		return nil, fmt.Errorf("synth: --from %s is after --to %s", cfg.From, cfg.To)
	}
	if cfg.RowsPerDay <= 0 {
		return nil, fmt.Errorf("synth: rows per day must be positive")
	}
	if cfg.Pages <= 0 {
		cfg.Pages = 2000
	}
	switch {
	case cfg.Agents == 0:
		cfg.Agents = 4000
	case cfg.Agents < 0:
		cfg.Agents = 0
	}
	switch {
	case cfg.BotShare == 0:
		cfg.BotShare = 0.1
	case cfg.BotShare < 0:
		cfg.BotShare = 0
	case cfg.BotShare > 0.9:
		return nil, fmt.Errorf("synth: bot share %g: want at most 0.9", cfg.BotShare)
	}
	g := &Generator{cfg: cfg, sites: map[string]*site{}}
	g.agents = makeAgents(cfg.Agents, cfg.Seed)
	for _, a := range cfg.Accounts {
		g.sites[a] = g.newSite(a)
	}
	g.meanPV = meanVisitLength()
	return g, nil
}

// Shards returns the shard keys the generator fills, by day then account.
func (g *Generator) Shards() []mapreduce.ShardKey {
	var keys []mapreduce.ShardKey
	for d := g.cfg.From; !g.cfg.To.Before(d); d = d.AddDays(1) {
		for _, a := range g.cfg.Accounts {
			keys = append(keys, mapreduce.ShardKey{Day: d.In(time.UTC), Account: a})
		}
	}
	return keys
}

// site is one account's web site: its host and pages.
type site struct {
	account string
	host    string
	base    string // "https://" + host
	pages   []string
	titles  []string
	// popular draws landing and next pages: a few pages get most views.
	popular func(r *rand.Rand) int
}

func (g *Generator) newSite(account string) *site {
	r := rand.New(rand.NewPCG(g.cfg.Seed, hash(account)))
	s := &site{account: account, host: strings.ToLower(strings.ReplaceAll(account, "_", "-")) + ".example.com"}
	s.base = "https://" + s.host
	seen := map[string]bool{}
	for i := 0; i < g.cfg.Pages; i++ {
		var p, t string
		switch {
		case i == 0:
			p, t = "/", "Home | "+account
		case i <= len(sections):
			sec := sections[i-1]
			p, t = "/"+sec+"/", strings.ToUpper(sec[:1])+sec[1:]+" | "+account
		default:
			sec := sections[r.IntN(len(sections))]
			w1, w2 := words[r.IntN(len(words))], words[r.IntN(len(words))]
			slug := w1 + "-" + w2
			p = "/" + sec + "/" + slug
			if seen[p] {
				p += "-" + strconv.Itoa(i)
			}
			t = strings.ToUpper(w1[:1]) + w1[1:] + " " + w2 + " | " + account
		}
		seen[p] = true
		s.pages = append(s.pages, p)
		s.titles = append(s.titles, t)
	}
	n := uint64(len(s.pages) - 1)
	s.popular = func(r *rand.Rand) int {
		// Zipf over pages by inverse transform of a continuous power law,
		// s = 1.1: cheap and needs no per-generator state.
		u := r.Float64()
		x := math.Pow(1-u*(1-math.Pow(float64(n)+1, -0.1)), -10) - 1
		return int(min(uint64(x), n))
	}
	return s
}

// Human visits: a share bounce (one page view); the others have 2 and a
// geometric number more, up to maxVisitPages.
const (
	bounceShare   = 0.48
	moreMean      = 3.5 // mean extra page views of a visit that does not bounce
	maxVisitPages = 60
	// maxSpan bounds a visit's or a crawl's span: page views later than
	// this after its start are not made, so a shard needs the visits of the
	// day before that start within maxSpan of midnight only.
	maxSpan = 3 * time.Hour
)

func meanVisitLength() float64 { return bounceShare + (1-bounceShare)*(2+moreMean) }

func visitLength(r *rand.Rand) int {
	if r.Float64() < bounceShare {
		return 1
	}
	n := 2 + int(r.ExpFloat64()*moreMean)
	return min(n, maxVisitPages)
}

// plan is a visit (or a bot's crawl) before it is made: its start and the
// seed of everything else.
type plan struct {
	start int64
	seed  uint64
	bot   bool
	// day and index name the visit: (day, index) of a new visitor's first
	// visit is the visitor.
	day   int64
	index int
}

// dayPlans returns the visits and crawls that start on UTC day `day`
// (Unix days) of account, sorted by start.
func (g *Generator) dayPlans(s *site, day int64) []plan {
	r := rand.New(rand.NewPCG(g.cfg.Seed^0x9e3779b97f4a7c15, hash(s.account)^uint64(day)*0xff51afd7ed558ccd))
	humans, crawls := g.dayCounts(day)
	// The counts vary a little from day to day, as traffic does.
	humans = max(1, humans+int(r.NormFloat64()*math.Sqrt(float64(humans))))
	if crawls > 0 {
		crawls = max(0, crawls+int(r.NormFloat64()*math.Sqrt(float64(crawls))))
	}
	start := day * int64(24*time.Hour)
	ps := make([]plan, 0, humans+crawls)
	for i := 0; i < humans; i++ {
		ps = append(ps, plan{start: start + diurnal(r), seed: r.Uint64(), day: day, index: i})
	}
	for i := 0; i < crawls; i++ {
		// Crawlers come at any hour.
		ps = append(ps, plan{start: start + r.Int64N(int64(24*time.Hour)), seed: r.Uint64(), bot: true, day: day, index: i})
	}
	slices.SortFunc(ps, func(a, b plan) int { return cmp.Compare(a.start, b.start) })
	return ps
}

// meanCrawl is the mean number of page views of a crawl (see bots).
var meanCrawl = func() float64 {
	sum, tw := 0.0, 0.0
	prev := 0.0
	for i, b := range bots.items {
		w := bots.cum[i] - prev
		prev = bots.cum[i]
		sum += w * float64(b.minPages+b.maxPgs) / 2
		tw += w
	}
	return sum / tw
}()

// dayCounts returns the expected numbers of human visits and of crawls of
// a UTC day.
func (g *Generator) dayCounts(day int64) (visits, crawls int) {
	n := float64(g.cfg.RowsPerDay)
	if wd := time.Unix(day*86400, 0).UTC().Weekday(); wd == time.Saturday || wd == time.Sunday {
		n *= 0.7
	}
	visits = int(math.Round(n * (1 - g.cfg.BotShare) / g.meanPV))
	crawls = int(math.Round(n * g.cfg.BotShare / meanCrawl))
	if g.cfg.BotShare > 0 && crawls == 0 && n*g.cfg.BotShare >= 1 {
		crawls = 1
	}
	return visits, crawls
}

// diurnal returns an offset into the day following a daily curve: quiet at
// 04:00 UTC, busiest in the afternoon.
func diurnal(r *rand.Rand) int64 {
	for {
		x := r.Float64()
		w := 1 + 0.8*math.Sin(2*math.Pi*(x-0.42))
		if r.Float64()*1.8 < w {
			return int64(x * float64(24*time.Hour))
		}
	}
}

// Row is one generated page view.
type Row struct {
	TS    [16]byte
	Value []byte
}

// event is a generated page view waiting to be emitted in time order.
type event struct {
	ns      int64
	clock   uint16
	node    uint64
	value   []byte
	logLine []byte
	order   uint64
}

type eventHeap []*event

func (h eventHeap) Len() int { return len(h) }
func (h eventHeap) Less(i, j int) bool {
	return h[i].ns < h[j].ns || h[i].ns == h[j].ns && h[i].order < h[j].order
}
func (h eventHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *eventHeap) Push(x any)   { *h = append(*h, x.(*event)) }
func (h *eventHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// emitFunc receives a shard's page views in time order: the timeuuid, the
// stored value and, when asked for, the access-log line. Both slices are
// valid only during the call.
type emitFunc func(ts [16]byte, value, logLine []byte) error

// stream generates the page views of shard key in timeuuid order and hands
// each to emit. withLog makes access-log lines too.
func (g *Generator) stream(key mapreduce.ShardKey, withLog bool, emit emitFunc) error {
	s, ok := g.sites[key.Account]
	if !ok {
		return fmt.Errorf("synth: unknown account %q", key.Account)
	}
	dayStart := key.Day.UnixNano()
	dayEnd := dayStart + int64(24*time.Hour)
	day := key.Day.Unix() / 86400
	// The visits of the day before that may go on past midnight, then the
	// day's.
	var ps []plan
	for _, p := range g.dayPlans(s, day-1) {
		if p.start >= dayStart-int64(maxSpan) {
			ps = append(ps, p)
		}
	}
	ps = append(ps, g.dayPlans(s, day)...)

	m := maker{g: g, s: s, withLog: withLog}
	var h eventHeap
	var free []*event
	last := int64(math.MinInt64)
	var seq uint64
	flush := func(before int64) error {
		for len(h) > 0 && h[0].ns < before {
			e := heap.Pop(&h).(*event)
			ns := e.ns / 100 * 100
			if ns <= last {
				ns = last + 100 // keep timeuuids unique and ordered
			}
			last = ns
			if ns < dayEnd {
				if err := emit(mapreduce.TimeUUID(time.Unix(0, ns), e.clock, e.node), e.value, e.logLine); err != nil {
					return err
				}
			}
			free = append(free, e)
		}
		return nil
	}
	for _, p := range ps {
		if err := flush(p.start); err != nil {
			return err
		}
		m.make(p, func(ns int64, clock uint16, node uint64, value, logLine []byte) {
			if ns < dayStart || ns >= dayEnd {
				return
			}
			var e *event
			if n := len(free); n > 0 {
				e, free = free[n-1], free[:n-1]
			} else {
				e = &event{}
			}
			e.ns, e.clock, e.node, e.order = ns, clock, node, seq
			seq++
			e.value = append(e.value[:0], value...)
			e.logLine = append(e.logLine[:0], logLine...)
			heap.Push(&h, e)
		})
	}
	return flush(math.MaxInt64)
}

// Each calls fn with every page view of shard key, in timeuuid order, as
// they are generated: memory does not grow with the shard. value is valid
// only during the call. Each returns fn's first error.
func (g *Generator) Each(key mapreduce.ShardKey, fn func(ts [16]byte, value []byte) error) error {
	return g.stream(key, false, func(ts [16]byte, value, _ []byte) error { return fn(ts, value) })
}

// Rows returns the rows of one shard, in timeuuid order.
func (g *Generator) Rows(key mapreduce.ShardKey) []Row {
	var rows []Row
	_ = g.stream(key, false, func(ts [16]byte, value, _ []byte) error {
		rows = append(rows, Row{TS: ts, Value: slices.Clone(value)})
		return nil
	})
	return rows
}

// WriteDir writes every shard as a file into dir (gzip-compressed when gz)
// and returns the number of rows written.
func (g *Generator) WriteDir(ctx context.Context, dir string, gz bool) (int64, error) {
	var total int64
	for _, k := range g.Shards() {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		w, err := file.Create(dir, k, gz)
		if err != nil {
			return total, err
		}
		err = g.stream(k, false, func(ts [16]byte, value, _ []byte) error {
			total++
			if total&4095 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			return w.Write(ts, value)
		})
		if err != nil {
			w.Abort()
			return total, fmt.Errorf("writing shard %s: %w", k, err)
		}
		if err := w.Close(); err != nil {
			return total, err
		}
	}
	return total, nil
}

func hash(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// mix is SplitMix64's finaliser: a well-spread hash of x.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}
