package html_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/reports/html"
	"github.com/pvjobs/pvjobs/reports/html/browsertest"
)

// pageFacts is what inspect reads from a loaded page.
type pageFacts struct {
	Pwned    string   `json:"pwned"`
	Title    string   `json:"title"`
	Text     string   `json:"text"`
	Scripts  int      `json:"scripts"`
	Danger   []string `json:"danger"`
	Handlers []string `json:"handlers"`
	SVGs     int      `json:"svgs"`
	Hrefs    []string `json:"hrefs"`
	Charts   []struct {
		Name string  `json:"name"`
		W    float64 `json:"w"`
		H    float64 `json:"h"`
	} `json:"charts"`
	Bars     int     `json:"bars"`
	Line     string  `json:"line"`
	Readout  string  `json:"readout"`
	Overflow float64 `json:"overflow"`
	BG       string  `json:"bg"`
	Tables   int     `json:"tables"`
	Empty    int     `json:"empty"`
}

// inspect reads the facts of the page in the browser's tab.
const inspect = `(() => {
  const q = (s) => [...document.querySelectorAll(s)];
  const r = {};
  r.pwned = window.__pwned === undefined ? "" : String(window.__pwned);
  r.title = document.title;
  r.text = document.body.textContent;
  r.scripts = document.scripts.length;
  r.danger = q("img,iframe,object,embed,frame,form,input,base,textarea,video,audio,link:not([rel=icon]),meta[http-equiv=refresh],script[src]").map(e => e.outerHTML.slice(0, 100));
  r.handlers = q("*").flatMap(e => [...e.attributes].filter(a => a.name.startsWith("on")).map(a => e.tagName + " " + a.name));
  r.svgs = q("svg").length;
  r.hrefs = q("[href]").map(e => e.getAttribute("href"));
  r.charts = q("[data-chart]").map(e => { const b = e.getBoundingClientRect(); return {name: e.dataset.chart, w: b.width, h: b.height}; });
  r.bars = q("svg[data-chart=trend] rect.pv").filter(e => e.getBBox().height > 0).length;
  const line = document.querySelector("svg[data-chart=trend] path.vi");
  r.line = line ? line.getAttribute("d") : "";
  const out = document.getElementById("readout");
  r.readout = out ? out.textContent : "";
  r.overflow = document.documentElement.scrollWidth - window.innerWidth;
  r.bg = getComputedStyle(document.body).backgroundColor;
  r.tables = q("main table").length;
  r.empty = q("[data-chart]").filter(e => e.getBoundingClientRect().width === 0 || e.getBoundingClientRect().height === 0).length;
  return r;
})()`

func facts(t *testing.T, b *browsertest.Browser) *pageFacts {
	t.Helper()
	f, err := chromedp.Run(b.Ctx, chromedp.Evaluate[*pageFacts](inspect))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// writeFixture writes the pages of the fixture (payloads in every text
// from the internet, previous rows) into a temporary directory.
func writeFixture(t *testing.T, accounts []string, from, to string, withPayloads, previous bool) (dir string, plan *mapreduce.Plan) {
	t.Helper()
	plan = newPlan(t, accounts, from, to, time.UTC)
	reps := fixture(plan, 25, withPayloads, previous)
	dir = t.TempDir()
	csvDir := filepath.Join(dir, "csv")
	opt := html.Options{Dir: filepath.Join(dir, "html"), Run: html.Run{Version: "test", Generated: time.Date(2024, 8, 8, 2, 30, 0, 0, time.UTC),
		Summary:  &mapreduce.Summary{ShardsFound: 14, Shards: 14, Rows: 5000, BadRows: 3, Spam: 12},
		CSVFiles: []string{filepath.Join(csvDir, "urls.csv"), filepath.Join(csvDir, "visits.csv")}}}
	if err := html.Write(context.Background(), reps, plan, opt); err != nil {
		t.Fatal(err)
	}
	return opt.Dir, plan
}

// TestBrowserPayloads: page views whose URL, title, referrer, search term,
// campaign and browser carry script and markup payloads show as text in a
// real browser and run nothing — with the page's Content-Security-Policy,
// and without it (the escaping alone holds). The page loads nothing but
// itself, logs no error, breaks no CSP rule (its own script and style run
// by their hashes), its charts have a size, and its script works.
func TestBrowserPayloads(t *testing.T) {
	dir, plan := writeFixture(t, []string{"blog", "shop"}, "2024-08-01", "2024-08-07", true, true)
	// The same pages without their CSP: escaping alone must hold.
	noCSP := filepath.Join(t.TempDir(), "nocsp")
	if err := os.Mkdir(noCSP, 0o755); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		i := strings.Index(s, `<meta http-equiv="Content-Security-Policy"`)
		j := strings.Index(s[i:], ">")
		if i < 0 || j < 0 {
			t.Fatalf("%s: no CSP meta tag", e.Name())
		}
		if err := os.WriteFile(filepath.Join(noCSP, e.Name()), []byte(s[:i]+s[i+j+1:]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b := browsertest.New(t)
	for _, tc := range []struct {
		name, dir, file string
		csp             bool
	}{
		{"blog", dir, "blog.html", true},
		{"shop", dir, "shop.html", true},
		{"index", dir, "index.html", true},
		{"blog without CSP", noCSP, "blog.html", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base, served := browsertest.Serve(t, tc.dir)
			url := base + "/" + tc.file
			v, err := b.Open(url)
			if err != nil {
				t.Fatal(err)
			}
			if errs := v.Errors(); len(errs) > 0 {
				t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
			}
			if len(v.Violations) > 0 {
				t.Errorf("CSP violations: %q", v.Violations)
			}
			var reqs []string
			for _, r := range v.Requests {
				if !strings.HasPrefix(r, "data:") {
					reqs = append(reqs, r)
				}
			}
			if !slices.Equal(reqs, []string{url}) {
				t.Errorf("requests: %q, want only the page %s", reqs, url)
			}
			if got := served(); !slices.Equal(got, []string{"/" + tc.file}) {
				t.Errorf("the server was asked for %q, want only /%s", got, tc.file)
			}
			f := facts(t, b)
			if f.Pwned != "" {
				t.Errorf("a payload ran: window.__pwned = %q", f.Pwned)
			}
			if strings.Contains(f.Title, "PWNED") {
				t.Errorf("a payload ran: the title is %q", f.Title)
			}
			if len(f.Danger) > 0 || len(f.Handlers) > 0 {
				t.Errorf("markup from the data became elements: %q, handlers %q", f.Danger, f.Handlers)
			}
			if f.Scripts != 2 {
				t.Errorf("%d script elements, want 2 (the data and the page's own)", f.Scripts)
			}
			for _, h := range f.Hrefs {
				if strings.Contains(h, ":") && h != "data:," {
					t.Errorf("link to %q: the pages link only to the run's own files", h)
				}
			}
			if tc.file != "index.html" {
				for i, p := range payloads {
					// HTML reads CR LF and CR as LF.
					p = strings.ReplaceAll(strings.ReplaceAll(p, "\r\n", "\n"), "\r", "\n")
					if !strings.Contains(f.Text, p) {
						t.Errorf("payload %d %q is not shown as text", i, p)
					}
				}
				if f.SVGs != 1 || f.Bars != len(plan.Calendar.Days) || !strings.HasPrefix(f.Line, "M") {
					t.Errorf("trend chart: %d svg, %d bars drawn (want %d), line %q", f.SVGs, f.Bars, len(plan.Calendar.Days), f.Line)
				}
				if len(f.Charts) != 2 || f.Empty > 0 {
					t.Errorf("charts %+v: want the trend and the heatmap, each of some size", f.Charts)
				}
				if tc.csp && !strings.Contains(f.Readout, "Point at") {
					t.Errorf("the page's script did not run: readout %q", f.Readout)
				}
			}
		})
	}
}

// TestBrowserReadout: pointing at a bar of the time series shows its
// numbers (the page's script, reading its JSON data).
func TestBrowserReadout(t *testing.T) {
	dir, _ := writeFixture(t, []string{"blog"}, "2024-08-01", "2024-08-07", false, false)
	b := browsertest.New(t)
	v, err := b.Open(browsertest.FileURL(filepath.Join(dir, "blog.html")),
		chromedp.Click(chromedp.CSS(`svg[data-chart=trend] g.b[data-i="2"] rect.hit`)))
	if err != nil {
		t.Fatal(err)
	}
	if errs := v.Errors(); len(errs) > 0 || len(v.Violations) > 0 {
		t.Fatalf("errors %q, violations %q", errs, v.Violations)
	}
	f := facts(t, b)
	if !strings.HasPrefix(f.Readout, "Sat 2024-08-03: ") || !strings.Contains(f.Readout, " visitors, ") || !strings.HasSuffix(f.Readout, " page views") {
		t.Errorf("readout after a click on the third bar: %q", f.Readout)
	}
}

// TestBrowserLayouts: the page fits a phone's width (wide tables scroll in
// their own box), follows the dark colour scheme, and prints.
func TestBrowserLayouts(t *testing.T) {
	dir, _ := writeFixture(t, []string{"blog"}, "2024-08-01", "2024-08-07", true, true)
	url := browsertest.FileURL(filepath.Join(dir, "blog.html"))
	b := browsertest.New(t)
	media := browsertest.ColorScheme
	t.Run("phone", func(t *testing.T) {
		if _, err := b.Open(url, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(3))); err != nil {
			t.Fatal(err)
		}
		f := facts(t, b)
		if f.Overflow > 0 {
			t.Errorf("the page is %.0f px wider than a 390 px phone", f.Overflow)
		}
		if f.Empty > 0 {
			t.Errorf("charts without a size on a phone: %+v", f.Charts)
		}
	})
	t.Run("dark", func(t *testing.T) {
		if _, err := b.Open(url, chromedp.EmulateViewport(1200, 900), media("dark")); err != nil {
			t.Fatal(err)
		}
		if f := facts(t, b); f.BG != "rgb(13, 17, 23)" {
			t.Errorf("dark scheme: body background %s", f.BG)
		}
	})
	t.Run("light", func(t *testing.T) {
		if _, err := b.Open(url, media("light")); err != nil {
			t.Fatal(err)
		}
		if f := facts(t, b); f.BG != "rgb(255, 255, 255)" {
			t.Errorf("light scheme: body background %s", f.BG)
		}
	})
	t.Run("print", func(t *testing.T) {
		// Print media is light, whatever the screen's scheme, and leaves
		// out what only works on a screen.
		if _, err := b.Open(url, media("dark"), browsertest.Media("print", "prefers-color-scheme", "dark")); err != nil {
			t.Fatal(err)
		}
		f := facts(t, b)
		if f.BG != "rgb(255, 255, 255)" {
			t.Errorf("print: body background %s", f.BG)
		}
		hidden, err := chromedp.Run(b.Ctx, chromedp.Evaluate[bool](`getComputedStyle(document.querySelector("details")).display === "none"`))
		if err != nil || !hidden {
			t.Errorf("print: the trend's table toggle is shown (%v)", err)
		}
		pdf, err := chromedp.Run(b.Ctx, chromedp.PrintToPDF())
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(pdf), "%PDF") || len(pdf) < 10_000 {
			t.Errorf("printing gave %d bytes", len(pdf))
		}
	})
}
