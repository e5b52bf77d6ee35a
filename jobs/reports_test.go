package jobs_test

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

const firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"

// runViews runs the named jobs over hand-made page views of account blog
// and returns the reports by name and the summary.
func runViews(t *testing.T, views []synth.View, loc *time.Location, from, to string, cfg *jobs.Config, names ...string) (map[string]mapreduce.Report, mapreduce.Summary) {
	t.Helper()
	return jobstest.Run(t, views, loc, from, to, cfg, mapreduce.Options{Workers: 2}, names...)
}

// rangeRows formats the range rows of rep as "key|key...: v1 v2".
func rangeRows(rep mapreduce.Report) []string {
	var out []string
	for _, r := range rep.Rows {
		if r.Period != mapreduce.PeriodRange {
			continue
		}
		vals := make([]string, len(r.Values))
		for i, v := range r.Values {
			vals[i] = rep.Measures[i].Format(v)
		}
		out = append(out, strings.Join(append(slices.Clone(r.Keys), r.Labels...), "|")+": "+strings.Join(vals, " "))
	}
	return out
}

func pv(at time.Time, visitor, url, ref string) synth.View {
	return synth.View{Account: "blog", Time: at, Fields: map[string]string{
		"url": url, "referrer": ref, "user_agent": firefox, "ip": "198.51.100.9", "visitor_id": visitor}}
}

func wantRows(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n%s\nwant:\n%s", what, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestCampaigns reads campaign parameters in any case and encoding, keeps
// page views without them out, and counts a visit under its first page
// view's campaign.
func TestCampaigns(t *testing.T) {
	d := time.Date(2024, 8, 1, 9, 0, 0, 0, time.UTC)
	views := []synth.View{
		pv(d, "a", "https://b.example/?utm_source=Google&utm_medium=CPC&utm_campaign=Summer%20Sale", ""),
		pv(d.Add(time.Minute), "a", "https://b.example/x", "https://b.example/"),
		pv(d, "b", "https://b.example/?UTM_SOURCE=google.com&Utm_Medium=cpc&utm_campaign=summer+sale&utm_term=Shoes", ""),
		pv(d, "c", "https://b.example/?utm_campaign=%E6%97%A5%E6%9C%AC&utm_content=%3Cscript%3E", ""),
		pv(d, "e", "https://b.example/?utm_campaign=%ZZbad%FF&utm_source=+news+letter+", ""),
		pv(d, "f", "https://b.example/?utm_=x&utmsource=y&q=utm_source", ""),
		pv(d, "g", "https://b.example/#utm_source=frag", ""),
	}
	reps, _ := runViews(t, views, time.UTC, "2024-08-01", "2024-08-01", &jobs.Config{}, "campaigns")
	// Page views and visits of a campaign: the second page view of a's
	// visit has no campaign, so it is not a row, but the visit's 60 s
	// count under its first page view's campaign.
	wantRows(t, "campaigns", rangeRows(reps["campaigns"]), []string{
		"%zzbad\ufffd|news letter|(not set)|(not set)|(not set): 1 1 1 1 1.0000 0.0",
		"summer sale|Google|cpc|(not set)|(not set): 1 1 1 0 0.0000 60.0",
		"summer sale|Google|cpc|shoes|(not set): 1 1 1 1 1.0000 0.0",
		"日本|(not set)|(not set)|(not set)|<script>: 1 1 1 1 1.0000 0.0",
	})
}

// TestSpamLeftOut drops referrer spam from every report (devices too) and
// counts it, unless spam is included; --spam-domains adds hosts.
func TestSpamLeftOut(t *testing.T) {
	d := time.Date(2024, 8, 1, 9, 0, 0, 0, time.UTC)
	views := []synth.View{
		pv(d, "a", "https://b.example/", "https://www.google.com/"),
		pv(d, "s1", "https://b.example/", "http://buttons-for-website.com/"),
		pv(d, "s2", "https://b.example/", "https://www.sub.semalt.com/page"),
		pv(d, "s3", "https://b.example/", "https://junk.test/x"),
		pv(d, "n", "https://b.example/", "https://notsemalt.com/"),
	}
	cfg := &jobs.Config{SpamDomains: []string{"junk.test"}}
	reps, sum := runViews(t, views, time.UTC, "2024-08-01", "2024-08-01", cfg, "urls", "sources", "devices")
	if sum.Spam != 3 || sum.Rows != 5 {
		t.Errorf("summary: %d rows, %d spam; want 5 rows, 3 spam", sum.Rows, sum.Spam)
	}
	wantRows(t, "urls", rangeRows(reps["urls"]), []string{"https://b.example/|(not set): 2 2"})
	wantRows(t, "devices", rangeRows(reps["devices"]), []string{"desktop|Firefox|Linux: 2 2 2 2 1.0000 0.0"})
	wantRows(t, "sources", rangeRows(reps["sources"]), []string{
		"referral|notsemalt.com: 1 1 1 1 1.0000 0.0",
		"search|Google: 1 1 1 1 1.0000 0.0",
	})
	cfg.IncludeSpam = true
	reps, sum = runViews(t, views, time.UTC, "2024-08-01", "2024-08-01", cfg, "urls")
	if sum.Spam != 0 {
		t.Errorf("with spam included, %d left out", sum.Spam)
	}
	wantRows(t, "urls with spam", rangeRows(reps["urls"]), []string{"https://b.example/|(not set): 5 5"})
}

// TestHours counts by the wall clock's weekday and hour: on Berlin's
// fall-back day the two 02:00 hours both count under 02.
func TestHours(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	views := []synth.View{
		pv(time.Date(2024, 10, 27, 0, 30, 0, 0, time.UTC), "a", "https://b.example/", ""),  // 02:30 CEST
		pv(time.Date(2024, 10, 27, 1, 30, 0, 0, time.UTC), "b", "https://b.example/", ""),  // 02:30 CET
		pv(time.Date(2024, 10, 27, 22, 59, 0, 0, time.UTC), "a", "https://b.example/", ""), // 23:59 CET
		pv(time.Date(2024, 10, 28, 8, 0, 0, 0, time.UTC), "a", "https://b.example/", ""),   // Monday 09:00
	}
	reps, _ := runViews(t, views, berlin, "2024-10-27", "2024-10-28", &jobs.Config{}, "hours")
	got := rangeRows(reps["hours"])
	slices.Sort(got)
	wantRows(t, "hours", got, []string{"Monday|09: 1 1", "Sunday|02: 2 2", "Sunday|23: 1 1"})
	for _, r := range reps["hours"].Rows {
		if r.Period != mapreduce.PeriodRange {
			t.Errorf("hours has a %s row", r.Period)
		}
	}
}

// TestLanguagesReport runs the languages job over odd language fields.
func TestLanguagesReport(t *testing.T) {
	d := time.Date(2024, 8, 1, 9, 0, 0, 0, time.UTC)
	var views []synth.View
	for i, lang := range []string{"en-US", "en_us", "EN", "*", "i-klingon", "zh-Hant-TW", "", "de-DE,de;q=0.9"} {
		v := pv(d, fmt.Sprint(i), "https://b.example/", "")
		v.Fields["language"] = lang
		views = append(views, v)
	}
	reps, _ := runViews(t, views, time.UTC, "2024-08-01", "2024-08-01", &jobs.Config{}, "languages")
	got := rangeRows(reps["languages"])
	slices.Sort(got)
	wantRows(t, "languages", got, []string{
		"(not set)|(not set)|(not set): 2 2 2 2 1.0000 0.0",
		"de|DE|German: 1 1 1 1 1.0000 0.0",
		"en|(not set)|English: 1 1 1 1 1.0000 0.0",
		"en|US|English: 2 2 2 2 1.0000 0.0",
		"tlh|(not set)|Klingon: 1 1 1 1 1.0000 0.0",
		"zh|TW|Chinese: 1 1 1 1 1.0000 0.0",
	})
}
