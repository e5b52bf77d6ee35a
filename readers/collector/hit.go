package collector

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"golang.org/x/text/language"

	"github.com/pvjobs/pvjobs/mapreduce"
)

// Limits bound what one request may carry. A client field over its limit is
// refused (ReasonTooLong); the User-Agent header is cut at MaxUserAgent bytes
// instead, since the visitor's browser chose it.
type Limits struct {
	// MaxURL bounds the url and ref fields (bytes).
	MaxURL int
	// MaxTitle bounds the title field (bytes).
	MaxTitle int
	// MaxVisitorID bounds the vid field (bytes).
	MaxVisitorID int
	// MaxUserAgent is where the User-Agent header is cut (bytes).
	MaxUserAgent int
	// MaxBody bounds the body of POST /e (bytes).
	MaxBody int64
}

// DefaultLimits are the limits of a Config that sets none.
var DefaultLimits = Limits{MaxURL: 4096, MaxTitle: 1024, MaxVisitorID: 128, MaxUserAgent: 1024, MaxBody: 16 << 10}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.MaxURL <= 0 {
		l.MaxURL = d.MaxURL
	}
	if l.MaxTitle <= 0 {
		l.MaxTitle = d.MaxTitle
	}
	if l.MaxVisitorID <= 0 {
		l.MaxVisitorID = d.MaxVisitorID
	}
	if l.MaxUserAgent <= 0 {
		l.MaxUserAgent = d.MaxUserAgent
	}
	if l.MaxBody <= 0 {
		l.MaxBody = d.MaxBody
	}
	return l
}

// Fields are what a pixel or beacon request says about a page view, as sent:
// the names of the original pixel, /a.gif?id=ACCOUNT&url=...&ref=...&title=...,
// and vid for an explicit visitor id.
type Fields struct {
	ID    string `json:"id"`
	URL   string `json:"url"`
	Ref   string `json:"ref"`
	Title string `json:"title"`
	Vid   string `json:"vid"`
}

// ParsePixel reads the fields of GET /a.gif from its query string. The first
// value of a repeated parameter counts. A query that is not valid
// percent-encoding is refused with ReasonBadQuery.
func ParsePixel(rawQuery string) (Fields, Reason) {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return Fields{}, ReasonBadQuery
	}
	return Fields{ID: q.Get("id"), URL: q.Get("url"), Ref: q.Get("ref"), Title: q.Get("title"), Vid: q.Get("vid")}, ReasonNone
}

// ParseBeacon reads the fields of a POST /e body: a JSON object
// {"id":..., "url":..., "ref":..., "title":..., "vid":...} (what the tracker
// sends with sendBeacon, as text/plain), or the same names form-encoded
// (application/x-www-form-urlencoded). Unknown JSON members are ignored;
// members of the wrong type, trailing data and anything else are refused with
// ReasonBadBody.
func ParseBeacon(body []byte, contentType string) (Fields, Reason) {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		return Fields{}, ReasonBadBody
	}
	if trimmed[0] == '{' {
		// Unmarshal refuses anything after the object but white space.
		var f Fields
		if err := json.Unmarshal(trimmed, &f); err != nil {
			return Fields{}, ReasonBadBody
		}
		return f, ReasonNone
	}
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	if mt != "application/x-www-form-urlencoded" && mt != "text/plain" && mt != "" {
		return Fields{}, ReasonBadBody
	}
	f, r := ParsePixel(string(body))
	if r != ReasonNone {
		return Fields{}, ReasonBadBody
	}
	return f, ReasonNone
}

// PageView is one page view as the collector stores it: the fields of
// today's stored contract (see package readers/pageview), its account, and
// the instant it was received.
type PageView struct {
	Account   string
	URL       string
	Title     string
	IP        string
	Referrer  string
	UserAgent string
	Language  string
	VisitorID string
	// Received is when the request came in (the generator's clock); the
	// timeuuid the page view is stored under is of this instant or, under
	// load, a few 100 ns ticks later.
	Received time.Time
	// TS is the timeuuid the page view is stored under (set once spooled;
	// what Live sees).
	TS [16]byte
}

// Time returns the time of the page view's timeuuid.
func (pv *PageView) Time() time.Time { return mapreduce.UnixTime(mapreduce.UUIDTime(pv.TS)) }

// check validates the client's fields against lim and the account syntax.
func (f *Fields) check(lim Limits) Reason {
	if f.ID == "" {
		return ReasonMissingAccount
	}
	if mapreduce.ValidateAccount(f.ID) != nil {
		return ReasonBadAccount
	}
	if f.URL == "" {
		return ReasonMissingURL
	}
	if len(f.URL) > lim.MaxURL || len(f.Ref) > lim.MaxURL || len(f.Title) > lim.MaxTitle || len(f.Vid) > lim.MaxVisitorID {
		return ReasonTooLong
	}
	if !webURL(f.URL) {
		return ReasonBadURL
	}
	if hasControl(f.Ref) || hasControl(f.Vid) {
		return ReasonBadField
	}
	return ReasonNone
}

// webURL reports whether s is an absolute http(s) URL with a host and no
// control characters.
func webURL(s string) bool {
	if hasControl(s) {
		return false
	}
	rest, ok := cutPrefixFold(s, "https://")
	if !ok {
		rest, ok = cutPrefixFold(s, "http://")
	}
	if !ok || rest == "" || rest[0] == '/' || rest[0] == '?' || rest[0] == '#' {
		return false
	}
	return true
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

// hasControl reports whether s holds an ASCII control character (tab,
// newline and DEL included).
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			return true
		}
	}
	return false
}

// clean makes s valid UTF-8 (invalid bytes become U+FFFD) and cuts it to at
// most n bytes on a character boundary.
func clean(s string, n int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// FirstLanguage returns the first language tag of an Accept-Language header
// in its canonical form ("en-us;q=0.9, de" gives "en-US"), or "" when the
// first entry is "*" or not a well-formed BCP 47 tag.
func FirstLanguage(header string) string { return canonicalLanguage(firstLanguageTag(header)) }

// firstLanguageTag returns the first entry of an Accept-Language header,
// without its weight.
func firstLanguageTag(header string) string {
	first, _, _ := strings.Cut(header, ",")
	first, _, _ = strings.Cut(first, ";")
	return strings.TrimSpace(first)
}

func canonicalLanguage(tag string) string {
	if tag == "" || tag == "*" || len(tag) > 35 {
		return ""
	}
	t, err := language.Parse(tag)
	if err != nil {
		return ""
	}
	return t.String()
}

// languages remembers FirstLanguage's answers for the first tags seen, up
// to languagesMax of them: visitors send a few hundred distinct tags, and
// parsing one costs more than the rest of a beacon's checks together.
type languages struct {
	m sync.Map // first tag -> canonical form
	n atomic.Int32
}

const languagesMax = 4096

// first is FirstLanguage(header).
func (l *languages) first(header string) string {
	tag := firstLanguageTag(header)
	if v, ok := l.m.Load(tag); ok {
		return v.(string)
	}
	canon := canonicalLanguage(tag)
	if l.n.Load() < languagesMax {
		if _, loaded := l.m.LoadOrStore(strings.Clone(tag), canon); !loaded {
			l.n.Add(1)
		}
	}
	return canon
}

// AppendValue appends pv's stored form to dst: a msgpack map of url, title,
// ip, referrer, user_agent, language and, when set, visitor_id, every value a
// str — the value the readers decode (readers/pageview) and shard files hold.
func AppendValue(dst []byte, pv *PageView) []byte {
	n := byte(6)
	if pv.VisitorID != "" {
		n = 7
	}
	dst = append(dst, 0x80|n)
	kv := func(k, v string) {
		dst = appendStr(dst, k)
		dst = appendStr(dst, v)
	}
	kv("url", pv.URL)
	kv("title", pv.Title)
	kv("ip", pv.IP)
	kv("referrer", pv.Referrer)
	kv("user_agent", pv.UserAgent)
	kv("language", pv.Language)
	if pv.VisitorID != "" {
		kv("visitor_id", pv.VisitorID)
	}
	return dst
}

// appendStr appends s as a msgpack str in its shortest form.
func appendStr(dst []byte, s string) []byte {
	n := len(s)
	switch {
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
