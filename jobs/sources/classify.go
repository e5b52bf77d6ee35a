package sources

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
)

// The media a page view's traffic is classified into, and the fixed sources
// and terms of reports.
const (
	// MediumDirect is a page view without a referrer (or with one that is no
	// URL); its source is SourceDirect.
	MediumDirect = "direct"
	// MediumInternal is a page view referred by the same site: the page's own
	// host (ignoring "www." and "m.") or one of the internal domains.
	MediumInternal = "internal"
	// MediumSearch is a referral by a search engine of Engines.
	MediumSearch = "search"
	// MediumSocial is a referral by a network of Socials or a social app.
	MediumSocial = "social"
	// MediumEmail is a referral by a web mail of Webmails or a mail app, or
	// a campaign tagged utm_medium=email.
	MediumEmail = "email"
	// MediumReferral is a referral by any other site.
	MediumReferral = "referral"
	// MediumCPC is a paid click: utm_medium=cpc (or ppc, paidsearch), or an
	// ad click id (gclid, gbraid, wbraid, msclkid) on the page URL.
	MediumCPC = "cpc"

	// SourceDirect is the source of direct page views.
	SourceDirect = "(direct)"
	// NotSet is the medium or source of a campaign that names only the other.
	NotSet = "(not set)"
	// NotProvided is the term of a search referral that carries none, as
	// most do since engines moved to HTTPS and origin-only referrers.
	NotProvided = "(not provided)"
)

// Result is the classification of one page view's referrer.
type Result struct {
	// Medium is one of the Medium constants, or a campaign's own
	// utm_medium (lower-cased).
	Medium string
	// Source is the engine's, network's or web mail's name, else the
	// referring host without "www."; SourceDirect for direct traffic; or a
	// campaign's utm_source.
	Source string
	// Campaign is set when Medium and Source come from the page URL's
	// utm_medium/utm_source or ad click ids rather than from the referrer.
	Campaign bool
	// IsSearch is set when the referrer is a search engine's, whatever a
	// campaign says; Engine and Term describe it.
	IsSearch bool
	// Engine is the search engine's name (Engine.Name).
	Engine string
	// Term is the normalised search term: lower case, single spaces, valid
	// UTF-8 without tabs or newlines; NotProvided when the referrer has none.
	Term string
}

// Classifier classifies referrers into medium and source, and reads search
// terms. It is read-only after NewClassifier and safe for concurrent use;
// the per-worker Cache it makes is the fast path.
type Classifier struct {
	internal map[string]bool
	pool     sync.Pool
}

// NewClassifier returns a classifier that counts referrers from
// internalDomains (and their subdomains) as internal, besides the page's own
// host. Entries may be host names ("example.com", ".example.com",
// "*.example.com") or URLs ("https://shop.example.com/"); a leading "www."
// or "m." is ignored, blank entries are skipped, and entries that are no
// host name are ignored (see ValidateDomains).
func NewClassifier(internalDomains []string) *Classifier {
	c := &Classifier{internal: map[string]bool{}}
	for _, d := range internalDomains {
		if h, ok := normDomain(d); ok && h != "" {
			c.internal[h] = true
		}
	}
	c.pool.New = func() any { return c.NewCache() }
	return c
}

// ValidateDomains checks a list of internal domains for NewClassifier and
// names the first entry that is not blank and not a host name or URL.
func ValidateDomains(domains []string) error {
	for _, d := range domains {
		if _, ok := normDomain(d); !ok {
			return fmt.Errorf("internal domain %q is not a host name", d)
		}
	}
	return nil
}

// normDomain turns an internal-domain entry into the lower-case host that
// siteHost leaves of it; a blank entry gives "", true.
func normDomain(d string) (string, bool) {
	d = strings.TrimSpace(d)
	if d == "" {
		return "", true
	}
	d = strings.TrimPrefix(d, "*")
	d = strings.TrimPrefix(d, ".")
	p, ok := splitURL([]byte(d))
	if !ok || !validHost(p.host) {
		// A bare single-label name ("localhost", "intranet").
		if d == "" || !validHost([]byte(d)) || strings.Contains(d, ".") {
			return "", false
		}
		return strings.ToLower(d), true
	}
	return string(siteHost(appendLowerASCII(nil, p.host))), true
}

// Classify classifies a page view by its page URL and referrer, with a
// pooled Cache. Workers that classify many rows should own a Cache instead.
func (c *Classifier) Classify(pageURL, referrer []byte) Result {
	k := c.pool.Get().(*Cache)
	r := k.Classify(pageURL, referrer)
	c.pool.Put(k)
	return r
}

// Cache sizes: when a map reaches its bound it is cleared and refilled.
const (
	maxHosts     = 8192
	maxTerms     = 8192
	maxCampaigns = 1024
	// maxTermKey is the longest referrer whose term is cached.
	maxTermKey = 2048
)

// Cache is one worker's classifier: it remembers what it learnt per
// referrer host, per search referrer and per campaign, in bounded maps, so
// that a repeated referrer costs a few map lookups and no allocation. It is
// not safe for concurrent use.
type Cache struct {
	c         *Classifier
	hosts     map[string]*hostInfo
	terms     map[string]string
	campaigns map[string]*campaign
	// last and lastHost memoise the last host, as rows of one site come in
	// runs.
	last     *hostInfo
	lastHost []byte
	page     pageMemo
	key      []byte
	raw      []byte
	norm     []byte
}

// hostInfo is what a Cache knows of one referrer host.
type hostInfo struct {
	site *site
	// host is the host without "www.", the source of plain referrals.
	host string
	// source is the site's name, or host.
	source string
	// internal is set when the host is one of the internal domains.
	internal bool
	// invalid is set when the host is no host name (a referrer "http://a b/").
	invalid bool
	// siteHost is the lower-case host without "www.", "m." and like labels
	// (siteHost), which internal referrers share with the page.
	siteHost string
}

// NewCache returns an empty Cache for one worker.
func (c *Classifier) NewCache() *Cache {
	return &Cache{
		c:         c,
		hosts:     map[string]*hostInfo{},
		terms:     map[string]string{},
		campaigns: map[string]*campaign{},
	}
}

// Classify classifies a page view by its page URL and referrer: medium,
// source, and for search referrers the engine and term. See the package
// documentation for the rules.
func (k *Cache) Classify(pageURL, referrer []byte) Result {
	return k.classify(pageURL, referrer, true, true)
}

// classify is Classify with parts left out: wantTerm reads search terms,
// wantCampaign reads the page URL's campaign parameters.
func (k *Cache) classify(pageURL, referrer []byte, wantTerm, wantCampaign bool) Result {
	var page *urlParts
	pp, ok := k.splitPage(trimSpace(pageURL))
	if ok {
		page = &pp
	}
	r := k.fromReferrer(page, referrer, wantTerm)
	if wantCampaign && page != nil && bytes.IndexByte(page.rest, '?') >= 0 {
		page.splitRest()
		k.applyCampaign(&r, page)
	}
	return r
}

// pageMemo remembers the scheme and authority of the last page URL: a
// worker's rows mostly come from one site, so the page's host is found by
// one comparison, and so is a referrer from the same page origin (internal
// navigation, the commonest referrer of all).
type pageMemo struct {
	// origin is the page URL up to the end of its authority, as written
	// ("https://www.example.com"); host is within it.
	origin, host []byte
	// source is the internal source of referrers from origin.
	source string
	// site is siteHost of host, in lower case.
	site []byte
}

// splitPage is splitURL for page URLs, through the memo.
func (k *Cache) splitPage(s []byte) (urlParts, bool) {
	m := &k.page
	if n := len(m.origin); n > 0 && hasOrigin(s, m.origin) {
		return urlParts{host: m.host, rest: s[n:]}, true
	}
	p, ok := splitURL(s)
	if !ok || len(p.scheme) == 0 {
		return p, ok
	}
	hi := k.hostSlow(p.host)
	if hi.invalid {
		return p, ok
	}
	n := len(s) - len(p.rest)
	// host is a subslice of s: its offset in s is the difference of caps.
	at := cap(s) - cap(p.host)
	m.origin = append(m.origin[:0], s[:n]...)
	m.host = m.origin[at : at+len(p.host)]
	m.source, m.site = hi.host, append(m.site[:0], hi.siteHost...)
	return p, ok
}

// hasOrigin reports whether URL s starts with origin followed by the end, a
// path, a query or a fragment.
func hasOrigin(s, origin []byte) bool {
	n := len(origin)
	return len(s) >= n && string(s[:n]) == string(origin) && (len(s) == n || authorityByte[s[n]] == '/')
}

func (k *Cache) fromReferrer(page *urlParts, referrer []byte, wantTerm bool) Result {
	ref := trimSpace(referrer)
	direct := Result{Medium: MediumDirect, Source: SourceDirect}
	if len(ref) == 0 {
		return direct
	}
	if page != nil && len(k.page.origin) > 0 && hasOrigin(ref, k.page.origin) && string(page.host) == string(k.page.host) {
		return Result{Medium: MediumInternal, Source: k.page.source}
	}
	p, ok := splitURL(ref)
	if !ok {
		return direct
	}
	if len(p.scheme) > 0 && equalFoldASCII(p.scheme, "android-app") {
		hi := k.app(p.host)
		if hi.invalid {
			return direct
		}
		return Result{Medium: hi.site.kind.medium(), Source: hi.source, IsSearch: hi.site.kind == kindSearch,
			Engine: engineName(hi.site), Term: termIf(hi.site.kind == kindSearch, NotProvided)}
	}
	hi := k.host(p.host)
	if hi.invalid {
		return direct
	}
	if hi.internal || page != nil && k.samePlace(page.host, hi) {
		return Result{Medium: MediumInternal, Source: hi.host}
	}
	s := hi.site
	if s == nil {
		return Result{Medium: MediumReferral, Source: hi.host}
	}
	if s.kind != kindSearch {
		return Result{Medium: s.kind.medium(), Source: hi.source}
	}
	e := s.engine
	p.splitRest()
	for _, prefix := range e.NotSearch {
		if hasPrefixFold(p.path, prefix) {
			return Result{Medium: MediumReferral, Source: hi.host}
		}
	}
	r := Result{Medium: MediumSearch, Source: s.name, IsSearch: true, Engine: s.name}
	if e == genericEngine {
		// A portal's page without a term is just a page.
		if r.Term = k.term(ref, e, &p); r.Term == NotProvided {
			return Result{Medium: MediumReferral, Source: hi.host}
		}
	} else if wantTerm {
		r.Term = k.term(ref, e, &p)
	}
	if !wantTerm {
		r.Term = ""
	}
	return r
}

// samePlace reports whether the page host and the referrer host of hi are
// one site: equal without their leading "www.", "m." and like labels.
func (k *Cache) samePlace(pageHost []byte, hi *hostInfo) bool {
	if len(k.page.origin) > 0 && string(pageHost) == string(k.page.host) {
		return string(k.page.site) == hi.siteHost
	}
	return bytes.EqualFold(siteHost(pageHost), []byte(hi.siteHost))
}

func engineName(s *site) string {
	if s.kind == kindSearch {
		return s.name
	}
	return ""
}

func termIf(ok bool, t string) string {
	if ok {
		return t
	}
	return ""
}

func hasPrefixFold(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && equalFoldASCII(b[:len(prefix)], prefix)
}

// host returns what the cache knows of host (as written).
func (k *Cache) host(host []byte) *hostInfo {
	if k.last != nil && bytes.Equal(host, k.lastHost) {
		return k.last
	}
	hi := k.hostSlow(host)
	k.last, k.lastHost = hi, append(k.lastHost[:0], host...)
	return hi
}

func (k *Cache) hostSlow(host []byte) *hostInfo {
	key := host
	if hasUpperASCII(host) {
		k.key = appendLowerASCII(k.key[:0], host)
		key = k.key
	}
	if hi, ok := k.hosts[string(key)]; ok {
		return hi
	}
	hi := k.c.hostInfo(key)
	if len(k.hosts) >= maxHosts {
		clear(k.hosts)
	}
	k.hosts[string(key)] = hi
	return hi
}

// hostInfo classifies the lower-case host h.
func (c *Classifier) hostInfo(h []byte) *hostInfo {
	if !validHost(h) {
		return &hostInfo{invalid: true}
	}
	host := strings.ToValidUTF8(string(stripWWW(h)), "\uFFFD")
	sh := string(siteHost(h))
	hi := &hostInfo{host: host, source: host, siteHost: sh}
	for s := sh; ; {
		if c.internal[s] {
			hi.internal = true
			break
		}
		i := strings.IndexByte(s, '.')
		if i < 0 {
			break
		}
		s = s[i+1:]
	}
	if s := tables().index.lookup(sh); s != nil {
		hi.site, hi.source = s, s.name
	} else if webmailHost(sh) {
		hi.site = &site{kind: kindEmail, name: host}
	} else if genericSearchHost(sh) && !underKnownSite(sh) {
		hi.site = &site{kind: kindSearch, name: host, engine: genericEngine}
	}
	return hi
}

// webmailHost reports whether h's first label names a web mail front end
// ("webmail.example.com", "webmail2.isp.fr", "mail01.example.co.uk",
// "owa.example.org", "messageriepro3.orange.fr", "upcmail.hispeed.ch");
// h needs two labels after it.
func webmailHost(h string) bool {
	i := strings.IndexByte(h, '.')
	if i < 0 || strings.IndexByte(h[i+1:], '.') < 0 {
		return false
	}
	l := h[:i]
	switch l {
	case "email", "owa", "roundcube", "horde", "squirrelmail", "zimbra", "correo", "posta", "poczta":
		return true
	}
	if rest, ok := strings.CutPrefix(l, "mail"); ok && strings.TrimLeft(rest, "0123456789") == "" {
		return true
	}
	return strings.HasPrefix(l, "webmail") || strings.HasPrefix(l, "messagerie") ||
		strings.HasSuffix(l, "webmail") || len(l) > 4 && strings.HasSuffix(l, "mail") && !strings.Contains(l, "-")
}

// genericEngine reads terms on the search portals that no table lists:
// hosts named for search ("search.snap.do", "suche.example.de",
// "dalesearch.com", "searchmobileonline.com"). Such a referrer is a search
// only when it carries a term in one of these common parameters.
var genericEngine = &Engine{
	Params: []string{"q", "query", "text", "searchfor", "search_query", "kw", "keyword", "keywords", "wd", "qs", "qt", "terms"},
	// The parameters portals declare a charset by.
	CharsetParams: []string{"ie", "ei", "enc", "encoding", "charset"},
}

// underKnownSite reports whether a parent domain of h is in the tables
// (search.google.com is Google's Search Console, not a search portal).
func underKnownSite(h string) bool {
	for {
		i := strings.IndexByte(h, '.')
		if i < 0 {
			return false
		}
		h = h[i+1:]
		if tables().index.lookup(h) != nil {
			return true
		}
	}
}

// searchWords are the host labels of search portals in several languages.
var searchWords = map[string]bool{
	"search": true, "suche": true, "recherche": true, "rechercher": true, "busca": true, "buscador": true,
	"buscar": true, "szukaj": true, "ricerca": true, "pesquisa": true, "poisk": true, "zoeken": true,
	"sok": true, "haku": true, "arama": true, "cerca": true, "hledani": true, "find": true,
}

// genericSearchHost reports whether a label of h other than the last is a
// word of searchWords, or begins or ends with "search" without being
// "research" ("isearch", "searchassist", "claro-search").
func genericSearchHost(h string) bool {
	for {
		i := strings.IndexByte(h, '.')
		if i < 0 {
			return false
		}
		l := h[:i]
		if searchWords[l] || strings.HasPrefix(l, "search") ||
			strings.HasSuffix(l, "search") && !strings.HasSuffix(l, "research") {
			return true
		}
		h = h[i+1:]
	}
}

// app returns what the cache knows of the Android app pkg.
func (k *Cache) app(pkg []byte) *hostInfo {
	if !validHost(pkg) {
		return &hostInfo{invalid: true, site: &site{}}
	}
	k.key = appendLowerASCII(append(k.key[:0], "android-app://"...), pkg)
	if hi, ok := k.hosts[string(k.key)]; ok {
		return hi
	}
	name := string(k.key[len("android-app://"):])
	hi := &hostInfo{host: name, source: name, site: &site{kind: kindReferral, name: name}}
	if s := tables().apps[name]; s != nil {
		hi.site, hi.source = s, s.name
	}
	if len(k.hosts) >= maxHosts {
		clear(k.hosts)
	}
	k.hosts[string(k.key)] = hi
	return hi
}

// term returns the search term of the referrer ref of engine e.
func (k *Cache) term(ref []byte, e *Engine, p *urlParts) string {
	if len(p.query) == 0 && len(p.fragment) == 0 {
		return NotProvided
	}
	if t, ok := k.terms[string(ref)]; ok {
		return t
	}
	t := k.readTerm(e, p)
	if len(ref) <= maxTermKey {
		if len(k.terms) >= maxTerms {
			clear(k.terms)
		}
		k.terms[string(ref)] = t
	}
	return t
}

// readTerm reads, decodes and normalises the term of engine e from p.
func (k *Cache) readTerm(e *Engine, p *urlParts) string {
	k.raw = k.raw[:0]
	v, ok := findTerm(e, p.query)
	if !ok && len(p.fragment) > 0 {
		v, ok = findTerm(e, p.fragment)
	}
	if ok {
		k.raw = appendUnescape(k.raw, v)
	} else if e.Advanced {
		k.raw, ok = appendAdvanced(k.raw, p.query)
	}
	if !ok {
		for _, name := range e.NestedParams {
			nv, found := lookupParam(p.query, name)
			if !found {
				continue
			}
			inner := appendUnescape(nil, nv)
			if i := bytes.IndexByte(inner, '?'); i >= 0 {
				if v, ok = findTerm(e, inner[i+1:]); ok {
					k.raw = appendUnescape(k.raw, v)
					break
				}
			}
		}
	}
	if !ok {
		return NotProvided
	}
	declared := ""
	for _, name := range e.CharsetParams {
		if cs, found := lookupParam(p.query, name); found && len(cs) > 0 && len(cs) < 32 {
			declared = string(cs)
			break
		}
	}
	t := appendNormalized(k.norm[:0], toUTF8(k.raw, declared, e.Charsets))
	k.norm = t
	t = dropCacheOperator(t)
	if len(t) == 0 {
		return NotProvided
	}
	if isAbsoluteURL(t) {
		for _, rp := range e.RedirectPaths {
			if equalFoldASCII(p.path, rp) {
				return NotProvided
			}
		}
	}
	return string(t)
}

// findTerm returns the first non-empty value of e's term parameters in q, by
// priority: exact names first, then names that differ in ASCII case only
// (Bing's mobile "Q=").
func findTerm(e *Engine, q []byte) ([]byte, bool) {
	if len(q) == 0 {
		return nil, false
	}
	for _, fold := range [2]bool{false, true} {
		for _, name := range e.Params {
			for rest := q; len(rest) > 0; {
				var pr param
				pr, rest = nextParam(rest)
				if len(pr.value) == 0 {
					continue
				}
				if !fold && string(pr.name) == name || fold && equalFoldASCII(pr.name, strings.ToLower(name)) {
					return pr.value, true
				}
			}
		}
	}
	return nil, false
}

// appendAdvanced appends the query Google builds from its advanced-search
// form: all words (as_q), any of the words joined by OR (as_oq), the exact
// phrase in quotes (as_epq), and none of the words prefixed by '-' (as_eq).
func appendAdvanced(dst, q []byte) ([]byte, bool) {
	start := len(dst)
	add := func(name string, each func(w []byte)) {
		v, ok := lookupParam(q, name)
		if !ok || len(v) == 0 {
			return
		}
		each(bytes.TrimSpace(appendUnescape(nil, v)))
	}
	sep := func() {
		if len(dst) > start {
			dst = append(dst, ' ')
		}
	}
	add("as_q", func(w []byte) { sep(); dst = append(dst, w...) })
	add("as_oq", func(w []byte) {
		for i, f := range bytes.Fields(w) {
			sep()
			if i > 0 {
				dst = append(dst, "OR "...)
			}
			dst = append(dst, f...)
		}
	})
	add("as_epq", func(w []byte) {
		if len(w) > 0 {
			sep()
			dst = append(append(append(dst, '"'), w...), '"')
		}
	})
	add("as_eq", func(w []byte) {
		for _, f := range bytes.Fields(w) {
			sep()
			dst = append(append(dst, '-'), f...)
		}
	})
	return dst, len(dst) > start
}
