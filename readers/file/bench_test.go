package file_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/file"
	"github.com/pvjobs/pvjobs/readers/pageview"
	"github.com/pvjobs/pvjobs/readers/synth"
)

// benchRowsPerDay is the size of the benchmark shards: a busy account's day,
// as in the job benchmarks (jobs/bench_test.go).
const benchRowsPerDay = 90_000

// benchTemp is the directory of the benchmark shards, removed by TestMain.
var benchTemp string

func TestMain(m *testing.M) {
	code := m.Run()
	if benchTemp != "" {
		os.RemoveAll(benchTemp)
	}
	os.Exit(code)
}

// benchShards writes two days (2024-07-31, 2024-08-01) of one account of
// generated page views, plain and gzip-compressed, once per process.
var benchShards = sync.OnceValues(func() (dir string, err error) {
	dir, err = os.MkdirTemp("", "pvjobs-file-bench-")
	if err != nil {
		return "", err
	}
	benchTemp = dir
	g, err := synth.New(synth.Config{Accounts: []string{"blog"}, From: mapreduce.Date{Year: 2024, Month: 7, Day: 31},
		To: mapreduce.Date{Year: 2024, Month: 8, Day: 1}, RowsPerDay: benchRowsPerDay, Seed: 7})
	if err != nil {
		return "", err
	}
	for _, sub := range []string{"plain", "gz"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o755); err != nil {
			return "", err
		}
		for _, k := range g.Shards() {
			w, err := file.Create(filepath.Join(dir, sub), k, sub == "gz")
			if err != nil {
				return "", err
			}
			for _, r := range g.Rows(k) {
				if err := w.Write(r.TS, r.Value); err != nil {
					return "", err
				}
			}
			if err := w.Close(); err != nil {
				return "", err
			}
		}
	}
	return dir, nil
})

func benchDir(b *testing.B, sub string) string {
	b.Helper()
	dir, err := benchShards()
	if err != nil {
		b.Fatal(err)
	}
	return filepath.Join(dir, sub)
}

// BenchmarkRead reads one shard of 90,000 page views (about 40 MB) through
// Source.Read for work items of several widths, with a callback that does
// what the engine does before decoding: keep the rows of the item's range.
// rows/s counts the rows kept. The stop-early variants end the read at the
// first row past the range, as the reader did when it trusted the order:
// the difference is the price of reading every shard to its end.
func BenchmarkRead(b *testing.B) {
	d := time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC)
	for _, sub := range []string{"plain", "gz"} {
		for _, w := range []struct {
			name       string
			start, end time.Duration
		}{
			{"day", 0, 24 * time.Hour},
			{"00-22", 0, 22 * time.Hour}, // the last shard of a Europe/Berlin day (summer)
			{"22-24", 22 * time.Hour, 24 * time.Hour},
			{"06-12", 6 * time.Hour, 12 * time.Hour},
		} {
			for _, early := range []bool{false, true} {
				name := sub + "/" + w.name
				if early {
					// What the reader did before issue 10: stop at the first
					// row past the range, trusting the order. For comparison
					// only.
					name += "/stop-early"
				}
				b.Run(name, func(b *testing.B) {
					src, err := file.Open(benchDir(b, sub))
					if err != nil {
						b.Fatal(err)
					}
					it := mapreduce.WorkItem{Shard: mapreduce.ShardKey{Day: d, Account: "blog"}, Start: d.Add(w.start), End: d.Add(w.end)}
					lo, hi := it.Start.UnixNano(), it.End.UnixNano()
					var kept int64
					b.ReportAllocs()
					for b.Loop() {
						err := src.Read(context.Background(), it, func(r *mapreduce.Row) error {
							t := r.Time()
							if t >= lo && t < hi {
								kept++
							} else if early && t >= hi {
								return errStop
							}
							return nil
						})
						if err != nil && err != errStop {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(kept)/b.Elapsed().Seconds(), "rows/s")
				})
			}
		}
	}
}

var errStop = errors.New("stop")

// countJob counts page views: the smallest job, so that BenchmarkRun
// measures reading, checking and decoding rows.
type countJob struct{}

func (countJob) NewPartial(*mapreduce.Plan) *int64                  { return new(int64) }
func (countJob) Map(p *int64, _ *mapreduce.PageView)                { *p++ }
func (countJob) Merge(dst, src *int64)                              { *dst += *src }
func (countJob) Reports(*int64, *mapreduce.Plan) []mapreduce.Report { return nil }

// BenchmarkRun runs the engine with a counting job over the Europe/Berlin
// day 2024-08-01: the UTC shards of 2024-07-31 (rows from 22:00) and
// 2024-08-01 (rows until 22:00), one worker.
func BenchmarkRun(b *testing.B) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		b.Fatal(err)
	}
	day := mapreduce.Date{Year: 2024, Month: 8, Day: 1}
	start, end, _ := mapreduce.DayRange(day, day, berlin)
	plan, err := mapreduce.NewPlan(mapreduce.PlanSpec{Accounts: []string{"blog"}, Start: start, End: end, Loc: berlin})
	if err != nil {
		b.Fatal(err)
	}
	for _, sub := range []string{"plain", "gz"} {
		b.Run(sub, func(b *testing.B) {
			src, err := file.Open(benchDir(b, sub))
			if err != nil {
				b.Fatal(err)
			}
			var rows int64
			b.ReportAllocs()
			for b.Loop() {
				res, err := mapreduce.Run(context.Background(), plan, src, []mapreduce.Task{mapreduce.NewTask("count", countJob{})},
					mapreduce.Options{Workers: 1, NewDecoder: pageview.NewMapreduceDecoder})
				if err != nil {
					b.Fatal(err)
				}
				rows += res.Summary.Rows
			}
			b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
