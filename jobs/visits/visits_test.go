package visits_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/jobs"
	"github.com/pvjobs/pvjobs/jobs/jobstest"
	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/synth"
)

const (
	firefox   = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
	googlebot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
)

// run runs the named jobs over views in loc with the run's enricher and
// returns the reports by name.
func run(t *testing.T, views []synth.View, loc *time.Location, from, to string, includeBots bool, names ...string) map[string]mapreduce.Report {
	t.Helper()
	reps, _ := jobstest.Run(t, views, loc, from, to, &jobs.Config{}, mapreduce.Options{Workers: 3, IncludeBots: includeBots}, names...)
	return reps
}

// rows formats a report's rows of the periods given as
// "period start keys: measure=value ...".
func rows(rep mapreduce.Report, periods ...mapreduce.Period) []string {
	var out []string
	for _, r := range rep.Rows {
		if !slices.Contains(periods, r.Period) {
			continue
		}
		s := fmt.Sprintf("%s %s", r.Period, r.Start.Format("01-02T15:04"))
		if len(r.Keys) > 0 {
			s += " " + strings.Join(r.Keys, "|")
		}
		s += ":"
		for i, m := range rep.Measures {
			s += " " + m.Name + "=" + m.Format(r.Values[i])
		}
		out = append(out, s)
	}
	return out
}

// view is a page view of https://blog.example<path> by visitor.
func view(at time.Time, visitor, path, ref, ua string) synth.View {
	return synth.View{Account: "blog", Time: at, Fields: map[string]string{
		"url": "https://blog.example" + path, "referrer": ref, "user_agent": ua, "ip": "198.51.100.7", "visitor_id": visitor}}
}

func check(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n%s\nwant:\n%s", what, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestDefinitions checks every measure of the visits report on hand-made
// visits: a bounce counts 0 s, page views belong to the visit's first hour,
// bots are left out unless asked for, and the range's visitors are a union.
func TestDefinitions(t *testing.T) {
	d := time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC)
	at := func(day, h, m, s int) time.Time {
		return d.AddDate(0, 0, day).Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second)
	}
	views := []synth.View{
		// a: a visit of 3 page views from 10:50 to 11:10 (20 min), then a
		// bounce at 12:00 (50 min later).
		view(at(0, 10, 50, 0), "a", "/", "", firefox),
		view(at(0, 11, 0, 0), "a", "/x", "https://blog.example/", firefox),
		view(at(0, 11, 10, 0), "a", "/y", "https://blog.example/x", firefox),
		view(at(0, 12, 0, 0), "a", "/", "", firefox),
		// b: a bounce at 10:55 and, the next day, a visit of 2 (30 s).
		view(at(0, 10, 55, 0), "b", "/", "https://www.google.com/", firefox),
		view(at(1, 9, 0, 0), "b", "/", "", firefox),
		view(at(1, 9, 0, 30), "b", "/x", "", firefox),
		// a again on day 2: one more visitor-day, the same range visitor.
		view(at(1, 9, 5, 0), "a", "/", "", firefox),
		// a bot: left out of visits.
		view(at(0, 10, 51, 0), "bot", "/", "", googlebot),
		view(at(0, 10, 52, 0), "bot", "/x", "", googlebot),
	}
	reps := run(t, views, time.UTC, "2024-08-01", "2024-08-02", false, "visits")
	check(t, "visits", rows(reps["visits"], mapreduce.PeriodHour, mapreduce.PeriodDay, mapreduce.PeriodRange), []string{
		"hour 08-01T10:00: visitors=2 visits=2 pageviews=4 bounces=1 bounce_rate=0.5000 avg_visit_duration_s=600.0 pageviews_per_visit=2.00",
		"hour 08-01T11:00: visitors=1 visits=0 pageviews=0 bounces=0 bounce_rate= avg_visit_duration_s= pageviews_per_visit=",
		"hour 08-01T12:00: visitors=1 visits=1 pageviews=1 bounces=1 bounce_rate=1.0000 avg_visit_duration_s=0.0 pageviews_per_visit=1.00",
		"hour 08-02T09:00: visitors=2 visits=2 pageviews=3 bounces=1 bounce_rate=0.5000 avg_visit_duration_s=15.0 pageviews_per_visit=1.50",
		"day 08-01T00:00: visitors=2 visits=3 pageviews=5 bounces=2 bounce_rate=0.6667 avg_visit_duration_s=400.0 pageviews_per_visit=1.67",
		"day 08-02T00:00: visitors=2 visits=2 pageviews=3 bounces=1 bounce_rate=0.5000 avg_visit_duration_s=15.0 pageviews_per_visit=1.50",
		// Two visitors over the range, not 2 + 2.
		"range 08-01T00:00: visitors=2 visits=5 pageviews=8 bounces=3 bounce_rate=0.6000 avg_visit_duration_s=246.0 pageviews_per_visit=1.60",
	})
	// With bots the bot's visit of 2 page views counts too.
	reps = run(t, views, time.UTC, "2024-08-01", "2024-08-02", true, "visits")
	check(t, "visits with bots", rows(reps["visits"], mapreduce.PeriodRange), []string{
		"range 08-01T00:00: visitors=3 visits=6 pageviews=10 bounces=3 bounce_rate=0.5000 avg_visit_duration_s=215.0 pageviews_per_visit=1.67",
	})
}

// TestMidnightCutInDSTZone checks that a visit ends at local midnight in a
// zone whose day has 25 hours (Europe/Berlin, 2024-10-27), and that hours
// and days are local.
func TestMidnightCutInDSTZone(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	local := func(y, m, d, h, min int) time.Time { return time.Date(y, time.Month(m), d, h, min, 0, 0, berlin) }
	views := []synth.View{
		// 23:50 on the 26th, then 00:05 and 00:20 on the 27th: two visits.
		view(local(2024, 10, 26, 23, 50), "a", "/", "", firefox),
		view(local(2024, 10, 27, 0, 5), "a", "/x", "", firefox),
		view(local(2024, 10, 27, 0, 20), "a", "/y", "", firefox),
		// 02:50 CEST then 02:15 CET (25 minutes later, in the repeated
		// hour): one visit of 25 minutes.
		view(time.Date(2024, 10, 27, 0, 50, 0, 0, time.UTC), "b", "/", "", firefox),
		view(time.Date(2024, 10, 27, 1, 15, 0, 0, time.UTC), "b", "/x", "", firefox),
		// 23:55 on the 27th and 00:10 on the 28th: two visits.
		view(local(2024, 10, 27, 23, 55), "c", "/", "", firefox),
		view(local(2024, 10, 28, 0, 10), "c", "/x", "", firefox),
	}
	reps := run(t, views, berlin, "2024-10-26", "2024-10-28", false, "visits", "entrypages")
	check(t, "visits", rows(reps["visits"], mapreduce.PeriodDay), []string{
		"day 10-26T00:00: visitors=1 visits=1 pageviews=1 bounces=1 bounce_rate=1.0000 avg_visit_duration_s=0.0 pageviews_per_visit=1.00",
		"day 10-27T00:00: visitors=3 visits=3 pageviews=5 bounces=1 bounce_rate=0.3333 avg_visit_duration_s=800.0 pageviews_per_visit=1.67",
		"day 10-28T00:00: visitors=1 visits=1 pageviews=1 bounces=1 bounce_rate=1.0000 avg_visit_duration_s=0.0 pageviews_per_visit=1.00",
	})
	// b's visit starts in the first 02:00 (CEST), which the calendar keeps
	// apart from the second (CET).
	check(t, "hours of b", rows(reps["visits"], mapreduce.PeriodHour)[2:4], []string{
		"hour 10-27T02:00: visitors=1 visits=1 pageviews=2 bounces=0 bounce_rate=0.0000 avg_visit_duration_s=1500.0 pageviews_per_visit=2.00",
		"hour 10-27T02:00: visitors=1 visits=0 pageviews=0 bounces=0 bounce_rate= avg_visit_duration_s= pageviews_per_visit=",
	})
	check(t, "entry pages", rows(reps["entrypages"], mapreduce.PeriodRange), []string{
		"range 10-26T00:00 https://blog.example/: entries=3 bounces=2 bounce_rate=0.6667 avg_visit_duration_s=500.0",
		"range 10-26T00:00 https://blog.example/x: entries=2 bounces=1 bounce_rate=0.5000 avg_visit_duration_s=450.0",
	})
}

// TestPagesAndSources checks entry and exit pages (exit rate = exits / page
// views of the URL) and that a visit counts under its first page view's
// source, while page views count under their own.
func TestPagesAndSources(t *testing.T) {
	d := time.Date(2024, 8, 1, 10, 0, 0, 0, time.UTC)
	views := []synth.View{
		view(d, "a", "/", "https://www.google.com/", firefox),
		view(d.Add(time.Minute), "a", "/x", "https://blog.example/", firefox),
		view(d.Add(2*time.Minute), "a", "/y", "https://blog.example/x", firefox),
		view(d, "b", "/x", "", firefox),
		view(d.Add(time.Minute), "b", "/y", "https://blog.example/x", firefox),
		view(d, "c", "/y?utm_source=news&utm_medium=email", "", firefox),
	}
	reps := run(t, views, time.UTC, "2024-08-01", "2024-08-01", false, "urls", "entrypages", "exitpages", "sources")
	check(t, "urls", rows(reps["urls"], mapreduce.PeriodRange), []string{
		"range 08-01T00:00 https://blog.example/y: pageviews=3 visitors=3",
		"range 08-01T00:00 https://blog.example/x: pageviews=2 visitors=2",
		"range 08-01T00:00 https://blog.example/: pageviews=1 visitors=1",
	})
	check(t, "entrypages", rows(reps["entrypages"], mapreduce.PeriodRange), []string{
		"range 08-01T00:00 https://blog.example/: entries=1 bounces=0 bounce_rate=0.0000 avg_visit_duration_s=120.0",
		"range 08-01T00:00 https://blog.example/x: entries=1 bounces=0 bounce_rate=0.0000 avg_visit_duration_s=60.0",
		"range 08-01T00:00 https://blog.example/y: entries=1 bounces=1 bounce_rate=1.0000 avg_visit_duration_s=0.0",
	})
	check(t, "exitpages", rows(reps["exitpages"], mapreduce.PeriodRange), []string{
		"range 08-01T00:00 https://blog.example/y: exits=3 pageviews=3 exit_rate=1.0000",
	})
	check(t, "sources", rows(reps["sources"], mapreduce.PeriodRange), []string{
		"range 08-01T00:00 internal|blog.example: pageviews=3 visitors=2 visits=0 bounces=0 bounce_rate= avg_visit_duration_s=",
		"range 08-01T00:00 direct|(direct): pageviews=1 visitors=1 visits=1 bounces=0 bounce_rate=0.0000 avg_visit_duration_s=60.0",
		"range 08-01T00:00 email|news: pageviews=1 visitors=1 visits=1 bounces=1 bounce_rate=1.0000 avg_visit_duration_s=0.0",
		"range 08-01T00:00 search|Google: pageviews=1 visitors=1 visits=1 bounces=0 bounce_rate=0.0000 avg_visit_duration_s=120.0",
	})
}
