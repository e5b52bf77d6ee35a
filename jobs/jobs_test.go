package jobs_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/jobs"
	"github.com/pvjobs/pvjobs/jobs/geo"
	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/pageview"
	"github.com/pvjobs/pvjobs/readers/synth"
)

// TestBuildCombined checks that sources and searchterms, run together, share
// one task whose reports equal those of the two jobs run apart.
func TestBuildCombined(t *testing.T) {
	from, _ := mapreduce.ParseDate("2024-08-01")
	to, _ := mapreduce.ParseDate("2024-08-02")
	accounts := []string{"blog", "shop"}
	g, err := synth.New(synth.Config{Accounts: accounts, From: from, To: to, RowsPerDay: 3000,
		Networks: geo.SamplePrefixes(), Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	src := g.Memory(mapreduce.SplitShards)
	start, end, _ := mapreduce.DayRange(from, to, time.UTC)
	plan, err := mapreduce.NewPlan(mapreduce.PlanSpec{Accounts: accounts, Start: start, End: end})
	if err != nil {
		t.Fatal(err)
	}
	cfg := &jobs.Config{InternalDomains: []string{"example.org"}}
	run := func(names ...string) (map[string]mapreduce.Report, int) {
		t.Helper()
		defs, err := jobs.Lookup(names)
		if err != nil {
			t.Fatal(err)
		}
		tasks, closeTasks, err := jobs.Build(defs, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer closeTasks()
		res, err := mapreduce.Run(context.Background(), plan, src, tasks, mapreduce.Options{NewDecoder: pageview.NewMapreduceDecoder})
		if err != nil {
			t.Fatal(err)
		}
		reps := map[string]mapreduce.Report{}
		for _, r := range res.Reports {
			reps[r.Name] = r
		}
		return reps, len(tasks)
	}
	both, n := run("urls", "sources", "searchterms")
	if n != 2 {
		t.Errorf("urls, sources, searchterms built %d tasks; want 2 (sources and searchterms share one)", n)
	}
	apart := map[string]mapreduce.Report{}
	for _, name := range []string{"sources", "searchterms"} {
		reps, n := run(name)
		if n != 1 {
			t.Errorf("%s alone built %d tasks", name, n)
		}
		apart[name] = reps[name]
	}
	for _, name := range []string{"sources", "searchterms"} {
		if len(both[name].Rows) == 0 {
			t.Fatalf("%s: no rows", name)
		}
		// Compared as text: a rate of no visits is NaN, which is not equal
		// to itself.
		if fmt.Sprintf("%+v", both[name]) != fmt.Sprintf("%+v", apart[name]) {
			t.Errorf("%s: combined report differs from the job run alone", name)
		}
	}
	if _, ok := both["urls"]; !ok {
		t.Error("urls report missing")
	}
}
