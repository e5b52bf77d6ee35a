package main

import (
	"context"
	"os"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/pvjobs/pvjobs/jobs/sources/spam"
	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/collector"
	"github.com/pvjobs/pvjobs/readers/pageview"
	"github.com/pvjobs/pvjobs/readers/synth"
	"github.com/pvjobs/pvjobs/reports/redis"
	"github.com/pvjobs/pvjobs/reports/redis/redistest"
)

// BenchmarkLiveCounters is the collector's live Redis counters on synth's
// realistic page views, in groups of 256 as the collector hands them over
// (readers/collector's liveGroup),
// against the redis-server of PVJOBS_REDIS_ADDR (make bench starts one;
// skipped without): the cost per page view in the collector's process.
func BenchmarkLiveCounters(b *testing.B) {
	addr := os.Getenv(redistest.EnvAddr)
	if addr == "" {
		b.Skip(redistest.EnvAddr + "=host:port runs it")
	}
	g, err := synth.New(synth.Config{Accounts: []string{"blog", "shop"}, From: mapreduce.Date{Year: 2024, Month: 8, Day: 1},
		To: mapreduce.Date{Year: 2024, Month: 8, Day: 1}, RowsPerDay: 20000, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	dec := pageview.NewDecoder()
	var views []collector.PageView
	for _, key := range g.Shards() {
		err := g.Each(key, func(ts [16]byte, value []byte) error {
			var pv mapreduce.PageView
			if err := dec.Decode(value, &pv); err != nil {
				return err
			}
			views = append(views, collector.PageView{Account: key.Account, URL: string(pv.URL), Title: string(pv.Title),
				IP: string(pv.IP), Referrer: string(pv.Referrer), UserAgent: string(pv.UserAgent), Language: string(pv.Language), TS: ts})
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	client := goredis.NewClient(&goredis.Options{Addr: addr, DB: 9})
	defer client.Close()
	ctx := context.Background()
	client.FlushDB(ctx)
	l := newLiveCounters(redis.NewLive(client, redis.LiveOptions{Prefix: "bench", Minutes: true}), false, true, spam.Embedded())
	const group = 256 // readers/collector's liveGroup
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		at := i * group % (len(views) - group)
		if err := l.Add(ctx, views[at:at+group]); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*group), "ns/pageview")
	client.FlushDB(ctx)
}
