package cassandra_test

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/pvjobs/pvjobs/jobs"
	"github.com/pvjobs/pvjobs/jobs/devices"
	"github.com/pvjobs/pvjobs/jobs/geo"
	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/cassandra"
	"github.com/pvjobs/pvjobs/readers/pageview"
	"github.com/pvjobs/pvjobs/readers/synth"
	"golang.org/x/sync/errgroup"
)

// benchRows is the size of the benchmark data asked of the generator: 2
// accounts × 2 days × 50,000 (its daily curve draws about 170,000 in all; the
// load logs the count).
const benchRows = 200_000

var (
	benchOnce sync.Once
	benchPlan *mapreduce.Plan
	benchErr  error
)

// benchData loads the generated page views into the test table once per
// process and returns the plan that reads them.
func benchData(b *testing.B) *mapreduce.Plan {
	ks := benchKeyspace(b)
	benchOnce.Do(func() {
		from, _ := mapreduce.ParseDate("2024-09-01")
		to := from.AddDays(1)
		accounts := []string{"bench_a", "bench_b"}
		// Visitors from the test City database's networks, as in jobs'
		// benchmarks, so the geo job finds them.
		g, err := synth.New(synth.Config{Accounts: accounts, From: from, To: to,
			RowsPerDay: benchRows / 4, Networks: geo.SamplePrefixes(), Seed: 11})
		if err != nil {
			benchErr = err
			return
		}
		tbl, err := cassandra.Open(context.Background(), ks.Config())
		if err != nil {
			benchErr = err
			return
		}
		defer tbl.Close()
		start := time.Now()
		var total atomic.Int64
		var eg errgroup.Group
		for _, k := range g.Shards() {
			eg.Go(func() error {
				rows := g.Rows(k)
				n, err := tbl.WriteShard(context.Background(), k, func(fn func(*mapreduce.Row) error) error {
					r := mapreduce.Row{Offset: -1}
					for i := range rows {
						r.TS, r.Value, r.Index = rows[i].TS, rows[i].Value, int64(i)
						if err := fn(&r); err != nil {
							return err
						}
					}
					return nil
				})
				total.Add(n)
				return err
			})
		}
		if benchErr = eg.Wait(); benchErr != nil {
			return
		}
		d := time.Since(start)
		b.Logf("loaded %d page views in %s (%.0f rows/s)", total.Load(), d.Round(time.Millisecond), float64(total.Load())/d.Seconds())
		s, e, _ := mapreduce.DayRange(from, to, time.UTC)
		if benchPlan, benchErr = mapreduce.NewPlan(mapreduce.PlanSpec{Accounts: accounts, Start: s, End: e}); benchErr != nil {
			return
		}
		// Warm up: the first scan after a load pays for memtables and caches.
		bareScan(b, bareSession(b, cassandra.DefaultProtocol), benchPlan)
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchPlan
}

// bareScan reads every work item of plan with plain gocql — the same query,
// page size and parallelism as the source, rows iterated and nothing done —
// and returns the rows read.
func bareScan(b *testing.B, session *gocql.Session, plan *mapreduce.Plan) int64 {
	const stmt = `SELECT column1, value FROM page_views WHERE key = ? AND column1 >= ? AND column1 < ?`
	items := plan.Items(mapreduce.SplitSlices)
	work := make(chan mapreduce.WorkItem)
	var rows atomic.Int64
	eg, ctx := errgroup.WithContext(context.Background())
	for range runtime.GOMAXPROCS(0) {
		eg.Go(func() error {
			var ts, value []byte
			n := int64(0)
			for it := range work {
				iter := session.Query(stmt, it.Shard.String(),
					gocql.UUID(mapreduce.MinTimeUUID(it.Start)), gocql.UUID(mapreduce.MinTimeUUID(it.End))).IterContext(ctx)
				for iter.Scan(&ts, &value) {
					n++
				}
				if err := iter.Close(); err != nil {
					return err
				}
			}
			rows.Add(n)
			return nil
		})
	}
	feedItems(ctx, work, items)
	if err := eg.Wait(); err != nil {
		b.Fatal(err)
	}
	return rows.Load()
}

// feedItems sends items to work until ctx ends (a worker failed), then closes it.
func feedItems(ctx context.Context, work chan<- mapreduce.WorkItem, items []mapreduce.WorkItem) {
	defer close(work)
	for _, it := range items {
		select {
		case work <- it:
		case <-ctx.Done():
			return
		}
	}
}

// bareSession opens a plain gocql session on the benchmark keyspace with
// gocql's defaults but for the consistency and the protocol version: proto
// as the source's (cassandra.DefaultProtocol), or 0 for gocql's own choice,
// the highest the node speaks.
func bareSession(b *testing.B, proto int) *gocql.Session {
	ks := benchKeyspace(b)
	host, port, err := net.SplitHostPort(ks.Addr)
	if err != nil {
		b.Fatal(err)
	}
	cl := gocql.NewCluster(host)
	if cl.Port, err = strconv.Atoi(port); err != nil {
		b.Fatal(err)
	}
	cl.Keyspace = ks.Name
	cl.Consistency = gocql.LocalOne
	cl.ProtoVersion = proto
	s, err := cl.CreateSession()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(s.Close)
	return s
}

// BenchmarkBareScan is the floor: what gocql alone takes to bring the rows
// over (pageviews/s) and the client CPU it spends per row (cpu-ns/row), with
// the source's protocol version (4) and with gocql's own choice (5 on
// Cassandra 5).
func BenchmarkBareScan(b *testing.B) {
	for _, proto := range []int{cassandra.DefaultProtocol, 0} {
		b.Run(fmt.Sprintf("protocol=%d", proto), func(b *testing.B) {
			plan := benchData(b)
			s := bareSession(b, proto)
			b.ReportAllocs()
			b.ResetTimer()
			var rows int64
			cpu := processCPU()
			for b.Loop() {
				rows += bareScan(b, s, plan)
			}
			b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "pageviews/s")
			b.ReportMetric(float64(processCPU()-cpu)/float64(rows), "cpu-ns/row")
		})
	}
}

// BenchmarkRead is the source alone: Table.Read over every work item with
// GOMAXPROCS goroutines and a callback that does nothing (allocs per row).
func BenchmarkRead(b *testing.B) {
	plan := benchData(b)
	tbl := open(b, benchKeyspace(b).Config())
	items := plan.Items(tbl.Split())
	b.ReportAllocs()
	b.ResetTimer()
	var rows atomic.Int64
	cpu := processCPU()
	for b.Loop() {
		work := make(chan mapreduce.WorkItem)
		eg, ctx := errgroup.WithContext(context.Background())
		for range runtime.GOMAXPROCS(0) {
			eg.Go(func() error {
				n := int64(0)
				defer func() { rows.Add(n) }()
				for it := range work {
					if err := tbl.Read(ctx, it, func(*mapreduce.Row) error { n++; return nil }); err != nil {
						return err
					}
				}
				return nil
			})
		}
		feedItems(ctx, work, items)
		if err := eg.Wait(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows.Load())/b.Elapsed().Seconds(), "pageviews/s")
	b.ReportMetric(float64(processCPU()-cpu)/float64(rows.Load()), "cpu-ns/row")
}

// BenchmarkCassandraJob is every registered job end to end from Cassandra
// (read, decode, classify user agents, map, merge, report) with GOMAXPROCS
// workers, as 'pvjobs run --jobs all' runs them, next to a bare
// gocql scan of the same partitions (rows iterated, nothing done) with as
// many goroutines. Each iteration runs both, one after the other, so the two
// figures come from the same server state; it reports the job's page views per
// second (pageviews/s), the bare scan's (bare-pageviews/s) and the ratio
// (job/bare: 1 means the job costs nothing beyond fetching the rows), and the
// client CPU per row of each (job-cpu-ns/row, bare-cpu-ns/row), which a busy
// machine disturbs less than the rates. The bare scan speaks the source's
// protocol version; BenchmarkBareScan shows gocql's default too.
func BenchmarkCassandraJob(b *testing.B) {
	plan := benchData(b)
	tbl := open(b, benchKeyspace(b).Config())
	s := bareSession(b, cassandra.DefaultProtocol)
	defs := jobs.All()
	cfg := &jobs.Config{GeoIP: "../../jobs/geo/testdb/test-city.mmdb"}
	if err := jobs.Check(defs, cfg); err != nil {
		b.Fatal(err)
	}
	// As 'pvjobs run --jobs all': the user-agent enricher keeps bots out.
	opt := mapreduce.Options{NewDecoder: pageview.NewMapreduceDecoder, NewEnricher: devices.NewEnricher(0)}
	b.ReportAllocs()
	b.ResetTimer()
	var jobRows, bareRows int64
	var jobTime, bareTime, jobCPU, bareCPU time.Duration
	for b.Loop() {
		start, cpu := time.Now(), processCPU()
		tasks, release, err := jobs.Build(defs, cfg)
		if err != nil {
			b.Fatal(err)
		}
		res, err := mapreduce.Run(context.Background(), plan, tbl, tasks, opt)
		release()
		if err != nil {
			b.Fatal(err)
		}
		jobRows += res.Summary.Rows
		jobTime += time.Since(start)
		jobCPU += processCPU() - cpu

		b.StopTimer()
		start, cpu = time.Now(), processCPU()
		bareRows += bareScan(b, s, plan)
		bareTime += time.Since(start)
		bareCPU += processCPU() - cpu
		b.StartTimer()
	}
	job := float64(jobRows) / jobTime.Seconds()
	bare := float64(bareRows) / bareTime.Seconds()
	b.ReportMetric(job, "pageviews/s")
	b.ReportMetric(bare, "bare-pageviews/s")
	b.ReportMetric(job/bare, "job/bare")
	b.ReportMetric(float64(jobCPU)/float64(jobRows), "job-cpu-ns/row")
	b.ReportMetric(float64(bareCPU)/float64(bareRows), "bare-cpu-ns/row")
}
