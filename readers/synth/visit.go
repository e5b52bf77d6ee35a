package synth

import (
	"bytes"
	"math"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// maker turns plans into page views, reusing its buffers.
type maker struct {
	g       *Generator
	s       *site
	withLog bool
	pcg     rand.PCG
	r       *rand.Rand
	url     []byte
	prevURL []byte
	val     []byte
	line    []byte
}

// visitor is who makes a visit.
type visitor struct {
	ip, ua, lang string
	id           string // visitor_id, "" for none
	node         uint64
	clock        uint16
}

// returnShare is the share of human visits by a returning visitor: one who
// made a visit earlier that day or on one of the days before.
const returnShare = 0.3

// ipChangeShare is the share of returning visitors on a later day whose IP
// address has changed (mobile networks, dynamic addresses).
const ipChangeShare = 0.25

// visitorOf returns the visitor of plan p: a new one, named by the visit,
// or a returning one, named by an earlier visit of the account.
func (m *maker) visitorOf(p plan, r *rand.Rand) visitor {
	day, index := p.day, p.index
	if r.Float64() < returnShare {
		// Most return the same day or the next; some a week later.
		back := int64(min(7, int(r.ExpFloat64()*1.2)))
		day -= back
		n, _ := m.g.dayCounts(day)
		if back == 0 {
			n = max(p.index, 1)
		}
		index = r.IntN(max(n, 1))
	}
	id := mix(m.g.cfg.Seed ^ hash(m.s.account) ^ mix(uint64(day)<<24^uint64(index)))
	vr := rand.New(rand.NewPCG(id, 0x5eed))
	v := visitor{
		ua:    m.g.agents.pick(vr),
		lang:  languages.pick(vr),
		node:  vr.Uint64() | 1<<40, // multicast bit: a random node id, as uuid1() does without a MAC
		clock: uint16(vr.Uint32()),
	}
	ipSeed := vr.Uint64()
	if day != p.day && r.Float64() < ipChangeShare {
		ipSeed = mix(ipSeed ^ uint64(p.day))
	}
	v.ip = m.addr(ipSeed)
	if vr.IntN(3) == 0 {
		v.id = "v" + strconv.FormatUint(id, 16)
	}
	return v
}

// addr returns the address of a visitor or bot from seed.
func (m *maker) addr(seed uint64) string {
	r := rand.New(rand.NewPCG(seed, 0x1b))
	if nets := m.g.cfg.Networks; len(nets) > 0 {
		return randomAddr(r, nets[r.IntN(len(nets))]).String()
	}
	return publicAddr(r).String()
}

// ipv6Share is the share of visitors with an IPv6 address.
const ipv6Share = 0.15

// publicAddr returns a random public address: IPv4 anywhere in the public
// space, or IPv6 in an access network.
func publicAddr(r *rand.Rand) netip.Addr {
	if r.Float64() < ipv6Share {
		return randomAddr(r, ipv6Networks.pick(r))
	}
	for {
		var b [4]byte
		u := r.Uint32()
		b[0], b[1], b[2], b[3] = byte(u>>24), byte(u>>16), byte(u>>8), byte(u)
		a := netip.AddrFrom4(b)
		if public(a) {
			return a
		}
	}
}

func public(a netip.Addr) bool {
	if a.IsPrivate() || a.IsLoopback() || a.IsMulticast() || a.IsLinkLocalUnicast() || a.IsUnspecified() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return false
		}
	}
	return true
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

// pageFunc receives one page view of a visit.
type pageFunc func(ns int64, clock uint16, node uint64, value, logLine []byte)

// make makes the page views of plan p.
func (m *maker) make(p plan, fn pageFunc) {
	m.pcg.Seed(p.seed, 0x7a11)
	if m.r == nil {
		m.r = rand.New(&m.pcg)
	}
	r := m.r
	if p.bot {
		m.crawl(p, r, fn)
		return
	}
	v := m.visitorOf(p, r)
	n := visitLength(r)
	// Where the visit comes from.
	entryRef, query := m.entry(r)
	page := m.s.popular(r)
	t := p.start
	m.prevURL = append(m.prevURL[:0], entryRef...)
	for i := 0; i < n; i++ {
		if i > 0 {
			t += gap(r)
			if t-p.start > int64(maxSpan) {
				return
			}
			// Internal navigation: the previous page is the referrer.
			query = ""
			page = m.next(page, r)
		}
		m.url = m.pageURL(m.url[:0], page, query, r)
		m.emit(t, v, m.url, m.s.titles[page], m.prevURL, fn)
		m.prevURL = append(m.prevURL[:0], m.url...)
		if i := bytes.IndexByte(m.prevURL, '#'); i >= 0 {
			m.prevURL = m.prevURL[:i]
		}
	}
}

// gap returns the time between two page views of a visit: seconds to a few
// minutes (log-normal, median 35 s); now and then a pause of over half an
// hour, after which the analytics count a new visit.
func gap(r *rand.Rand) int64 {
	if r.Float64() < 0.01 {
		return int64(31*time.Minute) + r.Int64N(int64(60*time.Minute))
	}
	s := math.Exp(math.Log(35) + 1.1*r.NormFloat64())
	s = min(max(s, 1), 25*60)
	return int64(s * float64(time.Second))
}

// entry returns the referrer and landing-page parameters of a visit's
// first page view: direct, search, social, e-mail, another site, or a
// campaign.
func (m *maker) entry(r *rand.Rand) (ref, query string) {
	x := r.Float64()
	switch {
	case x < 0.30: // direct: typed, bookmarked, an app
		return "", ""
	case x < 0.62:
		e := searchEngines.pick(r)
		if e.withTerm != "" && r.Float64() < 0.35 {
			return strings.Replace(e.withTerm, "%s", queryEscape(searchTerm(r)), 1), ""
		}
		return e.noTerm, ""
	case x < 0.74:
		s := socialReferrers.pick(r)
		if base, ok := strings.CutSuffix(s, "*"); ok {
			if strings.Contains(base, "reddit") {
				s = base + words[r.IntN(len(words))] + "/comments/" + strconv.FormatUint(r.Uint64()&0xffffff, 36) + "/"
			} else {
				s = base + strconv.FormatUint(r.Uint64()&0xffffffffffff, 36)
			}
		}
		return s, ""
	case x < 0.78:
		return emailReferrers[r.IntN(len(emailReferrers))], ""
	case x < 0.90:
		site := referralSites[r.IntN(len(referralSites))]
		return site + "/" + words[r.IntN(len(words))] + "-" + words[r.IntN(len(words))] + "-" + strconv.Itoa(r.IntN(5000)), ""
	default:
		c := campaigns.pick(r)
		q := c.query
		if c.clickID != "" {
			id := c.clickID + "=" + clickID(r)
			if q == "" {
				q = id
			} else {
				q += "&" + id
			}
		}
		return c.referrer, q
	}
}

// searchTerm returns a search term: a few common ones, many rare.
func searchTerm(r *rand.Rand) string {
	if r.Float64() < 0.4 {
		return searchTerms[r.IntN(len(searchTerms))]
	}
	w := words
	switch r.IntN(4) {
	case 0:
		return "how to " + w[r.IntN(len(w))] + " " + w[r.IntN(len(w))]
	case 1:
		return w[r.IntN(len(w))] + " " + w[r.IntN(len(w))] + " " + strconv.Itoa(2020+r.IntN(6))
	default:
		return w[r.IntN(len(w))] + " " + w[r.IntN(len(w))]
	}
}

const clickAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"

func clickID(r *rand.Rand) string {
	var b [32]byte
	for i := range b {
		b[i] = clickAlphabet[r.IntN(len(clickAlphabet))]
	}
	return string(b[:])
}

func queryEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ':
			b.WriteByte('+')
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte("0123456789ABCDEF"[c>>4])
			b.WriteByte("0123456789ABCDEF"[c&15])
		}
	}
	return b.String()
}

// next returns the page a visitor goes to from page: a popular one, a
// neighbour (a related article), or a section page.
func (m *maker) next(page int, r *rand.Rand) int {
	n := len(m.s.pages)
	switch x := r.Float64(); {
	case x < 0.45:
		return m.s.popular(r)
	case x < 0.85:
		return (page + 1 + r.IntN(8)) % n
	default:
		return r.IntN(min(n, len(sections)+1))
	}
}

// pageURL appends the URL of a page view of page to dst: the page, now and
// then with a query (pagination, site search, sorting) or a fragment, and
// with the landing parameters of a campaign.
func (m *maker) pageURL(dst []byte, page int, campaign string, r *rand.Rand) []byte {
	dst = append(dst, m.s.base...)
	path := m.s.pages[page]
	sep := byte('?')
	switch x := r.Float64(); {
	case x < 0.02:
		dst = append(dst, "/search?q="...)
		dst = append(dst, queryEscape(searchTerm(r))...)
		sep = '&'
	case x < 0.04 && strings.HasSuffix(path, "/"):
		dst = append(dst, path...)
		dst = append(dst, "?page="...)
		dst = strconv.AppendInt(dst, int64(2+r.IntN(30)), 10)
		sep = '&'
	case x < 0.05:
		dst = append(dst, path...)
		dst = append(dst, "?sort="...)
		dst = append(dst, [...]string{"price", "new", "popular"}[r.IntN(3)]...)
		sep = '&'
	default:
		dst = append(dst, path...)
	}
	if campaign != "" {
		dst = append(dst, sep)
		dst = append(dst, campaign...)
	}
	if r.Float64() < 0.02 {
		dst = append(dst, "#comments"...)
	}
	return dst
}

// crawl makes the page views of a bot's crawl: many pages, anywhere in the
// site, a few seconds apart, without referrers.
func (m *maker) crawl(p plan, r *rand.Rand, fn pageFunc) {
	b := bots.pick(r)
	n := b.minPages
	if b.maxPgs > b.minPages {
		n += r.IntN(b.maxPgs - b.minPages + 1)
	}
	v := visitor{ua: b.agent, lang: b.lang, node: r.Uint64() | 1<<40, clock: uint16(r.Uint32())}
	if b.network.IsValid() {
		v.ip = randomAddr(r, b.network).String()
	} else {
		v.ip = m.addr(r.Uint64())
	}
	t := p.start
	page := 0
	for i := 0; i < n; i++ {
		if i > 0 {
			t += int64((b.minGap + r.Float64()*(b.maxGap-b.minGap)) * float64(time.Second))
			if t-p.start > int64(maxSpan) {
				return
			}
		}
		if i > 0 || r.IntN(2) == 0 {
			page = r.IntN(len(m.s.pages))
		}
		m.url = append(append(m.url[:0], m.s.base...), m.s.pages[page]...)
		m.emit(t, v, m.url, m.s.titles[page], nil, fn)
	}
}

// emit encodes one page view and hands it to fn.
func (m *maker) emit(t int64, v visitor, url []byte, title string, ref []byte, fn pageFunc) {
	m.val = appendValue(m.val[:0], url, title, v, ref)
	m.line = m.line[:0]
	if m.withLog {
		m.line = m.appendLogLine(m.line, t, v, url, ref)
	}
	fn(t, v.clock, v.node, m.val, m.line)
}

// appendValue appends the stored form of a page view: a msgpack map of
// strings, as the collector writes it.
func appendValue(dst, url []byte, title string, v visitor, ref []byte) []byte {
	n := 6
	if v.id != "" {
		n = 7
	}
	dst = append(dst, 0x80|byte(n))
	dst = appendStr(appendStr(dst, "url"), url)
	dst = appendStr(appendStr(dst, "title"), title)
	dst = appendStr(appendStr(dst, "ip"), v.ip)
	dst = appendStr(appendStr(dst, "referrer"), ref)
	dst = appendStr(appendStr(dst, "user_agent"), v.ua)
	dst = appendStr(appendStr(dst, "language"), v.lang)
	if v.id != "" {
		dst = appendStr(appendStr(dst, "visitor_id"), v.id)
	}
	return dst
}

// appendStr appends s as a msgpack str in its shortest form.
func appendStr[S string | []byte](dst []byte, s S) []byte {
	switch n := len(s); {
	case n < 32:
		dst = append(dst, 0xa0|byte(n))
	case n < 1<<8:
		dst = append(dst, 0xd9, byte(n))
	case n < 1<<16:
		dst = append(dst, 0xda, byte(n>>8), byte(n))
	default:
		dst = append(dst, 0xdb, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(dst, s...)
}

// appendLogLine appends the page view as a line of the combined log
// format, as a web server would have logged the request for the page.
func (m *maker) appendLogLine(dst []byte, t int64, v visitor, url, ref []byte) []byte {
	path := bytes.TrimPrefix(url, []byte(m.s.base))
	if i := bytes.IndexByte(path, '#'); i >= 0 {
		path = path[:i]
	}
	dst = append(dst, v.ip...)
	dst = append(dst, " - - ["...)
	dst = time.Unix(0, t).UTC().AppendFormat(dst, "02/Jan/2006:15:04:05 -0700")
	dst = append(dst, "] \"GET "...)
	dst = append(dst, path...)
	dst = append(dst, " HTTP/1.1\" 200 "...)
	dst = strconv.AppendInt(dst, int64(8000+len(path)*37), 10)
	dst = append(dst, " \""...)
	if len(ref) == 0 {
		dst = append(dst, '-')
	}
	dst = appendLogQuoted(dst, ref)
	dst = append(dst, "\" \""...)
	if v.ua == "" {
		dst = append(dst, '-')
	}
	dst = appendLogQuoted(dst, v.ua)
	return append(dst, "\"\n"...)
}

// appendLogQuoted appends s for a quoted log field: quotes and
// backslashes escaped, as Apache and nginx do.
func appendLogQuoted[S string | []byte](dst []byte, s S) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}
