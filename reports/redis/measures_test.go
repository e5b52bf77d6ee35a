package redis_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/reports/redis"
)

// The tests in this file need no server: they check what PlanKeys makes
// of reports with several measures.

// trafficRow returns a row of a traffic report of the period of p that
// starts at the local time at ("2006-01-02T15:04").
func trafficRow(t *testing.T, p *mapreduce.Plan, account string, per mapreduce.Period, at string, c traffic, keys ...string) mapreduce.ReportRow {
	t.Helper()
	return mapreduce.ReportRow{Account: account, Period: per, Start: parseLocal(t, at, p.Loc), Keys: keys, Values: c.values()}
}

// visitsRow returns a row of the visits report.
func visitsRow(t *testing.T, p *mapreduce.Plan, account string, per mapreduce.Period, at string, c traffic) mapreduce.ReportRow {
	t.Helper()
	return mapreduce.ReportRow{Account: account, Period: per, Start: parseLocal(t, at, p.Loc), Values: c.visitsValues()}
}

// opsByKey returns the ops of kp by key.
func opsByKey(kp *redis.KeyPlan) map[string]*redis.KeyOp {
	out := map[string]*redis.KeyOp{}
	for _, a := range kp.Accounts {
		for _, o := range a.Ops {
			out[o.Key] = o
		}
	}
	return out
}

func TestPlanKeysMeasures(t *testing.T) {
	berlin := mustLoad(t, "Europe/Berlin")
	utc := time.UTC
	twoDays := planOf(t, utc, "2024-08-01T00:00", "2024-08-03T00:00", "blog", "shop")
	oneDay := planOf(t, utc, "2024-08-01T00:00", "2024-08-02T00:00", "blog")
	night := planOf(t, utc, "2024-08-01T18:00", "2024-08-02T06:30", "blog")
	august := planOf(t, utc, "2024-08-01T00:00", "2024-09-01T00:00", "blog")
	fallBack := planOf(t, berlin, "2024-10-27T00:00", "2024-10-28T00:00", "blog")
	springForward := planOf(t, berlin, "2024-03-31T00:00", "2024-04-01T00:00", "blog")
	sources := func(rows ...mapreduce.ReportRow) mapreduce.Report {
		return mapreduce.Report{Name: "sources", Keys: []string{"medium", "source"}, Measures: trafficMeasures, Rows: rows}
	}
	visits := func(rows ...mapreduce.ReportRow) mapreduce.Report {
		return mapreduce.Report{Name: "visits", Measures: visitsMeasures, Rows: rows}
	}
	c := traffic{pageviews: 9, visitors: 4, visits: 5, bounces: 2, durationMs: 61_500}
	for _, tc := range []struct {
		name    string
		plan    *mapreduce.Plan
		opt     redis.Options
		reps    func(p *mapreduce.Plan) []mapreduce.Report
		hide    string
		want    []string
		skipped int
	}{
		{
			name: "traffic: a sorted set per count and for the duration sum; rates not stored; every key deleted on days without rows",
			plan: twoDays,
			opt:  redis.Options{TTL: time.Hour},
			reps: func(p *mapreduce.Plan) []mapreduce.Report {
				return []mapreduce.Report{sources(
					trafficRow(t, p, "blog", mapreduce.PeriodDay, "2024-08-01T00:00", c, "search", "Google"),
					trafficRow(t, p, "blog", mapreduce.PeriodDay, "2024-08-01T00:00", traffic{pageviews: 1, visitors: 1}, "internal", "blog"),
					trafficRow(t, p, "blog", mapreduce.PeriodRange, "2024-08-01T00:00", c, "search", "Google"),
				)}
			},
			hide: "{shop}",
			want: []string{
				"10 deletes of {shop} in shop", // 2 days × 5 keys
				"delete pv:{blog}:sources.bounces:20240802",
				"delete pv:{blog}:sources.duration_ms:20240802",
				"delete pv:{blog}:sources.visitors:20240802",
				"delete pv:{blog}:sources.visits:20240802",
				"delete pv:{blog}:sources:20240802",
				"replace pv:{blog}:sources.bounces:20240801 (2) ttl=1h0m0s",
				"replace pv:{blog}:sources.duration_ms:20240801 (2) ttl=1h0m0s",
				"replace pv:{blog}:sources.visitors:20240801 (2) ttl=1h0m0s",
				"replace pv:{blog}:sources.visits:20240801 (2) ttl=1h0m0s",
				"replace pv:{blog}:sources:20240801 (2) ttl=1h0m0s",
			},
		},
		{
			name: "range keys of every measure",
			plan: twoDays,
			opt:  redis.Options{Range: true},
			reps: func(p *mapreduce.Plan) []mapreduce.Report {
				return []mapreduce.Report{{Name: "urls", Keys: []string{"url"}, Labels: []string{"title"}, Measures: mapreduce.Counts("pageviews", "visitors"), Rows: []mapreduce.ReportRow{
					{Account: "blog", Period: mapreduce.PeriodRange, Start: p.Start, Keys: []string{"/a"}, Labels: []string{"A"}, Values: []float64{3, 2}},
				}}}
			},
			hide: ":2024080",
			want: []string{
				"4 deletes of :2024080 in blog", // the days of both keys
				"6 deletes of :2024080 in shop", // and the range
				"replace pv:{blog}:urls.visitors:20240801-20240802 (1)",
				"replace pv:{blog}:urls:20240801-20240802 (1)",
			},
		},
		{
			name: "entry and exit pages: averages over entries; exit rate not stored",
			plan: oneDay,
			reps: func(p *mapreduce.Plan) []mapreduce.Report {
				return []mapreduce.Report{
					{Name: "entrypages", Keys: []string{"url"}, Measures: entryMeasures, Rows: []mapreduce.ReportRow{
						{Account: "blog", Period: mapreduce.PeriodDay, Start: p.Start, Keys: []string{"/a"}, Values: []float64{4, 1, 0.25, avgSeconds(9_001, 4)}}}},
					{Name: "exitpages", Keys: []string{"url"}, Measures: exitMeasures, Rows: []mapreduce.ReportRow{
						{Account: "blog", Period: mapreduce.PeriodDay, Start: p.Start, Keys: []string{"/a"}, Values: []float64{2, 8, 0.25}}}},
				}
			},
			want: []string{
				"replace pv:{blog}:entrypages.bounces:20240801 (1)",
				"replace pv:{blog}:entrypages.duration_ms:20240801 (1)",
				"replace pv:{blog}:entrypages:20240801 (1)",
				"replace pv:{blog}:exitpages.pageviews:20240801 (1)",
				"replace pv:{blog}:exitpages:20240801 (1)",
			},
		},
		{
			name: "(other) and previous rows are members of no measure key",
			plan: oneDay,
			reps: func(p *mapreduce.Plan) []mapreduce.Report {
				other := trafficRow(t, p, "blog", mapreduce.PeriodDay, "2024-08-01T00:00", c, mapreduce.Other, mapreduce.Other)
				other.Other = true
				prev := trafficRow(t, p, "blog", mapreduce.PeriodPrevious, "2024-07-31T00:00", c, "search", "Google")
				return []mapreduce.Report{sources(trafficRow(t, p, "blog", mapreduce.PeriodDay, "2024-08-01T00:00", c, "search", "Google"), other, prev)}
			},
			want: []string{
				"replace pv:{blog}:sources.bounces:20240801 (1)",
				"replace pv:{blog}:sources.duration_ms:20240801 (1)",
				"replace pv:{blog}:sources.visitors:20240801 (1)",
				"replace pv:{blog}:sources.visits:20240801 (1)",
				"replace pv:{blog}:sources:20240801 (1)",
			},
		},
		{
			name: "partial days of keyed reports are skipped once per row, whatever the measures",
			plan: night,
			reps: func(p *mapreduce.Plan) []mapreduce.Report {
				return []mapreduce.Report{sources(
					trafficRow(t, p, "blog", mapreduce.PeriodDay, "2024-08-01T00:00", c, "search", "Google"),
					trafficRow(t, p, "blog", mapreduce.PeriodDay, "2024-08-02T00:00", c, "search", "Google"),
				)}
			},
			skipped: 2,
		},
		{
			name: "visits: a hash per whole hour and day, hours without rows deleted",
			plan: oneDay,
			opt:  redis.Options{Range: true, TTL: 48 * time.Hour},
			hide: ":visits:2024080",
			reps: func(p *mapreduce.Plan) []mapreduce.Report {
				return []mapreduce.Report{visits(
					visitsRow(t, p, "blog", mapreduce.PeriodHour, "2024-08-01T09:00", c),
					visitsRow(t, p, "blog", mapreduce.PeriodHour, "2024-08-01T10:00", traffic{visitors: 1}),
					visitsRow(t, p, "blog", mapreduce.PeriodDay, "2024-08-01T00:00", c),
					visitsRow(t, p, "blog", mapreduce.PeriodMonth, "2024-08-01T00:00", c),
					visitsRow(t, p, "blog", mapreduce.PeriodRange, "2024-08-01T00:00", c),
					visitsRow(t, p, "blog", mapreduce.PeriodPrevious, "2024-07-31T00:00", c),
				)}
			},
			want: []string{
				"22 deletes of :visits:2024080 in blog",
				"replace pv:{blog}:visits:20240801 {visitors=4 visits=5 pageviews=9 bounces=2 duration_ms=61500} ttl=48h0m0s",
				"replace pv:{blog}:visits:20240801-20240801 {visitors=4 visits=5 pageviews=9 bounces=2 duration_ms=61500} ttl=48h0m0s",
				"replace pv:{blog}:visits:2024080109 {visitors=4 visits=5 pageviews=9 bounces=2 duration_ms=61500} ttl=48h0m0s",
				"replace pv:{blog}:visits:2024080110 {visitors=1 visits=0 pageviews=0 bounces=0 duration_ms=0} ttl=48h0m0s",
			},
		},
		{
			name: "visits of a night: partial hours and days skipped and counted, the partial month skipped without a count",
			plan: night,
			opt:  redis.Options{Range: true},
			hide: ":visits:2024080",
			reps: func(p *mapreduce.Plan) []mapreduce.Report {
				return []mapreduce.Report{visits(
					visitsRow(t, p, "blog", mapreduce.PeriodHour, "2024-08-01T18:00", c),
					visitsRow(t, p, "blog", mapreduce.PeriodHour, "2024-08-02T06:00", c),
					visitsRow(t, p, "blog", mapreduce.PeriodDay, "2024-08-01T00:00", c),
					visitsRow(t, p, "blog", mapreduce.PeriodDay, "2024-08-02T00:00", c),
					visitsRow(t, p, "blog", mapreduce.PeriodMonth, "2024-08-01T00:00", c),
					mapreduce.ReportRow{Account: "blog", Period: mapreduce.PeriodRange, Start: p.Start, Values: c.visitsValues()},
				)}
			},
			want: []string{
				"11 deletes of :visits:2024080 in blog", // whole hours 19 to 05
				"replace pv:{blog}:visits:2024080118 {visitors=4 visits=5 pageviews=9 bounces=2 duration_ms=61500}",
				"replace pv:{blog}:visits:202408011800-202408020630 {visitors=4 visits=5 pageviews=9 bounces=2 duration_ms=61500}",
			},
			skipped: 3, // 06:00, both days
		},
		{
			name: "visits of a whole month: the month hash",
			plan: august,
			hide: ":visits:2024",
			reps: func(p *mapreduce.Plan) []mapreduce.Report {
				return []mapreduce.Report{visits(visitsRow(t, p, "blog", mapreduce.PeriodMonth, "2024-08-01T00:00", c))}
			},
			want: []string{
				fmt.Sprintf("%d deletes of :visits:2024 in blog", 31*24+31),
				"replace pv:{blog}:visits:202408 {visitors=4 visits=5 pageviews=9 bounces=2 duration_ms=61500}",
			},
		},
		{
			name: "visits on the fall-back day: 25 hours, the repeated one with its offset",
			plan: fallBack,
			hide: ":visits:2024102",
			reps: func(p *mapreduce.Plan) []mapreduce.Report {
				first, second := p.Calendar.Hours[2], p.Calendar.Hours[3] // 02:00 CEST, 02:00 CET
				return []mapreduce.Report{visits(
					mapreduce.ReportRow{Account: "blog", Period: mapreduce.PeriodHour, Start: first.Start, Values: c.visitsValues()},
					mapreduce.ReportRow{Account: "blog", Period: mapreduce.PeriodHour, Start: second.Start, Values: traffic{visitors: 1, visits: 1, pageviews: 1, bounces: 1}.visitsValues()},
					visitsRow(t, p, "blog", mapreduce.PeriodDay, "2024-10-27T00:00", c),
				)}
			},
			want: []string{
				"23 deletes of :visits:2024102 in blog",
				"replace pv:{blog}:visits:20241027 {visitors=4 visits=5 pageviews=9 bounces=2 duration_ms=61500}",
				"replace pv:{blog}:visits:2024102702 {visitors=4 visits=5 pageviews=9 bounces=2 duration_ms=61500}",
				"replace pv:{blog}:visits:2024102702+0100 {visitors=1 visits=1 pageviews=1 bounces=1 duration_ms=0}",
			},
		},
		{
			name: "visits on the spring-forward day: 23 hours, no 02",
			plan: springForward,
			hide: ":visits:20240331",
			reps: func(p *mapreduce.Plan) []mapreduce.Report {
				return []mapreduce.Report{visits(visitsRow(t, p, "blog", mapreduce.PeriodHour, "2024-03-31T03:00", c))}
			},
			want: []string{
				"23 deletes of :visits:20240331 in blog", // 22 hours and the day
				"replace pv:{blog}:visits:2024033103 {visitors=4 visits=5 pageviews=9 bounces=2 duration_ms=61500}",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kp, err := redis.PlanKeys(tc.reps(tc.plan), tc.plan, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			if got := render(kp, tc.hide); !slices.Equal(got, tc.want) {
				t.Errorf("ops:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if kp.SkippedPartial != tc.skipped {
				t.Errorf("SkippedPartial %d, want %d", kp.SkippedPartial, tc.skipped)
			}
			if all := render(kp, ""); slices.ContainsFunc(all, func(s string) bool {
				return strings.Contains(s, "rate") || strings.Contains(s, "avg_") || strings.Contains(s, "per_visit")
			}) {
				t.Errorf("a rate, an average or a mean is stored:\n%s", strings.Join(all, "\n"))
			}
		})
	}
}

// TestPlanKeysMeasureValues checks the scores of the measure keys and the
// fields of the hashes: counts as they are, the duration sum exactly, in
// the order of the report's measures.
func TestPlanKeysMeasureValues(t *testing.T) {
	p := planOf(t, time.UTC, "2024-08-01T00:00", "2024-08-02T00:00", "blog")
	google := traffic{pageviews: 9, visitors: 4, visits: 7, bounces: 2, durationMs: 1_234_567}
	internal := traffic{pageviews: 3, visitors: 2} // no visit starts here: no rate, no average
	reps := []mapreduce.Report{
		{Name: "sources", Keys: []string{"medium", "source"}, Measures: trafficMeasures, Rows: []mapreduce.ReportRow{
			trafficRow(t, p, "blog", mapreduce.PeriodDay, "2024-08-01T00:00", google, "search", "Google"),
			trafficRow(t, p, "blog", mapreduce.PeriodDay, "2024-08-01T00:00", internal, "internal", "blog"),
		}},
		{Name: "visits", Measures: visitsMeasures, Rows: []mapreduce.ReportRow{
			visitsRow(t, p, "blog", mapreduce.PeriodDay, "2024-08-01T00:00", google),
		}},
	}
	kp, err := redis.PlanKeys(reps, p, redis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ops := opsByKey(kp)
	for name, want := range map[string][]goredis.Z{
		"sources":             {{Score: 9, Member: "search\tGoogle"}, {Score: 3, Member: "internal\tblog"}},
		"sources.visitors":    {{Score: 4, Member: "search\tGoogle"}, {Score: 2, Member: "internal\tblog"}},
		"sources.visits":      {{Score: 7, Member: "search\tGoogle"}, {Score: 0, Member: "internal\tblog"}},
		"sources.bounces":     {{Score: 2, Member: "search\tGoogle"}, {Score: 0, Member: "internal\tblog"}},
		"sources.duration_ms": {{Score: 1_234_567, Member: "search\tGoogle"}, {Score: 0, Member: "internal\tblog"}},
	} {
		o := ops["pv:{blog}:"+name+":20240801"]
		if o == nil || !slices.Equal(o.Members, want) {
			t.Errorf("%s: %+v, want members %v", name, o, want)
		}
	}
	want := []redis.Field{{Name: "visitors", Value: 4}, {Name: "visits", Value: 7}, {Name: "pageviews", Value: 9}, {Name: "bounces", Value: 2}, {Name: "duration_ms", Value: 1_234_567}}
	if o := ops["pv:{blog}:visits:20240801"]; o == nil || !slices.Equal(o.Fields, want) || o.HLL || o.Members != nil {
		t.Errorf("visits hash %+v, want fields %v", o, want)
	}
	if kp.Members != 10 || kp.Fields != 5 || kp.Trimmed != 0 {
		t.Errorf("Members %d, Fields %d, Trimmed %d; want 10, 5, 0", kp.Members, kp.Fields, kp.Trimmed)
	}
}

// TestPlanKeysMeasuresTop: with --redis-top every measure key of a period
// holds the same members, the top ones by the first measure, even where
// another measure would rank them otherwise.
func TestPlanKeysMeasuresTop(t *testing.T) {
	p := planOf(t, time.UTC, "2024-08-01T00:00", "2024-08-03T00:00", "blog")
	var rows []mapreduce.ReportRow
	for d, day := range []string{"2024-08-01T00:00", "2024-08-02T00:00"} {
		for i := range 6 {
			// Page views rise with i, visitors fall: the top by visitors
			// would be the other end.
			c := traffic{pageviews: int64(10 + i + d), visitors: int64(10 - i), visits: int64(5 - i%3), bounces: int64(i % 2), durationMs: int64(1000 * i)}
			rows = append(rows, trafficRow(t, p, "blog", mapreduce.PeriodDay, day, c, "referral", fmt.Sprintf("site%d", i)))
		}
	}
	f := func(top int, want ...string) {
		t.Helper()
		rep := mapreduce.Report{Name: "sources", Keys: []string{"medium", "source"}, Measures: trafficMeasures, Rows: slices.Clone(rows)}
		kp, err := redis.PlanKeys([]mapreduce.Report{rep}, p, redis.Options{Top: top})
		if err != nil {
			t.Fatal(err)
		}
		ops := opsByKey(kp)
		for _, day := range []string{"20240801", "20240802"} {
			for _, name := range []string{"sources", "sources.visitors", "sources.visits", "sources.bounces", "sources.duration_ms"} {
				o := ops["pv:{blog}:"+name+":"+day]
				if o == nil {
					t.Fatalf("top %d: no key %s:%s", top, name, day)
				}
				var got []string
				for _, z := range o.Members {
					got = append(got, strings.TrimPrefix(z.Member.(string), "referral\t"))
				}
				if !slices.Equal(got, want) {
					t.Errorf("top %d: %s:%s members %v, want %v", top, name, day, got, want)
				}
			}
		}
		if n := len(rows) - 2*len(want); kp.Trimmed != 5*n || kp.Members != 5*2*len(want) {
			t.Errorf("top %d: Trimmed %d, Members %d; want %d, %d", top, kp.Trimmed, kp.Members, 5*n, 10*len(want))
		}
	}
	f(0, "site0", "site1", "site2", "site3", "site4", "site5") // as they came
	f(3, "site5", "site4", "site3")
	f(1, "site5")
}

// TestPlanKeysFirstMeasureUnchanged: whatever other measures a report has,
// the key of its first measure gets what it got when reports had one value
// (the same ops as for the report cut down to its first measure), so
// readers of the existing keys see no change.
func TestPlanKeysFirstMeasureUnchanged(t *testing.T) {
	p := planOf(t, time.UTC, "2024-08-01T00:00", "2024-08-04T00:00", "blog", "shop")
	r := rand.New(rand.NewPCG(1, 2))
	var rows []mapreduce.ReportRow
	for _, a := range p.Accounts {
		for d := range p.Calendar.Days {
			for i := range 40 {
				c := traffic{pageviews: int64(1 + r.IntN(50)), visitors: int64(1 + r.IntN(20)), visits: int64(r.IntN(20)), bounces: int64(r.IntN(5)), durationMs: int64(r.IntN(1e6))}
				rows = append(rows, mapreduce.ReportRow{Account: a, Period: mapreduce.PeriodDay, Start: p.Calendar.Days[d].Start, Keys: []string{"m", fmt.Sprint(i)}, Values: c.values()})
			}
		}
	}
	for _, opt := range []redis.Options{{}, {Top: 7, TTL: time.Hour, Range: true}} {
		full := mapreduce.Report{Name: "sources", Keys: []string{"medium", "source"}, Measures: trafficMeasures, Rows: slices.Clone(rows)}
		first := mapreduce.Report{Name: "sources", Keys: []string{"medium", "source"}}
		for _, row := range rows {
			row.Values = row.Values[:1]
			first.Rows = append(first.Rows, row)
		}
		a, err := redis.PlanKeys([]mapreduce.Report{full}, p, opt)
		if err != nil {
			t.Fatal(err)
		}
		b, err := redis.PlanKeys([]mapreduce.Report{first}, p, opt)
		if err != nil {
			t.Fatal(err)
		}
		fullOps, firstOps := opsByKey(a), opsByKey(b)
		for k, o := range firstOps {
			fo := fullOps[k]
			if fo == nil || fo.Kind != o.Kind || fo.TTL != o.TTL || !slices.Equal(fo.Members, o.Members) {
				t.Errorf("%+v: key %s: %+v with all measures, %+v with the first", opt, k, fo, o)
			}
		}
		if len(fullOps) != 5*len(firstOps) {
			t.Errorf("%+v: %d keys with all measures, %d with the first: want 5 times as many", opt, len(fullOps), len(firstOps))
		}
	}
}

// TestAverageSumExact: the sum of visit durations comes back exactly from
// the average the jobs report (ms / n / 1000 seconds), for counts and sums
// far beyond any real day.
func TestAverageSumExact(t *testing.T) {
	p := planOf(t, time.UTC, "2024-08-01T00:00", "2024-08-02T00:00", "blog")
	r := rand.New(rand.NewPCG(3, 4))
	rep := mapreduce.Report{Name: "visits", Measures: visitsMeasures}
	var sums []int64
	for i := range 20_000 {
		n := int64(1 + r.IntN(10_000_000))
		if i%2 == 0 {
			n = int64(1 + r.IntN(30))
		}
		ms := r.Int64N(n * 86_400_000) // up to a day per visit
		if i%5 == 0 {
			ms = r.Int64N(1 << 50)
		}
		sums = append(sums, ms)
		rep.Rows = append(rep.Rows, mapreduce.ReportRow{Account: fmt.Sprint("a", i), Period: mapreduce.PeriodDay, Start: p.Start,
			Values: traffic{visits: n, durationMs: ms}.visitsValues()})
	}
	kp, err := redis.PlanKeys([]mapreduce.Report{rep}, p, redis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	bad, ops := 0, opsByKey(kp)
	for i, want := range sums {
		o := ops[fmt.Sprintf("pv:{a%d}:visits:20240801", i)]
		if got := o.Fields[4]; got.Name != "duration_ms" || got.Value != want {
			if bad++; bad <= 5 {
				t.Errorf("row %d: %+v, want duration_ms %d", i, got, want)
			}
		}
	}
}

func TestPlanKeysMeasureErrors(t *testing.T) {
	p := planOf(t, time.UTC, "2024-08-01T00:00", "2024-08-02T00:00", "blog")
	row := func(keys []string, vals ...float64) mapreduce.ReportRow {
		return mapreduce.ReportRow{Account: "blog", Period: mapreduce.PeriodDay, Start: p.Start, Keys: keys, Values: vals}
	}
	for _, tc := range []struct {
		name string
		rep  mapreduce.Report
		want string
		is   error
	}{
		{"a count that is not a number",
			mapreduce.Report{Name: "urls", Keys: []string{"url"}, Measures: mapreduce.Counts("pageviews", "visitors"), Rows: []mapreduce.ReportRow{row([]string{"/a"}, 3, math.NaN())}},
			`report urls, account blog, 20240801, "/a": visitors is NaN`, redis.ErrMeasure},
		{"an average over nothing the report has",
			mapreduce.Report{Name: "odd", Keys: []string{"k"}, Measures: []mapreduce.Measure{{Name: "pageviews"}, {Name: "avg_visit_duration_s", Kind: mapreduce.Seconds}}},
			"report odd: avg_visit_duration_s is an average over visits or entries", redis.ErrMeasure},
		{"an average of unknown meaning",
			mapreduce.Report{Name: "odd", Keys: []string{"k"}, Measures: []mapreduce.Measure{{Name: "pageviews"}, {Name: "avg_time_on_page_s", Kind: mapreduce.Seconds}}},
			"report odd: measure avg_time_on_page_s", redis.ErrMeasure},
		{"an average with a count, but not a number",
			mapreduce.Report{Name: "visits", Measures: visitsMeasures, Rows: []mapreduce.ReportRow{row(nil, 1, 2, 3, 0, 0, math.Inf(1), 1)}},
			"report visits, account blog, day 20240801: duration_ms is +Inf", redis.ErrMeasure},
		{"two rows of one hash",
			mapreduce.Report{Name: "visits", Measures: visitsMeasures, Rows: []mapreduce.ReportRow{
				row(nil, traffic{}.visitsValues()...), row(nil, traffic{}.visitsValues()...)}},
			"report visits: two rows for key pv:{blog}:visits:20240801", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := redis.PlanKeys([]mapreduce.Report{tc.rep}, p, redis.Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) || tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("PlanKeys = %v, want %q", err, tc.want)
			}
		})
	}
}
