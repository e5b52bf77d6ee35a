package mapreduce_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
)

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
	pvs := genVisits(11, first, 3, 6000)
	src := visitSource(t, pvs)
	plan, err := mapreduce.NewPlan(mapreduce.PlanSpec{Accounts: []string{"blog", "shop"}, Start: first.Add(6 * time.Hour), End: first.AddDate(0, 0, 3), Slices: 24})
	if err != nil {
		t.Fatal(err)
	}
	want := referenceVisits(pvs, plan, 30*time.Minute)
	for _, split := range []mapreduce.Split{mapreduce.SplitSlices, mapreduce.SplitShards, mapreduce.SplitShardParts} {
		for _, workers := range []int{1, 3, 7, 16} {
			checkVisits(t, fmt.Sprintf("split%d/workers%d", split, workers), plan, src, split, workers, want)
		}
	}
	if len(pvs) < 150_000 {
		t.Fatalf("only %d page views generated", len(pvs))
	}
	t.Logf("%d page views, %d visits", len(pvs), len(want))
}
