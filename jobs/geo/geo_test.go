package geo_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/jobs/geo"
	"github.com/pvjobs/pvjobs/mapreduce"
)

// memSource serves rows whose values are raw ip fields, per shard index.
type memSource map[int][]mapreduce.Row

func (m memSource) Split() mapreduce.Split { return mapreduce.SplitShards }

func (m memSource) Read(ctx context.Context, item mapreduce.WorkItem, fn func(*mapreduce.Row) error) error {
	rows, ok := m[item.ShardIndex]
	if !ok {
		return mapreduce.ErrNoShard
	}
	for i := range rows {
		if err := fn(&rows[i]); err != nil {
			return err
		}
	}
	return nil
}

// ipDecoder decodes a row value that is just the ip field.
type ipDecoder struct{}

func (ipDecoder) Decode(value []byte, pv *mapreduce.PageView) error {
	*pv = mapreduce.PageView{IP: value}
	return nil
}

// runJob runs the geo job over db on rows of ip fields, rows[account][day],
// for two accounts and two UTC days, and returns the report as lines.
func runJob(t *testing.T, db *geo.DB, rows map[string][2][]string) []string {
	t.Helper()
	start := time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC)
	plan, err := mapreduce.NewPlan(mapreduce.PlanSpec{Accounts: []string{"blog", "shop"}, Start: start, End: start.AddDate(0, 0, 2)})
	if err != nil {
		t.Fatal(err)
	}
	src := memSource{}
	for i, sk := range plan.Shards {
		d := int(sk.Day.Sub(start) / (24 * time.Hour))
		for j, ip := range rows[sk.Account][d] {
			ts := mapreduce.TimeUUID(sk.Day.Add(time.Duration(j)*time.Minute), 1, 1)
			src[i] = append(src[i], mapreduce.Row{TS: ts, Value: []byte(ip), Index: int64(j), Offset: -1})
		}
	}
	res, err := mapreduce.Run(context.Background(), plan, src, []mapreduce.Task{geo.New(db, geo.Options{})},
		mapreduce.Options{Workers: 2, NewDecoder: func() mapreduce.Decoder { return ipDecoder{} }})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Reports) != 1 {
		t.Fatalf("%d reports, want 1", len(res.Reports))
	}
	rep := res.Reports[0]
	if rep.Name != "geo" || rep.Measures[0].Name != "pageviews" || !slices.Equal(rep.Keys, []string{"country", "region", "city"}) {
		t.Fatalf("report %q keys %q measure %q", rep.Name, rep.Keys, rep.Measures)
	}
	var lines []string
	for _, r := range rep.Rows {
		lines = append(lines, fmt.Sprintf("%s %s %s %s %d", r.Account, r.Period, r.Start.Format("01-02"), strings.Join(r.Keys, "|"), int64(r.Primary())))
	}
	return lines
}

var jobRows = map[string][2][]string{
	"blog": {
		{"81.2.69.142", "81.2.69.143", "81.2.69.142", "2001:480::1", "10.0.0.1", "garbage", "", "9.9.9.9"},
		{"::ffff:81.2.69.142", "81.2.69.200, 10.1.1.1", "126.10.10.7"},
	},
	"shop": {
		{"2a02:cf40::1", "fd00::1", "89.160.20.9"},
		{},
	},
}

func TestJobCity(t *testing.T) {
	got := runJob(t, openDB(t, cityDB), jobRows)
	want := []string{
		"blog day 08-01 ??|| 4",
		"blog day 08-01 GB|GB-ENG|London 3",
		"blog day 08-01 US|US-CA|San Diego 1",
		"blog day 08-02 GB|GB-ENG|London 2",
		"blog day 08-02 JP|JP-13| 1",
		"blog range 08-01 GB|GB-ENG|London 5",
		"blog range 08-01 ??|| 4",
		"blog range 08-01 JP|JP-13| 1",
		"blog range 08-01 US|US-CA|San Diego 1",
		"shop day 08-01 ??|| 1",
		"shop day 08-01 NO|| 1",
		"shop day 08-01 SE|SE-E|Linköping 1",
		"shop range 08-01 ??|| 1",
		"shop range 08-01 NO|| 1",
		"shop range 08-01 SE|SE-E|Linköping 1",
	}
	if !slices.Equal(got, want) {
		t.Errorf("report:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestJobCountry(t *testing.T) {
	got := runJob(t, openDB(t, countryDB), jobRows)
	want := []string{
		"blog day 08-01 ??|| 4",
		"blog day 08-01 GB|| 3",
		"blog day 08-01 US|| 1",
		"blog day 08-02 GB|| 2",
		"blog day 08-02 JP|| 1",
		"blog range 08-01 GB|| 5",
		"blog range 08-01 ??|| 4",
		"blog range 08-01 JP|| 1",
		"blog range 08-01 US|| 1",
		"shop day 08-01 ??|| 1",
		"shop day 08-01 NO|| 1",
		"shop day 08-01 SE|| 1",
		"shop range 08-01 ??|| 1",
		"shop range 08-01 NO|| 1",
		"shop range 08-01 SE|| 1",
	}
	if !slices.Equal(got, want) {
		t.Errorf("report:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
