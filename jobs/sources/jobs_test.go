package sources_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/jobs/sources"
	"github.com/pvjobs/pvjobs/mapreduce"
)

// memSource holds rows of one account in memory; a row's value is
// "url\x00referrer\x00user agent".
type memSource struct{ rows []mapreduce.Row }

func (m *memSource) Split() mapreduce.Split { return mapreduce.SplitShards }

func (m *memSource) Read(ctx context.Context, item mapreduce.WorkItem, fn func(*mapreduce.Row) error) error {
	lo, hi := item.Start.UnixNano(), item.End.UnixNano()
	for i := range m.rows {
		r := m.rows[i]
		if t := r.Time(); t < lo || t >= hi {
			continue
		}
		if err := fn(&r); err != nil {
			return err
		}
	}
	return nil
}

type testDecoder struct{}

func (testDecoder) Decode(v []byte, pv *mapreduce.PageView) error {
	f := bytes.Split(v, []byte{0})
	if len(f) != 3 {
		return fmt.Errorf("want 3 fields, got %d", len(f))
	}
	pv.URL, pv.Referrer, pv.UserAgent = f[0], f[1], f[2]
	return nil
}

// botEnricher marks user agent "bot" as a bot.
func botEnricher() func(*mapreduce.PageView) {
	bot, human := &mapreduce.Agent{Class: "bot", Bot: true}, &mapreduce.Agent{Class: "desktop"}
	return func(pv *mapreduce.PageView) {
		pv.Agent = human
		if string(pv.UserAgent) == "bot" {
			pv.Agent = bot
		}
	}
}

type row struct {
	day            int
	url, ref, user string
}

func testRun(t *testing.T, tasks []mapreduce.Task, rows []row) []mapreduce.Report {
	t.Helper()
	start := time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC)
	plan, err := mapreduce.NewPlan(mapreduce.PlanSpec{Accounts: []string{"acme"}, Start: start, End: start.AddDate(0, 0, 2)})
	if err != nil {
		t.Fatal(err)
	}
	src := &memSource{}
	for i, r := range rows {
		ts := start.AddDate(0, 0, r.day).Add(time.Duration(i) * time.Second)
		src.rows = append(src.rows, mapreduce.Row{
			TS: mapreduce.TimeUUID(ts, 1, 2), Value: []byte(r.url + "\x00" + r.ref + "\x00" + r.user), Index: int64(i), Offset: -1,
		})
	}
	res, err := mapreduce.Run(context.Background(), plan, src, tasks, mapreduce.Options{
		Workers: 2, NewDecoder: func() mapreduce.Decoder { return testDecoder{} }, NewEnricher: botEnricher,
	})
	if err != nil {
		t.Fatal(err)
	}
	return res.Reports
}

// lines renders a report's rows as "period day keys=value".
func lines(rep mapreduce.Report) []string {
	var out []string
	for _, r := range rep.Rows {
		out = append(out, fmt.Sprintf("%s %s %s=%d", r.Period, r.Start.Format("01-02"), strings.Join(r.Keys, "|"), int64(r.Primary())))
	}
	return out
}

var jobRows = []row{
	{0, "https://www.example.com/", "", ""},
	{0, "https://www.example.com/a", "https://example.com/", ""},
	{0, "https://www.example.com/b", "https://www.google.com/", ""},
	{0, "https://www.example.com/b", "https://www.google.de/search?q=Example+Shoes", ""},
	{0, "https://www.example.com/b", "https://www.google.de/search?q=example%20shoes", ""},
	{0, "https://www.example.com/c", "https://www.google.de/search?q=bot", "bot"},
	{0, "https://www.example.com/c", "https://t.co/x", ""},
	{1, "https://www.example.com/c", "https://shop.example.net/", ""},
	{1, "https://www.example.com/c?utm_source=news&utm_medium=email", "", ""},
	{1, "https://www.example.com/d", "https://www.baidu.com/s?wd=%CC%EC%C6%F8", ""},
	{1, "https://www.example.com/d", "https://www.bing.com/search?q=tab%09term", ""},
}

func TestSourcesJob(t *testing.T) {
	reps := testRun(t, []mapreduce.Task{sources.NewSources(sources.Options{InternalDomains: []string{"example.net"}})}, jobRows)
	if len(reps) != 1 || reps[0].Name != "sources" || !slices.Equal(reps[0].Keys, []string{"medium", "source"}) || reps[0].Measures[0].Name != "pageviews" {
		t.Fatalf("reports = %+v", reps)
	}
	got := lines(reps[0])
	want := []string{
		"day 08-01 search|Google=3",
		"day 08-01 direct|(direct)=1",
		"day 08-01 internal|example.com=1",
		"day 08-01 social|Twitter=1",
		"day 08-02 email|news=1",
		"day 08-02 internal|shop.example.net=1",
		"day 08-02 search|Baidu=1",
		"day 08-02 search|Bing=1",
		"range 08-01 search|Google=3",
		"range 08-01 direct|(direct)=1",
		"range 08-01 email|news=1",
		"range 08-01 internal|example.com=1",
		"range 08-01 internal|shop.example.net=1",
		"range 08-01 search|Baidu=1",
		"range 08-01 search|Bing=1",
		"range 08-01 social|Twitter=1",
	}
	if !slices.Equal(got, want) {
		t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestSearchTermsJob(t *testing.T) {
	reps := testRun(t, []mapreduce.Task{sources.NewSearchTerms(sources.Options{})}, jobRows)
	if len(reps) != 1 || reps[0].Name != "searchterms" || !slices.Equal(reps[0].Keys, []string{"engine", "term"}) {
		t.Fatalf("reports = %+v", reps)
	}
	got := lines(reps[0])
	want := []string{
		"day 08-01 Google|example shoes=2",
		"day 08-01 Google|(not provided)=1",
		"day 08-02 Baidu|天气=1",
		"day 08-02 Bing|tab term=1",
		"range 08-01 Google|example shoes=2",
		"range 08-01 Baidu|天气=1",
		"range 08-01 Bing|tab term=1",
		"range 08-01 Google|(not provided)=1",
	}
	if !slices.Equal(got, want) {
		t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
