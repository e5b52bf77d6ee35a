package html_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
)

// Payloads are script and markup that page views from the open internet may
// carry in their URL, title, referrer, search term and utm values. Each one
// that ran would set window.__pwned or change the document's title.
var payloads = []string{
	`<img src=x onerror="window.__pwned='img';document.title='PWNED'">`,
	`</script><script>window.__pwned='script';document.title='PWNED'</script>`,
	`javascript:window.__pwned='js-url';document.title='PWNED'`,
	`"><svg onload="window.__pwned='svg'"><a href="javascript:window.__pwned=1">x</a>`,
	`'><iframe srcdoc="<script>parent.__pwned='iframe'</script>"></iframe>`,
	"two\nlines\r\nand a <b>tag</b>",
	`</title></style></textarea><script>window.__pwned='rcdata'</script>`,
	`{{.}} ]]> <!-- &amp; &lt; --> </svg> <style>body{display:none}</style>`,
	"\u2028\u2029</script <!--<script>",
}

// Measures as the jobs make them.
var (
	traffic = []mapreduce.Measure{
		{Name: "pageviews"}, {Name: "visitors"}, {Name: "visits"}, {Name: "bounces"},
		{Name: "bounce_rate", Kind: mapreduce.Rate}, {Name: "avg_visit_duration_s", Kind: mapreduce.Seconds},
	}
	visitsMeasures = []mapreduce.Measure{
		{Name: "visitors"}, {Name: "visits"}, {Name: "pageviews"}, {Name: "bounces"},
		{Name: "bounce_rate", Kind: mapreduce.Rate}, {Name: "avg_visit_duration_s", Kind: mapreduce.Seconds},
		{Name: "pageviews_per_visit", Kind: mapreduce.Mean},
	}
)

// newPlan returns the plan of accounts over [from, to] (whole days) in loc.
func newPlan(tb testing.TB, accounts []string, from, to string, loc *time.Location) *mapreduce.Plan {
	tb.Helper()
	f, err := mapreduce.ParseDate(from)
	if err != nil {
		tb.Fatal(err)
	}
	l, err := mapreduce.ParseDate(to)
	if err != nil {
		tb.Fatal(err)
	}
	start, end, err := mapreduce.DayRange(f, l, loc)
	if err != nil {
		tb.Fatal(err)
	}
	plan, err := mapreduce.NewPlan(mapreduce.PlanSpec{Accounts: accounts, Start: start, End: end, Loc: loc})
	if err != nil {
		tb.Fatal(err)
	}
	return plan
}

// fixture makes every report a run of plan could write, with made-up
// numbers: for each account, hour and day rows of visits and uniques, and
// range rows of the keyed reports, each with n keys and an (other) row.
// With payloads the keys and titles carry the payloads. With previous the
// reports carry the previous period's rows too.
func fixture(plan *mapreduce.Plan, n int, withPayloads, previous bool) []mapreduce.Report {
	rng := rand.New(rand.NewPCG(1, 2))
	text := func(i int, s string) string {
		if withPayloads && i >= 0 && i < len(payloads) {
			return payloads[i]
		}
		return s
	}
	visits := mapreduce.Report{Name: "visits", Measures: visitsMeasures}
	uniques := mapreduce.Report{Name: "uniques", Measures: []mapreduce.Measure{{Name: "visitors"}}}
	vrow := func(account string, p mapreduce.Period, start time.Time, scale float64) {
		vis := math.Floor(scale * (0.5 + rng.Float64()))
		visitsN := math.Floor(vis * 1.3)
		pv := math.Floor(visitsN * 2.4)
		bounces := math.Floor(visitsN * 0.45)
		br, avg, ppv := math.NaN(), math.NaN(), math.NaN()
		if visitsN > 0 {
			br, avg, ppv = bounces/visitsN, 30+rng.Float64()*200, pv/visitsN
		}
		visits.Rows = append(visits.Rows, mapreduce.ReportRow{Account: account, Period: p, Start: start,
			Values: []float64{vis, visitsN, pv, bounces, br, avg, ppv}})
		uniques.Rows = append(uniques.Rows, mapreduce.ReportRow{Account: account, Period: p, Start: start, Values: []float64{vis}})
	}
	keyed := func(name string, keys, labels []string, ms []mapreduce.Measure, keysOf func(i int) ([]string, []string)) mapreduce.Report {
		rep := mapreduce.Report{Name: name, Keys: keys, Labels: labels, Measures: ms}
		for _, a := range plan.Accounts {
			periods := []mapreduce.Period{mapreduce.PeriodRange}
			if previous {
				periods = append(periods, mapreduce.PeriodPrevious)
			}
			for _, p := range periods {
				for i := 0; i <= n; i++ {
					k, l := keysOf(i)
					other := i == n
					if other {
						k = make2(len(keys), mapreduce.Other)
						l = make2(len(labels), "")
					}
					pv := math.Floor(1000 / float64(i+1) * (0.8 + 0.4*rng.Float64()))
					vals := make([]float64, len(ms))
					for j, m := range ms {
						switch m.Name {
						case "pageviews", "entries", "exits":
							vals[j] = pv
						case "visitors":
							vals[j] = math.Floor(pv * 0.7)
						case "visits":
							vals[j] = math.Floor(pv * 0.8)
						case "bounces":
							vals[j] = math.Floor(pv * 0.3)
						case "bounce_rate":
							vals[j] = 0.3 / 0.8
						case "avg_visit_duration_s":
							vals[j] = 60 + float64(i)
						case "exit_rate":
							vals[j] = 0.5
						}
					}
					rep.Rows = append(rep.Rows, mapreduce.ReportRow{Account: a, Period: p, Start: plan.Start, Keys: k, Labels: l, Values: vals, Other: other})
				}
			}
		}
		return rep
	}
	for _, a := range plan.Accounts {
		for _, h := range plan.Calendar.Hours {
			vrow(a, mapreduce.PeriodHour, h.Start, 20)
		}
		for _, d := range plan.Calendar.Days {
			vrow(a, mapreduce.PeriodDay, d.Start, 300)
		}
		vrow(a, mapreduce.PeriodRange, plan.Start, 300*float64(len(plan.Calendar.Days)))
		if previous {
			vrow(a, mapreduce.PeriodPrevious, plan.Start.Add(-plan.End.Sub(plan.Start)), 300*float64(len(plan.Calendar.Days)))
		}
	}
	url := func(i int) string { return fmt.Sprintf("https://blog.example.com/post-%d", i) }
	reps := []mapreduce.Report{visits, uniques,
		keyed("urls", []string{"url"}, []string{"title"}, []mapreduce.Measure{{Name: "pageviews"}, {Name: "visitors"}}, func(i int) ([]string, []string) {
			return []string{text(i, url(i))}, []string{text(len(payloads)-1-i, fmt.Sprintf("Post %d | blog", i))}
		}),
		keyed("entrypages", []string{"url"}, nil, []mapreduce.Measure{{Name: "entries"}, {Name: "bounces"}, {Name: "bounce_rate", Kind: mapreduce.Rate}, {Name: "avg_visit_duration_s", Kind: mapreduce.Seconds}}, func(i int) ([]string, []string) {
			return []string{text(i, url(i))}, nil
		}),
		keyed("exitpages", []string{"url"}, nil, []mapreduce.Measure{{Name: "exits"}, {Name: "pageviews"}, {Name: "exit_rate", Kind: mapreduce.Rate}}, func(i int) ([]string, []string) {
			return []string{url(i)}, nil
		}),
		keyed("sources", []string{"medium", "source"}, nil, traffic, func(i int) ([]string, []string) {
			return []string{[]string{"search", "social", "referral", "direct"}[i%4], text(i, fmt.Sprintf("site-%d.example", i))}, nil
		}),
		keyed("campaigns", []string{"campaign", "source", "medium", "term", "content"}, nil, traffic, func(i int) ([]string, []string) {
			return []string{text(i, fmt.Sprintf("launch-%d", i)), text(i+1, "newsletter"), text(i+2, "email"), "(not set)", "(not set)"}, nil
		}),
		keyed("searchterms", []string{"engine", "term"}, nil, traffic, func(i int) ([]string, []string) {
			return []string{"Google", text(i, fmt.Sprintf("term %d", i))}, nil
		}),
		keyed("geo", []string{"country", "region", "city"}, nil, traffic, func(i int) ([]string, []string) {
			c := []string{"DE", "US", "FR", "??"}[i%4]
			return []string{c, c + "-" + fmt.Sprint(i), fmt.Sprintf("City %d", i)}, nil
		}),
		keyed("languages", []string{"language", "region"}, []string{"name"}, traffic, func(i int) ([]string, []string) {
			return []string{[]string{"de", "en", "fr"}[i%3], fmt.Sprint(i)}, []string{"Lang"}
		}),
		keyed("devices", []string{"class", "browser", "os"}, nil, traffic, func(i int) ([]string, []string) {
			return []string{[]string{"desktop", "mobile", "tablet", "bot"}[i%4], text(i, fmt.Sprintf("Browser %d", i%5)), fmt.Sprintf("OS %d", i%3)}, nil
		}),
	}
	hours := mapreduce.Report{Name: "hours", Keys: []string{"weekday", "hour"}, Measures: []mapreduce.Measure{{Name: "pageviews"}, {Name: "visitors"}}}
	for _, a := range plan.Accounts {
		for d, day := range []string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"} {
			for h := 0; h < 24; h++ {
				v := math.Floor(100 * math.Max(0, math.Sin(float64(h)/24*math.Pi)) * float64(7-d) / 7)
				hours.Rows = append(hours.Rows, mapreduce.ReportRow{Account: a, Period: mapreduce.PeriodRange, Start: plan.Start,
					Keys: []string{day, fmt.Sprintf("%02d", h)}, Values: []float64{v, math.Floor(v * 0.8)}})
			}
		}
	}
	return append(reps, hours)
}

func make2(n int, s string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}
