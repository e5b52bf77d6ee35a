package redis_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/mapreduce/hll"
	"github.com/pvjobs/pvjobs/reports/redis"
)

// monthOfReports returns a realistic month of reports for one account: per
// day 5000 URLs, 1000 search terms, 1000 places, 300 sources, 100 device
// classes; unique visitors in 720 hours (200 to 3000 visitors each), 30 days
// and the month. With measures the reports have the measures the jobs give
// them (urls: page views and visitors; the others traffic), with the same
// page views, and the visits report's hours, days and month come too;
// without, page views only, as before reports had several measures.
func monthOfReports(b *testing.B, p *mapreduce.Plan, measures bool) []mapreduce.Report {
	r := rand.New(rand.NewPCG(5, 6))
	r2 := rand.New(rand.NewPCG(7, 8)) // the other measures: the same page views either way
	other := func(pv int64) traffic {
		c := traffic{pageviews: pv, visitors: 1 + r2.Int64N(pv), visits: r2.Int64N(pv + 1)}
		if c.visits > 0 {
			c.bounces = r2.Int64N(c.visits + 1)
			c.durationMs = r2.Int64N(c.visits * 600_000)
		}
		return c
	}
	counting := func(name string, keys []string, perDay int, ms []mapreduce.Measure, member func(i int) []string) mapreduce.Report {
		rep := mapreduce.Report{Name: name, Keys: keys, Measures: mapreduce.Counts("pageviews")}
		if measures {
			rep.Measures = ms
		}
		for d := range p.Calendar.Days {
			for i := 0; i < perDay; i++ {
				pv := int64(1 + r.IntN(10_000)/(1+i))
				vals := []float64{float64(pv)}
				if measures {
					vals = other(pv).values()[:len(ms)]
				}
				rep.Rows = append(rep.Rows, mapreduce.ReportRow{Account: "blog", Period: mapreduce.PeriodDay,
					Start: p.Calendar.Days[d].Start, Keys: member(i), Values: vals})
			}
		}
		return rep
	}
	reps := []mapreduce.Report{
		counting("urls", []string{"url"}, 5000, mapreduce.Counts("pageviews", "visitors"), func(i int) []string {
			return []string{"https://blog.example.com/2024/08/some-article-" + strconv.Itoa(i) + "/"}
		}),
		counting("searchterms", []string{"engine", "term"}, 1000, trafficMeasures, func(i int) []string {
			return []string{"google", "how to write redis keys " + strconv.Itoa(i)}
		}),
		counting("geo", []string{"country", "region", "city"}, 1000, trafficMeasures, func(i int) []string {
			return []string{"DE", "DE-BE", "City " + strconv.Itoa(i)}
		}),
		counting("sources", []string{"medium", "source"}, 300, trafficMeasures, func(i int) []string {
			return []string{"referral", "site" + strconv.Itoa(i) + ".example.org"}
		}),
		counting("devices", []string{"class", "browser", "os"}, 100, trafficMeasures, func(i int) []string {
			return []string{"mobile", "Browser " + strconv.Itoa(i), "Android"}
		}),
	}
	hours := map[int]*hll.Sketch{}
	for h := range p.Calendar.Hours {
		hours[h] = sketchOf(fmt.Sprintf("h%d-", h%48), 200+r.IntN(2800)) // visitors come back
	}
	reps = append(reps, mapreduce.Report{Name: "uniques", Rows: uvRows(p, "blog", hours)})
	if measures {
		visits := mapreduce.Report{Name: "visits", Measures: visitsMeasures}
		for _, row := range reps[len(reps)-1].Rows {
			c := other(int64(row.Values[0]) * 3)
			c.visitors = int64(row.Values[0])
			visits.Rows = append(visits.Rows, mapreduce.ReportRow{Account: row.Account, Period: row.Period, Start: row.Start,
				Partial: row.Partial, Values: c.visitsValues()})
		}
		reps = append(reps, visits)
	}
	return reps
}

// BenchmarkWriteMonth writes a month of reports of one account, page views
// only, to $PVJOBS_REDIS_ADDR: "first" into empty keys, "rerun" over the
// same keys.
//
//	PVJOBS_REDIS_ADDR=$(testdata/redis/redis.sh addr) go test -run '^$' -bench WriteMonth -benchtime 3x ./reports/redis/
func BenchmarkWriteMonth(b *testing.B) {
	p := plan(b, time.UTC, "2024-08-01", 31, "blog") // the whole month
	benchWrite(b, monthOfReports(b, p, false), p)
}

// BenchmarkWriteMonthMeasures is BenchmarkWriteMonth with the measures the
// jobs give the reports, and the visits report: the sorted sets of every
// count and the visits hashes.
func BenchmarkWriteMonthMeasures(b *testing.B) {
	p := plan(b, time.UTC, "2024-08-01", 31, "blog")
	benchWrite(b, monthOfReports(b, p, true), p)
}

// benchWrite writes reps over p, "first" into empty keys, "rerun" over the
// same keys, and reports the members, keys, round trips and commands of a
// write, and the memory the keys take in Redis (MEMORY USAGE, after the
// re-runs).
func benchWrite(b *testing.B, reps []mapreduce.Report, p *mapreduce.Plan) {
	c, prefix := testRedis(b)
	var st redis.Stats
	report := func(b *testing.B) {
		b.ReportMetric(float64(st.Members), "members")
		b.ReportMetric(float64(st.Replaced+st.Merged+st.Deleted), "keys")
		b.ReportMetric(float64(st.RoundTrips), "round_trips")
		b.ReportMetric(float64(st.Commands), "commands")
	}
	b.Run("first", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			pre := fmt.Sprintf("%s:%d", prefix, i)
			st = write(b, c, redis.Options{Prefix: pre}, reps, p)
			b.StopTimer()
			if keys := scan(b, c, pre+":*"); len(keys) > 0 {
				c.Del(context.Background(), keys...)
			}
			b.StartTimer()
		}
		report(b)
	})
	b.Run("rerun", func(b *testing.B) {
		b.ReportAllocs()
		pre := prefix + ":rerun"
		write(b, c, redis.Options{Prefix: pre}, reps, p)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			st = write(b, c, redis.Options{Prefix: pre}, reps, p)
		}
		b.StopTimer()
		report(b)
		var bytes int64
		for _, k := range scan(b, c, pre+":*") {
			bytes += c.MemoryUsage(context.Background(), k, 0).Val()
		}
		b.ReportMetric(float64(bytes)/1e6, "redis_MB")
	})
}
