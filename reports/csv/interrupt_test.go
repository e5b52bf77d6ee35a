package csv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
)

// TestPrepareInterrupted cancels the context as soon as the first temporary
// file exists (an event, not a timer): Prepare stops with context.Canceled,
// the previous file stays and no temporary file is left.
func TestPrepareInterrupted(t *testing.T) {
	dir := t.TempDir()
	final := filepath.Join(dir, "urls.csv")
	if err := os.WriteFile(final, []byte("previous"), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC)
	plan, err := mapreduce.NewPlan(mapreduce.PlanSpec{Accounts: []string{"blog"}, Start: start, End: start.AddDate(0, 0, 1), Loc: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	rep := mapreduce.Report{Name: "urls", Keys: []string{"url"}, Measures: mapreduce.Counts("pageviews")}
	for i := range 100_000 { // about 4 MB: many buffer flushes
		rep.Rows = append(rep.Rows, mapreduce.ReportRow{Account: "blog", Period: mapreduce.PeriodDay, Start: start,
			Keys: []string{fmt.Sprintf("https://blog.example.com/page/%d", i)}, Values: []float64{1}})
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	created := 0
	afterCreate = func(tmp string) {
		created++
		if _, err := os.Stat(tmp); err != nil {
			t.Errorf("hook called before %s exists: %v", tmp, err)
		}
		cancel()
	}
	defer func() { afterCreate = func(string) {} }()
	p, err := Prepare(ctx, []mapreduce.Report{rep}, plan, Options{Dir: dir})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Prepare: %v, %v; want context.Canceled", p, err)
	}
	if created != 1 {
		t.Errorf("%d temporary files created", created)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 || ents[0].Name() != "urls.csv" {
		t.Errorf("directory holds %v", ents)
	}
	if b, _ := os.ReadFile(final); string(b) != "previous" {
		t.Errorf("urls.csv replaced by an interrupted write: %.40q", b)
	}
}
