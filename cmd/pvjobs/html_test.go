package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	stdhtml "html"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/urfave/cli/v2"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/reports/html"
	"github.com/pvjobs/pvjobs/reports/html/browsertest"
)

var screenshots = flag.Bool("screenshots", false, "rewrite the screenshots of the sample report in testdata/screenshots (make screenshots)")

// testGeoIP is the generated test City database.
const testGeoIP = "../../jobs/geo/testdb/test-city.mmdb"

// hrefs returns the links of an HTML file, unescaped.
func hrefs(t *testing.T, path string) []string {
	t.Helper()
	var out []string
	for _, m := range regexp.MustCompile(`href="([^"]*)"`).FindAllStringSubmatch(fileText(t, path), -1) {
		out = append(out, stdhtml.UnescapeString(m[1]))
	}
	return out
}

// TestHTMLRun: --out html:DIR beside csv:DIR writes a page per account and
// an index; every link of every page leads to a file the run wrote; the
// pages tell the run's data quality; --html-pattern keeps a history.
func TestHTMLRun(t *testing.T) {
	base := t.TempDir()
	htmlDir, csvDir := filepath.Join(base, "html"), filepath.Join(base, "csv")
	mustPvjobs(t, "run", "--out", "html:"+htmlDir, "--out", "csv:"+csvDir, "--quiet")
	if names := dirNames(t, htmlDir); !slices.Equal(names, []string{"blog.html", "index.html", "shop.html"}) {
		t.Fatalf("html directory holds %v", names)
	}
	for _, name := range []string{"blog.html", "shop.html", "index.html"} {
		path := filepath.Join(htmlDir, name)
		text := fileText(t, path)
		var csvLinks int
		for _, h := range hrefs(t, path) {
			if h == "data:," {
				continue
			}
			u, err := url.Parse(h)
			if err != nil || u.Scheme != "" || u.Host != "" {
				t.Errorf("%s: link %q is not a relative link to one of the run's files", name, h)
				continue
			}
			target := filepath.Join(htmlDir, filepath.FromSlash(u.Path))
			if _, err := os.Stat(target); err != nil {
				t.Errorf("%s: link %q leads nowhere: %v", name, h, err)
			}
			if strings.HasSuffix(u.Path, ".csv") {
				csvLinks++
			}
		}
		if csvLinks != len(dirNames(t, csvDir)) {
			t.Errorf("%s links %d CSV files, the run wrote %d", name, csvLinks, len(dirNames(t, csvDir)))
		}
		for _, want := range []string{"2024-08-01 – 2024-08-07 (7 days)", "time zone <span>UTC</span>", "Made by pvjobs dev", "Referrer spam"} {
			if !strings.Contains(text, want) {
				t.Errorf("%s lacks %q", name, want)
			}
		}
		if name != "index.html" && !strings.Contains(text, "7 read, 0 missing") {
			t.Errorf("%s does not say its 7 shards were read", name)
		}
	}
	if !strings.Contains(fileText(t, filepath.Join(htmlDir, "index.html")), `href="blog.html"`) {
		t.Error("the index does not link blog.html")
	}

	// Nightly runs keep a history with a dated pattern.
	hist := filepath.Join(base, "history")
	for _, day := range []string{"2024-08-05", "2024-08-06"} {
		mustPvjobs(t, "run", "--from", day, "--to", day, "--out", "html:"+hist,
			"--html-pattern", "{account}-{from}.html", "--html-index", "index-{from}.html", "--quiet")
	}
	want := []string{"blog-2024-08-05.html", "blog-2024-08-06.html", "index-2024-08-05.html", "index-2024-08-06.html", "shop-2024-08-05.html", "shop-2024-08-06.html"}
	if names := dirNames(t, hist); !slices.Equal(names, want) {
		t.Errorf("history holds %v, want %v", names, want)
	}

	// The dry run names the pages and writes nothing.
	dry := filepath.Join(base, "dry")
	out := mustPvjobs(t, "run", "--dry-run", "--out", "html:"+dry, "--html-pattern", "{account}-{to}.html")
	for _, w := range []string{"output    HTML report in " + dry, "files: blog-2024-08-07.html, shop-2024-08-07.html, index.html"} {
		if !strings.Contains(out, w) {
			t.Errorf("dry run lacks %q:\n%s", w, out)
		}
	}
	if _, err := os.Stat(dry); err == nil {
		t.Error("a dry run wrote pages")
	}

	// A config file's job writes pages too.
	cfg := writeConfig(t, fmt.Sprintf("jobs:\n  nightly:\n    out: [\"html:%s\"]\n    html_pattern: \"report-{account}.html\"\n    html_top: 3\n    reports: [urls, visits]\n", filepath.Join(base, "cfg")))
	mustPvjobs(t, "run", "--config", cfg, "--job", "nightly", "--quiet")
	if names := dirNames(t, filepath.Join(base, "cfg")); !slices.Equal(names, []string{"index.html", "report-blog.html", "report-shop.html"}) {
		t.Errorf("config job wrote %v", names)
	}
	page := fileText(t, filepath.Join(base, "cfg", "report-blog.html"))
	if n := strings.Count(page, `<tr class="other">`); n != 1 {
		t.Errorf("html_top 3: %d (other) rows, want 1 (top pages)", n)
	}
	if !strings.Contains(page, "Reports this run did not make:") {
		t.Error("a run of two jobs does not say which reports are missing")
	}
}

// TestHTMLCompare: with --compare previous the tiles show the range's
// numbers of the visits report and their change against its previous rows,
// and the time series is of the range alone.
func TestHTMLCompare(t *testing.T) {
	base := t.TempDir()
	htmlDir, csvDir := filepath.Join(base, "html"), filepath.Join(base, "csv")
	mustPvjobs(t, "run", "--from", "2024-08-05", "--to", "2024-08-07", "--compare", "previous", "--tz", "Europe/Berlin",
		"--out", "html:"+htmlDir, "--out", "csv:"+csvDir, "--quiet")
	rows := readCSV(t, filepath.Join(csvDir, "visits.csv"))
	header := rows[0]
	values := map[string][]string{}
	for _, r := range rows[1:] {
		if r[0] == "shop" && (r[1] == "range" || r[1] == "previous") {
			values[r[1]] = r
		}
	}
	page := fileText(t, filepath.Join(htmlDir, "shop.html"))
	if !strings.Contains(page, "compared with <span>2024-08-02 – 2024-08-04 (3 days)</span>") {
		t.Error("the page does not name the previous period")
	}
	if n := strings.Count(page, `<g class="b"`); n != 3 {
		t.Errorf("the time series has %d bars, want the range's 3 days", n)
	}
	for _, tc := range []struct{ tile, column string }{{"visitors", "visitors"}, {"visits", "visits"}, {"pageviews", "pageviews"}} {
		cur, prev := values["range"][column(t, header, tc.column)], values["previous"][column(t, header, tc.column)]
		m := regexp.MustCompile(`id="tile-` + tc.tile + `"><div class="label"[^>]*>[^<]*</div><div class="value">([^<]*)</div><div class="change (up|down|flat) [a-z]+" title="previous period: ([^"]*)">`).FindStringSubmatch(page)
		if m == nil {
			t.Errorf("tile %s: no value with a change", tc.tile)
			continue
		}
		if strings.ReplaceAll(m[1], ",", "") != cur || strings.ReplaceAll(m[3], ",", "") != prev {
			t.Errorf("tile %s: %s (previous %s), the CSV says %s (previous %s)", tc.tile, m[1], m[3], cur, prev)
		}
	}
	if !strings.Contains(fileText(t, filepath.Join(htmlDir, "index.html")), `class="change `) {
		t.Error("the index shows no change")
	}
}

// TestHTMLCheckedBeforeReading: a bad HTML output is refused before any
// data is read (exit 2), and nothing is written anywhere.
func TestHTMLCheckedBeforeReading(t *testing.T) {
	src := corruptSource(t)
	base := t.TempDir()
	notDir := filepath.Join(base, "file")
	os.WriteFile(notDir, []byte("x"), 0o644)
	hasDir := filepath.Join(base, "hasdir")
	os.MkdirAll(filepath.Join(hasDir, "a.html"), 0o755)
	good := filepath.Join(base, "good")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no directory", []string{"--out", "html:"}, "want html:DIR"},
		{"directory is a file", []string{"--out", "html:" + notDir}, "not a directory"},
		{"directory nobody may write", []string{"--out", "html:/proc"}, "/proc"},
		{"a page is a directory", []string{"--out", "html:" + hasDir}, "is a directory"},
		{"pattern is a path", []string{"--out", "html:" + good, "--html-pattern", "../{account}.html"}, "not a path"},
		{"index with {account}", []string{"--out", "html:" + good, "--html-index", "{account}.html"}, "no {account}"},
		{"index is a page", []string{"--out", "html:" + good, "--html-pattern", "{account}.html", "--html-index", "a.html"}, "would both be written"},
		{"no rows", []string{"--out", "html:" + good, "--html-top", "0"}, `--html-top "0": want a whole number, 1 or more`},
		{"second output bad", []string{"--out", "csv:" + good, "--out", "html:" + notDir}, "not a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := slices.Concat([]string{"run", "--source", src, "--max-bad-rows", "0", "--quiet", "--jobs", "urls"}, tc.args)
			before := dirNames(t, base)
			code, _, stderr := pvjobs(t, context.Background(), args...)
			if code != exitUsage || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit 2 saying %q", code, stderr, tc.want)
			}
			if strings.Contains(stderr, "truncated") {
				t.Errorf("the data was read: %s", stderr)
			}
			if after := dirNames(t, base); !slices.Equal(after, before) {
				t.Errorf("%s changed: %v", base, after)
			}
		})
	}
	// Several accounts need {account} in the pattern.
	code, _, stderr := pvjobs(t, context.Background(), "run", "--out", "html:"+good, "--html-pattern", "report.html", "--quiet")
	if code != exitUsage || !strings.Contains(stderr, "has no {account}") {
		t.Errorf("two accounts, one file: exit %d, %s", code, stderr)
	}
}

// payloads are script and markup in the text of page views: each that ran
// would set window.__pwned or the title.
var payloads = []string{
	`<img src=x onerror="window.__pwned='img';document.title='PWNED'">`,
	`</script><script>window.__pwned='script';document.title='PWNED'</script>`,
	`javascript:window.__pwned='js'`,
	`"><svg onload="window.__pwned='svg'">`,
	"two\nlines <b>bold</b> 'single' \"double\"",
	`</title></style></textarea><script>window.__pwned='rcdata'</script>`,
}

// TestHTMLBrowserPayloads: page views whose URL, title, referrer, user
// agent, language, search term and utm values carry script and markup go
// through a real run into the HTML report; in headless Chromium the page
// shows them as text, runs none of them, logs no error, breaks no CSP rule
// and requests nothing but itself.
func TestHTMLBrowserPayloads(t *testing.T) {
	const chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
	src := t.TempDir()
	var values [][]byte
	add := func(m map[string]string) {
		b, err := msgpack.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		values = append(values, b)
	}
	for i, p := range payloads {
		q := url.QueryEscape(p)
		ip := fmt.Sprintf("198.51.100.%d", i+1)
		add(map[string]string{"url": "https://site.example/" + p, "title": p, "ip": ip, "user_agent": chrome, "referrer": "https://evil.example/" + p, "language": p})
		add(map[string]string{"url": "https://site.example/land?utm_source=" + q + "&utm_medium=email&utm_campaign=" + q + "&utm_term=" + q, "title": "Landing", "ip": ip, "user_agent": chrome})
		add(map[string]string{"url": "https://site.example/found", "title": "Found", "ip": ip, "user_agent": chrome, "referrer": "https://www.google.com/search?q=" + q})
		add(map[string]string{"url": "https://site.example/agent", "title": "Agent", "ip": ip, "user_agent": "Mozilla/5.0 " + p})
	}
	writeShard(t, src, "20240801.site", values)
	base := t.TempDir()
	htmlDir := filepath.Join(base, "html")
	mustPvjobs(t, "run", "--source", src, "--from", "2024-08-01", "--to", "2024-08-01", "--geoip", testGeoIP,
		"--out", "html:"+htmlDir, "--out", "csv:"+filepath.Join(base, "csv"), "--html-top", "50", "--quiet")
	page := filepath.Join(htmlDir, "site.html")
	if n := strings.Count(strings.ToLower(fileText(t, page)), "</script"); n != 2 {
		t.Errorf("the page closes %d script elements, want 2 (its data and its script)", n)
	}

	b := browsertest.New(t)
	for _, name := range []string{"site.html", "index.html"} {
		t.Run(name, func(t *testing.T) {
			root, served := browsertest.Serve(t, htmlDir)
			u := root + "/" + name
			v, err := b.Open(u)
			if err != nil {
				t.Fatal(err)
			}
			if errs := v.Errors(); len(errs) > 0 {
				t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
			}
			if len(v.Violations) > 0 {
				t.Errorf("CSP violations: %q", v.Violations)
			}
			if got := served(); !slices.Equal(got, []string{"/" + name}) {
				t.Errorf("the server was asked for %q, want only /%s", got, name)
			}
			for _, r := range v.Requests {
				if r != u && !strings.HasPrefix(r, "data:") {
					t.Errorf("the page requested %s", r)
				}
			}
			type result struct {
				Pwned    string   `json:"pwned"`
				Title    string   `json:"title"`
				Text     string   `json:"text"`
				Elements []string `json:"elements"`
				Hrefs    []string `json:"hrefs"`
			}
			r, err := chromedp.Run(b.Ctx, chromedp.Evaluate[result](`({
				pwned: window.__pwned === undefined ? "" : String(window.__pwned),
				title: document.title,
				text: document.body.textContent,
				elements: [...document.querySelectorAll("img,iframe,object,embed,b,form,script[src],[onerror],[onload]")].map(e => e.tagName),
				hrefs: [...document.querySelectorAll("a")].map(a => a.getAttribute("href")),
			})`))
			if err != nil {
				t.Fatal(err)
			}
			if r.Pwned != "" || strings.Contains(r.Title, "PWNED") {
				t.Errorf("a payload ran: __pwned %q, title %q", r.Pwned, r.Title)
			}
			if len(r.Elements) > 0 {
				t.Errorf("markup from page views became elements: %q", r.Elements)
			}
			for _, h := range r.Hrefs {
				if strings.Contains(h, ":") {
					t.Errorf("a link to %q: the pages link only to the run's own files", h)
				}
			}
			if name == "site.html" {
				for _, p := range payloads {
					// The titles job collapses white space.
					want := strings.Join(strings.Fields(p), " ")
					if !strings.Contains(r.Text, want) {
						t.Errorf("title %q is not shown as text", p)
					}
					// utm values and search terms are lower-cased: the
					// campaign's name, source and term, and the search
					// term show it besides the title.
					if n := strings.Count(strings.ToLower(r.Text), strings.ToLower(want)); n < 5 {
						t.Errorf("%q is shown %d times as text, want 5 or more (title, campaign, source, term, search term)", want, n)
					}
				}
			}
		})
	}
}

// TestHTMLScreenshots makes the screenshots of the sample report (light and
// dark) that the README shows: with -screenshots (make screenshots) it
// rewrites them, else it checks they are there.
func TestHTMLScreenshots(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "screenshots")
	names := []string{"report-light.png", "report-dark.png"}
	if !*screenshots {
		for _, n := range names {
			b, err := os.ReadFile(filepath.Join(dir, n))
			if err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
				t.Errorf("%s: not a PNG (%v): make screenshots", n, err)
			}
		}
		return
	}
	out := t.TempDir()
	mustPvjobs(t, "run", "--from", "2024-08-06", "--to", "2024-08-07", "--compare", "previous", "--tz", "Europe/Berlin", "--out", "html:"+out, "--quiet")
	b := browsertest.New(t)
	for i, scheme := range []string{"light", "dark"} {
		png, err := b.Screenshot(browsertest.FileURL(filepath.Join(out, "blog.html")), 1280, scheme)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, names[i]), png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (%d bytes)", names[i], len(png))
	}
}

// yearRun runs every job over a year of generated page views of one
// account (1,000 a day, 5,000 pages) and writes its HTML report into dir.
func yearRun(tb testing.TB, dir string) (reps []mapreduce.Report, plan *mapreduce.Plan, page string) {
	tb.Helper()
	src := filepath.Join(dir, "shards")
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"pvjobs", "gen", "--to-dir", src, "--accounts", "blog",
		"--from", "2024-01-01", "--to", "2024-12-31", "--rows-per-day", "1000", "--pages", "5000", "--gzip"}, &out, &errOut); code != 0 {
		tb.Fatalf("gen: %s", errOut.String())
	}
	var p runParams
	var perr error
	app := &cli.App{Name: "pvjobs", Flags: runFlags(), Writer: io.Discard, ErrWriter: io.Discard,
		Action:         func(c *cli.Context) error { p, perr = paramsFromContext(c); return nil },
		ExitErrHandler: func(*cli.Context, error) {}}
	if err := app.Run([]string{"pvjobs", "--source", src, "--accounts", "blog", "--from", "2024-01-01", "--to", "2024-12-31",
		"--tz", "Europe/Berlin", "--out", "html:" + filepath.Join(dir, "html"), "--geoip", testGeoIP, "--max-bad-rows", "0"}); err != nil || perr != nil {
		tb.Fatalf("flags: %v %v", err, perr)
	}
	ctx := context.Background()
	s, err := setupRun(ctx, &p)
	if err != nil {
		tb.Fatal(err)
	}
	defer s.close()
	res, err := mapreduce.Run(ctx, s.plan, s.src, s.tasks, s.opts)
	if err != nil {
		tb.Fatal(err)
	}
	describeRun(s.outs, &res.Summary, res.Reports, s.plan)
	if err := writeOutputs(ctx, s.outs, res.Reports, s.plan, nil); err != nil {
		tb.Fatal(err)
	}
	return res.Reports, s.plan, filepath.Join(dir, "html", "blog.html")
}

// loadTimes loads the page in the browser and returns the milliseconds
// from the start of the navigation to the first contentful paint and to the
// end of the load event, as the page's Performance API tells them.
func loadTimes(tb testing.TB, b *browsertest.Browser, page string) (fcp, load float64) {
	tb.Helper()
	v, err := b.Open(browsertest.FileURL(page), chromedp.EmulateViewport(1200, 900))
	if err != nil {
		tb.Fatal(err)
	}
	if errs := v.Errors(); len(errs) > 0 {
		tb.Fatalf("console errors: %q", errs)
	}
	type timing struct{ FCP, Load float64 }
	deadline := time.Now().Add(10 * time.Second)
	for {
		tm, err := chromedp.Run(b.Ctx, chromedp.Evaluate[timing](`({
			FCP: (performance.getEntriesByName("first-contentful-paint")[0] || {startTime: 0}).startTime,
			Load: performance.getEntriesByType("navigation")[0].loadEventEnd})`))
		if err != nil {
			tb.Fatal(err)
		}
		if tm.FCP > 0 && tm.Load > 0 {
			return tm.FCP, tm.Load
		}
		if time.Now().After(deadline) {
			tb.Fatalf("no paint or load timing after 10 s: %+v", tm)
		}
		time.Sleep(10 * time.Millisecond) // polling the page's timing with a deadline
	}
}

// TestHTMLYear: the report of a year of one account stays under 1 MB; in
// headless Chromium it loads without an error (the figures are logged;
// BenchmarkHTMLYear measures them).
func TestHTMLYear(t *testing.T) {
	if testing.Short() {
		t.Skip("a year of page views: not with -short")
	}
	_, plan, page := yearRun(t, t.TempDir())
	st, err := os.Stat(page)
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() >= 1<<20 {
		t.Errorf("a year's report is %d bytes, want under 1 MB", st.Size())
	}
	text := fileText(t, page)
	if n := strings.Count(text, `<g class="b"`); n != len(plan.Calendar.Days) {
		t.Errorf("the trend has %d bars, want one per day (%d)", n, len(plan.Calendar.Days))
	}
	b := browsertest.New(t)
	fcp, load := loadTimes(t, b, page)
	t.Logf("a year of one account: %d bytes; first contentful paint %.0f ms, load event end %.0f ms", st.Size(), fcp, load)
}

// BenchmarkHTMLYear measures the report of a year of one account: how long
// pvjobs takes to render it, and how long headless Chromium takes to show
// it (ms to the first contentful paint and to the end of the load event).
func BenchmarkHTMLYear(b *testing.B) {
	reps, plan, page := yearRun(b, b.TempDir())
	st, err := os.Stat(page)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("render", func(b *testing.B) {
		opt := html.Options{Dir: b.TempDir()}
		var buf bytes.Buffer
		b.ReportAllocs()
		for b.Loop() {
			buf.Reset()
			if err := html.Render(&buf, reps, plan, "blog", opt); err != nil {
				b.Fatal(err)
			}
		}
		b.SetBytes(int64(buf.Len()))
		b.ReportMetric(float64(buf.Len()), "page-bytes")
	})
	b.Run("chromium", func(b *testing.B) {
		br := browsertest.New(b)
		var fcp, load float64
		for b.Loop() {
			f, l := loadTimes(b, br, page)
			fcp += f
			load += l
		}
		b.ReportMetric(fcp/float64(b.N), "ms-fcp/op")
		b.ReportMetric(load/float64(b.N), "ms-load/op")
		b.ReportMetric(float64(st.Size()), "page-bytes")
	})
}
