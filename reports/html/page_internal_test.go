package html

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
)

func TestFormatValue(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		kind mapreduce.MeasureKind
		v    float64
		want string
	}{
		{mapreduce.Count, 0, "0"},
		{mapreduce.Count, 999, "999"},
		{mapreduce.Count, 1000, "1,000"},
		{mapreduce.Count, 1234567.4, "1,234,567"},
		{mapreduce.Count, -1234, "−1,234"},
		{mapreduce.Count, nan, "–"},
		{mapreduce.Rate, 0.4231, "42.3%"},
		{mapreduce.Rate, 1, "100.0%"},
		{mapreduce.Rate, nan, "–"},
		{mapreduce.Seconds, 0, "0s"},
		{mapreduce.Seconds, 45.4, "45s"},
		{mapreduce.Seconds, 185, "3m 05s"},
		{mapreduce.Seconds, 3725, "1h 02m"},
		{mapreduce.Seconds, math.Inf(1), "–"},
		{mapreduce.Mean, 2.345, "2.35"},
	} {
		if got := formatValue(tc.kind, tc.v); got != tc.want {
			t.Errorf("formatValue(%v, %v) = %q, want %q", tc.kind, tc.v, got, tc.want)
		}
	}
	for v, want := range map[float64]string{0: "0", 999: "999", 1234: "1.2k", 9999: "9.9k", 12345: "12k", 1_234_567: "1.2M", 45_000_000: "45M"} {
		if got := shortCount(v); got != want {
			t.Errorf("shortCount(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestNewChange(t *testing.T) {
	for _, tc := range []struct {
		name          string
		kind          mapreduce.MeasureKind
		cur, prev     float64
		lowerIsBetter bool
		text, dir     string
		good          bool
	}{
		{"more visitors", mapreduce.Count, 125, 100, false, "+25.0%", "up", true},
		{"fewer visitors", mapreduce.Count, 75, 100, false, "−25.0%", "down", false},
		{"same", mapreduce.Count, 100, 100, false, "±0%", "flat", true},
		{"from nothing", mapreduce.Count, 5, 0, false, "new", "up", true},
		{"nothing twice", mapreduce.Count, 0, 0, false, "±0%", "flat", true},
		{"bounce rate up is bad", mapreduce.Rate, 0.5, 0.4, true, "+10.0 pp", "up", false},
		{"bounce rate down is good", mapreduce.Rate, 0.3, 0.4, true, "−10.0 pp", "down", true},
		{"longer visits", mapreduce.Seconds, 90, 60, false, "+50.0%", "up", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newChange(tc.kind, tc.cur, tc.prev, tc.lowerIsBetter)
			if c == nil || c.Text != tc.text || c.Dir != tc.dir || c.Good != tc.good {
				t.Errorf("got %+v, want %q %s good=%v", c, tc.text, tc.dir, tc.good)
			}
		})
	}
	if c := newChange(mapreduce.Rate, math.NaN(), 0.4, true); c != nil {
		t.Errorf("a rate of no visits: %+v, want no change", c)
	}
}

func TestClip(t *testing.T) {
	long := strings.Repeat("é", maxText+5)
	got, clipped := clip(long)
	if !clipped || len([]rune(got)) != maxText || !strings.HasSuffix(got, "…") {
		t.Errorf("clip of %d runes: %d runes, clipped %v", maxText+5, len([]rune(got)), clipped)
	}
	if got, clipped := clip("short"); got != "short" || clipped {
		t.Errorf("clip(short) = %q, %v", got, clipped)
	}
}

func TestNiceScale(t *testing.T) {
	for _, v := range []float64{0, 3, 7, 95, 101, 2400, 13_000, 987_654} {
		top, ticks := niceScale(v)
		step := ticks[1] - ticks[0]
		ok := top >= v && ticks[0] == 0 && ticks[len(ticks)-1] == top && len(ticks) >= 3 && len(ticks) <= 7 && (v < 4 || top < 2*v)
		for i := range ticks[1:] {
			ok = ok && ticks[i+1]-ticks[i] == step
		}
		if !ok {
			t.Errorf("niceScale(%v) = %v %v", v, top, ticks)
		}
	}
}

// trafficReport is a sources report with the rows given as (medium,
// source, page views, visitors, visits, bounces, average seconds).
func trafficReport(rows ...[]any) *mapreduce.Report {
	rep := &mapreduce.Report{Name: "sources", Keys: []string{"medium", "source"}, Measures: []mapreduce.Measure{
		{Name: "pageviews"}, {Name: "visitors"}, {Name: "visits"}, {Name: "bounces"},
		{Name: "bounce_rate", Kind: mapreduce.Rate}, {Name: "avg_visit_duration_s", Kind: mapreduce.Seconds}}}
	for _, r := range rows {
		visits, bounces := r[4].(float64), r[5].(float64)
		rep.Rows = append(rep.Rows, mapreduce.ReportRow{Account: "a", Period: mapreduce.PeriodRange,
			Keys:   []string{r[0].(string), r[1].(string)},
			Values: []float64{r[2].(float64), r[3].(float64), visits, bounces, bounces / visits, r[6].(float64)},
			Other:  r[0] == mapreduce.Other})
	}
	return rep
}

// rangeRows returns the rows of rep over the whole range for account.
func rangeRows(rep *mapreduce.Report, account string) []*mapreduce.ReportRow {
	var out []*mapreduce.ReportRow
	for i := range rep.Rows {
		r := &rep.Rows[i]
		if r.Account == account && r.Period == mapreduce.PeriodRange {
			out = append(out, r)
		}
	}
	return out
}

func cellTexts(cs []cell) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Text
	}
	return out
}

// TestBuildTable: the top rows, then (other) and a total; distinct counts
// are never added up; rates and averages of rows taken together come from
// their counts.
func TestBuildTable(t *testing.T) {
	rep := trafficReport(
		[]any{"search", "Google", 100.0, 60.0, 80.0, 40.0, 30.0},
		[]any{"social", "Reddit", 50.0, 30.0, 40.0, 10.0, 60.0},
		[]any{"search", "Bing", 20.0, 15.0, 20.0, 10.0, 90.0},
		[]any{"direct", "(direct)", 10.0, 10.0, 10.0, 10.0, 0.0},
		[]any{mapreduce.Other, mapreduce.Other, 5.0, 4.0, 5.0, 5.0, 0.0},
	)
	spec := &tableSpec{id: "sources", report: "sources", measures: []string{"visits", "visitors", "pageviews", "bounce_rate", "avg_visit_duration_s"}}

	t.Run("top 2", func(t *testing.T) {
		tb := buildTable(spec, rep, rangeRows(rep, "a"), 2, nil)
		want := [][]string{
			{"search", "Google", "80", "60", "100", "50.0%", "30s"},
			{"social", "Reddit", "40", "30", "50", "25.0%", "1m 00s"},
		}
		if len(tb.Rows) != 2 {
			t.Fatalf("%d rows", len(tb.Rows))
		}
		for i, w := range want {
			if got := cellTexts(tb.Rows[i].Cells); !slices.Equal(got, w) {
				t.Errorf("row %d: %q, want %q", i, got, w)
			}
		}
		if tb.Rows[0].Bar != 100 || tb.Rows[1].Bar != 50 {
			t.Errorf("bars %d, %d; want 100, 50", tb.Rows[0].Bar, tb.Rows[1].Bar)
		}
		// (other): Bing, (direct) and the report's own (other): visits
		// 35, page views 35, bounces 25 → 71.4%, duration weighted by
		// visits (20×90 + 0 + 0) / 35 = 51s; visitors unknown.
		if got := cellTexts(tb.Other.Cells); !slices.Equal(got, []string{"(other)", "", "35", "–", "35", "71.4%", "51s"}) {
			t.Errorf("(other): %q", got)
		}
		// Total: visits 155, page views 185, bounces 75 → 48.4%,
		// duration (80×30 + 40×60 + 20×90) / 155 = 42.6s.
		if got := cellTexts(tb.Total.Cells); !slices.Equal(got, []string{"Total (5 rows)", "", "155", "–", "185", "48.4%", "43s"}) {
			t.Errorf("total: %q", got)
		}
		if tb.Total.Cells[3].Title == "" {
			t.Error("the visitors of the total say nothing about why they are missing")
		}
	})
	t.Run("only the report's own (other)", func(t *testing.T) {
		tb := buildTable(spec, rep, rangeRows(rep, "a"), 10, nil)
		if len(tb.Rows) != 4 {
			t.Fatalf("%d rows, want 4", len(tb.Rows))
		}
		// One row stands for the report's (other): its visitors are the
		// report's union.
		if got := cellTexts(tb.Other.Cells); !slices.Equal(got, []string{"(other)", "", "5", "4", "5", "100.0%", "0s"}) {
			t.Errorf("(other): %q", got)
		}
	})
	t.Run("rolled up by medium", func(t *testing.T) {
		roll := &tableSpec{id: "channels", report: "sources", keys: []string{"medium"}, measures: []string{"visits", "visitors", "pageviews", "bounce_rate"}}
		tb := buildTable(roll, rep, rangeRows(rep, "a"), 10, nil)
		if got := len(tb.Columns); got != 4 {
			t.Errorf("%d columns, want 4 (visitors left out)", got)
		}
		want := [][]string{
			{"search", "100", "120", "50.0%"},
			{"social", "40", "50", "25.0%"},
			{"direct", "10", "10", "100.0%"},
		}
		for i, w := range want {
			if got := cellTexts(tb.Rows[i].Cells); !slices.Equal(got, w) {
				t.Errorf("row %d: %q, want %q", i, got, w)
			}
		}
	})
	t.Run("other account", func(t *testing.T) {
		tb := buildTable(spec, rep, rangeRows(rep, "b"), 10, nil)
		if len(tb.Rows) != 0 || tb.Other != nil || tb.Total != nil {
			t.Errorf("an account without rows: %+v", tb)
		}
	})
}

func TestCommonOrigin(t *testing.T) {
	id := func(s string) string { return s }
	for _, tc := range []struct {
		urls []string
		want string
	}{
		{[]string{"https://a.example/", "https://a.example/x?q=1"}, "https://a.example"},
		{[]string{"https://a.example/", "https://b.example/"}, ""},
		{[]string{"https://a.example/", "(not set)"}, ""},
		{[]string{"https://a.example.evil/", "https://a.example/"}, ""},
		{[]string{"javascript:alert(1)"}, ""},
		{[]string{"https://user@a.example/"}, ""},
	} {
		if got := commonOrigin(tc.urls, id); got != tc.want {
			t.Errorf("commonOrigin(%q) = %q, want %q", tc.urls, got, tc.want)
		}
	}
}

// testPlan is a plan of account a over 2024-08-01 to 2024-08-07, UTC.
func testPlan(t *testing.T) *mapreduce.Plan {
	t.Helper()
	start := time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC)
	plan, err := mapreduce.NewPlan(mapreduce.PlanSpec{Accounts: []string{"a"}, Start: start, End: start.AddDate(0, 0, 7), Loc: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

// TestTiles: the headline numbers come from the visits report; the change
// against the previous period shows only when the reports carry its rows.
func TestTiles(t *testing.T) {
	plan := testPlan(t)
	visits := mapreduce.Report{Name: "visits", Measures: []mapreduce.Measure{
		{Name: "visitors"}, {Name: "visits"}, {Name: "pageviews"}, {Name: "bounces"},
		{Name: "bounce_rate", Kind: mapreduce.Rate}, {Name: "avg_visit_duration_s", Kind: mapreduce.Seconds},
		{Name: "pageviews_per_visit", Kind: mapreduce.Mean}}}
	visits.Rows = []mapreduce.ReportRow{
		{Account: "a", Period: mapreduce.PeriodRange, Start: plan.Start, Values: []float64{120, 200, 500, 100, 0.5, 90, 2.5}},
	}
	tiles := newReportSet([]mapreduce.Report{visits}).tiles("a")
	var got []string
	for _, tl := range tiles {
		got = append(got, tl.ID+"="+tl.Value)
		if tl.Change != nil {
			t.Errorf("tile %s shows a change without previous rows: %+v", tl.ID, tl.Change)
		}
	}
	want := []string{"visitors=120", "visits=200", "pageviews=500", "bounce-rate=50.0%", "visit-duration=1m 30s", "views-per-visit=2.50"}
	if !slices.Equal(got, want) {
		t.Errorf("tiles %q, want %q", got, want)
	}

	visits.Rows = append(visits.Rows, mapreduce.ReportRow{Account: "a", Period: mapreduce.PeriodPrevious, Start: plan.Start.AddDate(0, 0, -7),
		Values: []float64{100, 250, 400, 100, 0.4, 0, 1.6}})
	set := newReportSet([]mapreduce.Report{visits})
	got = nil
	for _, tl := range set.tiles("a") {
		if tl.Change == nil {
			t.Errorf("tile %s: no change with previous rows", tl.ID)
			continue
		}
		got = append(got, tl.ID+" "+tl.Change.Text+" "+tl.Change.Dir+" "+map[bool]string{true: "good", false: "bad"}[tl.Change.Good])
	}
	want = []string{"visitors +20.0% up good", "visits −20.0% down bad", "pageviews +25.0% up good",
		"bounce-rate +10.0 pp up bad", "visit-duration new up good", "views-per-visit +56.2% up good"}
	if !slices.Equal(got, want) {
		t.Errorf("changes %q, want %q", got, want)
	}
	if start, ok := set.previousStart(); !ok || !start.Equal(plan.Start.AddDate(0, 0, -7)) {
		t.Errorf("previous period starts %v %v", start, ok)
	}

	// Without visits: visitors from uniques, page views from the URLs
	// (the (other) row included).
	uniques := mapreduce.Report{Name: "uniques", Measures: []mapreduce.Measure{{Name: "visitors"}},
		Rows: []mapreduce.ReportRow{{Account: "a", Period: mapreduce.PeriodRange, Values: []float64{42}}}}
	urls := mapreduce.Report{Name: "urls", Keys: []string{"url"}, Measures: []mapreduce.Measure{{Name: "pageviews"}, {Name: "visitors"}},
		Rows: []mapreduce.ReportRow{
			{Account: "a", Period: mapreduce.PeriodRange, Keys: []string{"/x"}, Values: []float64{30, 20}},
			{Account: "a", Period: mapreduce.PeriodRange, Keys: []string{"(other)"}, Values: []float64{12, 10}, Other: true},
			{Account: "a", Period: mapreduce.PeriodDay, Keys: []string{"/x"}, Values: []float64{30, 20}},
		}}
	got = nil
	for _, tl := range newReportSet([]mapreduce.Report{uniques, urls}).tiles("a") {
		got = append(got, tl.ID+"="+tl.Value)
	}
	if want := []string{"visitors=42", "pageviews=42"}; !slices.Equal(got, want) {
		t.Errorf("tiles without visits: %q, want %q", got, want)
	}
}

// TestDataEscaped: the script's data is JSON in a <script
// type="application/json"> element; whatever its strings hold, the element
// cannot be closed early (no "</" in it) and the JSON reads back the same.
func TestDataEscaped(t *testing.T) {
	evil := []string{"</script><script>alert(1)</script>", "<!--<script>", "\u2028\u2029", `"'\`, "]]>"}
	p := &page{Title: "t", Data: pageData{Trend: &trendData{Labels: evil, Visitors: []float64{1, 2, 3, 4, 5}}}}
	var buf bytes.Buffer
	if err := renderPage(&buf, p); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	const open = `<script type="application/json" id="pvjobs-data">`
	i := strings.Index(out, open)
	if i < 0 {
		t.Fatal("no data element")
	}
	body := out[i+len(open):]
	body = body[:strings.Index(body, "</script>")]
	if strings.Contains(body, "</") || strings.Contains(strings.ToLower(body), "<!--") || strings.Contains(strings.ToLower(body), "<script") {
		t.Errorf("the data element holds markup: %s", body)
	}
	var back pageData
	if err := json.Unmarshal([]byte(body), &back); err != nil {
		t.Fatalf("the data is not JSON: %v\n%s", err, body)
	}
	if !slices.Equal(back.Trend.Labels, evil) {
		t.Errorf("the data reads back as %q", back.Trend.Labels)
	}
}
