package html

import (
	"fmt"
	"math"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
)

// fact is a labelled value of a page's header or footer.
type fact struct {
	Label, Value, Title string
}

// tile is a headline number.
type tile struct {
	ID, Label, Value, Title string
	Change                  *change
}

// link is a link to one of the run's own files.
type link struct {
	Text string
	// Href is a relative URL built from a file name pvjobs chose.
	Href string
}

// section is a group of tables under one heading.
type section struct {
	ID, Title string
	Tables    []*table
}

// page is what the templates show: an account's report or the index.
type page struct {
	Account   string
	Title     string
	Range     string
	Compared  string
	TZ        string
	Generated string
	Version   string
	Quality   []fact
	Tiles     []tile
	Trend     *trend
	Heatmap   *heatmap
	Sections  []section
	// Accounts are the index's rows.
	Accounts    *table
	Definitions []fact
	CSV         []link
	NotRun      []string
	Index       *link
	Data        pageData
}

// pageData is the data of the page's script, in a <script
// type="application/json"> element.
type pageData struct {
	Trend *trendData `json:"trend,omitempty"`
}

// reportSet indexes a run's reports by name, and their rows by period and
// account: a page looks at a few of the hundreds of thousands of rows of a
// year's reports (their day rows are there too), so the rows of one period
// of a report are gone through once, when a page first asks for them.
type reportSet struct {
	reps map[string]*mapreduce.Report
	idx  map[periodKey]map[string][]*mapreduce.ReportRow
}

type periodKey struct {
	report string
	period mapreduce.Period
}

func newReportSet(reps []mapreduce.Report) *reportSet {
	s := &reportSet{reps: map[string]*mapreduce.Report{}, idx: map[periodKey]map[string][]*mapreduce.ReportRow{}}
	for i := range reps {
		s.reps[reps[i].Name] = &reps[i]
	}
	return s
}

// report returns the report named, or nil.
func (s *reportSet) report(name string) *mapreduce.Report { return s.reps[name] }

// rows returns the rows of the report named of account and period, in the
// report's order.
func (s *reportSet) rows(name, account string, period mapreduce.Period) []*mapreduce.ReportRow {
	return s.index(name, period)[account]
}

// index returns the rows of a report's period by account.
func (s *reportSet) index(name string, period mapreduce.Period) map[string][]*mapreduce.ReportRow {
	k := periodKey{name, period}
	if ix, ok := s.idx[k]; ok {
		return ix
	}
	ix := map[string][]*mapreduce.ReportRow{}
	if rep := s.reps[name]; rep != nil {
		for i := range rep.Rows {
			if r := &rep.Rows[i]; r.Period == period {
				ix[r.Account] = append(ix[r.Account], r)
			}
		}
	}
	s.idx[k] = ix
	return ix
}

// value returns the measure of the report's row of account and period (the
// first such row without keys), NaN when there is none.
func (s *reportSet) value(report, measure, account string, period mapreduce.Period) (float64, bool) {
	rep := s.report(report)
	if rep == nil {
		return math.NaN(), false
	}
	m := rep.Measure(measure)
	if m < 0 {
		return math.NaN(), false
	}
	for _, r := range s.rows(report, account, period) {
		if len(r.Keys) == 0 && m < len(r.Values) {
			return r.Values[m], true
		}
	}
	return math.NaN(), false
}

// sum adds the measure up over the report's rows of account and period
// (the "(other)" row included): the page views of every URL.
func (s *reportSet) sum(report, measure, account string, period mapreduce.Period) (float64, bool) {
	rep := s.report(report)
	if rep == nil {
		return math.NaN(), false
	}
	m := rep.Measure(measure)
	if m < 0 {
		return math.NaN(), false
	}
	var total float64
	found := false
	for _, r := range s.rows(report, account, period) {
		if m < len(r.Values) {
			total += r.Values[m]
			found = true
		}
	}
	return total, found
}

// previousStart returns the first instant of the previous period, when the
// reports carry one.
func (s *reportSet) previousStart() (time.Time, bool) {
	for _, name := range []string{"visits", "uniques", "urls"} {
		for _, rows := range s.index(name, mapreduce.PeriodPrevious) {
			if len(rows) > 0 {
				return rows[0].Start, true
			}
		}
	}
	return time.Time{}, false
}

// compared describes the previous period the reports compare with: the
// plan's, or else the one their previous rows start (reports made without
// the plan's comparison); "" when there is none.
func compared(set *reportSet, plan *mapreduce.Plan) string {
	if !plan.PrevStart.IsZero() {
		return formatRange(plan.PrevStart, plan.PrevEnd, plan.Loc)
	}
	if ps, ok := set.previousStart(); ok {
		return formatRange(ps, plan.Start, plan.Loc)
	}
	return ""
}

// headline is one of the headline numbers: where it comes from.
type headline struct {
	id, label string
	measure   string
	kind      mapreduce.MeasureKind
	// from lists the (report, measure, summed) sources in order of
	// preference: visits, else uniques' visitors or the urls' page views.
	from          []source
	lowerIsBetter bool
}

type source struct {
	report, measure string
	sum             bool
}

var headlines = []headline{
	{id: "visitors", label: "Visitors", measure: "visitors", kind: mapreduce.Count,
		from: []source{{"visits", "visitors", false}, {"uniques", "visitors", false}}},
	{id: "visits", label: "Visits", measure: "visits", kind: mapreduce.Count,
		from: []source{{"visits", "visits", false}}},
	{id: "pageviews", label: "Page views", measure: "pageviews", kind: mapreduce.Count,
		from: []source{{"visits", "pageviews", false}, {"urls", "pageviews", true}}},
	{id: "bounce-rate", label: "Bounce rate", measure: "bounce_rate", kind: mapreduce.Rate,
		from: []source{{"visits", "bounce_rate", false}}, lowerIsBetter: true},
	{id: "visit-duration", label: "Visit duration", measure: "avg_visit_duration_s", kind: mapreduce.Seconds,
		from: []source{{"visits", "avg_visit_duration_s", false}}},
	{id: "views-per-visit", label: "Views per visit", measure: "pageviews_per_visit", kind: mapreduce.Mean,
		from: []source{{"visits", "pageviews_per_visit", false}}},
}

// headlineValue returns the value of h for account and period, and whether
// the run has it.
func (s *reportSet) headlineValue(h *headline, account string, period mapreduce.Period) (float64, bool) {
	for _, src := range h.from {
		var v float64
		var ok bool
		if src.sum {
			v, ok = s.sum(src.report, src.measure, account, period)
		} else {
			v, ok = s.value(src.report, src.measure, account, period)
		}
		if ok {
			return v, true
		}
		if rep := s.report(src.report); rep != nil && rep.Measure(src.measure) >= 0 && period == mapreduce.PeriodRange {
			// The report is there but has no row for the account: no
			// page views.
			if h.kind == mapreduce.Count {
				return 0, true
			}
			return math.NaN(), true
		}
	}
	return math.NaN(), false
}

// tiles returns the headline numbers of account, with their change against
// the previous period when the reports carry it.
func (s *reportSet) tiles(account string) []tile {
	var out []tile
	for i := range headlines {
		h := &headlines[i]
		v, ok := s.headlineValue(h, account, mapreduce.PeriodRange)
		if !ok {
			continue
		}
		t := tile{ID: h.id, Label: h.label, Value: formatValue(h.kind, v), Title: definition(h.measure)}
		if prev, ok := s.headlineValue(h, account, mapreduce.PeriodPrevious); ok {
			t.Change = newChange(h.kind, v, prev, h.lowerIsBetter)
		}
		out = append(out, t)
	}
	return out
}

// formatRange describes [start, end) in loc: whole local days as dates
// (the last one inclusive), other ranges as instants.
func formatRange(start, end time.Time, loc *time.Location) string {
	s, e := start.In(loc), end.In(loc)
	if isMidnight(s) && isMidnight(e) {
		last := e.Add(-time.Nanosecond)
		days := int(math.Round(e.Sub(s).Hours() / 24))
		if days <= 1 {
			return s.Format("Monday 2006-01-02")
		}
		return s.Format("2006-01-02") + " – " + last.Format("2006-01-02") + " (" + strconv.Itoa(days) + " days)"
	}
	const f = "2006-01-02 15:04"
	return s.Format(f) + " – " + e.Format(f)
}

func isMidnight(t time.Time) bool {
	return t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0
}

// quality returns the data-quality facts of account (or of the whole run
// when account is "").
func quality(plan *mapreduce.Plan, run *Run, set *reportSet, account string) []fact {
	var out []fact
	if sum := run.Summary; sum != nil {
		shards, missing := 0, []string{}
		for i := range plan.Shards {
			if account == "" || plan.Accounts[plan.ShardAccount[i]] == account {
				shards++
			}
		}
		for _, k := range sum.Missing {
			if account == "" || k.Account == account {
				missing = append(missing, k.String())
			}
		}
		f := fact{Label: "Shards", Value: fmt.Sprintf("%d read, %d missing", shards-len(missing), len(missing))}
		if len(missing) > 0 {
			f.Title = "missing: " + strings.Join(missing, ", ")
		}
		out = append(out, f)
		bad := fact{Label: "Bad rows", Value: formatCount(float64(sum.BadRows)) + " skipped"}
		if account != "" {
			bad.Value += " (whole run)"
		}
		out = append(out, bad)
	}
	bots := fact{Label: "Bots", Value: "left out"}
	if run.IncludeBots {
		bots.Value = "counted (include bots)"
	} else if account != "" {
		if n, ok := botViews(set, account); ok {
			bots.Value = "left out: " + formatCount(n) + " page views"
		}
	}
	out = append(out, bots)
	spam := fact{Label: "Referrer spam", Value: "left out"}
	if run.IncludeSpam {
		spam.Value = "kept (include spam)"
	} else if run.Summary != nil {
		spam.Value = "left out: " + formatCount(float64(run.Summary.Spam)) + " page views"
		if account != "" {
			spam.Value += " (whole run)"
		}
	}
	return append(out, spam)
}

// botViews returns the bots' page views of account, which the devices
// report counts (its class "bot").
func botViews(set *reportSet, account string) (float64, bool) {
	rep := set.report("devices")
	if rep == nil {
		return 0, false
	}
	k, m := slices.Index(rep.Keys, "class"), rep.Measure("pageviews")
	if k < 0 || m < 0 {
		return 0, false
	}
	var n float64
	for _, r := range set.rows("devices", account, mapreduce.PeriodRange) {
		if k < len(r.Keys) && r.Keys[k] == "bot" {
			n += r.Values[m]
		}
	}
	return n, true
}

// relLink returns the link from a file in dir to the file at path: a
// relative URL, each segment escaped.
func relLink(dir, path string) link {
	rel := path
	if ad, err := filepath.Abs(dir); err == nil {
		if ap, err := filepath.Abs(path); err == nil {
			if r, err := filepath.Rel(ad, ap); err == nil {
				rel = r
			}
		}
	}
	segs := strings.Split(filepath.ToSlash(rel), "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	href := strings.Join(segs, "/")
	if filepath.IsAbs(rel) {
		href = (&url.URL{Scheme: "file", Path: filepath.ToSlash(rel)}).String()
	}
	return link{Text: filepath.Base(path), Href: href}
}

// buildPage builds the page of account.
func buildPage(set *reportSet, plan *mapreduce.Plan, opt *Options, account string) *page {
	run := &opt.Run
	p := &page{
		Account:   account,
		Title:     account + " · " + formatRange(plan.Start, plan.End, plan.Loc),
		Range:     formatRange(plan.Start, plan.End, plan.Loc),
		TZ:        plan.Loc.String(),
		Generated: generated(run, plan.Loc),
		Version:   version(run),
		Quality:   quality(plan, run, set, account),
		Tiles:     set.tiles(account),
	}
	p.Compared = compared(set, plan)
	p.Trend = buildTrend(set, plan, account)
	if p.Trend != nil {
		p.Data.Trend = &p.Trend.Data
	}
	p.Heatmap = buildHeatmap(set.report("hours"), set.rows("hours", account, mapreduce.PeriodRange))
	titles := map[string]string{}
	if rep := set.report("urls"); rep != nil && len(rep.Labels) > 0 && rep.Labels[0] == "title" && len(rep.Keys) > 0 && rep.Keys[0] == "url" {
		for _, r := range set.rows("urls", account, mapreduce.PeriodRange) {
			if len(r.Keys) > 0 && len(r.Labels) > 0 {
				titles[r.Keys[0]] = r.Labels[0]
			}
		}
	}
	used := map[string]bool{}
	for _, h := range headlines {
		used[h.measure] = true
	}
	for _, sec := range sections {
		s := section{ID: sec.id, Title: sec.title}
		for i := range sec.tables {
			spec := &sec.tables[i]
			rep := set.report(spec.report)
			if rep == nil {
				continue
			}
			if t := buildTable(spec, rep, set.rows(spec.report, account, mapreduce.PeriodRange), opt.top(), titles); t != nil {
				s.Tables = append(s.Tables, t)
				for _, m := range spec.measures {
					used[m] = true
				}
			}
		}
		if len(s.Tables) > 0 {
			p.Sections = append(p.Sections, s)
		}
	}
	p.Definitions = definitionsOf(used)
	p.CSV = csvLinks(opt)
	p.NotRun = notRun(set)
	p.Index = &link{Text: "All accounts", Href: indexHref(opt, plan)}
	return p
}

// buildIndex builds the index page: one row per account with its headline
// numbers, linking each account's page.
func buildIndex(set *reportSet, plan *mapreduce.Plan, opt *Options) *page {
	run := &opt.Run
	p := &page{
		Title:     "pvjobs · " + formatRange(plan.Start, plan.End, plan.Loc),
		Range:     formatRange(plan.Start, plan.End, plan.Loc),
		TZ:        plan.Loc.String(),
		Generated: generated(run, plan.Loc),
		Version:   version(run),
		Quality:   quality(plan, run, set, ""),
	}
	p.Compared = compared(set, plan)
	t := &table{ID: "accounts", Title: "Accounts", Count: len(plan.Accounts)}
	t.Columns = append(t.Columns, column{Name: "Account"})
	used := map[string]bool{}
	var shown []*headline
	for i := range headlines {
		h := &headlines[i]
		for _, a := range plan.Accounts {
			if _, ok := set.headlineValue(h, a, mapreduce.PeriodRange); ok {
				shown = append(shown, h)
				used[h.measure] = true
				t.Columns = append(t.Columns, column{Name: h.label, Title: definition(h.measure), Num: true})
				break
			}
		}
	}
	for _, a := range plan.Accounts {
		row := tableRow{Cells: []cell{{Text: a}}}
		for _, h := range shown {
			v, _ := set.headlineValue(h, a, mapreduce.PeriodRange)
			c := cell{Text: formatValue(h.kind, v), Num: true}
			if prev, ok := set.headlineValue(h, a, mapreduce.PeriodPrevious); ok {
				c.Change = newChange(h.kind, v, prev, h.lowerIsBetter)
			}
			row.Cells = append(row.Cells, c)
		}
		t.Rows = append(t.Rows, row)
	}
	p.Accounts = t
	p.accountLinks(plan, opt)
	p.Definitions = definitionsOf(used)
	p.CSV = csvLinks(opt)
	p.NotRun = notRun(set)
	return p
}

// accountLinks are the links of the index's rows, in the order of its
// rows.
func (p *page) accountLinks(plan *mapreduce.Plan, opt *Options) {
	for i, a := range plan.Accounts {
		p.Accounts.Rows[i].Link = &link{Text: a, Href: url.PathEscape(FileName(opt.pattern(), a, plan))}
	}
}

func generated(run *Run, loc *time.Location) string {
	t := run.Generated
	if t.IsZero() {
		t = time.Now()
	}
	return t.In(loc).Format("2006-01-02 15:04 MST")
}

func version(run *Run) string {
	if run.Version == "" {
		return "pvjobs"
	}
	return "pvjobs " + run.Version
}

// definitionsOf lists the definitions of the measures used, in the order of
// the headlines and tables.
func definitionsOf(used map[string]bool) []fact {
	order := []string{"visitors", "visits", "pageviews", "bounces", "bounce_rate", "avg_visit_duration_s",
		"pageviews_per_visit", "entries", "exits", "exit_rate"}
	var out []fact
	for _, m := range order {
		if used[m] && definition(m) != "" {
			label, text, _ := strings.Cut(definition(m), ": ")
			out = append(out, fact{Label: label, Value: text})
		}
	}
	return out
}

func csvLinks(opt *Options) []link {
	var out []link
	for _, f := range opt.Run.CSVFiles {
		out = append(out, relLink(opt.Dir, f))
	}
	return out
}

// notRun names the reports the page could show that the run did not make.
func notRun(set *reportSet) []string {
	var out []string
	for _, name := range []string{"visits", "urls", "entrypages", "exitpages", "sources", "campaigns", "searchterms", "geo", "languages", "devices", "hours"} {
		if set.report(name) == nil {
			out = append(out, name)
		}
	}
	return out
}

func indexHref(opt *Options, plan *mapreduce.Plan) string {
	return url.PathEscape(IndexName(opt.indexPattern(), plan))
}
