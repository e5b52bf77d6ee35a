package html

import (
	"cmp"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strings"

	"github.com/pvjobs/pvjobs/mapreduce"
)

// tableSpec describes one table of an account's page: which report it
// shows, which of its key columns (a subset adds the rows of each
// combination up: countries from countries, regions and cities), and which
// measures, in which order, when the report has them.
type tableSpec struct {
	id, title string
	report    string
	// keys are the key columns shown; nil shows every key column of the
	// report and its label columns, one table row per report row.
	keys []string
	// measures are the measures shown, those the report has, in this order;
	// rows are ranked by the first.
	measures []string
	// titles looks the title of each url key up in the urls report (entry
	// and exit pages).
	titles bool
	// hideNotSet leaves out key columns whose every shown value is
	// "(not set)" (a campaign's term and content, mostly).
	hideNotSet bool
	note       string
}

// sections lists the tables of an account's page, section by section.
var sections = []struct {
	id, title string
	tables    []tableSpec
}{
	{"pages", "Pages", []tableSpec{
		{id: "top-pages", title: "Top pages", report: "urls", measures: []string{"pageviews", "visitors"}},
		{id: "entry-pages", title: "Entry pages", report: "entrypages", measures: []string{"entries", "bounce_rate", "avg_visit_duration_s"}, titles: true},
		{id: "exit-pages", title: "Exit pages", report: "exitpages", measures: []string{"exits", "pageviews", "exit_rate"}, titles: true},
	}},
	{"acquisition", "Where visits come from", []tableSpec{
		{id: "channels", title: "Channels", report: "sources", keys: []string{"medium"}, measures: []string{"visits", "pageviews", "bounce_rate", "avg_visit_duration_s"}},
		{id: "sources", title: "Sources", report: "sources", measures: []string{"visits", "visitors", "pageviews", "bounce_rate", "avg_visit_duration_s"}},
		{id: "campaigns", title: "Campaigns", report: "campaigns", measures: []string{"visits", "visitors", "pageviews", "bounce_rate"}, hideNotSet: true},
		{id: "search-terms", title: "Search terms", report: "searchterms", measures: []string{"visits", "visitors", "pageviews"},
			note: "(not provided): the engine hides the term."},
	}},
	{"geography", "Where visitors are", []tableSpec{
		{id: "countries", title: "Countries", report: "geo", keys: []string{"country"}, measures: []string{"visits", "pageviews", "bounce_rate"},
			note: "?? is an address no database knows (private, reserved or unparsable)."},
		{id: "cities", title: "Regions and cities", report: "geo", measures: []string{"visits", "visitors", "pageviews"}},
		{id: "languages", title: "Languages", report: "languages", measures: []string{"visits", "visitors", "pageviews"}},
	}},
	{"technology", "Devices", []tableSpec{
		{id: "device-classes", title: "Device classes", report: "devices", keys: []string{"class"}, measures: []string{"visits", "pageviews", "bounce_rate"},
			note: "Devices count bots too (class bot), unlike the other tables."},
		{id: "browsers", title: "Browsers", report: "devices", keys: []string{"browser"}, measures: []string{"visits", "pageviews"}},
		{id: "systems", title: "Operating systems", report: "devices", keys: []string{"os"}, measures: []string{"visits", "pageviews"}},
	}},
}

// headings names columns for people; a column not listed shows its name.
var headings = map[string]string{
	"url": "Page", "title": "Title", "medium": "Channel", "source": "Source",
	"campaign": "Campaign", "term": "Term", "content": "Content", "engine": "Search engine",
	"country": "Country", "region": "Region", "city": "City", "class": "Device",
	"browser": "Browser", "os": "OS", "language": "Language", "name": "Name",
	"weekday": "Weekday", "hour": "Hour",
	"pageviews": "Page views", "visitors": "Visitors", "visits": "Visits", "bounces": "Bounces",
	"bounce_rate": "Bounce rate", "avg_visit_duration_s": "Visit duration", "entries": "Entries",
	"exits": "Exits", "exit_rate": "Exit rate", "pageviews_per_visit": "Views per visit",
}

func heading(name string) string {
	if h, ok := headings[name]; ok {
		return h
	}
	return name
}

// additive are the counts that add up across rows; any other count (a
// distinct count such as visitors) does not.
var additive = map[string]bool{"pageviews": true, "visits": true, "bounces": true, "entries": true, "exits": true}

// combine returns the values of rep's measures for rows taken together: a
// single row's own values; for several, sums of the additive counts, rates
// and means recomputed from them, and NaN for what cannot be told (the
// visitors of several rows, whose union the report does not keep).
func combine(rep *mapreduce.Report, rows []*mapreduce.ReportRow) []float64 {
	out := make([]float64, len(rep.Measures))
	if len(rows) == 1 {
		copy(out, rows[0].Values)
		return out
	}
	sum := func(name string) float64 {
		i := rep.Measure(name)
		if i < 0 {
			return math.NaN()
		}
		var s float64
		for _, r := range rows {
			if i < len(r.Values) {
				s += r.Values[i]
			}
		}
		return s
	}
	// weight is what an average over visits is an average of: visits, or
	// entries in the entry-pages report.
	weight := "visits"
	if rep.Measure(weight) < 0 {
		weight = "entries"
	}
	ratio := func(a, b float64) float64 {
		if b == 0 || math.IsNaN(a) || math.IsNaN(b) {
			return math.NaN()
		}
		return a / b
	}
	for i, m := range rep.Measures {
		switch {
		case m.Kind == mapreduce.Count && additive[m.Name]:
			out[i] = sum(m.Name)
		case m.Name == "bounce_rate":
			out[i] = ratio(sum("bounces"), sum(weight))
		case m.Name == "exit_rate":
			out[i] = ratio(sum("exits"), sum("pageviews"))
		case m.Name == "pageviews_per_visit":
			out[i] = ratio(sum("pageviews"), sum("visits"))
		case m.Name == "avg_visit_duration_s":
			w := rep.Measure(weight)
			if w < 0 {
				out[i] = math.NaN()
				break
			}
			var total, n float64
			for _, r := range rows {
				if v := r.Values[i]; !math.IsNaN(v) {
					total += v * r.Values[w]
					n += r.Values[w]
				}
			}
			out[i] = ratio(total, n)
		default:
			out[i] = math.NaN()
		}
	}
	return out
}

// table is one table of a page, ready for the template.
type table struct {
	ID, Title, Note string
	// Sub is a line under the title: the site of every URL shown, when
	// they share one and the table shows their paths only.
	Sub string
	// Columns are the headings: keys first, then measures.
	Columns []column
	Rows    []tableRow
	// Other sums the rows after the top ones, with the report's own
	// "(other)" row; nil when there are none.
	Other *tableRow
	// Total sums every row.
	Total *tableRow
	// Count is the number of rows Total sums (the report's "(other)" row
	// counting as one).
	Count int
}

// column is a table heading.
type column struct {
	Name, Title string
	Num         bool
}

// tableRow is a row of cells; Bar is the width of its bar, 0 to 100 (the
// first measure against the top row's).
type tableRow struct {
	Cells []cell
	Bar   int
	// Link, when set, links the first cell to one of the run's files (the
	// index's accounts).
	Link *link
}

// cell is one value: Text is shown, Title (when set) is the whole value
// where Text is shortened, or says why there is no value.
type cell struct {
	Text, Title string
	Num         bool
	// Muted marks values that stand for no value: (not set), (direct), ??.
	Muted bool
	// Change is the change against the previous period (the index).
	Change *change
}

// buildTable builds the table spec describes from rows of rep (an
// account's over the range), keeping its top rows. titles maps URLs to page
// titles (for spec.titles).
func buildTable(spec *tableSpec, rep *mapreduce.Report, all []*mapreduce.ReportRow, top int, titles map[string]string) *table {
	t := &table{ID: spec.id, Title: spec.title, Note: spec.note}
	// Which key columns, which measures.
	keys := spec.keys
	rollup := keys != nil
	if !rollup {
		keys = rep.Keys
	}
	var keyIdx []int
	for _, k := range keys {
		if i := slices.Index(rep.Keys, k); i >= 0 {
			keyIdx = append(keyIdx, i)
		}
	}
	if len(keyIdx) == 0 {
		return nil
	}
	var labelIdx []int
	if !rollup {
		for i := range rep.Labels {
			labelIdx = append(labelIdx, i)
		}
	}
	var measIdx []int
	for _, m := range spec.measures {
		if i := rep.Measure(m); i >= 0 && (!rollup || combinable(rep.Measures[i])) {
			measIdx = append(measIdx, i)
		}
	}
	if len(measIdx) == 0 {
		return nil
	}

	// Group the rows by the keys shown; the report's own (other) row goes
	// with the rows after the top ones.
	type group struct {
		keys, labels []string
		rows         []*mapreduce.ReportRow
		values       []float64
	}
	var groups []*group
	var others []*mapreduce.ReportRow
	byKey := map[string]*group{}
	for _, r := range all {
		if r.Other {
			others = append(others, r)
			continue
		}
		ks := make([]string, len(keyIdx))
		for i, k := range keyIdx {
			if k < len(r.Keys) {
				ks[i] = r.Keys[k]
			}
		}
		id := strings.Join(ks, "\x00")
		g := byKey[id]
		if g == nil {
			g = &group{keys: ks}
			for _, l := range labelIdx {
				if l < len(r.Labels) {
					g.labels = append(g.labels, r.Labels[l])
				} else {
					g.labels = append(g.labels, "")
				}
			}
			byKey[id] = g
			groups = append(groups, g)
		}
		g.rows = append(g.rows, r)
	}
	for _, g := range groups {
		g.values = combine(rep, g.rows)
	}
	first := measIdx[0]
	slices.SortStableFunc(groups, func(a, b *group) int {
		return cmp.Or(compareDesc(a.values[first], b.values[first]), slices.Compare(a.keys, b.keys))
	})
	t.Count = len(groups) + min(len(others), 1)
	if top > 0 && len(groups) > top {
		for _, g := range groups[top:] {
			others = append(others, g.rows...)
		}
		groups = groups[:top]
	}

	// Columns, leaving out all-(not set) keys when asked to.
	showKey := make([]bool, len(keyIdx))
	for i := range keyIdx {
		showKey[i] = !spec.hideNotSet || slices.ContainsFunc(groups, func(g *group) bool { return g.keys[i] != "(not set)" })
	}
	if !slices.Contains(showKey, true) {
		showKey[0] = true
	}
	for i, k := range keyIdx {
		if showKey[i] {
			t.Columns = append(t.Columns, column{Name: heading(rep.Keys[k])})
		}
	}
	withTitle := spec.titles && titles != nil && rep.Keys[keyIdx[0]] == "url"
	if withTitle {
		t.Columns = append(t.Columns, column{Name: heading("title")})
	}
	for _, l := range labelIdx {
		t.Columns = append(t.Columns, column{Name: heading(rep.Labels[l])})
	}
	for _, m := range measIdx {
		t.Columns = append(t.Columns, column{Name: heading(rep.Measures[m].Name), Title: definition(rep.Measures[m].Name), Num: true})
	}
	nKeys := len(t.Columns) - len(measIdx)

	values := func(vs []float64) []cell {
		out := make([]cell, 0, len(measIdx))
		for _, m := range measIdx {
			c := cell{Text: formatValue(rep.Measures[m].Kind, vs[m]), Num: true}
			if math.IsNaN(vs[m]) && rep.Measures[m].Kind == mapreduce.Count {
				c.Title = "distinct counts do not add up across rows"
			}
			out = append(out, c)
		}
		return out
	}
	top1 := math.NaN()
	if len(groups) > 0 {
		top1 = groups[0].values[first]
	}
	origin := ""
	if rep.Keys[keyIdx[0]] == "url" {
		origin = commonOrigin(groups, func(g *group) string { return g.keys[0] })
		t.Sub = origin
	}
	for _, g := range groups {
		row := tableRow{}
		for i := range keyIdx {
			if showKey[i] {
				c := keyCell(g.keys[i])
				if i == 0 && origin != "" {
					c = textCell(strings.TrimPrefix(g.keys[i], origin))
					c.Title = g.keys[i]
				}
				row.Cells = append(row.Cells, c)
			}
		}
		if withTitle {
			row.Cells = append(row.Cells, textCell(titles[g.keys[0]]))
		}
		for _, l := range g.labels {
			row.Cells = append(row.Cells, textCell(l))
		}
		row.Cells = append(row.Cells, values(g.values)...)
		if v := g.values[first]; top1 > 0 && v > 0 {
			row.Bar = max(1, int(math.Round(100*v/top1)))
		}
		t.Rows = append(t.Rows, row)
	}
	label := func(text, title string) []cell {
		cs := make([]cell, nKeys)
		cs[0] = cell{Text: text, Title: title}
		return cs
	}
	if len(others) > 0 {
		title := "the rows after the top ones"
		if len(others) == 1 && others[0].Other {
			title = "the rows the report summed into (other)"
		}
		t.Other = &tableRow{Cells: append(label(mapreduce.Other, title), values(combine(rep, others))...)}
	}
	if len(all) > 0 {
		text := "Total"
		if t.Count > len(t.Rows) {
			text = fmt.Sprintf("Total (%s rows)", formatCount(float64(t.Count)))
		}
		t.Total = &tableRow{Cells: append(label(text, ""), values(combine(rep, all))...)}
	}
	return t
}

// commonOrigin returns the scheme and host ("https://example.com") every
// URL key of groups starts with, or "" when they do not share one.
func commonOrigin[G any](groups []G, key func(G) string) string {
	origin := ""
	for _, g := range groups {
		u, err := url.Parse(key(g))
		if err != nil || u.Scheme == "" || u.Host == "" || u.Opaque != "" || u.User != nil {
			return ""
		}
		o := u.Scheme + "://" + u.Host
		if !strings.HasPrefix(key(g), o+"/") && key(g) != o {
			return ""
		}
		if origin == "" {
			origin = o
		} else if o != origin {
			return ""
		}
	}
	return origin
}

// combinable reports whether m can be shown for rows added together.
func combinable(m mapreduce.Measure) bool {
	if m.Kind == mapreduce.Count {
		return additive[m.Name]
	}
	switch m.Name {
	case "bounce_rate", "exit_rate", "pageviews_per_visit", "avg_visit_duration_s":
		return true
	}
	return false
}

// compareDesc orders a before b when a is larger; NaN last.
func compareDesc(a, b float64) int {
	switch {
	case math.IsNaN(a) && math.IsNaN(b):
		return 0
	case math.IsNaN(a):
		return 1
	case math.IsNaN(b):
		return -1
	}
	return cmp.Compare(b, a)
}

// keyCell shows a key value, shortened when long, the markers that stand
// for no value muted.
func keyCell(s string) cell {
	c := textCell(s)
	switch s {
	case "(not set)", "(direct)", "(not provided)", "??", "":
		c.Muted = true
	}
	if s == "" {
		c.Text = dash
	}
	return c
}

func textCell(s string) cell {
	text, clipped := clip(s)
	c := cell{Text: text}
	if clipped {
		c.Title = s
	}
	return c
}
