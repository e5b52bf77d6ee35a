package cassandra_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/cassandra"
	"github.com/pvjobs/pvjobs/readers/cassandra/cassandratest"
)

type cell struct {
	ts    [16]byte
	value []byte
}

// cassandraCompare orders timeuuids as Cassandra does: by time, then by the
// low 8 bytes as signed bytes.
func cassandraCompare(a, b [16]byte) int {
	if ta, tb := mapreduce.UUIDTime(a), mapreduce.UUIDTime(b); ta != tb {
		if ta < tb {
			return -1
		}
		return 1
	}
	for i := 8; i < 16; i++ {
		if x, y := int8(a[i]), int8(b[i]); x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

// feed returns a read function for WriteShard that hands over cells.
func feed(cells []cell) func(fn func(*mapreduce.Row) error) error {
	return func(fn func(*mapreduce.Row) error) error {
		var r mapreduce.Row
		for i, c := range cells {
			r.TS, r.Value, r.Index = c.ts, c.value, int64(i)
			if err := fn(&r); err != nil {
				return err
			}
		}
		return nil
	}
}

func write(tb testing.TB, tbl *cassandra.Table, key mapreduce.ShardKey, cells []cell) {
	tb.Helper()
	n, err := tbl.WriteShard(context.Background(), key, feed(cells))
	if err != nil {
		tb.Fatal(err)
	}
	if n != int64(len(cells)) {
		tb.Fatalf("WriteShard wrote %d rows, want %d", n, len(cells))
	}
}

// collect reads item and returns copies of its rows.
func collect(tb testing.TB, tbl *cassandra.Table, item mapreduce.WorkItem) []cell {
	tb.Helper()
	var got []cell
	err := tbl.Read(context.Background(), item, func(r *mapreduce.Row) error {
		got = append(got, cell{r.TS, bytes.Clone(r.Value)})
		return nil
	})
	if err != nil {
		tb.Fatalf("Read %s: %v", item, err)
	}
	return got
}

func day(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

func wholeDay(account, d string) mapreduce.WorkItem {
	k := mapreduce.ShardKey{Day: day(d), Account: account}
	return mapreduce.WorkItem{Shard: k, Start: k.Start(), End: k.End()}
}

// dayCells makes n rows at random times of the day plus rows on and next to
// every hour boundary, including one equal to minTimeuuid(boundary).
func dayCells(d time.Time, n int, seed uint64) []cell {
	r := rand.New(rand.NewPCG(seed, 1))
	var cells []cell
	add := func(t time.Time, cs uint16, node uint64) {
		cells = append(cells, cell{mapreduce.TimeUUID(t, cs, node), fmt.Appendf(nil, "pv %s %d", t.Format(time.RFC3339Nano), len(cells))})
	}
	for h := 0; h < 24; h++ {
		b := d.Add(time.Duration(h) * time.Hour)
		add(b, 0x0080, 0x808080808080) // == MinTimeUUID(b): first row of hour h
		add(b, uint16(r.Uint32()), r.Uint64())
		add(b.Add(-100*time.Nanosecond), 0x3fff, 0xffffffffffff) // last tick of hour h-1 (or of the day before)
	}
	add(d.Add(24*time.Hour-100*time.Nanosecond), 0x3fff, 0x7f7f7f7f7f7f) // last tick of the day
	for i := 0; i < n; i++ {
		add(d.Add(time.Duration(r.Int64N(int64(24*time.Hour)))), uint16(r.Uint32()), r.Uint64())
	}
	slices.SortFunc(cells, func(a, b cell) int { return cassandraCompare(a.ts, b.ts) })
	return cells
}

func TestReadSlicesPartitionExactly(t *testing.T) {
	tbl := open(t, nil)
	d1, d2 := day("2024-08-01"), day("2024-08-02")
	all := map[[16]byte][]byte{}
	for _, d := range []time.Time{d1, d2} {
		key := mapreduce.ShardKey{Day: d, Account: "slices"}
		// A row at the last tick before the day belongs to the day before:
		// written here, into this day's partition, it must be read by no slice.
		cells := dayCells(d, 300, uint64(d.Unix()))
		write(t, tbl, key, cells)
		for _, c := range cells {
			if mapreduce.UUIDTime(c.ts) >= d.UnixNano() {
				all[c.ts] = c.value
			}
		}
	}
	for _, n := range []int{24, 7, 1} {
		t.Run(fmt.Sprintf("%d slices", n), func(t *testing.T) {
			plan, err := mapreduce.NewPlan(mapreduce.PlanSpec{Accounts: []string{"slices"}, Start: d1, End: d2.AddDate(0, 0, 1), Slices: n})
			if err != nil {
				t.Fatal(err)
			}
			seen := map[[16]byte]bool{}
			for _, it := range plan.Items(tbl.Split()) {
				got := collect(t, tbl, it)
				lo, hi := mapreduce.MinTimeUUID(it.Start), mapreduce.MinTimeUUID(it.End)
				for i, c := range got {
					if cassandraCompare(c.ts, lo) < 0 || cassandraCompare(c.ts, hi) >= 0 {
						t.Errorf("%s: row at %s is outside the slice", it, mapreduce.UnixTime(mapreduce.UUIDTime(c.ts)).Format(time.RFC3339Nano))
					}
					if i > 0 && cassandraCompare(got[i-1].ts, c.ts) >= 0 {
						t.Errorf("%s: rows %d and %d out of timeuuid order", it, i-1, i)
					}
					if seen[c.ts] {
						t.Errorf("%s: row %x read twice", it, c.ts)
					}
					seen[c.ts] = true
					if want, ok := all[c.ts]; !ok || !bytes.Equal(want, c.value) {
						t.Errorf("%s: row %x has value %q, want %q", it, c.ts, c.value, want)
					}
				}
			}
			if len(seen) != len(all) {
				t.Errorf("read %d rows in all slices, want %d", len(seen), len(all))
			}
		})
	}
}

func TestReadMissingPartitionHasNoRows(t *testing.T) {
	tbl := open(t, nil)
	if got := collect(t, tbl, wholeDay("nobody", "2024-08-01")); len(got) != 0 {
		t.Errorf("read %d rows from a missing partition", len(got))
	}
}

func TestReadReturnsCallbackErrorUnchanged(t *testing.T) {
	tbl := open(t, nil)
	write(t, tbl, wholeDay("cberr", "2024-08-01").Shard, dayCells(day("2024-08-01"), 10, 3))
	stop := errors.New("stop here")
	calls := 0
	err := tbl.Read(context.Background(), wholeDay("cberr", "2024-08-01"), func(*mapreduce.Row) error {
		calls++
		return stop
	})
	if err != stop || calls != 1 {
		t.Errorf("Read = %v after %d calls, want the callback's error after 1", err, calls)
	}
}

func TestReadPartitionReadsEveryRow(t *testing.T) {
	tbl := open(t, nil)
	key := wholeDay("partition", "2024-08-01").Shard
	cells := dayCells(key.Day, 50, 4)
	// A row far outside the partition's day is still part of the partition.
	cells = append(cells, cell{mapreduce.TimeUUID(day("2030-01-01"), 1, 1), []byte("future")})
	write(t, tbl, key, cells)
	var got []cell
	err := tbl.ReadPartition(context.Background(), key, func(r *mapreduce.Row) error {
		got = append(got, cell{r.TS, bytes.Clone(r.Value)})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(cells) {
		t.Fatalf("ReadPartition read %d rows, want %d", len(got), len(cells))
	}
	for i := range got {
		if got[i].ts != cells[i].ts || !bytes.Equal(got[i].value, cells[i].value) {
			t.Fatalf("row %d differs", i)
		}
	}
}

func TestWriteShardIsIdempotent(t *testing.T) {
	tbl := open(t, nil)
	item := wholeDay("idem", "2024-08-01")
	cells := dayCells(item.Shard.Day, 200, 5)
	write(t, tbl, item.Shard, cells)
	write(t, tbl, item.Shard, cells)
	if got := collect(t, tbl, item); len(got) != len(cells)-1 { // -1: the row of the day before
		t.Errorf("after writing twice: %d rows, want %d", len(got), len(cells)-1)
	}
}

func TestShardsAndDiscover(t *testing.T) {
	ks := keyspace(t)
	cfg := ks.Config()
	cfg.Layout = customLayout // a table of its own: other tests' partitions don't show
	tbl := open(t, cfg)
	for _, k := range []string{"20240731.zeta", "20240801.alpha", "20240801.beta", "20240802.alpha", "20240805.gamma"} {
		sk, _ := mapreduce.ParseShardKey(k)
		write(t, tbl, sk, dayCells(sk.Day, 1, 6)[:1])
	}
	s, err := ks.Session()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Query(`INSERT INTO pv_custom (rowkey, ts, body) VALUES ('not a shard key', now(), 0x00)`).Exec(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	keys, err := tbl.Shards(ctx, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, k := range keys {
		if strings.HasPrefix(k.Account, "py_") {
			continue // TestRowsWrittenByThePythonDriver's rows, if it ran first
		}
		names = append(names, k.String())
	}
	if got, want := strings.Join(names, " "), "20240731.zeta 20240801.alpha 20240801.beta 20240802.alpha 20240805.gamma"; got != want {
		t.Errorf("Shards = %s, want %s", got, want)
	}
	// Berlin's 2024-08-01 overlaps UTC 2024-07-31 and 2024-08-01.
	berlin, _ := time.LoadLocation("Europe/Berlin")
	start := time.Date(2024, 8, 1, 0, 0, 0, 0, berlin)
	accounts, first, last, err := tbl.Discover(ctx, start, start.AddDate(0, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(accounts, first, last); got != "[alpha beta zeta] 2024-07-31 2024-08-01" {
		t.Errorf("Discover = %s", got)
	}
}

func TestOpenChecksTheTable(t *testing.T) {
	ks := keyspace(t)
	tests := []struct {
		name   string
		layout cassandra.Layout
		want   error
		msg    string
	}{
		{"no such table", cassandra.Layout{Table: "nope", Key: "key", TS: "column1", Value: "value"}, cassandra.ErrNoTable, "pvjobs schema --apply"},
		{"wrong column names", cassandra.Layout{Table: customLayout.Table, Key: "key", TS: "column1", Value: "value"}, cassandra.ErrLayout, `no column "key"`},
		{"key is not the partition key", cassandra.Layout{Table: customLayout.Table, Key: "ts", TS: "rowkey", Value: "body"}, cassandra.ErrLayout, "partition key"},
		{"value is not a blob", cassandra.Layout{Table: customLayout.Table, Key: "rowkey", TS: "ts", Value: "ts"}, cassandra.ErrLayout, "clustering"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := ks.Config()
			cfg.Layout = tt.layout
			tbl, err := cassandra.Open(context.Background(), cfg)
			if err == nil {
				tbl.Close()
				t.Fatal("Open = nil error")
			}
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Open = %v, want %v mentioning %q", err, tt.want, tt.msg)
			}
		})
	}
	cfg := ks.Config()
	cfg.Keyspace = "no_such_keyspace"
	if _, err := cassandra.Open(context.Background(), cfg); !errors.Is(err, cassandra.ErrNoTable) {
		t.Errorf("Open in a missing keyspace = %v, want ErrNoTable", err)
	}
}

func TestCustomLayout(t *testing.T) {
	cfg := keyspace(t).Config()
	cfg.Layout = customLayout
	tbl := open(t, cfg)
	item := wholeDay("custom", "2024-08-03")
	cells := dayCells(item.Shard.Day, 20, 7)[1:] // [1:]: drop the row of the day before
	write(t, tbl, item.Shard, cells)
	got := collect(t, tbl, item)
	if len(got) != len(cells) {
		t.Fatalf("read %d rows, want %d", len(got), len(cells))
	}
	for i := range got {
		if got[i].ts != cells[i].ts || !bytes.Equal(got[i].value, cells[i].value) {
			t.Fatalf("row %d differs", i)
		}
	}
}

// proxied opens the test table through a proxy that the test can cut.
func proxied(t *testing.T, mod func(*cassandra.Config)) (*cassandra.Table, *cassandratest.Proxy) {
	t.Helper()
	ks := keyspace(t)
	p, err := cassandratest.NewProxy(ks.Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	cfg := ks.Config()
	cfg.Hosts = []string{p.Addr()}
	mod(cfg)
	return open(t, cfg), p
}

func TestReadResumesAfterConnectionLoss(t *testing.T) {
	item := wholeDay("resume", "2024-08-01")
	cells := dayCells(item.Shard.Day, 4000, 8)[1:]
	write(t, open(t, nil), item.Shard, cells)

	var mu sync.Mutex
	var events []cassandra.RetryEvent
	tbl, p := proxied(t, func(c *cassandra.Config) {
		c.PageSize = 100
		c.Retry = cassandra.Retry{Attempts: 20, Wait: 100 * time.Millisecond, MaxWait: time.Second}
		c.OnRetry = func(e cassandra.RetryEvent) {
			mu.Lock()
			events = append(events, e)
			mu.Unlock()
		}
	})
	// Cut the connection in the middle of the slice, a few pages in, and
	// let the "node" come back a moment later.
	p.CutAfter(int64(len(cells)/3) * 60)
	restored := make(chan error, 1)
	go func() {
		for !p.IsCut() {
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(300 * time.Millisecond)
		restored <- p.Restore()
	}()
	start := time.Now()
	got := collect(t, tbl, item)
	if err := <-restored; err != nil {
		t.Fatal(err)
	}
	t.Logf("read %d rows in %s with %d retries", len(got), time.Since(start).Round(time.Millisecond), len(events))
	if len(events) == 0 {
		t.Fatal("no retry happened: the proxy was not cut mid-read")
	}
	if events[0].Rows == 0 || events[0].Rows >= int64(len(cells)) {
		t.Errorf("first retry after %d rows, want it in the middle of the slice (0 < rows < %d)", events[0].Rows, len(cells))
	}
	if len(got) != len(cells) {
		t.Fatalf("read %d rows, want %d (duplicates or losses across the retry)", len(got), len(cells))
	}
	for i := range got {
		if got[i].ts != cells[i].ts || !bytes.Equal(got[i].value, cells[i].value) {
			t.Fatalf("row %d differs after resuming", i)
		}
	}
}

func TestReadFailsAfterRetries(t *testing.T) {
	item := wholeDay("giveup", "2024-08-01")
	write(t, open(t, nil), item.Shard, dayCells(item.Shard.Day, 100, 9))
	retries := 0
	tbl, p := proxied(t, func(c *cassandra.Config) {
		c.Retry = cassandra.Retry{Attempts: 4, Wait: 20 * time.Millisecond, MaxWait: 50 * time.Millisecond}
		c.OnRetry = func(cassandra.RetryEvent) { retries++ }
	})
	p.Cut()
	err := tbl.Read(context.Background(), item, func(*mapreduce.Row) error { return nil })
	if err == nil {
		t.Fatal("Read through a cut proxy succeeded")
	}
	if retries != 3 || !strings.Contains(err.Error(), "giving up after 4 attempts") {
		t.Errorf("Read = %v after %d retries, want giving up after 4 attempts (3 retries)", err, retries)
	}
}

// TestReadDoesNotAllocatePerRow checks the per-row path: rows are scanned into
// reused buffers, so allocations come per query and per page, not per row.
func TestReadDoesNotAllocatePerRow(t *testing.T) {
	item := wholeDay("allocs", "2024-08-01")
	cells := dayCells(item.Shard.Day, 5000, 10)[1:]
	write(t, open(t, nil), item.Shard, cells)
	// The same rows in 2 and in 6 pages: the difference is the cost of 4
	// pages, what is left the cost of the query; neither grows with rows.
	measure := func(pageSize int) float64 {
		cfg := keyspace(t).Config()
		cfg.PageSize = pageSize
		tbl := open(t, cfg)
		read := func() {
			if err := tbl.Read(context.Background(), item, func(*mapreduce.Row) error { return nil }); err != nil {
				t.Fatal(err)
			}
		}
		read() // prepare the statement
		return testing.AllocsPerRun(5, read)
	}
	two, six := measure(len(cells)/2+1), measure(len(cells)/6+1)
	perPage := (six - two) / 4
	perQuery := two - 2*perPage
	t.Logf("%d rows: %.0f allocations in 2 pages, %.0f in 6: %.0f per page, %.0f per query", len(cells), two, six, perPage, perQuery)
	if two > 200 || perPage > 100 {
		t.Errorf("%.0f allocations to read %d rows in 2 pages: the per-row path allocates", two, len(cells))
	}
}

// TestHostSelectionOptions reads with each routing option: they change which
// node coordinates a query, never what it returns.
func TestHostSelectionOptions(t *testing.T) {
	item := wholeDay("routing", "2024-08-01")
	cells := dayCells(item.Shard.Day, 30, 12)[1:]
	write(t, open(t, nil), item.Shard, cells)
	tests := []struct {
		name string
		set  map[string]string
	}{
		{"token aware, DC aware", map[string]string{"dc": "datacenter1"}},
		{"round robin", map[string]string{"token-aware": "false"}},
		{"unknown local DC falls back to remote nodes", map[string]string{"dc": "elsewhere"}},
		{"no discovery", map[string]string{"discover": "false"}},
		{"quorum", map[string]string{"consistency": "QUORUM"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := keyspace(t).Config()
			for k, v := range tt.set {
				if err := cfg.Set(k, v); err != nil {
					t.Fatal(err)
				}
			}
			if got := collect(t, open(t, cfg), item); len(got) != len(cells) {
				t.Errorf("read %d rows, want %d", len(got), len(cells))
			}
		})
	}
}
