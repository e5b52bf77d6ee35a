package cassandra_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
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
	t.Parallel()
	tbl := open(t, cassandratest.KeyspaceFor(t).Config())
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
	t.Parallel()
	tbl := open(t, cassandratest.KeyspaceFor(t).Config())
	if got := collect(t, tbl, wholeDay("nobody", "2024-08-01")); len(got) != 0 {
		t.Errorf("read %d rows from a missing partition", len(got))
	}
}

func TestReadReturnsCallbackErrorUnchanged(t *testing.T) {
	t.Parallel()
	tbl := open(t, cassandratest.KeyspaceFor(t).Config())
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
	t.Parallel()
	tbl := open(t, cassandratest.KeyspaceFor(t).Config())
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
	t.Parallel()
	tbl := open(t, cassandratest.KeyspaceFor(t).Config())
	item := wholeDay("idem", "2024-08-01")
	cells := dayCells(item.Shard.Day, 200, 5)
	write(t, tbl, item.Shard, cells)
	write(t, tbl, item.Shard, cells)
	if got := collect(t, tbl, item); len(got) != len(cells)-1 { // -1: the row of the day before
		t.Errorf("after writing twice: %d rows, want %d", len(got), len(cells)-1)
	}
}

func TestShardsAndDiscover(t *testing.T) {
	t.Parallel()
	ks := cassandratest.KeyspaceFor(t, customLayout)
	cfg := ks.Config()
	cfg.Layout = customLayout
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
	t.Parallel()
	ks := cassandratest.KeyspaceFor(t, customLayout)
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
	t.Parallel()
	cfg := cassandratest.KeyspaceFor(t, customLayout).Config()
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

// proxied opens the table of ks through a proxy that the test can cut.
func proxied(t *testing.T, ks *cassandratest.Keyspace, mod func(*cassandra.Config)) (*cassandra.Table, *cassandratest.Proxy) {
	t.Helper()
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

// retryLog collects retry events and signals the first.
type retryLog struct {
	mu     sync.Mutex
	events []cassandra.RetryEvent
	first  chan struct{}
}

func newRetryLog() *retryLog { return &retryLog{first: make(chan struct{})} }

func (l *retryLog) add(e cassandra.RetryEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
	if len(l.events) == 1 {
		close(l.first)
	}
}

func (l *retryLog) all() []cassandra.RetryEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.events)
}

// restoreOnRetry restores p once the reader has retried, that is once it has
// seen the outage; it returns Restore's error.
func restoreOnRetry(p *cassandratest.Proxy, l *retryLog) <-chan error {
	restored := make(chan error, 1)
	go func() {
		<-l.first
		restored <- p.Restore()
	}()
	return restored
}

func TestReadResumesAfterConnectionLoss(t *testing.T) {
	t.Parallel()
	ks := cassandratest.KeyspaceFor(t)
	item := wholeDay("resume", "2024-08-01")
	cells := dayCells(item.Shard.Day, 4000, 8)[1:]
	write(t, open(t, ks.Config()), item.Shard, cells)

	retries := newRetryLog()
	tbl, p := proxied(t, ks, func(c *cassandra.Config) {
		c.PageSize = 100
		c.Retry = cassandra.Retry{Budget: time.Minute, Wait: 100 * time.Millisecond, MaxWait: time.Second}
		c.OnRetry = retries.add
	})
	// Cut the connection in the middle of the slice, a few pages in, and let
	// the "node" come back once the reader has noticed.
	p.CutAfter(int64(len(cells)/3) * 60)
	restored := restoreOnRetry(p, retries)
	start := time.Now()
	got := collect(t, tbl, item)
	events := retries.all()
	t.Logf("read %d rows in %s with %d retries", len(got), time.Since(start).Round(time.Millisecond), len(events))
	if len(events) == 0 {
		t.Fatal("no retry happened: the proxy was not cut mid-read")
	}
	if err := <-restored; err != nil {
		t.Fatal(err)
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

func TestReadGivesUpWhenTheBudgetIsSpent(t *testing.T) {
	t.Parallel()
	ks := cassandratest.KeyspaceFor(t)
	item := wholeDay("giveup", "2024-08-01")
	write(t, open(t, ks.Config()), item.Shard, dayCells(item.Shard.Day, 100, 9))
	retries := newRetryLog()
	const budget = 400 * time.Millisecond
	tbl, p := proxied(t, ks, func(c *cassandra.Config) {
		c.Retry = cassandra.Retry{Budget: budget, Wait: 20 * time.Millisecond, MaxWait: 50 * time.Millisecond}
		c.OnRetry = retries.add
	})
	p.Cut()
	err := tbl.Read(context.Background(), item, func(*mapreduce.Row) error { return nil })
	if err == nil {
		t.Fatal("Read through a cut proxy succeeded")
	}
	events := retries.all()
	want := regexp.MustCompile(`^giving up after (\d+) attempts in (\S+) \(retry budget 400ms\): `)
	m := want.FindStringSubmatch(err.Error())
	if m == nil {
		t.Fatalf("Read = %v, want %s", err, want)
	}
	if n, _ := strconv.Atoi(m[1]); n != len(events)+1 || n < 3 {
		t.Errorf("%s attempts and %d retries: want one more attempt than retries, and several", m[1], len(events))
	}
	if d, err := time.ParseDuration(m[2]); err != nil || d < budget {
		t.Errorf("gave up after %s, before the budget of %s", m[2], budget)
	}
	for i, e := range events {
		if e.Attempt != i+1 || e.Budget != budget || e.Outage+e.Wait > budget || (i > 0 && e.Outage < events[i-1].Outage) {
			t.Errorf("retry %d: attempt %d, outage %s + wait %s of budget %s", i, e.Attempt, e.Outage, e.Wait, e.Budget)
		}
	}
}

// TestOpenWaitsForTheNode opens a table while the node refuses connections,
// as a run started during a restart does: Open retries within the budget and
// succeeds once the node is back; with the node gone for good it gives up
// when the budget is spent. A node that answers but refuses the session is
// not retried (TestTLSOptions).
func TestOpenWaitsForTheNode(t *testing.T) {
	t.Parallel()
	ks := cassandratest.KeyspaceFor(t)
	p, err := cassandratest.NewProxy(ks.Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	p.Cut()

	retries := newRetryLog()
	cfg := ks.Config()
	cfg.Hosts = []string{p.Addr()}
	cfg.Retry = cassandra.Retry{Budget: time.Minute, Wait: 50 * time.Millisecond, MaxWait: 200 * time.Millisecond}
	cfg.OnRetry = retries.add
	restored := restoreOnRetry(p, retries)
	tbl := open(t, cfg)
	if err := <-restored; err != nil {
		t.Fatal(err)
	}
	events := retries.all()
	if len(events) == 0 || !strings.HasPrefix(events[0].Op, "connecting to cassandra://") {
		t.Fatalf("retries %+v, want connection attempts", events)
	}
	if got := collect(t, tbl, wholeDay("nobody", "2024-08-01")); len(got) != 0 {
		t.Errorf("read %d rows from a missing partition", len(got))
	}

	p.Cut()
	cfg.Retry.Budget = 300 * time.Millisecond
	cfg.OnRetry = nil
	_, err = cassandra.Open(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "connecting to cassandra://"+p.Addr()+": giving up after") {
		t.Errorf("Open with the node gone = %v, want giving up after the budget", err)
	}
}

// TestCredentialsWithoutAuthentication: the test node runs without
// authentication, so credentials given are never asked for; Open warns once,
// naming the node and never the password.
func TestCredentialsWithoutAuthentication(t *testing.T) {
	t.Parallel()
	ks := cassandratest.KeyspaceFor(t)
	for _, tt := range []struct {
		name, user, password string
		warn                 bool
	}{
		{"credentials", "reader", "s3cret-pw", true},
		{"no credentials", "", "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var buf syncBuffer
			cfg := ks.Config()
			cfg.Username, cfg.Password = tt.user, tt.password
			cfg.Logger = slog.New(slog.NewTextHandler(&buf, nil))
			open(t, cfg)
			log := buf.String()
			if n := strings.Count(log, "did not ask for credentials"); n != map[bool]int{true: 1, false: 0}[tt.warn] {
				t.Errorf("%d warnings, want %v:\n%s", n, tt.warn, log)
			}
			if tt.warn && !strings.Contains(log, "host="+ks.Addr) {
				t.Errorf("the warning does not name the node %s:\n%s", ks.Addr, log)
			}
			if tt.password != "" && strings.Contains(log, tt.password) {
				t.Errorf("the log shows the password:\n%s", log)
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestReadDoesNotAllocatePerRow checks the per-row path: rows are scanned into
// reused buffers, so allocations come per query and per page, not per row.
func TestReadDoesNotAllocatePerRow(t *testing.T) {
	ks := cassandratest.KeyspaceFor(t)
	item := wholeDay("allocs", "2024-08-01")
	cells := dayCells(item.Shard.Day, 5000, 10)[1:]
	write(t, open(t, ks.Config()), item.Shard, cells)
	// The same rows in 2 and in 6 pages: the difference is the cost of 4
	// pages, what is left the cost of the query; neither grows with rows.
	measure := func(pageSize int) float64 {
		cfg := ks.Config()
		cfg.PageSize = pageSize
		tbl := open(t, cfg)
		read := func() {
			if err := tbl.Read(context.Background(), item, func(*mapreduce.Row) error { return nil }); err != nil {
				t.Fatal(err)
			}
		}
		read() // prepare the statement
		// AllocsPerRun counts the whole process's allocations: the least of
		// three rounds leaves out background work of the driver, such as
		// the schema refresh after another test dropped its keyspace.
		least := testing.AllocsPerRun(5, read)
		for range 2 {
			least = min(least, testing.AllocsPerRun(5, read))
		}
		return least
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
	t.Parallel()
	ks := cassandratest.KeyspaceFor(t)
	item := wholeDay("routing", "2024-08-01")
	cells := dayCells(item.Shard.Day, 30, 12)[1:]
	write(t, open(t, ks.Config()), item.Shard, cells)
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
			cfg := ks.Config()
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
