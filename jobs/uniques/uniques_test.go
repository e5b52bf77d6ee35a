package uniques_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/jobs/uniques"
	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/mapreduce/hll"
	"github.com/pvjobs/pvjobs/readers/pageview"
	"github.com/pvjobs/pvjobs/readers/synth"
)

// run runs the uniques job on three generated days of two accounts and
// returns its rows keyed by account, period and start.
func run(t *testing.T, opt uniques.Options) map[string]mapreduce.ReportRow {
	t.Helper()
	from, _ := mapreduce.ParseDate("2024-08-30")
	to, _ := mapreduce.ParseDate("2024-09-01")
	accounts := []string{"blog", "shop"}
	g, err := synth.New(synth.Config{Accounts: accounts, From: from, To: to, RowsPerDay: 20000, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	start, end, _ := mapreduce.DayRange(from, to, time.UTC)
	plan, err := mapreduce.NewPlan(mapreduce.PlanSpec{Accounts: accounts, Start: start, End: end})
	if err != nil {
		t.Fatal(err)
	}
	res, err := mapreduce.Run(context.Background(), plan, g.Memory(mapreduce.SplitShards),
		[]mapreduce.Task{uniques.New(opt)}, mapreduce.Options{NewDecoder: pageview.NewMapreduceDecoder})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Reports) != 1 || res.Reports[0].Name != uniques.Name || res.Reports[0].Measures[0].Name != "visitors" {
		t.Fatalf("reports %+v", res.Reports)
	}
	rows := map[string]mapreduce.ReportRow{}
	for _, r := range res.Reports[0].Rows {
		rows[key(r.Account, r.Period, r.Start)] = r
	}
	return rows
}

func key(account string, p mapreduce.Period, start time.Time) string {
	return fmt.Sprintf("%s %s %s", account, p, start.UTC().Format(time.RFC3339))
}

// TestSketchAgainstExact compares every row of the sketches with the exact
// count of the same run: within 2% (HyperLogLog at P=14 errs about 0.8%).
func TestSketchAgainstExact(t *testing.T) {
	est, exact := run(t, uniques.Options{}), run(t, uniques.Options{Exact: true})
	if len(est) != len(exact) {
		t.Fatalf("%d sketch rows, %d exact rows", len(est), len(exact))
	}
	periods := map[mapreduce.Period]int{}
	for k, e := range exact {
		s, ok := est[k]
		if !ok {
			t.Fatalf("no sketch row %s", k)
		}
		periods[e.Period]++
		if e.Sketch != nil || s.Sketch == nil {
			t.Errorf("%s: exact row carries a sketch, or sketch row none", k)
		}
		if diff := float64(int64(s.Primary()) - int64(e.Primary())); diff > 0.02*float64(int64(e.Primary()))+1 || -diff > 0.02*float64(int64(e.Primary()))+1 {
			t.Errorf("%s: sketch %d, exact %d", k, int64(s.Primary()), int64(e.Primary()))
		}
	}
	// 3 days × 24 hours, 3 days, 2 months (August and September), 1 range.
	want := map[mapreduce.Period]int{mapreduce.PeriodHour: 2 * 72, mapreduce.PeriodDay: 2 * 3, mapreduce.PeriodMonth: 2 * 2, mapreduce.PeriodRange: 2}
	for p, n := range want {
		if periods[p] != n {
			t.Errorf("%d %s rows, want %d", periods[p], p, n)
		}
	}
}

// TestUnions checks that a day is the union of its hours and the range the
// union of its days, and which periods the run covers only in part.
func TestUnions(t *testing.T) {
	rows := run(t, uniques.Options{})
	day := time.Date(2024, 8, 31, 0, 0, 0, 0, time.UTC)
	for _, account := range []string{"blog", "shop"} {
		u := hll.New()
		for h := 0; h < 24; h++ {
			r := rows[key(account, mapreduce.PeriodHour, day.Add(time.Duration(h)*time.Hour))]
			u.Merge(r.Sketch.(*hll.Sketch))
		}
		d := rows[key(account, mapreduce.PeriodDay, day)]
		if got := int64(u.Count()); got != int64(d.Primary()) {
			t.Errorf("%s: union of hours %d, day %d", account, got, int64(d.Primary()))
		}
		all := hll.New()
		for i := -1; i <= 1; i++ {
			all.Merge(rows[key(account, mapreduce.PeriodDay, day.AddDate(0, 0, i))].Sketch.(*hll.Sketch))
		}
		rng := rows[key(account, mapreduce.PeriodRange, day.AddDate(0, 0, -1))]
		if got := int64(all.Count()); got != int64(rng.Primary()) {
			t.Errorf("%s: union of days %d, range %d", account, got, int64(rng.Primary()))
		}
		if d.Partial || rng.Partial {
			t.Errorf("%s: whole day or range marked partial", account)
		}
		for _, m := range []time.Time{time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC)} {
			if r, ok := rows[key(account, mapreduce.PeriodMonth, m)]; !ok || !r.Partial {
				t.Errorf("%s: month %s missing or not partial", account, m.Format("2006-01"))
			}
		}
	}
}

// TestMinutes checks that the minute rows of an hour make up the hour.
func TestMinutes(t *testing.T) {
	rows := run(t, uniques.Options{Minutes: true})
	hour := time.Date(2024, 8, 31, 15, 0, 0, 0, time.UTC)
	u := hll.New()
	n := 0
	for m := 0; m < 60; m++ {
		r, ok := rows[key("blog", mapreduce.PeriodMinute, hour.Add(time.Duration(m)*time.Minute))]
		if !ok {
			continue
		}
		n++
		u.Merge(r.Sketch.(*hll.Sketch))
	}
	if n < 30 {
		t.Fatalf("only %d minute rows in a busy hour", n)
	}
	if got, want := int64(u.Count()), int64(rows[key("blog", mapreduce.PeriodHour, hour)].Values[0]); got != want {
		t.Errorf("union of minutes %d, hour %d", got, want)
	}
}

func TestVisitorKey(t *testing.T) {
	tests := []struct {
		name string
		pv   mapreduce.PageView
		want string
	}{
		{"visitor id wins", mapreduce.PageView{VisitorID: []byte("v1"), IP: []byte("1.2.3.4"), UserAgent: []byte("UA")}, "v1"},
		{"ip and user agent", mapreduce.PageView{IP: []byte("1.2.3.4"), UserAgent: []byte("UA")}, "1.2.3.4\nUA"},
		{"nothing", mapreduce.PageView{}, "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(uniques.VisitorKey(nil, &tt.pv)); got != tt.want {
				t.Errorf("VisitorKey = %q, want %q", got, tt.want)
			}
		})
	}
}
