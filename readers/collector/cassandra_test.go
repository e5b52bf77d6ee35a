package collector_test

import (
	"context"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/cassandra"
	"github.com/pvjobs/pvjobs/readers/cassandra/cassandratest"
	"github.com/pvjobs/pvjobs/readers/collector"
)

// readCassandra returns the page views of today's shard of account, by URL,
// with how often each URL is stored.
func readCassandra(t testing.TB, tbl *cassandra.Table, account string) map[string]int {
	t.Helper()
	day := time.Now().UTC()
	seen := map[string]int{}
	for _, d := range []time.Time{day.AddDate(0, 0, -1), day} {
		key := mapreduce.ShardKey{Day: time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC), Account: account}
		err := tbl.ReadPartition(context.Background(), key, func(r *mapreduce.Row) error {
			seen[decode(t, r.Value)["url"]]++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return seen
}

// TestCassandraOutage writes through the real Cassandra, reached through a
// TCP proxy that the test cuts (a stand-in for stopping the shared server,
// which other tests use) and restores: every page view answered 204 is in
// the table exactly once afterwards. The load test (make collect-load)
// stops and starts a Cassandra of its own instead.
func TestCassandraOutage(t *testing.T) {
	ks := cassandratest.KeyspaceFor(t) // its own: go test -count=2 passes
	proxy, err := cassandratest.NewProxy(ks.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	cfg := cassandra.NewConfig(ks.Name, proxy.Addr())
	cfg.NoDiscovery = true // the proxy is the only way in
	cfg.Retry = cassandra.Retry{Budget: 50 * time.Millisecond, Wait: 20 * time.Millisecond, MaxWait: 50 * time.Millisecond}
	cfg.Timeout, cfg.ConnectTimeout = 2*time.Second, 2*time.Second
	tbl, err := cassandra.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Close()
	connect := func(ctx context.Context) (collector.Store, error) { return cassandra.Open(ctx, cfg) }
	c := newCollector(t, collector.Config{Store: tbl, Connect: connect, WriteTimeout: 2 * time.Second})
	account := "blog"
	ok := send(t, c, "up", 300)
	waitFor(t, "the first page views written", func() bool { return c.Metrics().Written() == 300 })
	proxy.Cut()
	for k, v := range send(t, c, "down", 300) {
		ok[k] = v
	}
	waitFor(t, "the outage noticed", func() bool { return c.Metrics().Spooled() > 0 })
	if err := proxy.Restore(); err != nil {
		t.Fatal(err)
	}
	for k, v := range send(t, c, "back", 300) {
		ok[k] = v
	}
	if len(ok) != 900 {
		t.Fatalf("%d of 900 page views answered 204", len(ok))
	}
	waitFor(t, "the spool replayed and emptied", func() bool { segs, _, _ := c.SpoolStats(); return segs == 0 })
	if err := c.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	direct, err := cassandra.Open(context.Background(), ks.Config())
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	seen := readCassandra(t, direct, account)
	for u := range ok {
		if seen[u] != 1 {
			t.Errorf("%s stored %d times, want once", u, seen[u])
		}
	}
	if len(seen) != len(ok) {
		t.Errorf("%d URLs in Cassandra, %d answered 204", len(seen), len(ok))
	}
	t.Logf("written from the queue %d, replayed %d, spooled %d", c.Metrics().Written(), c.Metrics().Replayed(), c.Metrics().Spooled())
}
