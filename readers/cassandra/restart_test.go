package cassandra_test

import (
	"bytes"
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/jobs"
	"github.com/pvjobs/pvjobs/jobs/devices"
	"github.com/pvjobs/pvjobs/jobs/geo"
	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/cassandra"
	"github.com/pvjobs/pvjobs/readers/cassandra/cassandratest"
	"github.com/pvjobs/pvjobs/readers/pageview"
	"github.com/pvjobs/pvjobs/readers/synth"
	"github.com/pvjobs/pvjobs/reports/csv"
)

// pausingSource hands rows through until the at-th, then holds every worker
// in its callback until release is closed: the run is in the middle of its
// slices, connections open, when the test stops the node.
type pausingSource struct {
	mapreduce.Source
	at      int64
	rows    atomic.Int64
	reached chan struct{}
	release chan struct{}
}

func (p *pausingSource) Read(ctx context.Context, item mapreduce.WorkItem, fn func(*mapreduce.Row) error) error {
	return p.Source.Read(ctx, item, func(r *mapreduce.Row) error {
		n := p.rows.Add(1)
		if n == p.at {
			close(p.reached)
		}
		if n >= p.at {
			select {
			case <-p.release:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return fn(r)
	})
}

// TestNodeRestartMidRun restarts the real Cassandra node in the middle of a
// run of every job with the default retry budget: the run waits for the node,
// resumes its slices, and writes reports byte for byte those of an
// undisturbed run. A second run, opened while the node is down, waits for it
// too. make test runs it alone, after the other tests (EnvRestart).
func TestNodeRestartMidRun(t *testing.T) {
	node := cassandratest.RequireNode(t)
	ks := cassandratest.KeyspaceFor(t)
	from, _ := mapreduce.ParseDate("2024-09-01")
	accounts := []string{"restart_a", "restart_b"}
	g, err := synth.New(synth.Config{Accounts: accounts, From: from, To: from.AddDays(1),
		RowsPerDay: 8000, Agents: 500, Networks: geo.SamplePrefixes(), Seed: 13})
	if err != nil {
		t.Fatal(err)
	}
	loader := open(t, ks.Config())
	for _, k := range g.Shards() {
		rows := g.Rows(k)
		if _, err := loader.WriteShard(context.Background(), k, func(fn func(*mapreduce.Row) error) error {
			r := mapreduce.Row{Offset: -1}
			for i := range rows {
				r.TS, r.Value, r.Index = rows[i].TS, rows[i].Value, int64(i)
				if err := fn(&r); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	s, e, _ := mapreduce.DayRange(from, from.AddDays(1), time.UTC)
	plan, err := mapreduce.NewPlan(mapreduce.PlanSpec{Accounts: accounts, Start: s, End: e})
	if err != nil {
		t.Fatal(err)
	}
	defs := jobs.All()
	jcfg := &jobs.Config{GeoIP: "../../jobs/geo/testdb/test-city.mmdb"}
	if err := jobs.Check(defs, jcfg); err != nil {
		t.Fatal(err)
	}
	runJobs := func(src mapreduce.Source) (*mapreduce.Result, error) {
		tasks, release, err := jobs.Build(defs, jcfg)
		if err != nil {
			t.Fatal(err)
		}
		defer release()
		return mapreduce.Run(context.Background(), plan, src, tasks,
			mapreduce.Options{NewDecoder: pageview.NewMapreduceDecoder, NewEnricher: devices.NewEnricher(0)})
	}
	render := func(res *mapreduce.Result) []byte {
		var b bytes.Buffer
		for i := range res.Reports {
			if err := csv.WriteReport(&b, &res.Reports[i], false); err != nil {
				t.Fatal(err)
			}
		}
		return b.Bytes()
	}
	calm, err := runJobs(open(t, ks.Config()))
	if err != nil {
		t.Fatal(err)
	}
	want := render(calm)

	// The runs under test use the default retry budget: it must outlast the
	// restart.
	var mu sync.Mutex
	var events []cassandra.RetryEvent
	firstRetry := make(chan struct{})
	cfg := ks.Config()
	cfg.Retry = cassandra.DefaultRetry
	cfg.PageSize = 200 // several pages per slice: some retries resume mid-slice
	cfg.OnRetry = func(e cassandra.RetryEvent) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, e)
		if len(events) == 1 {
			close(firstRetry)
		}
	}
	src := &pausingSource{Source: open(t, cfg), at: calm.Summary.Rows / 3,
		reached: make(chan struct{}), release: make(chan struct{})}
	type outcome struct {
		res *mapreduce.Result
		err error
	}
	ran := make(chan outcome, 1)
	start := time.Now()
	go func() {
		res, err := runJobs(src)
		ran <- outcome{res, err}
	}()
	<-src.reached
	stopping := time.Now()
	node.Stop(t)
	stopped := time.Now()
	close(src.release)
	select {
	case <-firstRetry: // the run has met the outage
	case o := <-ran:
		node.Start(t)
		t.Fatalf("the run ended without meeting the outage: %v", o.err)
	}

	// A run that starts now waits for the node within its budget.
	late := ks.Config()
	late.Retry = cassandra.DefaultRetry
	var lateRetries atomic.Int64
	late.OnRetry = func(cassandra.RetryEvent) { lateRetries.Add(1) }
	opened := make(chan error, 1)
	go func() {
		tbl, err := cassandra.Open(context.Background(), late)
		if err == nil {
			tbl.Close()
		}
		opened <- err
	}()

	node.Start(t)
	up := time.Now()
	got := <-ran
	if err := <-opened; err != nil {
		t.Errorf("a run opened while the node was down: %v", err)
	}
	mu.Lock()
	retries := len(events)
	resumed := 0
	for _, e := range events {
		if e.Rows > 0 {
			resumed++
		}
	}
	mu.Unlock()
	t.Logf("node stopped after %d of %d rows: drained in %s, down %s until it answered again; the run retried %d times (%d mid-slice), finished %s after the node was back, %s in all; the late Open retried %d times",
		src.at, calm.Summary.Rows, stopped.Sub(stopping).Round(time.Millisecond), up.Sub(stopped).Round(time.Millisecond),
		retries, resumed, time.Since(up).Round(time.Millisecond), time.Since(start).Round(time.Millisecond), lateRetries.Load())
	if got.err != nil {
		t.Fatalf("the run failed across the restart: %v", got.err)
	}
	if lateRetries.Load() == 0 {
		t.Errorf("the Open started while the node was down never retried")
	}
	if got.res.Summary.Rows != calm.Summary.Rows {
		t.Errorf("read %d rows across the restart, %d without", got.res.Summary.Rows, calm.Summary.Rows)
	}
	if !bytes.Equal(render(got.res), want) {
		t.Errorf("the reports differ from those of the undisturbed run")
	}
}
