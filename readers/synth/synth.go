// Package synth generates realistic synthetic page views: Zipf-distributed
// pages, a pool of repeat visitors with real-looking user agents, IPs and
// languages, search/social/email/internal/direct referrers, and a diurnal
// traffic curve. It writes shard files (pvjobs gen) and serves as an in-memory
// source for benchmarks. Output is deterministic for a seed.
package synth

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/file"
	"github.com/vmihailenco/msgpack/v5"
)

// Config says what to generate.
type Config struct {
	Accounts []string
	From, To mapreduce.Date
	// RowsPerDay is the mean number of page views per account per UTC day.
	RowsPerDay int
	// Pages is the number of distinct pages per account (default 500).
	Pages int
	// Visitors is the size of the visitor pool per account (default
	// RowsPerDay/4, at least 50).
	Visitors int
	// Agents is the number of distinct user-agent strings (default 2000).
	Agents int
	// Networks are IP prefixes visitors come from (default: a few public
	// ranges); pick ranges a test GeoIP database knows to get geo reports.
	Networks []netip.Prefix
	Seed     uint64
}

// Generator produces the page views of a Config.
type Generator struct {
	cfg      Config
	agents   []string
	networks []netip.Prefix
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
		cfg.Pages = 500
	}
	if cfg.Visitors <= 0 {
		cfg.Visitors = max(50, cfg.RowsPerDay/4)
	}
	if cfg.Agents <= 0 {
		cfg.Agents = 2000
	}
	g := &Generator{cfg: cfg, networks: cfg.Networks}
	if len(g.networks) == 0 {
		for _, s := range defaultNetworks {
			g.networks = append(g.networks, netip.MustParsePrefix(s))
		}
	}
	g.agents = makeAgents(cfg.Agents, cfg.Seed)
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

type visitor struct {
	ip, ua, lang, id string
	node             uint64
	clock            uint16
}

type site struct {
	host   string
	pages  []string
	titles []string
	vis    []visitor
}

func (g *Generator) site(account string) *site {
	r := rand.New(rand.NewPCG(g.cfg.Seed, hash(account)))
	s := &site{host: strings.ToLower(strings.ReplaceAll(account, "_", "-")) + ".example.com"}
	sections := []string{"blog", "docs", "products", "news", "help", "about", "pricing", "guides"}
	for i := 0; i < g.cfg.Pages; i++ {
		var p, t string
		switch {
		case i == 0:
			p, t = "/", "Home"
		default:
			sec := sections[r.IntN(len(sections))]
			slug := words[r.IntN(len(words))] + "-" + words[r.IntN(len(words))]
			p = fmt.Sprintf("/%s/%s-%d", sec, slug, i)
			t = strings.ToUpper(slug[:1]) + strings.ReplaceAll(slug[1:], "-", " ") + " | " + account
		}
		s.pages = append(s.pages, p)
		s.titles = append(s.titles, t)
	}
	langs := []string{"en-US", "en-GB", "de-DE", "fr-FR", "es-ES", "ja-JP", "pt-BR", "zh-CN", "ru-RU", "it-IT", "nl-NL", "ko-KR"}
	for i := 0; i < g.cfg.Visitors; i++ {
		n := g.networks[r.IntN(len(g.networks))]
		v := visitor{
			ip:    randomAddr(r, n).String(),
			ua:    g.agents[int(math.Floor(math.Pow(r.Float64(), 2.5)*float64(len(g.agents))))],
			lang:  langs[r.IntN(len(langs))],
			node:  r.Uint64() | 1<<40, // multicast bit: a random node id, as uuid1() does without a MAC
			clock: uint16(r.Uint32()),
		}
		if r.IntN(3) == 0 {
			v.id = fmt.Sprintf("v%016x", r.Uint64())
		}
		s.vis = append(s.vis, v)
	}
	return s
}

// Row is one generated page view.
type Row struct {
	TS    [16]byte
	Value []byte
}

// Rows returns the rows of one shard, in timeuuid order.
func (g *Generator) Rows(key mapreduce.ShardKey) []Row {
	s := g.site(key.Account)
	r := rand.New(rand.NewPCG(g.cfg.Seed^0x9e3779b97f4a7c15, hash(key.String())))
	pages := rand.NewZipf(r, 1.1, 2, uint64(len(s.pages)-1))
	visitors := rand.NewZipf(r, 1.05, float64(max(4, len(s.vis)/8)), uint64(len(s.vis)-1))
	// Weekends are quieter; the mean stays near RowsPerDay.
	n := g.cfg.RowsPerDay
	if wd := key.Day.Weekday(); wd == time.Saturday || wd == time.Sunday {
		n = n * 7 / 10
	}
	n = max(1, n+int(r.NormFloat64()*math.Sqrt(float64(n))))
	type ev struct {
		ns  int64
		vis int
	}
	evs := make([]ev, n)
	for i := range evs {
		evs[i] = ev{ns: key.Day.UnixNano() + diurnal(r), vis: int(visitors.Uint64())}
	}
	slices.SortFunc(evs, func(a, b ev) int { return int(a.ns/100 - b.ns/100) })
	rows := make([]Row, n)
	var last int64
	for i, e := range evs {
		ns := e.ns / 100 * 100
		if ns <= last {
			ns = last + 100 // keep timeuuids unique and ordered
		}
		last = ns
		v := s.vis[e.vis]
		page := int(pages.Uint64())
		rows[i] = Row{
			TS:    mapreduce.TimeUUID(time.Unix(0, ns), v.clock, v.node),
			Value: encode(s, v, page, referrer(r, s)),
		}
	}
	return rows
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

func encode(s *site, v visitor, page int, ref string) []byte {
	var b strings.Builder
	enc := msgpack.NewEncoder(&b)
	n := 6
	if v.id != "" {
		n = 7
	}
	_ = enc.EncodeMapLen(n)
	kv := func(k, val string) {
		_ = enc.EncodeString(k)
		_ = enc.EncodeString(val)
	}
	url := "https://" + s.host + s.pages[page]
	kv("url", url+campaign(page, ref))
	kv("title", s.titles[page])
	kv("ip", v.ip)
	kv("referrer", ref)
	kv("user_agent", v.ua)
	kv("language", v.lang)
	if v.id != "" {
		kv("visitor_id", v.id)
	}
	return []byte(b.String())
}

// campaign adds tracking parameters to some landing pages.
func campaign(page int, ref string) string {
	switch {
	case strings.Contains(ref, "facebook") && page%3 == 0:
		return "?utm_source=facebook&utm_medium=social&fbclid=IwAR" + fmt.Sprint(page)
	case strings.Contains(ref, "mail") && page%2 == 0:
		return "?utm_source=newsletter&utm_medium=email&utm_campaign=weekly"
	case page > 0 && page%17 == 0:
		return "?ref=sidebar#comments"
	}
	return ""
}

func referrer(r *rand.Rand, s *site) string {
	x := r.Float64()
	switch {
	case x < 0.38:
		return ""
	case x < 0.50:
		return "https://" + s.host + s.pages[r.IntN(min(20, len(s.pages)))]
	case x < 0.78:
		q := searchTerms[r.IntN(len(searchTerms))]
		e := searchReferrers[r.IntN(len(searchReferrers))]
		if strings.Contains(e, "%s") {
			return fmt.Sprintf(e, strings.ReplaceAll(q, " ", "+"))
		}
		return e
	case x < 0.90:
		return socialReferrers[r.IntN(len(socialReferrers))]
	case x < 0.93:
		return emailReferrers[r.IntN(len(emailReferrers))]
	default:
		return referralSites[r.IntN(len(referralSites))] + fmt.Sprintf("/post/%d", r.IntN(100))
	}
}

func randomAddr(r *rand.Rand, p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().AsSlice()
	bits := p.Bits()
	for i := len(a)*8 - 1; i >= bits; i-- {
		if r.IntN(2) == 1 {
			a[i/8] |= 1 << (7 - uint(i%8))
		}
	}
	addr, _ := netip.AddrFromSlice(a)
	return addr
}

func hash(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
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
		for _, row := range g.Rows(k) {
			if err := w.Write(row.TS, row.Value); err != nil {
				w.Abort()
				return total, err
			}
			total++
		}
		if err := w.Close(); err != nil {
			return total, err
		}
	}
	return total, nil
}
