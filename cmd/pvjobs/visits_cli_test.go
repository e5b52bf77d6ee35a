package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/file"
)

// visitView is one page view of the visits golden case.
type visitView struct {
	at                 time.Time
	visitor, path, ref string
	bot                bool
}

// writeViews writes views as the collector stores them: shard files per
// UTC day of account blog, rows in time order.
func writeViews(t *testing.T, dir string, views []visitView) {
	t.Helper()
	slices.SortStableFunc(views, func(a, b visitView) int { return a.at.Compare(b.at) })
	byShard := map[mapreduce.ShardKey][]visitView{}
	var keys []mapreduce.ShardKey
	for _, v := range views {
		k := mapreduce.ShardKey{Day: v.at.UTC().Truncate(24 * time.Hour), Account: "blog"}
		if _, ok := byShard[k]; !ok {
			keys = append(keys, k)
		}
		byShard[k] = append(byShard[k], v)
	}
	for _, k := range keys {
		w, err := file.Create(dir, k, false)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range byShard[k] {
			ua := "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
			if v.bot {
				ua = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
			}
			b, err := msgpack.Marshal(map[string]string{"url": "https://blog.example" + v.path, "referrer": v.ref,
				"title": "Page " + v.path, "user_agent": ua, "ip": "203.0.113.7", "visitor_id": v.visitor})
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Write(mapreduce.TimeUUID(v.at, uint16(i), 7), b); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestVisitsGolden runs the visit reports end to end on hand-made visits
// over Berlin's fall-back weekend and compares them with golden files whose
// rows were checked by hand (see the comments of each case):
//
//   - a: 23:50 on the 26th and 00:05 on the 27th, 15 minutes apart: two
//     visits, cut at local midnight; 00:05, 00:20 and (30:00 later) 00:50
//     make one visit of 45 minutes, then 01:21 (30:01 later) a bounce.
//   - b: 02:50 CEST and 02:15 CET, 25 minutes apart in the repeated hour:
//     one visit of 1,500 s that starts in the first 02:00.
//   - c: from Google, then internal pages, then from a newsletter
//     (utm_source): two visits, the second from email.
//   - a bot's visit of three page views: left out of every report.
//   - a again on the 28th: in the range's visitors once (a union, not a sum
//     of days).
func TestVisitsGolden(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	at := func(y, m, d, h, min, s int) time.Time { return time.Date(y, time.Month(m), d, h, min, s, 0, berlin) }
	views := []visitView{
		{at(2024, 10, 26, 23, 50, 0), "a", "/", "", false},
		{at(2024, 10, 27, 0, 5, 0), "a", "/x", "", false},
		{at(2024, 10, 27, 0, 20, 0), "a", "/y", "https://blog.example/x", false},
		{at(2024, 10, 27, 0, 50, 0), "a", "/x", "https://blog.example/y", false},
		{at(2024, 10, 27, 1, 20, 1), "a", "/", "", false},
		{time.Date(2024, 10, 27, 0, 50, 0, 0, time.UTC), "b", "/", "https://www.google.com/", false},
		{time.Date(2024, 10, 27, 1, 15, 0, 0, time.UTC), "b", "/y", "https://blog.example/", false},
		{at(2024, 10, 27, 10, 0, 0), "c", "/", "https://www.google.com/", false},
		{at(2024, 10, 27, 10, 1, 0), "c", "/x", "https://blog.example/", false},
		{at(2024, 10, 27, 10, 2, 0), "c", "/y?utm_source=newsletter&utm_medium=email", "", false},
		{at(2024, 10, 27, 10, 3, 0), "c", "/", "https://blog.example/y", false},
		{at(2024, 10, 27, 12, 0, 0), "bot", "/", "", true},
		{at(2024, 10, 27, 12, 0, 1), "bot", "/x", "", true},
		{at(2024, 10, 27, 12, 0, 2), "bot", "/y", "", true},
		{at(2024, 10, 28, 9, 0, 0), "a", "/", "", false},
	}
	src, out := t.TempDir(), t.TempDir()
	writeViews(t, src, views)
	for _, slicesFlag := range []string{"1", "96"} {
		mustPvjobs(t, "run", "--source", src, "--tz", "Europe/Berlin", "--from", "2024-10-26", "--to", "2024-10-28",
			"--jobs", "visits,entrypages,exitpages,sources,uniques", "--slices", slicesFlag, "--workers", "3",
			"--quiet", "--out", "csv:"+out)
		for _, name := range []string{"visits.csv", "entrypages.csv", "exitpages.csv", "sources.csv", "uniques.csv"} {
			b, err := os.ReadFile(filepath.Join(out, name))
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, "visits/"+name, b)
		}
	}
}
