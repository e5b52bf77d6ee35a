package csv_test

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/reports/csv"
)

// benchReport is a urls report of n rows, about 70 bytes each.
func benchReport(n int) mapreduce.Report {
	start := time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC)
	rep := mapreduce.Report{Name: "urls", Keys: []string{"url"}, Measures: mapreduce.Counts("pageviews", "visitors")}
	for i := range n {
		rep.Rows = append(rep.Rows, mapreduce.ReportRow{Account: "blog", Period: mapreduce.PeriodDay, Start: start,
			Keys: []string{fmt.Sprintf("https://blog.example.com/articles/%d?page=2", i)}, Values: []float64{float64(n - i), 3}})
	}
	return rep
}

// BenchmarkWriteReport formats rows only (no file): the baseline of
// BenchmarkWrite.
func BenchmarkWriteReport(b *testing.B) {
	rep := benchReport(100_000)
	b.ReportAllocs()
	for b.Loop() {
		if err := csv.WriteReport(io.Discard, &rep, false); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWrite writes a report file the way a run does: a temporary file
// watched by the context, synced, renamed into place, directory synced.
func BenchmarkWrite(b *testing.B) {
	rep := benchReport(100_000)
	p, err := mapreduce.NewPlan(mapreduce.PlanSpec{Accounts: []string{"blog"}, Start: rep.Rows[0].Start, End: rep.Rows[0].Start.AddDate(0, 0, 1), Loc: time.UTC})
	if err != nil {
		b.Fatal(err)
	}
	opt := csv.Options{Dir: b.TempDir()}
	b.ReportAllocs()
	for b.Loop() {
		if err := csv.Write(context.Background(), []mapreduce.Report{rep}, p, opt); err != nil {
			b.Fatal(err)
		}
	}
}
