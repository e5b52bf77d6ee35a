package main

import (
	"context"
	stdcsv "encoding/csv"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/cassandra"
	"github.com/pvjobs/pvjobs/readers/cassandra/cassandratest"
	"github.com/pvjobs/pvjobs/readers/pageview"
	"github.com/pvjobs/pvjobs/reports/html/browsertest"
)

// freeAddr returns a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startCollect runs `pvjobs collect args...` in-process until the returned
// stop is called; stop returns its exit code and stderr.
func startCollect(t *testing.T, addr string, args ...string) (stop func() (int, string)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	type result struct {
		code   int
		stderr string
	}
	done := make(chan result, 1)
	go func() {
		var out, errOut strings.Builder
		code := run(ctx, append([]string{"pvjobs", "collect", "--listen", addr}, args...), &out, &errOut)
		done <- result{code, errOut.String()}
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				break
			}
		}
		select {
		case r := <-done:
			t.Fatalf("pvjobs collect exited with %d:\n%s", r.code, r.stderr)
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatal("pvjobs collect did not answer /healthz within 30s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	var once sync.Once
	var r result
	stop = func() (int, string) {
		once.Do(func() { cancel(); r = <-done })
		return r.code, r.stderr
	}
	t.Cleanup(func() { stop() })
	return stop
}

// collectMetric reads one series from the collector's /metrics.
func collectMetric(t *testing.T, addr, series string) int64 {
	t.Helper()
	res, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	for _, l := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(l, series+" "); ok {
			var n int64
			fmt.Sscan(v, &n)
			return n
		}
	}
	t.Fatalf("no series %s in /metrics", series)
	return 0
}

// browserUA is the user agent the test browser sends: a headless one would
// count as a bot in the reports.
const browserUA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"

// newBrowser starts a headless Chromium (bin) that sends browserUA and
// prefers German, and returns the context of its first tab.
func newBrowser(t *testing.T, ctx context.Context, bin string) (context.Context, context.CancelFunc) {
	t.Helper()
	opts := append(browsertest.Flags(bin, t.TempDir()),
		chromedp.Flag("accept-lang", "de-DE,de"),
		chromedp.UserAgent(browserUA))
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	bctx, bcancel := chromedp.NewContext(actx)
	return bctx, func() { bcancel(); acancel() }
}

// collected returns the page views the collector at addr accepted, by
// beacon and by pixel.
func collected(t *testing.T, addr string) (beacon, pixel int64) {
	t.Helper()
	return collectMetric(t, addr, `pvjobs_collect_accepted_total{endpoint="beacon"}`), collectMetric(t, addr, `pvjobs_collect_accepted_total{endpoint="pixel"}`)
}

// waitCollected waits until the collector at addr accepted n page views.
func waitCollected(t *testing.T, addr string, n int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, p := collected(t, addr)
		if b+p >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the collector accepted %d page views, want %d", b+p, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// storedPageViews returns the page views of account in today's partition
// (and yesterday's, just after midnight), in timeuuid order.
func storedPageViews(t *testing.T, ctx context.Context, ks *cassandratest.Keyspace, account string) []map[string]string {
	t.Helper()
	tbl, err := cassandra.Open(ctx, ks.Config())
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Close()
	var rows []map[string]string
	now := time.Now().UTC()
	days := []time.Time{time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)}
	if now.Sub(days[0]) < 5*time.Minute { // the test may have begun before midnight
		days = append([]time.Time{days[0].AddDate(0, 0, -1)}, days...)
	}
	for _, d := range days {
		key := mapreduce.ShardKey{Day: d, Account: account}
		err := tbl.ReadPartition(ctx, key, func(r *mapreduce.Row) error {
			var pv mapreduce.PageView
			if err := pageview.NewDecoder().Decode(r.Value, &pv); err != nil {
				return err
			}
			rows = append(rows, map[string]string{"url": string(pv.URL), "title": string(pv.Title), "referrer": string(pv.Referrer),
				"user_agent": string(pv.UserAgent), "language": string(pv.Language), "ip": string(pv.IP)})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return rows
}

// TestCollectBrowser: a headless Chromium visits a three-page site that
// includes the tracker from pvjobs collect — two pages by links, then a
// single-page app that navigates once with pushState. Exactly those four
// page views end up in the real Cassandra, with the URL, title, referrer,
// user agent and language the browser sent, and pvjobs run reports them.
func TestCollectBrowser(t *testing.T) {
	addr := cassandratest.Require(t)
	bin := browsertest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ks, err := cassandratest.NewKeyspace(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Drop()

	col := freeAddr(t)
	spool := filepath.Join(t.TempDir(), "spool")
	stop := startCollect(t, col, "--cassandra", ks.URL(), "--accounts", "site", "--spool", spool, "--fsync", "always")

	// The site: three pages on another origin, each with the tracker.
	var mu sync.Mutex
	seen := map[string]http.Header{} // request headers of each page, as the browser sent them
	page := func(title, body string) string {
		return `<!doctype html><html><head><meta charset="utf-8"><title>` + title + `</title>` +
			`<script src="http://` + col + `/a.js" data-account="site" defer></script></head><body>` + body + `</body></html>`
	}
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.URL.Path] = r.Header.Clone()
		mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		switch r.URL.Path {
		case "/":
			io.WriteString(w, page("Home", `<a id="next" href="/about">About</a>`))
		case "/about":
			io.WriteString(w, page("About us", `<a id="next" href="/app">The app</a>`))
		case "/app":
			io.WriteString(w, page("App", `<button id="go" onclick="history.pushState({}, '', '/app/settings'); document.title = 'App settings'">Settings</button>`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer site.Close()

	bctx, bcancel := newBrowser(t, ctx, bin)
	defer bcancel()

	waitAccepted := func(n int64) { t.Helper(); waitCollected(t, col, n) }
	err = chromedp.Do(bctx, chromedp.Navigate(site.URL+"/"), chromedp.WaitVisible(chromedp.ID("next")))
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	waitAccepted(1)
	if err := chromedp.Do(bctx, chromedp.Click(chromedp.ID("next")), chromedp.WaitVisible(chromedp.CSS(`a[href="/app"]`))); err != nil {
		t.Fatal(err)
	}
	waitAccepted(2)
	if err := chromedp.Do(bctx, chromedp.Click(chromedp.ID("next")), chromedp.WaitVisible(chromedp.ID("go"))); err != nil {
		t.Fatal(err)
	}
	waitAccepted(3)
	if err := chromedp.Do(bctx, chromedp.Click(chromedp.ID("go"))); err != nil {
		t.Fatal(err)
	}
	loc, err := chromedp.Run(bctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	waitAccepted(4)
	if !strings.HasSuffix(loc, "/app/settings") {
		t.Fatalf("after pushState the browser is at %s", loc)
	}
	if n, _ := collected(t, col); n != 4 {
		t.Errorf("%d page views came by sendBeacon, want all 4", n)
	}
	bcancel()
	if code, stderr := stop(); code != 0 {
		t.Fatalf("pvjobs collect exited with %d:\n%s", code, stderr)
	}

	// Cassandra holds exactly those four page views.
	rows := storedPageViews(t, ctx, ks, "site")
	mu.Lock()
	sentUA := seen["/"].Get("User-Agent")
	sentLang := seen["/"].Get("Accept-Language")
	mu.Unlock()
	if sentUA != browserUA {
		t.Errorf("the browser sent User-Agent %q, want %q", sentUA, browserUA)
	}
	wantLang := strings.Split(strings.Split(sentLang, ",")[0], ";")[0]
	if wantLang != "de-DE" {
		t.Errorf("the browser sent Accept-Language %q, want de-DE first", sentLang)
	}
	want := []map[string]string{
		{"url": site.URL + "/", "title": "Home", "referrer": ""},
		{"url": site.URL + "/about", "title": "About us", "referrer": site.URL + "/"},
		{"url": site.URL + "/app", "title": "App", "referrer": site.URL + "/about"},
		{"url": site.URL + "/app/settings", "title": "App settings", "referrer": site.URL + "/app"},
	}
	if len(rows) != len(want) {
		t.Fatalf("Cassandra holds %d page views, want %d: %v", len(rows), len(want), rows)
	}
	t.Logf("stored: %v", rows)
	for i, w := range want { // rows are in timeuuid order: the order of the visit
		got := rows[i]
		if got["url"] != w["url"] || got["title"] != w["title"] || got["referrer"] != w["referrer"] ||
			got["user_agent"] != browserUA || got["language"] != wantLang || got["ip"] != "127.0.0.1" {
			t.Errorf("page view %d: %v\nwant %v with user agent %q, language %q, ip 127.0.0.1", i, got, w, browserUA, wantLang)
		}
	}

	// pvjobs run reports them.
	out := t.TempDir()
	mustPvjobs(t, "run", "--source", ks.URL(), "--accounts", "site", "--today", "--jobs", "urls", "--out", "csv:"+out, "--top", "0")
	csvData, err := os.ReadFile(filepath.Join(out, "urls.csv"))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := stdcsv.NewReader(strings.NewReader(string(csvData))).ReadAll()
	if err != nil || len(recs) == 0 {
		t.Fatalf("urls.csv: %v", err)
	}
	idx := map[string]int{}
	for i, h := range recs[0] {
		idx[h] = i
	}
	var dayRows []string
	for _, r := range recs[1:] {
		if r[idx["account"]] == "site" && r[idx["period"]] == "day" {
			dayRows = append(dayRows, r[idx["url"]]+" "+r[idx["pageviews"]])
		}
	}
	sort.Strings(dayRows)
	wantRows := []string{site.URL + "/ 1", site.URL + "/about 1", site.URL + "/app 1", site.URL + "/app/settings 1"}
	sort.Strings(wantRows)
	if strings.Join(dayRows, "\n") != strings.Join(wantRows, "\n") {
		t.Errorf("pvjobs run urls report:\n%s\nwant:\n%s", strings.Join(dayRows, "\n"), strings.Join(wantRows, "\n"))
	}
}

// TestCollectBrowserPixel: the tracker's fallback in a real browser. Each
// page of the site spoils navigator.sendBeacon before a.js runs — removed
// (old browsers), answering false (the beacon queue is full), throwing —
// and the page views arrive all the same, by the /a.gif pixel: three page
// loads and a single-page-app navigation, stored with the url, title,
// referrer, user agent and language the browser sent.
func TestCollectBrowserPixel(t *testing.T) {
	addr := cassandratest.Require(t)
	bin := browsertest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ks, err := cassandratest.NewKeyspace(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Drop()

	col := freeAddr(t)
	stop := startCollect(t, col, "--cassandra", ks.URL(), "--accounts", "site", "--spool", filepath.Join(t.TempDir(), "spool"), "--fsync", "always")

	page := func(title, spoil, body string) string {
		return `<!doctype html><html><head><meta charset="utf-8"><title>` + title + `</title>` +
			`<script>` + spoil + `</script>` +
			`<script src="http://` + col + `/a.js" data-account="site" defer></script></head><body>` + body + `</body></html>`
	}
	const (
		removed = `delete Navigator.prototype.sendBeacon;`
		refuses = `Navigator.prototype.sendBeacon = function () { return false; };`
		throws  = `Navigator.prototype.sendBeacon = function () { throw new TypeError("no beacons here"); };`
	)
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		switch r.URL.Path {
		case "/":
			io.WriteString(w, page("Home", removed, `<a id="next" href="/full">Full</a>`))
		case "/full":
			io.WriteString(w, page("Queue full", refuses, `<a id="next" href="/app">The app</a>`))
		case "/app":
			io.WriteString(w, page("App", throws, `<button id="go" onclick="history.pushState({}, '', '/app/settings'); document.title = 'App settings'">Settings</button>`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer site.Close()

	bctx, bcancel := newBrowser(t, ctx, bin)
	defer bcancel()
	if err := chromedp.Do(bctx, chromedp.Navigate(site.URL+"/"), chromedp.WaitVisible(chromedp.ID("next"))); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	beaconType, err := chromedp.Run(bctx, chromedp.Evaluate[string](`typeof navigator.sendBeacon`))
	if err != nil {
		t.Fatal(err)
	}
	if beaconType != "undefined" {
		t.Fatalf("the page left navigator.sendBeacon a %s", beaconType)
	}
	waitCollected(t, col, 1)
	if err := chromedp.Do(bctx, chromedp.Click(chromedp.ID("next")), chromedp.WaitVisible(chromedp.CSS(`a[href="/app"]`))); err != nil {
		t.Fatal(err)
	}
	waitCollected(t, col, 2)
	if err := chromedp.Do(bctx, chromedp.Click(chromedp.ID("next")), chromedp.WaitVisible(chromedp.ID("go"))); err != nil {
		t.Fatal(err)
	}
	waitCollected(t, col, 3)
	if err := chromedp.Do(bctx, chromedp.Click(chromedp.ID("go"))); err != nil {
		t.Fatal(err)
	}
	waitCollected(t, col, 4)
	if b, p := collected(t, col); b != 0 || p != 4 {
		t.Errorf("%d page views by beacon and %d by the pixel; want 0 and 4", b, p)
	}
	bcancel()
	if code, stderr := stop(); code != 0 {
		t.Fatalf("pvjobs collect exited with %d:\n%s", code, stderr)
	}

	rows := storedPageViews(t, ctx, ks, "site")
	want := []map[string]string{
		{"url": site.URL + "/", "title": "Home", "referrer": ""},
		{"url": site.URL + "/full", "title": "Queue full", "referrer": site.URL + "/"},
		{"url": site.URL + "/app", "title": "App", "referrer": site.URL + "/full"},
		{"url": site.URL + "/app/settings", "title": "App settings", "referrer": site.URL + "/app"},
	}
	if len(rows) != len(want) {
		t.Fatalf("Cassandra holds %d page views, want %d: %v", len(rows), len(want), rows)
	}
	for i, w := range want { // in timeuuid order: the order of the visit
		got := rows[i]
		if got["url"] != w["url"] || got["title"] != w["title"] || got["referrer"] != w["referrer"] ||
			got["user_agent"] != browserUA || got["language"] != "de-DE" || got["ip"] != "127.0.0.1" {
			t.Errorf("page view %d: %v\nwant %v with user agent %q, language de-DE, ip 127.0.0.1", i, got, w, browserUA)
		}
	}
}
