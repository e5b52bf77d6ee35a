package urls_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/jobs/urls"
	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/pageview"
	"github.com/vmihailenco/msgpack/v5"
)

// memSource serves fixed rows of one shard per key.
type memSource map[string][]mapreduce.Row

func (m memSource) Split() mapreduce.Split { return mapreduce.SplitShards }
func (m memSource) Read(_ context.Context, it mapreduce.WorkItem, fn func(*mapreduce.Row) error) error {
	for i := range m[it.Shard.String()] {
		if err := fn(&m[it.Shard.String()][i]); err != nil {
			return err
		}
	}
	return nil
}

func TestJob(t *testing.T) {
	day1 := time.Date(2024, 8, 1, 10, 0, 0, 0, time.UTC)
	day2 := day1.AddDate(0, 0, 1)
	src := memSource{}
	add := func(shard string, at time.Time, url string) {
		v, err := msgpack.Marshal(map[string]string{"url": url})
		if err != nil {
			t.Fatal(err)
		}
		src[shard] = append(src[shard], mapreduce.Row{TS: mapreduce.TimeUUID(at, 1, 1), Value: v, Offset: -1})
	}
	// Five spellings of one page on day 1, two of another, a tab-holding
	// URL and a fragment-only one; one page on day 2; one on shop.
	for i, u := range []string{
		"https://blog.example.com/post?utm_source=x",
		"HTTPS://BLOG.example.com:443/post#comments",
		"https://blog.example.com/post?fbclid=abc",
		"https://blog.example.com/post",
		" https://blog.example.com/post ",
		"https://blog.example.com/?page=2",
		"https://blog.example.com/?page=2&utm_medium=email",
		"https://blog.example.com/a\tb",
		"#top",
	} {
		add("20240801.blog", day1.Add(time.Duration(i)*time.Minute), u)
	}
	add("20240802.blog", day2, "https://blog.example.com/post?utm_campaign=y")
	add("20240801.shop", day1, "https://shop.example.com/cart?id=1")
	plan, err := mapreduce.NewPlan(mapreduce.PlanSpec{Accounts: []string{"blog", "shop"},
		Start: time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2024, 8, 3, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	for _, strip := range []bool{false, true} {
		t.Run(fmt.Sprintf("strip=%v", strip), func(t *testing.T) {
			task := urls.New(urls.Options{StripQuery: strip})
			if task.Name() != urls.Name {
				t.Errorf("task name %q", task.Name())
			}
			res, err := mapreduce.Run(context.Background(), plan, src, []mapreduce.Task{task},
				mapreduce.Options{Workers: 2, NewDecoder: pageview.NewMapreduceDecoder})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Reports) != 1 {
				t.Fatalf("%d reports", len(res.Reports))
			}
			rep := res.Reports[0]
			if rep.Name != "urls" || strings.Join(rep.Keys, ",") != "url" || rep.Measures[0].Name != "pageviews" {
				t.Errorf("report %s keys %v measures %v", rep.Name, rep.Keys, rep.Measures)
			}
			var got []string
			for _, r := range rep.Rows {
				if len(r.Keys) != 1 {
					t.Errorf("row %+v has %d key columns, want 1", r, len(r.Keys))
				}
				got = append(got, fmt.Sprintf("%s %s %s %s %d", r.Account, r.Period, r.Start.Format("01-02"), r.Keys[0], int64(r.Primary())))
			}
			page2 := "https://blog.example.com/?page=2"
			if strip {
				page2 = "https://blog.example.com/"
			}
			want := []string{
				"blog day 08-01 https://blog.example.com/post 5",
				"blog day 08-01 " + page2 + " 2",
				"blog day 08-01 (not set) 1",
				"blog day 08-01 https://blog.example.com/ab 1",
				"blog day 08-02 https://blog.example.com/post 1",
				"blog range 08-01 https://blog.example.com/post 6",
				"blog range 08-01 " + page2 + " 2",
				"blog range 08-01 (not set) 1",
				"blog range 08-01 https://blog.example.com/ab 1",
			}
			shop := "https://shop.example.com/cart?id=1"
			if strip {
				shop = "https://shop.example.com/cart"
			}
			want = append(want, "shop day 08-01 "+shop+" 1", "shop range 08-01 "+shop+" 1")
			// Rows of equal value are ordered by key.
			if strings.Join(got, "\n") != strings.Join(sortedWant(want), "\n") {
				t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(sortedWant(want), "\n"))
			}
		})
	}
}

// sortedWant orders want lines of "account period start key value" as
// mapreduce.SortRows does, keys compared as strings.
func sortedWant(want []string) []string {
	rows := make([]mapreduce.ReportRow, len(want))
	for i, w := range want {
		f := strings.Fields(w)
		var v int64
		fmt.Sscan(f[len(f)-1], &v)
		start, _ := time.Parse("01-02", f[2])
		rows[i] = mapreduce.ReportRow{Account: f[0], Period: mapreduce.Period(f[1]), Start: start,
			Keys: []string{strings.Join(f[3:len(f)-1], " ")}, Values: []float64{float64(v)}}
	}
	mapreduce.SortRows(rows)
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = fmt.Sprintf("%s %s %s %s %d", r.Account, r.Period, r.Start.Format("01-02"), r.Keys[0], int64(r.Primary()))
	}
	return out
}
