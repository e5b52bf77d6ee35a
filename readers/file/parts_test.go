package file_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/file"
	"github.com/pvjobs/pvjobs/readers/pageview"
)

// TestReadParts cuts a one-shard run into parts (mapreduce.SplitShardParts):
// every row of the day goes to exactly one part, the rows no part's time
// holds (another day's, a column name that is not a timeuuid) to part 0
// only, the cuts follow the rows rather than the clock (most rows of this
// day come in its first hours), and the engine counts the same whatever the
// workers.
func TestReadParts(t *testing.T) {
	dir := t.TempDir()
	const n = 4000
	rows := makeRows(t, n, 80)
	for i := range rows { // skewed: half the rows in the first six hours
		f := float64(i) / n
		rows[i].TS = mapreduce.TimeUUID(day.Add(time.Duration(f*f*float64(24*time.Hour))), uint16(i), 0xabcdef)
	}
	stray := slices.Clone(rows[:0])
	stray = append(stray, testRow{TS: mapreduce.TimeUUID(day.Add(-time.Hour), 1, 2), Value: rows[0].Value})
	notTime := rows[1]
	notTime.TS[6] = 0x40 // version 4
	stray = append(stray, notTime)
	all := slices.Concat(rows[:n/3], stray[:1], rows[n/3:2*n/3], stray[1:], rows[2*n/3:])
	writeShard(t, dir, "20240801.blog", false, all)
	src, err := file.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if src.Split() != mapreduce.SplitShardParts {
		t.Fatalf("Split() = %v, want SplitShardParts", src.Split())
	}
	plan, err := mapreduce.NewPlan(mapreduce.PlanSpec{Accounts: []string{"blog"}, Start: day, End: day.Add(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	items := plan.WorkItems(src, 4)
	if len(items) != 4 || items[0].Parts != 4 {
		t.Fatalf("%d items (parts %d), want 4 parts", len(items), items[0].Parts)
	}
	seen := map[[16]byte]int{}
	for _, it := range items {
		got := 0
		err := src.Read(context.Background(), it, func(r *mapreduce.Row) error {
			seen[r.TS]++
			if r.TS == stray[0].TS || r.TS == stray[1].TS {
				if it.Part != 0 {
					t.Errorf("part %d got a stray row", it.Part)
				}
				return nil
			}
			if tm := r.Time(); tm < it.Start.UnixNano() || tm >= it.End.UnixNano() {
				t.Errorf("part %d [%s, %s) got a row of %s", it.Part, it.Start, it.End, mapreduce.UnixTime(tm))
			}
			if want := all[r.Index].TS; r.TS != want {
				t.Errorf("row index %d is not the file's row %d", r.Index, r.Index)
			}
			got++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got < n/4*7/10 || got > n/4*13/10 {
			t.Errorf("part %d [%s, %s) has %d rows of %d: the cut does not follow the rows", it.Part, it.Start.Format(time.TimeOnly), it.End.Format(time.TimeOnly), got, n)
		}
	}
	for _, r := range all {
		if seen[r.TS] != 1 {
			t.Errorf("row %x handed over %d times", r.TS, seen[r.TS])
		}
	}
	// Through the engine: the same counts with one worker and with four.
	var want mapreduce.Summary
	for _, workers := range []int{1, 4} {
		res, err := mapreduce.Run(context.Background(), plan, src, []mapreduce.Task{mapreduce.NewTask("times", timesJob{})},
			mapreduce.Options{Workers: workers, NewDecoder: pageview.NewMapreduceDecoder, MaxBad: mapreduce.Budget{Percent: 100, IsPercent: true}})
		if err != nil {
			t.Fatal(err)
		}
		s := res.Summary
		if s.Rows != n+2 || s.BadRows != 2 || s.Items != workers {
			t.Errorf("workers %d: %d rows, %d bad, %d items; want %d, 2, %d", workers, s.Rows, s.BadRows, s.Items, n+2, workers)
		}
		if workers == 1 {
			want = s
		} else if s.Rows != want.Rows || s.Skipped != want.Skipped || s.BadRows != want.BadRows || len(res.Reports[0].Rows) != n {
			t.Errorf("workers %d: %+v, want the counts of one worker %+v", workers, s, want)
		}
	}
}
