package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/pvjobs/pvjobs/jobs/sources/spam"
	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/collector"
	"github.com/pvjobs/pvjobs/reports/redis"
)

// TestCollectLiveRules: the live counters count as the nightly jobs do — the
// URL normalised, the visitor key of uniques, bots and referrer spam left
// out — in the batch writer's keys.
func TestCollectLiveRules(t *testing.T) {
	addr := os.Getenv("PVJOBS_REDIS_ADDR")
	if addr == "" {
		if os.Getenv("CI") != "" || os.Getenv("PVJOBS_TEST_DISALLOW_SKIP") != "" {
			t.Fatal("PVJOBS_REDIS_ADDR is empty and CI or PVJOBS_TEST_DISALLOW_SKIP is set")
		}
		t.Skip("PVJOBS_REDIS_ADDR is empty: no Redis to test against")
	}
	ctx := context.Background()
	c := goredis.NewClient(&goredis.Options{Addr: addr, DisableIdentity: true})
	defer c.Close()
	prefix := fmt.Sprintf("pvlivecli%d-%x", os.Getpid(), rand.Uint32())
	defer func() {
		if keys, _ := c.Keys(ctx, prefix+":*").Result(); len(keys) > 0 {
			c.Del(ctx, keys...)
		}
	}()
	list, err := spam.Embedded().With([]string{"spam.example"})
	if err != nil {
		t.Fatal(err)
	}
	lc := newLiveCounters(redis.NewLive(c, redis.LiveOptions{Prefix: prefix}), false, true, list)
	g, _ := collector.NewUUIDGen()
	at := time.Date(2024, 8, 1, 10, 30, 0, 0, time.UTC)
	const chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
	view := func(url, ip, ua, ref, vid string) collector.PageView {
		return collector.PageView{Account: "blog", URL: url, IP: ip, UserAgent: ua, Referrer: ref, VisitorID: vid, TS: g.Next(at)}
	}
	views := []collector.PageView{
		view("https://Blog.Example.com:443/a?utm_source=x#top", "192.0.2.1", chrome, "", ""),
		view("https://blog.example.com/a", "192.0.2.1", chrome, "https://www.google.com/", ""),
		view("https://blog.example.com/a", "192.0.2.2", chrome, "", "visitor-7"),
		view("https://blog.example.com/a", "192.0.2.3", "Googlebot/2.1 (+http://www.google.com/bot.html)", "", ""),
		view("https://blog.example.com/a", "192.0.2.4", chrome, "https://www.spam.example/offer", ""),
	}
	if err := lc.Add(ctx, views); err != nil {
		t.Fatal(err)
	}
	if got := c.ZRangeWithScores(ctx, prefix+":{blog}:urls:20240801", 0, -1).Val(); len(got) != 1 || got[0].Member != "https://blog.example.com/a" || got[0].Score != 3 {
		t.Errorf("urls sorted set %v, want https://blog.example.com/a 3 (bot and spam left out)", got)
	}
	// Visitors: 192.0.2.1 with Chrome, and visitor-7.
	n, _, err := redis.Count(ctx, c, redis.Keys{Prefix: prefix}, "blog", at.Truncate(time.Hour), at.Truncate(time.Hour).Add(time.Hour), time.UTC, false)
	if err != nil || n != 2 {
		t.Errorf("visitors of the hour: %d (%v), want 2", n, err)
	}
	// The element added is the uniques job's visitor key.
	c2 := c.PFCount(ctx, prefix+":{blog}:uv:2024080110").Val()
	key := prefix + ":check"
	pv := mapreduce.PageView{IP: []byte("192.0.2.1"), UserAgent: []byte(chrome)}
	c.PFAdd(ctx, key, string(mapreduce.VisitorKey(nil, &pv)), "visitor-7")
	c.PFMerge(ctx, key, key, prefix+":{blog}:uv:2024080110")
	if c.PFCount(ctx, key).Val() != c2 {
		t.Errorf("the live visitors are not the uniques job's visitor keys")
	}
}
