package cassandra

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/pvjobs/pvjobs/mapreduce"
	"golang.org/x/sync/errgroup"
)

const murmur3 = "org.apache.cassandra.dht.Murmur3Partitioner"

// Shards lists the partitions whose keys are shard keys of a UTC day that
// overlaps [start, end) — every such partition when start is zero — sorted by
// day, then account. Partition keys that are not shard keys are skipped.
//
// It scans the partition keys (SELECT DISTINCT) of the whole table, split into
// token ranges read Config.Concurrency at a time; each range is retried as a
// whole on transient errors.
func (t *Table) Shards(ctx context.Context, start, end time.Time) ([]mapreduce.ShardKey, error) {
	var partitioner string
	if err := t.session.Query(`SELECT partitioner FROM system.local`).Consistency(gocql.One).
		ScanContext(ctx, &partitioner); err != nil {
		return nil, fmt.Errorf("reading the partitioner: %w", err)
	}
	type tokenRange struct{ lo, hi int64 }
	var ranges []tokenRange
	if partitioner == murmur3 {
		// Murmur3 tokens are int64; no key has the minimum token, so the
		// ranges (lo, hi] cover the ring.
		n := 4 * t.cfg.Concurrency
		step := math.MaxUint64 / uint64(n)
		for i := 0; i < n; i++ {
			lo := int64(uint64(1<<63) + uint64(i)*step)
			hi := int64(uint64(1<<63) + uint64(i+1)*step)
			if i == n-1 {
				hi = math.MaxInt64
			}
			ranges = append(ranges, tokenRange{lo, hi})
		}
	}
	var (
		mu   sync.Mutex
		keys []mapreduce.ShardKey
	)
	keep := func(found []string) {
		mu.Lock()
		defer mu.Unlock()
		for _, s := range found {
			k, err := mapreduce.ParseShardKey(s)
			if err != nil {
				continue
			}
			if !start.IsZero() && (!k.End().After(start) || !k.Start().Before(end)) {
				continue
			}
			keys = append(keys, k)
		}
	}
	scan := func(ctx context.Context, op string, stmt string, args ...any) error {
		var found []string
		err := t.cfg.retry(ctx, op, noProgress, func() error {
			found = found[:0]
			iter := t.session.Query(stmt, args...).IterContext(ctx)
			var s string
			for iter.Scan(&s) {
				found = append(found, s)
			}
			return iter.Close()
		})
		if err != nil {
			return fmt.Errorf("listing partition keys of %s.%s (%s): %w", t.cfg.Keyspace, t.cfg.Layout.Table, op, err)
		}
		keep(found)
		return nil
	}
	if ranges == nil {
		if err := scan(ctx, "all tokens", t.qDistinct); err != nil {
			return nil, err
		}
	} else {
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(t.cfg.Concurrency)
		for _, r := range ranges {
			g.Go(func() error {
				return scan(gctx, fmt.Sprintf("tokens (%d,%d]", r.lo, r.hi), t.qDistinctRange, r.lo, r.hi)
			})
		}
		if err := g.Wait(); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(keys, func(a, b mapreduce.ShardKey) int {
		if c := a.Day.Compare(b.Day); c != 0 {
			return c
		}
		return strings.Compare(a.Account, b.Account)
	})
	return slices.CompactFunc(keys, func(a, b mapreduce.ShardKey) bool { return a.Day.Equal(b.Day) && a.Account == b.Account }), nil
}

// Discover lists the accounts that have partitions on UTC days overlapping
// [start, end) (every partition when start is zero), and the first and last
// of those days.
func (t *Table) Discover(ctx context.Context, start, end time.Time) (accounts []string, first, last mapreduce.Date, err error) {
	keys, err := t.Shards(ctx, start, end)
	if err != nil {
		return nil, first, last, err
	}
	seen := map[string]bool{}
	for _, k := range keys {
		if !seen[k.Account] {
			seen[k.Account] = true
			accounts = append(accounts, k.Account)
		}
	}
	slices.Sort(accounts)
	if len(keys) > 0 {
		first, last = mapreduce.DateOf(keys[0].Day), mapreduce.DateOf(keys[len(keys)-1].Day)
	}
	return accounts, first, last, nil
}
