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
// and the month.
func monthOfReports(b *testing.B, p *mapreduce.Plan) []mapreduce.Report {
	r := rand.New(rand.NewPCG(5, 6))
	counting := func(name string, keys []string, perDay int, member func(i int) []string) mapreduce.Report {
		rep := mapreduce.Report{Name: name, Keys: keys, Measures: mapreduce.Counts("pageviews")}
		for d := range p.Calendar.Days {
			for i := 0; i < perDay; i++ {
				rep.Rows = append(rep.Rows, mapreduce.ReportRow{Account: "blog", Period: mapreduce.PeriodDay,
					Start: p.Calendar.Days[d].Start, Keys: member(i), Values: []float64{float64(int64(1 + r.IntN(10_000)/(1+i)))}})
			}
		}
		return rep
	}
	reps := []mapreduce.Report{
		counting("urls", []string{"url"}, 5000, func(i int) []string {
			return []string{"https://blog.example.com/2024/08/some-article-" + strconv.Itoa(i) + "/"}
		}),
		counting("searchterms", []string{"engine", "term"}, 1000, func(i int) []string {
			return []string{"google", "how to write redis keys " + strconv.Itoa(i)}
		}),
		counting("geo", []string{"country", "region", "city"}, 1000, func(i int) []string {
			return []string{"DE", "DE-BE", "City " + strconv.Itoa(i)}
		}),
		counting("sources", []string{"medium", "source"}, 300, func(i int) []string {
			return []string{"referral", "site" + strconv.Itoa(i) + ".example.org"}
		}),
		counting("devices", []string{"class", "browser", "os"}, 100, func(i int) []string {
			return []string{"mobile", "Browser " + strconv.Itoa(i), "Android"}
		}),
	}
	hours := map[int]*hll.Sketch{}
	for h := range p.Calendar.Hours {
		hours[h] = sketchOf(fmt.Sprintf("h%d-", h%48), 200+r.IntN(2800)) // visitors come back
	}
	reps = append(reps, mapreduce.Report{Name: "uniques", Rows: uvRows(p, "blog", hours)})
	return reps
}

// BenchmarkWriteMonth writes a month of reports of one account to
// $PVJOBS_REDIS_ADDR: "first" into empty keys, "rerun" over the same keys.
//
//	PVJOBS_REDIS_ADDR=$(testdata/redis/redis.sh addr) go test -run '^$' -bench WriteMonth -benchtime 3x ./reports/redis/
func BenchmarkWriteMonth(b *testing.B) {
	c, prefix := testRedis(b)
	p := plan(b, time.UTC, "2024-08-01", 31, "blog") // the whole month
	reps := monthOfReports(b, p)
	var st redis.Stats
	report := func(b *testing.B) {
		b.ReportMetric(float64(st.Members), "members")
		b.ReportMetric(float64(st.Replaced+st.Merged+st.Deleted), "keys")
		b.ReportMetric(float64(st.RoundTrips), "round_trips")
	}
	b.Run("first", func(b *testing.B) {
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
		pre := prefix + ":rerun"
		write(b, c, redis.Options{Prefix: pre}, reps, p)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			st = write(b, c, redis.Options{Prefix: pre}, reps, p)
		}
		report(b)
	})
}
