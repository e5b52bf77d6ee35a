package mapreduce_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/pageview"
)

// genMany makes the page views of many visitors (visitors per account)
// over days, with gaps on and around the timeout and sources that change.
func genMany(seed uint64, first time.Time, days, visitors int) []genPV {
	rng := rand.New(rand.NewPCG(seed, 9))
	gaps := []time.Duration{time.Second, 40 * time.Second, 5 * time.Minute, 29*time.Minute + 59*time.Second,
		30 * time.Minute, 30*time.Minute + time.Second, 31 * time.Minute, 2 * time.Hour, 0}
	var out []genPV
	for _, account := range []string{"blog", "shop"} {
		for v := range visitors {
			visitor := fmt.Sprintf("v%d", v)
			t := first.Add(time.Duration(rng.Int64N(int64(time.Duration(days) * 24 * time.Hour))))
			for range 2 + rng.IntN(25) {
				ref := ""
				switch rng.IntN(12) {
				case 0:
					ref = "src:google"
				case 1:
					ref = "src:news"
				}
				out = append(out, genPV{account, visitor, fmt.Sprintf("/p%d", rng.IntN(9)), ref, t})
				t = t.Add(gaps[rng.IntN(len(gaps))])
			}
		}
	}
	return out
}

// TestVisitsExactAtScale is TestVisitsExactWhateverTheSplit with enough
// page views (about 170,000) for the sessionizer's queue to be compacted and
// its open-visit table to grow and shift entries back on deletion, which
// the small cases do not reach; against the plain reference sessionizer,
// for every split and 1 to 16 workers.
func TestVisitsExactAtScale(t *testing.T) {
	if testing.Short() {
		t.Skip("about 170,000 page views, 12 runs")
	}
	first := time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC)
	pvs := genMany(11, first, 3, 6000)
	src := visitSource(t, pvs)
	plan, err := mapreduce.NewPlan(mapreduce.PlanSpec{Accounts: []string{"blog", "shop"}, Start: first.Add(6 * time.Hour), End: first.AddDate(0, 0, 3), Slices: 24})
	if err != nil {
		t.Fatal(err)
	}
	want := referenceVisits(pvs, plan, 30*time.Minute)
	for _, split := range []mapreduce.Split{mapreduce.SplitSlices, mapreduce.SplitShards, mapreduce.SplitShardParts} {
		for _, workers := range []int{1, 3, 7, 16} {
			src.split = split
			res, err := mapreduce.Run(context.Background(), plan, src,
				[]mapreduce.Task{mapreduce.NewTask("visits", &visitsJob{plan: plan})},
				mapreduce.Options{Workers: workers, NewDecoder: pageview.NewMapreduceDecoder, NewEnricher: originEnricher})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range res.Reports[0].Rows {
				got = append(got, r.Keys[0])
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("split %d workers %d: %d visits, want %d\n%s", split, workers, len(got), len(want), diffLines(got, want, 8))
			}
		}
	}
	if len(pvs) < 150_000 {
		t.Fatalf("only %d page views generated", len(pvs))
	}
	t.Logf("%d page views, %d visits", len(pvs), len(want))
}
