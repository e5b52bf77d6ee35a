package redis_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/mapreduce/hll"
	"github.com/pvjobs/pvjobs/reports/redis"
	"github.com/pvjobs/pvjobs/reports/redis/redistest"
)

// startCluster starts a Redis Cluster of three masters (private
// redis-servers) and returns the address of its first node.
func startCluster(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	var nodes []*redistest.Server
	for i := 0; i < 3; i++ {
		s := redistest.Start(t, redistest.Options{Args: []string{"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"}})
		c := s.Client()
		lo, hi := i*16384/3, (i+1)*16384/3-1
		if err := c.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", lo, hi).Err(); err != nil {
			t.Fatalf("CLUSTER ADDSLOTSRANGE: %v", err)
		}
		nodes = append(nodes, s)
	}
	first := nodes[0].Client()
	for _, n := range nodes[1:] {
		host, port, _ := strings.Cut(n.Addr, ":")
		if err := first.ClusterMeet(ctx, host, port).Err(); err != nil {
			t.Fatalf("CLUSTER MEET: %v", err)
		}
	}
	for _, n := range nodes {
		c := n.Client()
		redistest.WaitFor(t, 20*time.Second, "the cluster to be ok at "+n.Addr, func() bool {
			info, err := c.ClusterInfo(ctx).Result()
			return err == nil && strings.Contains(info, "cluster_state:ok") && strings.Contains(info, "cluster_known_nodes:3")
		})
	}
	return nodes[0].Addr
}

// TestCluster writes three accounts, whose slots are on different nodes, to
// a Redis Cluster through a cluster:// URL, re-runs, and counts.
func TestCluster(t *testing.T) {
	addr := startCluster(t)
	tg, err := redis.ParseURL("redis://" + addr + "/0?cluster=true&prefix=pvc&batch=100")
	if err != nil {
		t.Fatal(err)
	}
	if tg.Cluster == nil || tg.Prefix != "pvc" || tg.Batch != 100 {
		t.Fatalf("ParseURL: %+v", tg)
	}
	cc := tg.NewClient()
	defer cc.Close()
	ctx := context.Background()
	accounts := []string{"blog", "shop", "news"}
	slots := map[int64]bool{}
	for _, a := range accounts {
		slots[cc.ClusterKeySlot(ctx, redis.Keys{Prefix: "pvc"}.Key(a, "uv", "202408")).Val()] = true
	}
	if len(slots) < 2 {
		t.Logf("the accounts share a slot: the test proves less")
	}
	p := plan(t, time.UTC, "2024-08-01", 2, accounts...)
	var reps []mapreduce.Report
	uv := mapreduce.Report{Name: "uniques"}
	urls := mapreduce.Report{Name: "urls", Keys: []string{"url"}}
	want := map[string]uint64{}
	for i, a := range accounts {
		hours := map[int]*hll.Sketch{}
		union := hll.New()
		for h := 0; h < len(p.Calendar.Hours); h += 3 {
			hours[h] = sketchOf(fmt.Sprintf("%s-%d-", a, h), 100*(i+1))
			union.Merge(hours[h])
		}
		want[a] = union.Count()
		uv.Rows = append(uv.Rows, uvRows(p, a, hours)...)
		urls.Rows = append(urls.Rows, countRows(p, a, 300, uint64(i))...)
	}
	reps = append(reps, uv, urls)
	opt := redis.Options{Prefix: tg.Prefix, Batch: tg.Batch, Range: true}
	masters := map[string]bool{}
	for _, a := range accounts {
		m, err := cc.(*goredis.ClusterClient).MasterForKey(ctx, redis.Keys{Prefix: "pvc"}.Key(a, "x", "y"))
		if err != nil {
			t.Fatal(err)
		}
		masters[m.Options().Addr] = true
	}
	if probes := redis.ProbeAccounts(ctx, cc, redis.Keys{Prefix: "pvc"}, accounts); len(probes) != len(masters) {
		t.Errorf("Check probes %v, want one account on each of the %d masters", probes, len(masters))
	}
	if err := redis.Check(ctx, cc, redis.Keys{Prefix: "pvc"}, accounts...); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	st := write(t, cc, opt, reps, p)
	t.Logf("stats %+v", st)
	dump := func() map[string]string {
		out := map[string]string{}
		var mu sync.Mutex // ForEachMaster calls in parallel
		err := cc.(*goredis.ClusterClient).ForEachMaster(ctx, func(ctx context.Context, n *goredis.Client) error {
			for _, k := range scan(t, n, "pvc:*") {
				v := n.Dump(ctx, k).Val()
				mu.Lock()
				out[k] = v
				mu.Unlock()
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	first := dump()
	for _, a := range accounts {
		n, keys, err := redis.Count(ctx, cc, redis.Keys{Prefix: "pvc"}, a, p.Start, p.End, time.UTC, false)
		if err != nil {
			t.Fatalf("Count %s: %v", a, err)
		}
		if n != want[a] || len(keys) != 2 {
			t.Errorf("Count %s = %d over %v, want %d over 2 days", a, n, keys, want[a])
		}
		if z := cc.ZCard(ctx, redis.Keys{Prefix: "pvc"}.Key(a, "urls", "20240801")).Val(); z != 300 {
			t.Errorf("%s urls: %d members, want 300", a, z)
		}
	}
	write(t, cc, opt, reps, p)
	sameDumps(t, "re-run on the cluster", dump(), first)
}
