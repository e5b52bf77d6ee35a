package redis_test

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/reports/redis"
)

// The tests in this file write reports with several measures to the real
// Redis at $PVJOBS_REDIS_ADDR and read every key back.

// measureRun is a run's reports with several measures, and what Redis must
// hold after writing them: every sorted set (member -> score) and every
// hash (field, value, ... in order), computed here from the counters the
// rows were made of, not by the planner.
type measureRun struct {
	reps   []mapreduce.Report
	zsets  map[string]map[string]float64
	hashes map[string][]string
	// skipped counts the rows of hours and days the run covers in part.
	skipped int
}

// measureReports returns the reports sources, urls, entrypages, exitpages
// (perDay rows per account and day, an (other) row, the range) and visits
// (hours, days, months, the range) of the accounts over p, from seed,
// with the keys they make under prefix (with the range keys when rng).
// skipDay, when not empty, is a day ("20241027") of which blog has no rows.
func measureReports(p *mapreduce.Plan, prefix string, perDay int, seed uint64, rng bool, skipDay string) *measureRun {
	r := rand.New(rand.NewPCG(seed, 11))
	keys := redis.Keys{Prefix: prefix}
	m := &measureRun{zsets: map[string]map[string]float64{}, hashes: map[string][]string{}}
	rangePart := redis.TimePart(mapreduce.PeriodRange, p.Start.In(p.Loc), p.End.In(p.Loc))
	counters := func() traffic {
		c := traffic{pageviews: int64(1 + r.IntN(500))}
		c.visitors = int64(1 + r.IntN(int(c.pageviews)))
		c.visits = int64(r.IntN(int(c.pageviews) + 1))
		if c.visits > 0 {
			c.bounces = int64(r.IntN(int(c.visits) + 1))
			c.durationMs = r.Int64N(c.visits * 1_800_000)
		}
		return c
	}
	add := func(c *traffic, o traffic) {
		c.pageviews += o.pageviews
		c.visitors += o.visitors
		c.visits += o.visits
		c.bounces += o.bounces
		c.durationMs += o.durationMs
	}
	zadd := func(key, member string, score int64) {
		if m.zsets[key] == nil {
			m.zsets[key] = map[string]float64{}
		}
		m.zsets[key][member] = float64(score)
	}
	sources := mapreduce.Report{Name: "sources", Keys: []string{"medium", "source"}, Measures: trafficMeasures}
	urls := mapreduce.Report{Name: "urls", Keys: []string{"url"}, Labels: []string{"title"}, Measures: mapreduce.Counts("pageviews", "visitors")}
	entries := mapreduce.Report{Name: "entrypages", Keys: []string{"url"}, Measures: entryMeasures}
	exits := mapreduce.Report{Name: "exitpages", Keys: []string{"url"}, Measures: exitMeasures}
	visits := mapreduce.Report{Name: "visits", Measures: visitsMeasures}
	// keyed adds the rows of one member of a period to the keyed reports,
	// and their keys when written.
	keyed := func(a string, per mapreduce.Period, start time.Time, part string, i int, c traffic, written bool) {
		src := []string{"referral", "site" + strconv.Itoa(i) + ".example"}
		url := "/page/" + strconv.Itoa(i)
		sources.Rows = append(sources.Rows, mapreduce.ReportRow{Account: a, Period: per, Start: start, Keys: src, Values: c.values()})
		urls.Rows = append(urls.Rows, mapreduce.ReportRow{Account: a, Period: per, Start: start, Keys: []string{url}, Labels: []string{"Page " + strconv.Itoa(i)},
			Values: []float64{float64(c.pageviews), float64(c.visitors)}})
		entries.Rows = append(entries.Rows, mapreduce.ReportRow{Account: a, Period: per, Start: start, Keys: []string{url},
			Values: []float64{float64(c.visits), float64(c.bounces), ratio(c.bounces, c.visits), avgSeconds(c.durationMs, c.visits)}})
		exits.Rows = append(exits.Rows, mapreduce.ReportRow{Account: a, Period: per, Start: start, Keys: []string{url},
			Values: []float64{float64(c.bounces), float64(c.pageviews), ratio(c.bounces, c.pageviews)}})
		if !written {
			return
		}
		member := strings.Join(src, "\t")
		zadd(keys.Key(a, "sources", part), member, c.pageviews)
		zadd(keys.Key(a, "sources.visitors", part), member, c.visitors)
		zadd(keys.Key(a, "sources.visits", part), member, c.visits)
		zadd(keys.Key(a, "sources.bounces", part), member, c.bounces)
		zadd(keys.Key(a, "sources.duration_ms", part), member, c.durationMs)
		zadd(keys.Key(a, "urls", part), url, c.pageviews)
		zadd(keys.Key(a, "urls.visitors", part), url, c.visitors)
		zadd(keys.Key(a, "entrypages", part), url, c.visits)
		zadd(keys.Key(a, "entrypages.bounces", part), url, c.bounces)
		zadd(keys.Key(a, "entrypages.duration_ms", part), url, c.durationMs)
		zadd(keys.Key(a, "exitpages", part), url, c.bounces)
		zadd(keys.Key(a, "exitpages.pageviews", part), url, c.pageviews)
	}
	other := func(a string, per mapreduce.Period, start time.Time, c traffic, whole bool) {
		if !whole {
			m.skipped += 4 // partial rows are counted before (other) rows are left out
		}
		for _, rep := range []*mapreduce.Report{&sources, &urls, &entries, &exits} {
			row := rep.Rows[len(rep.Rows)-1] // the shape of the report's rows
			row.Keys = make([]string, len(rep.Keys))
			for i := range row.Keys {
				row.Keys[i] = mapreduce.Other
			}
			row.Other, row.Values = true, slices.Clone(row.Values)
			row.Values[0] = float64(c.pageviews)
			rep.Rows = append(rep.Rows, row)
		}
	}
	hash := func(a string, per mapreduce.Period, span *mapreduce.Span, part string, c traffic) {
		whole := per == mapreduce.PeriodRange || span.Covers(p.Start, p.End)
		visits.Rows = append(visits.Rows, mapreduce.ReportRow{Account: a, Period: per, Start: span.Start, Values: c.visitsValues(), Partial: !whole})
		switch {
		case whole && (per != mapreduce.PeriodRange || rng):
			m.hashes[keys.Key(a, "visits", part)] = []string{
				"visitors", strconv.FormatInt(c.visitors, 10), "visits", strconv.FormatInt(c.visits, 10),
				"pageviews", strconv.FormatInt(c.pageviews, 10), "bounces", strconv.FormatInt(c.bounces, 10),
				"duration_ms", strconv.FormatInt(c.durationMs, 10)}
		case !whole && per != mapreduce.PeriodMonth:
			m.skipped++
		}
	}
	cal := p.Calendar
	for _, a := range p.Accounts {
		total := make([]traffic, perDay)
		var days []traffic
		for d := range cal.Days {
			day := &cal.Days[d]
			part := redis.TimePart(mapreduce.PeriodDay, day.Start, time.Time{})
			var dayVisits traffic
			if a == "blog" && part == skipDay {
				days = append(days, dayVisits)
				continue
			}
			whole := day.Covers(p.Start, p.End)
			for i := range perDay {
				c := counters()
				keyed(a, mapreduce.PeriodDay, day.Start, part, i, c, whole)
				add(&total[i], c)
				if !whole {
					m.skipped += 4 // a row of each keyed report
				}
			}
			other(a, mapreduce.PeriodDay, day.Start, counters(), whole)
			for h := range cal.Hours {
				hour := &cal.Hours[h]
				if hour.Parent != d || !hour.End.After(p.Start) || !hour.Start.Before(p.End) || r.IntN(3) == 0 {
					continue
				}
				c := counters()
				hash(a, mapreduce.PeriodHour, hour, redis.TimePart(mapreduce.PeriodHour, hour.Start, time.Time{}), c)
				add(&dayVisits, c)
			}
			hash(a, mapreduce.PeriodDay, day, part, dayVisits)
			days = append(days, dayVisits)
		}
		var all traffic
		for mi := range cal.Months {
			var month traffic
			for d := range cal.Days {
				if cal.Days[d].Parent == mi {
					add(&month, days[d])
				}
			}
			hash(a, mapreduce.PeriodMonth, &cal.Months[mi], redis.TimePart(mapreduce.PeriodMonth, cal.Months[mi].Start, time.Time{}), month)
			add(&all, month)
		}
		start := p.Start.In(p.Loc)
		for i, c := range total {
			keyed(a, mapreduce.PeriodRange, start, rangePart, i, c, rng)
		}
		hash(a, mapreduce.PeriodRange, &mapreduce.Span{Start: start, End: p.End.In(p.Loc)}, rangePart, all)
	}
	m.reps = []mapreduce.Report{sources, urls, entries, exits, visits}
	return m
}

// checkKeys compares every key of prefix but the uniques' with what m says
// Redis must hold, and with no TTL or a TTL of at most ttl.
func checkKeys(t *testing.T, c *goredis.Client, prefix string, m *measureRun, ttl time.Duration) {
	t.Helper()
	ctx := context.Background()
	got := scan(t, c, prefix+":*")
	want := slices.Sorted(func(yield func(string) bool) {
		for k := range m.zsets {
			yield(k)
		}
		for k := range m.hashes {
			yield(k)
		}
	})
	if !slices.Equal(got, want) {
		extra, missing := 0, 0
		for _, k := range got {
			if !slices.Contains(want, k) {
				if extra++; extra <= 5 {
					t.Errorf("key %s should not be there", k)
				}
			}
		}
		for _, k := range want {
			if !slices.Contains(got, k) {
				if missing++; missing <= 5 {
					t.Errorf("key %s is missing", k)
				}
			}
		}
		t.Fatalf("%d keys, want %d: %d too many, %d missing", len(got), len(want), extra, missing)
	}
	bad := 0
	for k, members := range m.zsets {
		zs, err := c.ZRangeWithScores(ctx, k, 0, -1).Result()
		if err != nil {
			t.Fatalf("ZRANGE %s: %v", k, err)
		}
		have := map[string]float64{}
		for _, z := range zs {
			have[z.Member.(string)] = z.Score
		}
		if !maps.Equal(have, members) {
			if bad++; bad <= 5 {
				t.Errorf("%s: %d members, want %d; or a score differs", k, len(have), len(members))
			}
		}
	}
	for k, fields := range m.hashes {
		v := hashFields(t, c, k)
		if !slices.Equal(v, fields) {
			if bad++; bad <= 10 {
				t.Errorf("HGETALL %s = %q, want %q", k, v, fields)
			}
		}
	}
	for _, k := range got {
		d := c.PTTL(ctx, k).Val()
		if ttl == 0 && d != -1 || ttl > 0 && (d <= 0 || d > ttl) {
			t.Errorf("%s: TTL %v, want %v", k, d, ttl)
			break
		}
	}
}

// TestSinkMeasures writes reports with several measures across the
// Europe/Berlin fall-back, with the range: every sorted set and hash holds
// what the rows say (exact duration sums), and nothing else is written; a
// re-run changes no byte; a run without a day deletes every key of that
// day; the averages and rates a reader computes from the keys, over one
// day or by ZUNIONSTORE over several, are the reports'.
func TestSinkMeasures(t *testing.T) {
	c, prefix := testRedis(t)
	ctx := context.Background()
	berlin := mustLoad(t, "Europe/Berlin")
	p := plan(t, berlin, "2024-10-26", 3, "blog", "shop")
	m := measureReports(p, prefix, 30, 1, true, "")
	opt := redis.Options{Prefix: prefix, Range: true, TTL: time.Hour, Batch: 7, Pipeline: 9}
	st := write(t, c, opt, m.reps, p)
	checkKeys(t, c, prefix, m, time.Hour)
	if st.Fields == 0 || st.Fields%5 != 0 || st.Members == 0 || st.SkippedPartial != 0 {
		t.Errorf("stats %+v", st)
	}
	keys := redis.Keys{Prefix: prefix}
	if _, ok := m.hashes[keys.Key("blog", "visits", "2024102702+0100")]; !ok {
		t.Errorf("the generated run has no visits in the repeated hour: change the seed")
	}

	// A reader's averages and rates: from one day's keys, and over the
	// three days with ZUNIONSTORE, they are the rows'.
	dest := prefix + ":sum"
	for _, per := range []struct {
		period mapreduce.Period
		parts  []string
	}{{mapreduce.PeriodDay, []string{"20241027"}}, {mapreduce.PeriodRange, []string{"20241026", "20241027", "20241028"}}} {
		sum := func(measure string) map[string]float64 {
			var srcs []string
			for _, part := range per.parts {
				srcs = append(srcs, keys.Key("shop", redis.MeasureName("sources", measure), part))
			}
			if err := c.ZUnionStore(ctx, dest, &goredis.ZStore{Keys: srcs}).Err(); err != nil {
				t.Fatal(err)
			}
			out := map[string]float64{}
			for _, z := range c.ZRangeWithScores(ctx, dest, 0, -1).Val() {
				out[z.Member.(string)] = z.Score
			}
			return out
		}
		visits, bounces, duration := sum("visits"), sum("bounces"), sum("duration_ms")
		n := 0
		for _, r := range m.reps[0].Rows {
			if r.Account != "shop" || r.Period != per.period || r.Other || per.period == mapreduce.PeriodDay && redis.TimePart(r.Period, r.Start, time.Time{}) != "20241027" {
				continue
			}
			member := r.Member()
			rate, avg := trafficMeasures[4], trafficMeasures[5]
			v := visits[member]
			gotRate := rate.Format(bounces[member] / v)
			gotAvg := avg.Format(duration[member] / v / 1000)
			if v == 0 {
				gotRate, gotAvg = "", ""
			}
			if gotRate != rate.Format(r.Values[4]) || gotAvg != avg.Format(r.Values[5]) {
				t.Errorf("%s %q: bounce rate %s, average %s from the keys; the row says %s, %s", per.period, member, gotRate, gotAvg, rate.Format(r.Values[4]), avg.Format(r.Values[5]))
			}
			n++
		}
		if n != 30 {
			t.Errorf("%s: %d rows compared, want 30", per.period, n)
		}
	}
	c.Del(ctx, dest)

	// Again: byte-identical.
	first := dumpAll(t, c, prefix)
	write(t, c, opt, m.reps, p)
	sameDumps(t, "re-run", dumpAll(t, c, prefix), first)

	// Without blog's 27th and without the range: every key of the day
	// goes, its hours' hashes too; the range keys stay.
	fewer := measureReports(p, prefix, 30, 1, false, "20241027")
	opt.Range = false
	write(t, c, opt, fewer.reps, p)
	for k, v := range m.zsets {
		if strings.HasSuffix(k, ":20241026-20241028") { // the range keys stay as they were
			fewer.zsets[k] = v
		}
	}
	for k, v := range m.hashes {
		if strings.HasSuffix(k, ":20241026-20241028") {
			fewer.hashes[k] = v
		}
	}
	checkKeys(t, c, prefix, fewer, time.Hour)
	if n := len(scan(t, c, prefix+":{blog}:*:20241027*")); n != 0 {
		t.Errorf("%d keys of blog's 27th left", n)
	}
}

// TestSinkMeasuresPartial runs from 18:00 to 06:30: no sorted set and no
// hash of a partial day or hour is written, whole hours are; the rows left
// out are counted.
func TestSinkMeasuresPartial(t *testing.T) {
	c, prefix := testRedis(t)
	start := time.Date(2024, 8, 1, 18, 0, 0, 0, time.UTC)
	p, err := mapreduce.NewPlan(mapreduce.PlanSpec{Accounts: []string{"blog"}, Start: start, End: start.Add(12*time.Hour + 30*time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	m := measureReports(p, prefix, 10, 2, false, "")
	st := write(t, c, redis.Options{Prefix: prefix}, m.reps, p)
	checkKeys(t, c, prefix, m, 0)
	if len(m.zsets) != 0 || len(m.hashes) == 0 {
		t.Errorf("%d sorted sets, %d hashes: want none and the whole hours'", len(m.zsets), len(m.hashes))
	}
	if st.SkippedPartial != m.skipped || m.skipped < 2*4*10 {
		t.Errorf("%d rows skipped, want %d", st.SkippedPartial, m.skipped)
	}
}

// TestSinkMeasuresTop writes with --redis-top: every measure key of a
// period holds the members of the first measure's, its top ones.
func TestSinkMeasuresTop(t *testing.T) {
	c, prefix := testRedis(t)
	ctx := context.Background()
	p := plan(t, time.UTC, "2024-08-01", 2, "blog")
	m := measureReports(p, prefix, 30, 3, true, "")
	write(t, c, redis.Options{Prefix: prefix, Top: 5, Range: true}, m.reps, p)
	keys := redis.Keys{Prefix: prefix}
	for _, part := range []string{"20240801", "20240802", "20240801-20240802"} {
		for report, measures := range map[string][]string{
			"sources":    {"visitors", "visits", "bounces", "duration_ms"},
			"urls":       {"visitors"},
			"entrypages": {"bounces", "duration_ms"},
			"exitpages":  {"pageviews"},
		} {
			top := c.ZRangeArgs(ctx, goredis.ZRangeArgs{Key: keys.Key("blog", report, part), Start: 0, Stop: -1, Rev: true}).Val()
			if len(top) != 5 {
				t.Fatalf("%s %s: %d members, want 5", report, part, len(top))
			}
			for _, measure := range measures {
				k := keys.Key("blog", redis.MeasureName(report, measure), part)
				got := c.ZRange(ctx, k, 0, -1).Val()
				if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(top))) {
					t.Errorf("%s: members %q, want the top of %s: %q", k, got, report, top)
				}
				for _, member := range got {
					if want := m.zsets[k][member]; c.ZScore(ctx, k, member).Val() != want {
						t.Errorf("%s %q: score %v, want %v", k, member, c.ZScore(ctx, k, member).Val(), want)
					}
				}
			}
		}
	}
}

// hashFields returns the fields and values of the hash k, field, value,
// ..., in the order Redis keeps them: HKEYS, then HMGET (HGETALL's reply is
// a map in RESP3, which go-redis speaks, and a Go map has no order).
func hashFields(t testing.TB, c *goredis.Client, k string) []string {
	t.Helper()
	ctx := context.Background()
	fields, err := c.HKeys(ctx, k).Result()
	if err != nil {
		t.Fatalf("HKEYS %s: %v", k, err)
	}
	vals, err := c.HMGet(ctx, k, fields...).Result()
	if err != nil {
		t.Fatalf("HMGET %s: %v", k, err)
	}
	out := make([]string, 0, 2*len(fields))
	for i, f := range fields {
		v, _ := vals[i].(string)
		out = append(out, f, v)
	}
	return out
}

// hashSnapshot renders a hash for the golden file: "field\tvalue\n" in the
// order Redis keeps the fields.
func hashSnapshot(t testing.TB, c *goredis.Client, k string) (string, int) {
	t.Helper()
	v := hashFields(t, c, k)
	var b strings.Builder
	for i := 0; i+1 < len(v); i += 2 {
		fmt.Fprintf(&b, "%s\t%s\n", v[i], v[i+1])
	}
	return b.String(), len(v) / 2
}
