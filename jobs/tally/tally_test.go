package tally_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/jobs/tally"
	"github.com/pvjobs/pvjobs/mapreduce"
)

func testPlan(t *testing.T) *mapreduce.Plan {
	t.Helper()
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	start, end, err := mapreduce.DayRange(mapreduce.Date{Year: 2024, Month: 8, Day: 1}, mapreduce.Date{Year: 2024, Month: 8, Day: 2}, berlin)
	if err != nil {
		t.Fatal(err)
	}
	p, err := mapreduce.NewPlan(mapreduce.PlanSpec{Accounts: []string{"a", "b", "c"}, Start: start, End: end, Loc: berlin})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// pv returns a page view of account index a on local day d of plan.
func pv(p *mapreduce.Plan, a, d int) *mapreduce.PageView {
	// Shards are ordered day by day, account by account: any shard of
	// account a will do, the tally uses Shard only for the account.
	return &mapreduce.PageView{Shard: len(p.Accounts) + a, Bucket: mapreduce.Bucket{Day: int32(d)}}
}

func rowsText(rows []mapreduce.ReportRow, loc *time.Location) []string {
	mapreduce.SortRows(rows)
	var s []string
	for _, r := range rows {
		s = append(s, fmt.Sprintf("%s %s %s %s=%d", r.Account, r.Period, r.Start.In(loc).Format("2006-01-02T15:04"), strings.Join(r.Keys, "|"), r.Value))
	}
	return s
}

func TestAddAndReport(t *testing.T) {
	p := testPlan(t)
	tl := tally.New(p)
	buf := []byte("x")
	for range 3 {
		tl.Add(pv(p, 0, 0), buf)
	}
	// The key is copied when new: changing the caller's buffer after Add
	// must not change what was counted.
	buf[0] = 'y'
	tl.Add(pv(p, 0, 0), buf)
	tl.Add(pv(p, 0, 1), []byte("x"))
	tl.Add(pv(p, 2, 1), []byte("z"))
	tl.AddN(2, 1, []byte("z"), 10)
	rep := tl.Report(p, tally.ReportSpec{Name: "r", Keys: []string{"k"}, Measure: "n", Days: true, Range: true})
	if rep.Name != "r" || !slices.Equal(rep.Keys, []string{"k"}) || rep.Measure != "n" {
		t.Errorf("report header %+v", rep)
	}
	got := rowsText(rep.Rows, p.Loc)
	want := []string{
		"a day 2024-08-01T00:00 x=3",
		"a day 2024-08-01T00:00 y=1",
		"a day 2024-08-02T00:00 x=1",
		"a range 2024-08-01T00:00 x=4",
		"a range 2024-08-01T00:00 y=1",
		"c day 2024-08-02T00:00 z=11",
		"c range 2024-08-01T00:00 z=11",
	}
	if !slices.Equal(got, want) {
		t.Errorf("rows\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, r := range rep.Rows {
		if r.Period == mapreduce.PeriodDay {
			d := p.Calendar.Days[0]
			if r.Start.In(p.Loc).Day() == 2 {
				d = p.Calendar.Days[1]
			}
			if !r.Start.Equal(d.Start) {
				t.Errorf("day row starts %s, want the calendar day %s", r.Start, d.Start)
			}
		} else if !r.Start.Equal(p.Start) || r.Start.Location() != p.Loc {
			t.Errorf("range row starts %s, want the plan's start in its zone", r.Start)
		}
	}
	only := tl.Report(p, tally.ReportSpec{Name: "r", Range: true})
	for _, r := range only.Rows {
		if r.Period != mapreduce.PeriodRange {
			t.Errorf("Days false but a %s row", r.Period)
		}
	}
	if len(only.Rows) != 3 {
		t.Errorf("range-only rows %d, want 3", len(only.Rows))
	}
	if rows := tl.Report(p, tally.ReportSpec{Name: "r", Days: true}).Rows; len(rows) != 4 {
		t.Errorf("day-only rows %d, want 4", len(rows))
	}
}

func TestMerge(t *testing.T) {
	p := testPlan(t)
	a, b := tally.New(p), tally.New(p)
	a.Add(pv(p, 0, 0), []byte("k1"))
	a.Add(pv(p, 1, 1), []byte("k2"))
	b.Add(pv(p, 0, 0), []byte("k1"))
	b.Add(pv(p, 0, 0), []byte("k3"))
	b.AddN(1, 1, []byte("k2"), 5)
	b.AddN(2, 0, []byte("k4"), 7)
	a.Merge(b)
	got := rowsText(a.Report(p, tally.ReportSpec{Name: "m", Days: true}).Rows, p.Loc)
	want := []string{
		"a day 2024-08-01T00:00 k1=2",
		"a day 2024-08-01T00:00 k3=1",
		"b day 2024-08-02T00:00 k2=6",
		"c day 2024-08-01T00:00 k4=7",
	}
	if !slices.Equal(got, want) {
		t.Errorf("merged rows\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// b is unchanged by the merge.
	if n := len(b.Report(p, tally.ReportSpec{Name: "m", Days: true}).Rows); n != 4 {
		t.Errorf("source tally has %d rows after Merge, want 4", n)
	}
}

func TestCanon(t *testing.T) {
	p := testPlan(t)
	tl := tally.New(p)
	for _, k := range []string{"A", "a", "a", "B", "drop", "x\ty", "X\tY"} {
		tl.Add(pv(p, 0, 0), []byte(k))
	}
	tl.Add(pv(p, 0, 1), []byte("A"))
	calls := map[string]int{}
	canon := func(raw string) string {
		calls[raw]++
		if raw == "drop" {
			return ""
		}
		return strings.ToLower(raw)
	}
	rep := tl.Report(p, tally.ReportSpec{Name: "c", Keys: []string{"k1", "k2"}, Canon: canon, Days: true, Range: true})
	got := rowsText(rep.Rows, p.Loc)
	want := []string{
		"a day 2024-08-01T00:00 a=3",
		"a day 2024-08-01T00:00 x|y=2",
		"a day 2024-08-01T00:00 b=1",
		"a day 2024-08-02T00:00 a=1",
		"a range 2024-08-01T00:00 a=4",
		"a range 2024-08-01T00:00 x|y=2",
		"a range 2024-08-01T00:00 b=1",
	}
	if !slices.Equal(got, want) {
		t.Errorf("rows\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for raw, n := range calls {
		if n != 1 {
			t.Errorf("Canon(%q) called %d times, want once per distinct raw key", raw, n)
		}
	}
	if len(calls) != 6 {
		t.Errorf("Canon called for %d distinct keys, want 6", len(calls))
	}
}

func TestKeys(t *testing.T) {
	for in, want := range map[string][]string{
		"a":       {"a"},
		"a\tb":    {"a", "b"},
		"a\t\tb":  {"a", "", "b"},
		"":        {""},
		"x y\tz ": {"x y", "z "},
	} {
		if got := tally.Keys(in); !slices.Equal(got, want) {
			t.Errorf("Keys(%q) = %q, want %q", in, got, want)
		}
	}
}

func BenchmarkAddHit(b *testing.B) {
	start := time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC)
	p, err := mapreduce.NewPlan(mapreduce.PlanSpec{Accounts: []string{"a"}, Start: start, End: start.AddDate(0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	tl := tally.New(p)
	keys := make([][]byte, 500)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "https://example.com/page/%d", i)
		tl.Add(&mapreduce.PageView{}, keys[i])
	}
	pv := &mapreduce.PageView{}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		tl.Add(pv, keys[i%len(keys)])
		i++
	}
}
