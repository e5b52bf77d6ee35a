package html

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
)

// The trend chart's geometry, in SVG user units: the SVG scales to the
// width of the page.
const (
	chartW, chartH = 900.0, 250.0
	padL, padR     = 48.0, 6.0
	padT, padB     = 10.0, 26.0
	plotW, plotH   = chartW - padL - padR, chartH - padT - padB
)

// trend is the time series of visitors and page views, drawn as SVG on the
// server: page views as bars, visitors as a line.
type trend struct {
	// Step is "hour", "day" or "month".
	Step string
	// Source names the report the numbers come from.
	Source string
	// Points are the bars, one per step.
	Points []point
	// Line is the path of the visitors' line; Dots its points when there
	// are few enough to show.
	Line  string
	Dots  []point
	YTick []tick
	XTick []tick
	HasPV bool
	Data  trendData
	// W, H, PadL, PlotR, PlotB, BandW... are the geometry for the template.
	W, H, PadL, PlotR, PlotT, PlotB float64
}

// point is one step of the series.
type point struct {
	I                 int
	X, Y, W, H, BandX float64
	BandW             float64
	CX, CY            float64
	Label             string
	Visitors, Views   string
}

// tick is an axis label.
type tick struct {
	Pos   float64
	Label string
}

// trendData is the series for the page's script.
type trendData struct {
	Labels    []string  `json:"labels"`
	Visitors  []float64 `json:"visitors"`
	PageViews []float64 `json:"pageviews,omitempty"`
}

// trendStep picks the series' step for a range: hours for up to two days,
// days up to 400, months beyond.
func trendStep(start, end time.Time) mapreduce.Period {
	switch d := end.Sub(start); {
	case d <= 48*time.Hour:
		return mapreduce.PeriodHour
	case d <= 400*24*time.Hour:
		return mapreduce.PeriodDay
	}
	return mapreduce.PeriodMonth
}

// buildTrend builds the time series of account from the visits report
// (visitors and page views; a visit's page views count in the hour it
// began), or from uniques (visitors only) when visits did not run.
func buildTrend(set *reportSet, plan *mapreduce.Plan, account string) *trend {
	step := trendStep(plan.Start, plan.End)
	// The calendar covers the previous period too when the run compares:
	// the series is of the range only.
	var spans []mapreduce.Span
	for _, s := range map[mapreduce.Period][]mapreduce.Span{
		mapreduce.PeriodHour: plan.Calendar.Hours, mapreduce.PeriodDay: plan.Calendar.Days, mapreduce.PeriodMonth: plan.Calendar.Months,
	}[step] {
		if s.End.After(plan.Start) && s.Start.Before(plan.End) {
			spans = append(spans, s)
		}
	}
	if len(spans) == 0 {
		return nil
	}
	src := "visits"
	rep := set.report(src)
	if rep == nil || rep.Measure("visitors") < 0 {
		src = "uniques"
		rep = set.report(src)
	}
	if rep == nil || rep.Measure("visitors") < 0 {
		return nil
	}
	vi, pi := rep.Measure("visitors"), rep.Measure("pageviews")
	index := make(map[int64]int, len(spans))
	for i, s := range spans {
		index[s.Start.UnixNano()] = i
	}
	vis := make([]float64, len(spans))
	views := make([]float64, len(spans))
	for _, r := range set.rows(src, account, step) {
		if j, ok := index[r.Start.UnixNano()]; ok {
			vis[j] = r.Values[vi]
			if pi >= 0 {
				views[j] = r.Values[pi]
			}
		}
	}
	t := &trend{Step: string(step), Source: src, HasPV: pi >= 0,
		W: chartW, H: chartH, PadL: padL, PlotR: chartW - padR, PlotT: padT, PlotB: padT + plotH}
	top := 0.0
	for i := range vis {
		top = math.Max(top, math.Max(vis[i], views[i]))
	}
	ymax, yticks := niceScale(top)
	for _, v := range yticks {
		t.YTick = append(t.YTick, tick{Pos: round1(padT + plotH - plotH*v/ymax), Label: shortCount(v)})
	}
	n := float64(len(spans))
	band := plotW / n
	barW := math.Max(band*0.72, 0.6)
	var line strings.Builder
	for i, s := range spans {
		start := s.Start.In(plan.Loc)
		label := stepLabel(step, start)
		x := padL + float64(i)*band
		h := plotH * views[i] / ymax
		p := point{I: i, BandX: round1(x), BandW: round1(band),
			X: round1(x + (band-barW)/2), W: round1(barW), Y: round1(padT + plotH - h), H: round1(h),
			CX: round1(x + band/2), CY: round1(padT + plotH - plotH*vis[i]/ymax),
			Label: label, Visitors: formatCount(vis[i]), Views: formatCount(views[i])}
		t.Points = append(t.Points, p)
		if i == 0 {
			line.WriteString("M")
		} else {
			line.WriteString("L")
		}
		line.WriteString(strconv.FormatFloat(p.CX, 'f', -1, 64))
		line.WriteString(" ")
		line.WriteString(strconv.FormatFloat(p.CY, 'f', -1, 64))
		t.Data.Labels = append(t.Data.Labels, label)
		t.Data.Visitors = append(t.Data.Visitors, vis[i])
		if pi >= 0 {
			t.Data.PageViews = append(t.Data.PageViews, views[i])
		}
	}
	t.Line = line.String()
	if len(spans) <= 62 {
		t.Dots = t.Points
	}
	t.XTick = xTicks(step, spans, plan.Loc, band)
	return t
}

// stepLabel names one step: "Thu 2024-08-01 18:00", "Thu 2024-08-01",
// "2024-08".
func stepLabel(step mapreduce.Period, t time.Time) string {
	switch step {
	case mapreduce.PeriodHour:
		return t.Format("Mon 2006-01-02 15:04")
	case mapreduce.PeriodDay:
		return t.Format("Mon 2006-01-02")
	}
	return t.Format("2006-01")
}

// xTicks places at most about eight labels under the bars: hours of the
// day, days, or the first days of months.
func xTicks(step mapreduce.Period, spans []mapreduce.Span, loc *time.Location, band float64) []tick {
	var out []tick
	n := len(spans)
	add := func(i int, label string) {
		out = append(out, tick{Pos: round1(padL + (float64(i)+0.5)*band), Label: label})
	}
	switch {
	case step == mapreduce.PeriodHour:
		every := 6
		if n <= 24 {
			every = 3
		}
		for i, s := range spans {
			t := s.Start.In(loc)
			if t.Minute() == 0 && t.Hour()%every == 0 {
				label := t.Format("15:04")
				if t.Hour() == 0 {
					label = t.Format("Jan 2")
				}
				add(i, label)
			}
		}
	case step == mapreduce.PeriodDay && n > 62:
		months := 0
		for _, s := range spans {
			if s.Start.In(loc).Day() == 1 {
				months++
			}
		}
		every := max(1, (months+11)/12)
		k := 0
		for i, s := range spans {
			t := s.Start.In(loc)
			if t.Day() == 1 {
				if k%every == 0 {
					label := t.Format("Jan")
					if t.Month() == time.January {
						label = t.Format("Jan 2006")
					}
					add(i, label)
				}
				k++
			}
		}
	default:
		every := max(1, (n+7)/8)
		for i, s := range spans {
			if i%every == 0 {
				t := s.Start.In(loc)
				if step == mapreduce.PeriodMonth {
					add(i, t.Format("Jan 2006"))
				} else {
					add(i, t.Format("Jan 2"))
				}
			}
		}
	}
	return out
}

// niceScale returns the top of a y axis for values up to v and its ticks
// (0 and 3 to 5 more), at round numbers.
func niceScale(v float64) (top float64, ticks []float64) {
	if v <= 0 {
		return 4, []float64{0, 1, 2, 3, 4}
	}
	raw := v / 4
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	step = math.Max(step, 1)
	top = math.Ceil(v/step) * step
	for x := 0.0; x <= top+step/2; x += step {
		ticks = append(ticks, x)
	}
	return top, ticks
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }

// heatmap is the page views per weekday and hour of the day (the hours
// report), an HTML table whose cells are shaded by their share of the
// busiest hour.
type heatmap struct {
	Hours []string
	Rows  []heatRow
	Max   string
}

type heatRow struct {
	Day   string
	Cells []heatCell
}

type heatCell struct {
	Text, Title string
	// Level is 0 (none) to 8 (the busiest hour).
	Level int
}

var weekdays = []string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}

// buildHeatmap builds the weekday × hour view from the rows of an account
// of the hours report (keys weekday and hour, measures page views and
// visitors).
func buildHeatmap(rep *mapreduce.Report, rows []*mapreduce.ReportRow) *heatmap {
	if rep == nil {
		return nil
	}
	wk, hk := -1, -1
	for i, k := range rep.Keys {
		switch k {
		case "weekday":
			wk = i
		case "hour":
			hk = i
		}
	}
	pv, vi := rep.Measure("pageviews"), rep.Measure("visitors")
	if wk < 0 || hk < 0 || pv < 0 {
		return nil
	}
	var views, visitors [7][24]float64
	top := 0.0
	for _, r := range rows {
		d := indexOf(weekdays, r.Keys[wk])
		h, err := strconv.Atoi(r.Keys[hk])
		if d < 0 || err != nil || h < 0 || h > 23 {
			continue
		}
		views[d][h] += r.Values[pv]
		if vi >= 0 {
			visitors[d][h] = r.Values[vi]
		}
		top = math.Max(top, views[d][h])
	}
	hm := &heatmap{Max: formatCount(top)}
	for h := 0; h < 24; h++ {
		hm.Hours = append(hm.Hours, pad2(h))
	}
	for d, day := range weekdays {
		row := heatRow{Day: day[:3]}
		for h := 0; h < 24; h++ {
			v := views[d][h]
			c := heatCell{Text: shortCount(v),
				Title: day + " " + pad2(h) + ":00–" + pad2((h+1)%24) + ":00: " + formatCount(v) + " page views"}
			if vi >= 0 {
				c.Title += ", " + formatCount(visitors[d][h]) + " visitors"
			}
			if top > 0 && v > 0 {
				c.Level = max(1, int(math.Ceil(8*v/top)))
			}
			row.Cells = append(row.Cells, c)
		}
		hm.Rows = append(hm.Rows, row)
	}
	return hm
}

func indexOf(xs []string, s string) int {
	for i, x := range xs {
		if x == s {
			return i
		}
	}
	return -1
}
