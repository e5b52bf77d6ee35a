package jobs_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/jobs"
	"github.com/pvjobs/pvjobs/jobs/geo"
	"github.com/pvjobs/pvjobs/jobs/jobstest"
	"github.com/pvjobs/pvjobs/mapreduce"
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
		res, n := jobstest.RunPlan(t, plan, src, cfg, mapreduce.Options{}, names...)
		return jobstest.ByName(res.Reports), n
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

// TestComparePrevious runs every job over three Berlin days with the
// previous three read for comparison: every report's previous rows equal
// the range rows of a run over the previous three days alone, and its own
// rows those of a run without comparison.
func TestComparePrevious(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	from, _ := mapreduce.ParseDate("2024-10-24")
	to, _ := mapreduce.ParseDate("2024-10-29")
	accounts := []string{"blog", "shop"}
	g, err := synth.New(synth.Config{Accounts: accounts, From: from, To: to, RowsPerDay: 1500,
		Networks: geo.SamplePrefixes(), Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	src := g.Memory(mapreduce.SplitSlices)
	cfg := &jobs.Config{GeoIP: "geo/testdb/test-city.mmdb", MaxRows: 50}
	run := func(first, last string, compare bool) []mapreduce.Report {
		t.Helper()
		f, _ := mapreduce.ParseDate(first)
		l, _ := mapreduce.ParseDate(last)
		start, end, _ := mapreduce.DayRange(f, l, berlin)
		plan, err := mapreduce.NewPlan(mapreduce.PlanSpec{Accounts: accounts, Start: start, End: end, Loc: berlin, Compare: compare})
		if err != nil {
			t.Fatal(err)
		}
		res, _ := jobstest.RunPlan(t, plan, src, cfg, mapreduce.Options{Workers: 3}, "all")
		return res.Reports
	}
	// The range runs over the days of the fall-back (25 hours on the 27th).
	with := run("2024-10-27", "2024-10-29", true)
	without := run("2024-10-27", "2024-10-29", false)
	before := run("2024-10-24", "2024-10-26", false)
	var name string
	text := func(r mapreduce.ReportRow) string {
		labels := r.Labels
		if name == "urls" {
			// A URL's title is its most frequent over what the run read,
			// which includes the previous days when comparing.
			labels = nil
		}
		return fmt.Sprintf("%s %s %v %v %v", r.Account, r.Start.UTC().Format(time.RFC3339), r.Keys, labels, r.Values)
	}
	for i, rep := range with {
		name = rep.Name
		var own, prev []string
		for _, r := range rep.Rows {
			if r.Period == mapreduce.PeriodPrevious {
				prev = append(prev, text(r))
			} else {
				own = append(own, string(r.Period)+" "+text(r))
			}
		}
		var wantOwn, wantPrev []string
		for _, r := range without[i].Rows {
			wantOwn = append(wantOwn, string(r.Period)+" "+text(r))
		}
		for _, r := range before[i].Rows {
			if r.Period == mapreduce.PeriodRange {
				wantPrev = append(wantPrev, text(r))
			}
		}
		if len(prev) == 0 {
			t.Errorf("%s: no previous rows", rep.Name)
		}
		if strings.Join(own, "\n") != strings.Join(wantOwn, "\n") {
			t.Errorf("%s: rows of the range differ with --compare", rep.Name)
		}
		if strings.Join(prev, "\n") != strings.Join(wantPrev, "\n") {
			t.Errorf("%s: previous rows differ from a run over the previous days:\n%s\nwant\n%s", rep.Name,
				strings.Join(prev[:min(3, len(prev))], "\n"), strings.Join(wantPrev[:min(3, len(wantPrev))], "\n"))
		}
	}
}
