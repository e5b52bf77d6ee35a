package html_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	stdhtml "html"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/reports/html"
)

func TestCheckPattern(t *testing.T) {
	two := []string{"blog", "shop"}
	for _, tc := range []struct {
		name, pattern, index string
		accounts             []string
		want                 string // "" for no error
	}{
		{"defaults", "", "", two, ""},
		{"dated history", "{account}-{from}-{to}.html", "index-{from}.html", two, ""},
		{"one account, one name", "report.html", "", []string{"blog"}, ""},
		{"several accounts, one name", "report.html", "", two, "has no {account}"},
		{"a path", "sub/{account}.html", "", two, "not a path"},
		{"up and out", "../{account}.html", "", two, "not a path"},
		{"index a path", "", "../index.html", two, "not a path"},
		{"index per account", "", "{account}.html", two, "no {account}"},
		{"dot", "", ".", two, "not a file name"},
		{"blank", "  ", "", []string{"blog"}, "not a file name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := html.CheckPattern(tc.pattern, tc.index, tc.accounts)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("error %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, html.ErrPattern)):
				t.Errorf("error %v, want ErrPattern saying %q", err, tc.want)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	plan := newPlan(t, []string{"blog", "index"}, "2024-08-01", "2024-08-07", time.UTC)
	base := t.TempDir()
	file := filepath.Join(base, "file")
	os.WriteFile(file, []byte("x"), 0o644)
	hasDir := filepath.Join(base, "hasdir")
	os.MkdirAll(filepath.Join(hasDir, "blog.html"), 0o755)
	for _, tc := range []struct {
		name string
		opt  html.Options
		want string
	}{
		{"new directory", html.Options{Dir: filepath.Join(base, "new", "sub"), Index: "all.html"}, ""},
		{"no directory", html.Options{}, "no directory"},
		{"a file", html.Options{Dir: file, Index: "all.html"}, "not a directory"},
		{"below a file", html.Options{Dir: filepath.Join(file, "x"), Index: "all.html"}, "not a directory"},
		{"a page is a directory", html.Options{Dir: hasDir, Index: "all.html"}, "is a directory"},
		{"account index and the index", html.Options{Dir: base}, "would both be written"},
		{"cannot write", html.Options{Dir: "/proc/x", Index: "all.html"}, "/proc"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := os.ReadDir(base)
			err := html.Check(plan, tc.opt, true)
			if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
			if after, _ := os.ReadDir(base); len(after) != len(before) {
				t.Errorf("Check left files behind: %v", after)
			}
		})
	}
}

// TestPrepareCommitAbort: Prepare writes nothing visible; Commit puts every
// page in place; Abort leaves the previous pages and no temporary file.
func TestPrepareCommitAbort(t *testing.T) {
	plan := newPlan(t, []string{"blog", "shop"}, "2024-08-01", "2024-08-07", time.UTC)
	reps := fixture(plan, 5, false, false)
	dir := filepath.Join(t.TempDir(), "out")
	opt := html.Options{Dir: dir}
	ctx := context.Background()

	p, err := html.Prepare(ctx, reps, plan, opt)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(dir, "blog.html"), filepath.Join(dir, "shop.html"), filepath.Join(dir, "index.html")}
	if !slices.Equal(p.Files(), want) {
		t.Errorf("files %q, want %q", p.Files(), want)
	}
	for _, f := range want {
		if _, err := os.Stat(f); err == nil {
			t.Errorf("%s is visible before the commit", f)
		}
	}
	if err := p.Abort(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Error("Abort left the directory Prepare made")
	}

	if err := html.Write(ctx, reps, plan, opt); err != nil {
		t.Fatal(err)
	}
	first, _ := os.ReadFile(want[0])
	p, err = html.Prepare(ctx, fixture(plan, 3, false, false), plan, opt)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Abort(); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(want[0]); !bytes.Equal(again, first) {
		t.Error("an aborted run changed a page")
	}
	ents, _ := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"blog.html", "index.html", "shop.html"}) {
		t.Errorf("directory holds %q", names)
	}

	// A cancelled context stops Prepare, leaving nothing behind.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	other := filepath.Join(t.TempDir(), "cancelled")
	if _, err := html.Prepare(cctx, reps, plan, html.Options{Dir: other}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Prepare: %v", err)
	}
	if _, err := os.Stat(other); err == nil {
		t.Error("a cancelled Prepare left its directory")
	}
}

// TestCSP: the page's policy forbids every request and every script and
// style but the page's own, which it names by their SHA-256.
func TestCSP(t *testing.T) {
	plan := newPlan(t, []string{"blog"}, "2024-08-01", "2024-08-07", time.UTC)
	var buf bytes.Buffer
	if err := html.Render(&buf, fixture(plan, 5, true, true), plan, "blog", html.Options{Dir: "x"}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	sha := func(s string) string {
		h := sha256.Sum256([]byte(s))
		return "'sha256-" + base64.StdEncoding.EncodeToString(h[:]) + "'"
	}
	style := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindAllStringSubmatch(out, -1)
	script := regexp.MustCompile(`(?s)<script>(.*?)</script>`).FindAllStringSubmatch(out, -1)
	if len(style) != 1 || len(script) != 1 {
		t.Fatalf("%d style and %d script elements, want one each", len(style), len(script))
	}
	meta := regexp.MustCompile(`<meta http-equiv="Content-Security-Policy" content="([^"]*)">`).FindStringSubmatch(out)
	if meta == nil {
		t.Fatal("no CSP meta element")
	}
	csp := stdhtml.UnescapeString(meta[1])
	if csp != html.CSP {
		t.Errorf("the page's CSP %q is not html.CSP", csp)
	}
	for _, want := range []string{"default-src 'none'", "script-src " + sha(script[0][1]) + ";", "style-src " + sha(style[0][1]) + ";",
		"base-uri 'none'", "form-action 'none'", "require-trusted-types-for 'script'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if i, j := strings.Index(out, "Content-Security-Policy"), strings.Index(out, "<style>"); i < 0 || i > j {
		t.Error("the CSP comes after the style sheet")
	}
	// Without payloads in its text, no attribute of the page is a style
	// or an event handler, which its CSP would refuse.
	buf.Reset()
	if err := html.Render(&buf, fixture(plan, 5, false, true), plan, "blog", html.Options{Dir: "x"}); err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`<[^>]*\s(style|on[a-z]+)=`).FindString(buf.String()); m != "" {
		t.Errorf("the page has a style or event-handler attribute, which its CSP forbids: %s", m)
	}
}

// FuzzRenderEscapes: whatever text a page view carries into a report (a
// title, a source, a search term), it adds no markup to the page: the page
// has as many "<" and '"' as with plain letters of the same length in its
// place, and the text never shows up unescaped.
func FuzzRenderEscapes(f *testing.F) {
	for _, p := range payloads {
		f.Add(p)
	}
	f.Add("plain")
	f.Add(strings.Repeat("<", 200))
	plan := newPlan(f, []string{"blog"}, "2024-08-01", "2024-08-01", time.UTC)
	render := func(t *testing.T, s string) string {
		reps := []mapreduce.Report{
			{Name: "urls", Keys: []string{"url"}, Labels: []string{"title"}, Measures: []mapreduce.Measure{{Name: "pageviews"}, {Name: "visitors"}},
				Rows: []mapreduce.ReportRow{{Account: "blog", Period: mapreduce.PeriodRange, Keys: []string{"/x"}, Labels: []string{s}, Values: []float64{3, 2}}}},
			{Name: "searchterms", Keys: []string{"engine", "term"}, Measures: traffic,
				Rows: []mapreduce.ReportRow{{Account: "blog", Period: mapreduce.PeriodRange, Keys: []string{"Google", s}, Values: []float64{3, 2, 2, 1, 0.5, 10}}}},
			{Name: "sources", Keys: []string{"medium", "source"}, Measures: traffic,
				Rows: []mapreduce.ReportRow{{Account: "blog", Period: mapreduce.PeriodRange, Keys: []string{"referral", s}, Values: []float64{3, 2, 2, 1, 0.5, 10}}}},
		}
		var buf bytes.Buffer
		if err := html.Render(&buf, reps, plan, "blog", html.Options{Dir: "x", Run: html.Run{Generated: plan.Start}}); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
			t.Skip("report keys are valid UTF-8 (jobs/validtext)")
		}
		got := render(t, s)
		plain := render(t, strings.Repeat("a", utf8.RuneCountInString(s)))
		for _, c := range []string{"<", `"`} {
			if a, b := strings.Count(got, c), strings.Count(plain, c); a != b {
				t.Errorf("%q adds markup: %d %s in the page, %d with plain text", s, a, c, b)
			}
		}
		if strings.ContainsAny(s, `<>"`) && strings.Count(got, s) > strings.Count(plain, s) {
			t.Errorf("%q is in the page unescaped", s)
		}
	})
}

// TestIndex: the index links every account's page by the pattern and shows
// the changes against the previous period only when the reports have them.
func TestIndex(t *testing.T) {
	plan := newPlan(t, []string{"blog", "shop"}, "2024-08-01", "2024-08-07", time.UTC)
	opt := html.Options{Dir: "x", Pattern: "{account}-{from}.html"}
	for _, previous := range []bool{false, true} {
		var buf bytes.Buffer
		if err := html.RenderIndex(&buf, fixture(plan, 5, false, previous), plan, opt); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		for _, a := range plan.Accounts {
			if !strings.Contains(out, `<a href="`+a+`-2024-08-01.html">`+a+`</a>`) {
				t.Errorf("the index does not link %s's page", a)
			}
		}
		// Six headline numbers per account.
		if n, want := strings.Count(out, `class="change `), map[bool]int{false: 0, true: 12}[previous]; n != want {
			t.Errorf("previous rows %v: %d changes, want %d", previous, n, want)
		}
		if got := strings.Contains(out, "compared with"); got != previous {
			t.Errorf("previous rows %v: says it compares: %v", previous, got)
		}
	}
}
