package collector_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/collector"
)

// TestRejections sends a request for every reason the collector refuses
// one: each gets its status and its metric, and nothing is stored.
func TestRejections(t *testing.T) {
	long := strings.Repeat("x", 1100)
	type req struct {
		method, target, body, ctype string
		hdr                         []string
	}
	tests := []struct {
		name   string
		cfg    func(*collector.Config)
		reqs   []req // the last one is checked
		reason collector.Reason
		status int
	}{
		{name: "method on /e", reqs: []req{{method: "GET", target: "/e"}}, reason: collector.ReasonMethod, status: 405},
		{name: "method on pixel", reqs: []req{{method: "POST", target: "/a.gif?id=blog&url=https://b.example/"}}, reason: collector.ReasonMethod, status: 405},
		{name: "method on tracker", reqs: []req{{method: "POST", target: "/a.js"}}, reason: collector.ReasonMethod, status: 405},
		{name: "not found", reqs: []req{{method: "GET", target: "/wp-login.php"}}, reason: collector.ReasonNotFound, status: 404},
		{name: "bad query", reqs: []req{{method: "GET", target: "/a.gif?id=blog&url=%zz"}}, reason: collector.ReasonBadQuery, status: 400},
		{name: "bad body: not JSON", reqs: []req{{method: "POST", target: "/e", body: "<xml/>", ctype: "application/xml"}}, reason: collector.ReasonBadBody, status: 400},
		{name: "bad body: wrong type", reqs: []req{{method: "POST", target: "/e", body: `{"id":1,"url":"https://b.example/"}`}}, reason: collector.ReasonBadBody, status: 400},
		{name: "bad body: trailing data", reqs: []req{{method: "POST", target: "/e", body: `{"id":"blog","url":"https://b.example/"} {}`}}, reason: collector.ReasonBadBody, status: 400},
		{name: "bad body: trailing garbage", reqs: []req{{method: "POST", target: "/e", body: `{"id":"blog","url":"https://b.example/"}x`}}, reason: collector.ReasonBadBody, status: 400},
		{name: "bad body: empty", reqs: []req{{method: "POST", target: "/e", body: ""}}, reason: collector.ReasonBadBody, status: 400},
		{name: "body too large", reqs: []req{{method: "POST", target: "/e", body: `{"id":"blog","url":"https://b.example/","title":"` + strings.Repeat("t", 20<<10) + `"}`}}, reason: collector.ReasonBodyTooLarge, status: 413},
		{name: "missing account", reqs: []req{{method: "POST", target: "/e", body: `{"url":"https://b.example/"}`}}, reason: collector.ReasonMissingAccount, status: 400},
		{name: "bad account", reqs: []req{{method: "GET", target: "/a.gif?id=bl%20og&url=https://b.example/"}}, reason: collector.ReasonBadAccount, status: 400},
		{name: "unknown account", reqs: []req{{method: "POST", target: "/e", body: `{"id":"other","url":"https://b.example/"}`}}, reason: collector.ReasonUnknownAccount, status: 400},
		{name: "missing url", reqs: []req{{method: "GET", target: "/a.gif?id=blog"}}, reason: collector.ReasonMissingURL, status: 400},
		{name: "bad url", reqs: []req{{method: "POST", target: "/e", body: `{"id":"blog","url":"javascript:alert(1)"}`}}, reason: collector.ReasonBadURL, status: 400},
		{name: "url without host", reqs: []req{{method: "POST", target: "/e", body: `{"id":"blog","url":"https:///path"}`}}, reason: collector.ReasonBadURL, status: 400},
		{name: "title too long", reqs: []req{{method: "POST", target: "/e", body: `{"id":"blog","url":"https://b.example/","title":"` + long + `"}`}}, reason: collector.ReasonTooLong, status: 400},
		{name: "url too long", reqs: []req{{method: "GET", target: "/a.gif?id=blog&url=https://b.example/" + strings.Repeat("p", 4100)}}, reason: collector.ReasonTooLong, status: 400},
		{name: "control in ref", reqs: []req{{method: "POST", target: "/e", body: `{"id":"blog","url":"https://b.example/","ref":"https://a.example/\n"}`}}, reason: collector.ReasonBadField, status: 400},
		{name: "rate limited", cfg: func(c *collector.Config) { c.RateLimit, c.RateBurst = 0.001, 1 },
			reqs:   []req{{method: "GET", target: "/a.gif?id=nobody"}, {method: "GET", target: "/a.gif?id=blog&url=https://b.example/"}},
			reason: collector.ReasonRateLimited, status: 429},
		{name: "dnt", cfg: func(c *collector.Config) { c.RespectDNT = true },
			reqs: []req{{method: "POST", target: "/e", body: `{"id":"blog","url":"https://b.example/"}`, hdr: []string{"DNT", "1"}}}, reason: collector.ReasonDNT, status: 204},
		{name: "gpc", cfg: func(c *collector.Config) { c.RespectDNT = true },
			reqs: []req{{method: "GET", target: "/a.gif?id=blog&url=https://b.example/", hdr: []string{"Sec-GPC", "1"}}}, reason: collector.ReasonDNT, status: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newMemStore()
			cfg := collector.Config{Store: st}
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			c := newCollector(t, cfg)
			h := c.Handler()
			var w *httptest.ResponseRecorder
			for _, rq := range tt.reqs {
				r := httptest.NewRequest(rq.method, rq.target, strings.NewReader(rq.body))
				r.RemoteAddr = "198.51.100.1:1234"
				if rq.ctype != "" {
					r.Header.Set("Content-Type", rq.ctype)
				}
				for i := 0; i+1 < len(rq.hdr); i += 2 {
					r.Header.Set(rq.hdr[i], rq.hdr[i+1])
				}
				w = httptest.NewRecorder()
				h.ServeHTTP(w, r)
			}
			if w.Code != tt.status {
				t.Errorf("status %d, want %d (%s)", w.Code, tt.status, w.Body.String())
			}
			if got := c.Metrics().Rejected(tt.reason); got != 1 {
				t.Errorf("rejected{reason=%q} = %d, want 1", tt.reason, got)
			}
			if tt.reason != collector.ReasonDNT && w.Header().Get("X-Pvjobs-Reason") != tt.reason.String() {
				t.Errorf("X-Pvjobs-Reason %q, want %q", w.Header().Get("X-Pvjobs-Reason"), tt.reason)
			}
			if err := c.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			if n := st.count(); n != 0 || c.Metrics().Accepted() != 0 {
				t.Errorf("%d page views stored, %d accepted; want none", n, c.Metrics().Accepted())
			}
		})
	}
	// Every reason has a case above or below.
	// (headers_too_large: TestHeadersTooLarge, over a real connection.)
	covered := map[collector.Reason]bool{collector.ReasonUnavailable: true, collector.ReasonHeadersTooLarge: true}
	for _, tt := range tests {
		covered[tt.reason] = true
	}
	for _, r := range collector.Reasons() {
		if !covered[r] {
			t.Errorf("no test for reason %s", r)
		}
	}
}

// TestUnavailableAfterClose: a page view offered once the collector is
// closing is answered 503, not 2xx.
func TestUnavailableAfterClose(t *testing.T) {
	c := newCollector(t, collector.Config{Store: newMemStore()})
	c.Close(context.Background())
	w := beacon(c.Handler(), `{"id":"blog","url":"https://b.example/"}`)
	if w.Code != 503 || c.Metrics().Rejected(collector.ReasonUnavailable) != 1 {
		t.Errorf("status %d, unavailable %d; want 503 and 1", w.Code, c.Metrics().Rejected(collector.ReasonUnavailable))
	}
}

// TestStoredPageView: what a beacon and a pixel store, field by field, with
// the client address from a trusted proxy's X-Forwarded-For.
func TestStoredPageView(t *testing.T) {
	st := newMemStore()
	proxies, _ := collector.ParseProxies("203.0.113.0/24")
	c := newCollector(t, collector.Config{Store: st, TrustedProxies: proxies})
	h := c.Handler()
	before := time.Now()
	w := beacon(h, `{"id":"blog","url":"https://blog.example.com/post?utm_source=x#top","ref":"https://www.google.com/","title":"A\tpost","vid":"v-42","extra":true}`,
		"Accept-Language", "de-de, en;q=0.5", "X-Forwarded-For", "192.0.2.9, 198.51.100.77, 203.0.113.8",
		"Origin", "https://blog.example.com")
	if w.Code != 204 || w.Header().Get("Access-Control-Allow-Origin") != "https://blog.example.com" || w.Header().Get("Access-Control-Allow-Credentials") != "true" {
		t.Fatalf("beacon: %d %v", w.Code, w.Header())
	}
	r := httptest.NewRequest("GET", "/a.gif?id=shop&title=Cart&ref=", nil)
	r.RemoteAddr = "[2001:db8::1]:443"
	r.Header.Set("Referer", "https://shop.example.com/cart")
	r.Header.Set("User-Agent", "curl/8.0")
	pw := httptest.NewRecorder()
	h.ServeHTTP(pw, r)
	if pw.Code != 200 || pw.Header().Get("Content-Type") != "image/gif" || pw.Header().Get("Cache-Control") != "private, no-cache" || !strings.HasPrefix(pw.Body.String(), "GIF89a") {
		t.Fatalf("pixel: %d %v", pw.Code, pw.Header())
	}
	if err := c.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := st.all(t)
	if len(got) != 2 {
		t.Fatalf("%d page views stored, want 2", len(got))
	}
	want := map[string]map[string]string{
		"blog": {"url": "https://blog.example.com/post?utm_source=x#top", "title": "A post", "ip": "198.51.100.77", "referrer": "https://www.google.com/",
			"user_agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36", "language": "de-DE", "visitor_id": "v-42"},
		"shop": {"url": "https://shop.example.com/cart", "title": "Cart", "ip": "2001:db8::1", "referrer": "", "user_agent": "curl/8.0", "language": ""},
	}
	day := time.Now().UTC().Format("20060102")
	for _, s := range got {
		acct := strings.TrimPrefix(s.key, day+".")
		if fmt.Sprint(s.pv) != fmt.Sprint(want[acct]) {
			t.Errorf("%s: stored %v\nwant %v", s.key, s.pv, want[acct])
		}
		ts := mapreduce.UnixTime(mapreduce.UUIDTime(s.ts))
		if ts.Before(before.Add(-time.Second)) || ts.After(time.Now().Add(time.Second)) {
			t.Errorf("timeuuid time %v is not the receive time", ts)
		}
	}
	if c.Metrics().Written() != 2 || c.Metrics().Accepted() != 2 {
		t.Errorf("written %d, accepted %d; want 2 and 2", c.Metrics().Written(), c.Metrics().Accepted())
	}
}

// TestAnonymizeIP stores the /24 of the client.
func TestAnonymizeIP(t *testing.T) {
	st := newMemStore()
	c := newCollector(t, collector.Config{Store: st, AnonymizeIP: true})
	beacon(c.Handler(), `{"id":"blog","url":"https://b.example/"}`)
	c.Close(context.Background())
	got := st.all(t)
	if len(got) != 1 || got[0].pv["ip"] != "203.0.113.0" {
		t.Fatalf("stored %v, want ip 203.0.113.0", got)
	}
}

// TestTracker: /a.js is the embedded script with a max-age and an ETag that
// revalidates to 304.
func TestTracker(t *testing.T) {
	c := newCollector(t, collector.Config{Store: newMemStore()})
	srv := httptest.NewServer(c.Handler())
	defer srv.Close()
	res, err := http.Get(srv.URL + "/a.js")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	etag := res.Header.Get("ETag")
	if res.StatusCode != 200 || string(body) != string(collector.Tracker()) || etag == "" ||
		!strings.Contains(res.Header.Get("Cache-Control"), "max-age=") || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/javascript") {
		t.Fatalf("GET /a.js: %d %v", res.StatusCode, res.Header)
	}
	if len(body) > 4096 || !strings.Contains(string(body), "sendBeacon") || !strings.Contains(string(body), "pushState") {
		t.Errorf("tracker is %d bytes or lacks sendBeacon/pushState", len(body))
	}
	req, _ := http.NewRequest("GET", srv.URL+"/a.js", nil)
	req.Header.Set("If-None-Match", etag)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 304 {
		t.Errorf("revalidation: %d, want 304", res.StatusCode)
	}
	// CORS preflight of the beacon endpoint.
	req, _ = http.NewRequest("OPTIONS", srv.URL+"/e", nil)
	req.Header.Set("Origin", "https://blog.example.com")
	req.Header.Set("Access-Control-Request-Method", "POST")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 204 || res.Header.Get("Access-Control-Allow-Origin") != "https://blog.example.com" || res.Header.Get("Access-Control-Allow-Methods") != "POST" {
		t.Errorf("preflight: %d %v", res.StatusCode, res.Header)
	}
}

// TestHealthAndMetrics: /healthz answers JSON, /metrics the Prometheus text
// with every series the issue names.
func TestHealthAndMetrics(t *testing.T) {
	c := newCollector(t, collector.Config{Store: newMemStore()})
	h := c.Handler()
	beacon(h, `{"id":"blog","url":"https://b.example/"}`)
	beacon(h, `{"id":"nope","url":"https://b.example/"}`)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/healthz", nil))
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"status":"ok"`) {
		t.Errorf("healthz: %d %s", w.Code, w.Body)
	}
	waitFor(t, "the page view written", func() bool { return c.Metrics().Written() == 1 })
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{
		`pvjobs_collect_accepted_total{endpoint="beacon"} 1`,
		`pvjobs_collect_rejected_total{reason="unknown_account"} 1`,
		"pvjobs_collect_queued 0", "pvjobs_collect_written_total 1", "pvjobs_collect_spooled_total 0",
		"pvjobs_collect_write_seconds_count 1", `pvjobs_collect_write_seconds_bucket{le="+Inf"} 1`,
	} {
		if !strings.Contains(w.Body.String(), want+"\n") {
			t.Errorf("metrics lack %q:\n%s", want, w.Body)
		}
	}
}

// TestAccountsFile: the allow-list file is re-read when it changes; a bad
// file keeps the previous list.
func TestAccountsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "accounts")
	if err := os.WriteFile(path, []byte("# sites\nblog\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := collector.LoadAccounts(path)
	if err != nil {
		t.Fatal(err)
	}
	c := newCollector(t, collector.Config{Store: newMemStore(), Accounts: a, AccountsReload: 10 * time.Millisecond})
	h := c.Handler()
	if w := beacon(h, `{"id":"shop","url":"https://s.example/"}`); w.Code != 400 {
		t.Fatalf("shop before it is listed: %d", w.Code)
	}
	replace := func(content string) {
		tmp := path + ".tmp"
		os.WriteFile(tmp, []byte(content), 0o644)
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	replace("blog\nshop, news # three\n")
	waitFor(t, "the accounts file re-read", func() bool { return a.Allowed("shop") })
	if w := beacon(h, `{"id":"shop","url":"https://s.example/"}`); w.Code != 204 {
		t.Errorf("shop once listed: %d", w.Code)
	}
	replace("blog\nnot valid!\n")
	waitFor(t, "the bad file noticed", func() bool { return metric(t, h, "pvjobs_collect_account_errors_total") >= 1 })
	if !a.Allowed("shop") || !a.Allowed("news") {
		t.Errorf("a bad file replaced the list")
	}
	if _, err := collector.LoadAccounts(path); err == nil || !strings.Contains(err.Error(), ":2:") {
		t.Errorf("LoadAccounts of a bad file: %v, want an error naming line 2", err)
	}
}

// metric reads one series of /metrics.
func metric(t testing.TB, h http.Handler, name string) int64 {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	for _, l := range strings.Split(w.Body.String(), "\n") {
		if v, ok := strings.CutPrefix(l, name+" "); ok {
			var n int64
			fmt.Sscan(v, &n)
			return n
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// TestClientIP covers the forwarded headers.
func TestClientIP(t *testing.T) {
	trusted, err := collector.ParseProxies("10.0.0.0/8, 127.0.0.1, ::1")
	if err != nil {
		t.Fatal(err)
	}
	f := func(remote string, hdr []string, want string) {
		t.Helper()
		h := http.Header{}
		for i := 0; i+1 < len(hdr); i += 2 {
			h.Add(hdr[i], hdr[i+1])
		}
		if got := collector.ClientIP(remote, h, trusted); got.String() != want {
			t.Errorf("ClientIP(%s, %v) = %s, want %s", remote, hdr, got, want)
		}
	}
	f("198.51.100.1:80", []string{"X-Forwarded-For", "1.2.3.4"}, "198.51.100.1")           // untrusted peer: headers ignored
	f("10.1.2.3:80", []string{"X-Forwarded-For", "1.2.3.4"}, "1.2.3.4")                    // one proxy
	f("10.1.2.3:80", []string{"X-Forwarded-For", "6.6.6.6, 1.2.3.4, 10.9.9.9"}, "1.2.3.4") // spoofed left part skipped
	f("10.1.2.3:80", []string{"X-Forwarded-For", "6.6.6.6", "X-Forwarded-For", "1.2.3.4"}, "1.2.3.4")
	f("10.1.2.3:80", []string{"X-Forwarded-For", "junk, 10.0.0.5"}, "10.0.0.5") // malformed: the last good hop
	f("10.1.2.3:80", []string{"X-Forwarded-For", "10.0.0.9"}, "10.0.0.9")
	f("127.0.0.1:80", []string{"X-Real-IP", "2001:db8::7"}, "2001:db8::7")
	f("[::1]:80", []string{"X-Forwarded-For", "[2001:db8::8]:1234"}, "2001:db8::8")
	f("127.0.0.1:80", []string{"X-Real-IP", "nonsense"}, "127.0.0.1")
	f("[::ffff:10.0.0.1]:80", []string{"X-Forwarded-For", "::ffff:192.0.2.1"}, "192.0.2.1")
	if _, err := collector.ParseProxies("10.0.0.0/33"); err == nil {
		t.Error("ParseProxies accepted 10.0.0.0/33")
	}
	for in, want := range map[string]string{"192.0.2.77": "192.0.2.0", "2001:db8:1:2:3:4:5:6": "2001:db8:1::"} {
		if got := collector.Anonymize(netip.MustParseAddr(in)); got.String() != want {
			t.Errorf("Anonymize(%s) = %s, want %s", in, got, want)
		}
	}
}

// TestFirstLanguage covers Accept-Language.
func TestFirstLanguage(t *testing.T) {
	for in, want := range map[string]string{
		"de-de,en;q=0.5": "de-DE", "en": "en", " fr-CH ; q=1 , fr": "fr-CH", "*": "", "": "",
		"zh-hant-tw": "zh-Hant-TW", "x": "", "not a tag": "", "en-US-" + strings.Repeat("x", 40): "",
	} {
		if got := collector.FirstLanguage(in); got != want {
			t.Errorf("FirstLanguage(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestPixelHead: HEAD of the pixel (link checkers, prefetchers) answers its
// headers and stores nothing.
func TestPixelHead(t *testing.T) {
	st := newMemStore()
	c := newCollector(t, collector.Config{Store: st})
	w := httptest.NewRecorder()
	c.Handler().ServeHTTP(w, httptest.NewRequest("HEAD", "/a.gif?id=blog&url=https://b.example/", nil))
	c.Close(context.Background())
	if w.Code != 200 || w.Header().Get("Content-Type") != "image/gif" || st.count() != 0 || c.Metrics().Accepted() != 0 {
		t.Errorf("HEAD /a.gif: %d %v, %d stored", w.Code, w.Header(), st.count())
	}
}
