package jobs_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/jobs"
	"github.com/pvjobs/pvjobs/jobs/geo"
	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/pageview"
	"github.com/pvjobs/pvjobs/readers/synth"
)

// render writes reports as text, sketches as a hash of their Redis value,
// so that two runs' reports compare as strings (a rate of no visits is NaN,
// which is not equal to itself).
func render(reps []mapreduce.Report) string {
	var b strings.Builder
	for _, r := range reps {
		fmt.Fprintf(&b, "report %s keys %v labels %v measures %v rows %d\n", r.Name, r.Keys, r.Labels, r.Measures, len(r.Rows))
		for _, row := range r.Rows {
			fmt.Fprintf(&b, "%s %s %s %q %q", row.Account, row.Period, row.Start.Format(time.RFC3339), row.Keys, row.Labels)
			for i, m := range r.Measures {
				fmt.Fprintf(&b, " %s", m.Format(row.Values[i]))
			}
			if row.Sketch != nil {
				fmt.Fprintf(&b, " sketch %x", sha256.Sum256(row.Sketch.AppendRedis(nil)))
			}
			fmt.Fprintf(&b, " partial=%v other=%v\n", row.Partial, row.Other)
		}
	}
	return b.String()
}

// dayBlocks cuts days into n contiguous blocks, as pvjobs run --shard-by day
// does.
func dayBlocks(days, n int) [][2]int {
	var out [][2]int
	for i := range n {
		out = append(out, [2]int{i * days / n, (i + 1) * days / n})
	}
	return out
}

// TestPartialsMergeExactly runs every job over a week once, and again as
// shards of days that keep, encode, decode and merge their partial results
// (in a random order): the reports are the same, row for row and sketch for
// sketch, whatever the number of shards, the time zone (a daylight-saving
// change), a comparison period, exact uniques, minutes, top-N truncation and
// bots.
func TestPartialsMergeExactly(t *testing.T) {
	from, _ := mapreduce.ParseDate("2024-10-24")
	to, _ := mapreduce.ParseDate("2024-10-30")
	accounts := []string{"blog", "shop", "news"}
	g, err := synth.New(synth.Config{Accounts: accounts, From: from.AddDays(-8), To: to.AddDays(1),
		RowsPerDay: 1500, Networks: geo.SamplePrefixes(), Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	week := g.Memory(mapreduce.SplitSlices)
	// Busy days: rows of a day with more than tally.ExactVisitors
	// visitors, whose partials hold sketches rather than sets.
	g, err = synth.New(synth.Config{Accounts: accounts[:1], From: from, To: from.AddDays(1),
		RowsPerDay: 12000, Networks: geo.SamplePrefixes(), Seed: 12})
	if err != nil {
		t.Fatal(err)
	}
	busy := g.Memory(mapreduce.SplitSlices)
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		loc     *time.Location
		compare bool
		cfg     jobs.Config
		bots    bool
		shards  []int
		// instants: a range that does not start at midnight.
		instants bool
		// busy: the two busy days.
		busy bool
		// want are strings the reports must hold, so that the case is not
		// vacuous.
		want []string
	}{
		{name: "UTC", loc: time.UTC, cfg: jobs.Config{MaxRows: 1000}, shards: []int{1, 3, 7}, want: []string{"report entrypages", "report visits", "report geo", " sketch "}},
		{name: "Berlin DST, compare, top 5, minutes", loc: berlin, compare: true, cfg: jobs.Config{MaxRows: 5, UniqueMinutes: true}, shards: []int{2, 9},
			want: []string{"other=true", " previous ", " minute ", "2024-10-27T02:00:00+01:00"}},
		{name: "exact uniques, bots, no top", loc: berlin, cfg: jobs.Config{ExactUniques: true}, bots: true, shards: []int{4}, want: []string{`"bot"`}},
		{name: "range of instants", loc: time.UTC, instants: true, cfg: jobs.Config{MaxRows: 50}, shards: []int{3}, want: []string{"partial=true"}},
		{name: "busy days", loc: time.UTC, busy: true, cfg: jobs.Config{MaxRows: 1000}, shards: []int{2}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.GeoIP = "geo/testdb/test-city.mmdb"
			defs, err := jobs.Lookup([]string{"all"})
			if err != nil {
				t.Fatal(err)
			}
			src, last, accounts := week, to, accounts
			if tc.busy {
				src, last, accounts = busy, from.AddDays(1), accounts[:1]
			}
			start, end, _ := mapreduce.DayRange(from, last, tc.loc)
			if tc.instants {
				start, end = start.Add(18*time.Hour), end.Add(-17*time.Hour-30*time.Minute)
			}
			plan, err := mapreduce.NewPlan(mapreduce.PlanSpec{Accounts: accounts, Start: start, End: end, Loc: tc.loc, Compare: tc.compare, Slices: 6})
			if err != nil {
				t.Fatal(err)
			}
			opt := mapreduce.Options{NewDecoder: pageview.NewMapreduceDecoder, NewEnricher: jobs.Enricher(defs, &cfg), IncludeBots: tc.bots, Workers: 3}
			run := func(plan *mapreduce.Plan, keep bool) *mapreduce.Result {
				t.Helper()
				tasks, closeTasks, err := jobs.Build(defs, &cfg)
				if err != nil {
					t.Fatal(err)
				}
				defer closeTasks()
				o := opt
				o.KeepPartials = keep
				res, err := mapreduce.Run(context.Background(), plan, src, tasks, o)
				if err != nil {
					t.Fatal(err)
				}
				return res
			}
			whole := run(plan, false)
			want := render(whole.Reports)
			for _, w := range tc.want {
				if !strings.Contains(want, w) {
					t.Errorf("the reports hold no %q: the case tests less than it says", w)
				}
			}
			mcfg := cfg
			mcfg.Merging = true
			for _, n := range tc.shards {
				t.Run(fmt.Sprint(n), func(t *testing.T) {
					var files [][]byte
					var rows int64
					for _, b := range dayBlocks(len(plan.Calendar.Days), n) {
						res := run(plan.ReadDays(b[0], b[1]), true)
						rows += res.Summary.Rows
						var buf bytes.Buffer
						if err := mapreduce.EncodePartials(&buf, res.Partials); err != nil {
							t.Fatal(err)
						}
						files = append(files, buf.Bytes())
					}
					if rows != whole.Summary.Rows {
						t.Errorf("the shards read %d rows, the whole run %d", rows, whole.Summary.Rows)
					}
					rand.Shuffle(len(files), func(i, j int) { files[i], files[j] = files[j], files[i] })
					tasks, closeTasks, err := jobs.Build(defs, &mcfg)
					if err != nil {
						t.Fatal(err)
					}
					defer closeTasks()
					var merged *mapreduce.Partials
					for _, f := range files {
						ps, err := mapreduce.DecodePartials(bytes.NewReader(f), int64(len(f)), plan, tasks)
						if err != nil {
							t.Fatal(err)
						}
						if merged == nil {
							merged = ps
						} else if err := merged.Merge(ps); err != nil {
							t.Fatal(err)
						}
					}
					if len(merged.Days()) != len(plan.Calendar.Days) {
						t.Errorf("merged partials hold %d days of %d", len(merged.Days()), len(plan.Calendar.Days))
					}
					if got := render(merged.Reports()); got != want {
						t.Errorf("merged reports differ from the whole run's:\n%s", firstDiff(got, want))
					}
				})
			}
		})
	}
}

// firstDiff shows the first line where got and want differ.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range max(len(g), len(w)) {
		var a, b string
		if i < len(g) {
			a = g[i]
		}
		if i < len(w) {
			b = w[i]
		}
		if a != b {
			return fmt.Sprintf("line %d\n got: %s\nwant: %s", i+1, a, b)
		}
	}
	return ""
}

// fuzzSetup is a small run of every job, and its partial result encoded.
func fuzzSetup(f testing.TB) (*mapreduce.Plan, []mapreduce.Task, []byte) {
	from, _ := mapreduce.ParseDate("2024-08-01")
	accounts := []string{"blog", "shop"}
	g, err := synth.New(synth.Config{Accounts: accounts, From: from, To: from, RowsPerDay: 40, Networks: geo.SamplePrefixes(), Seed: 5})
	if err != nil {
		f.Fatal(err)
	}
	start, end, _ := mapreduce.DayRange(from, from.AddDays(1), time.UTC)
	plan, err := mapreduce.NewPlan(mapreduce.PlanSpec{Accounts: accounts, Start: start, End: end})
	if err != nil {
		f.Fatal(err)
	}
	cfg := &jobs.Config{GeoIP: "geo/testdb/test-city.mmdb", MaxRows: 3, UniqueMinutes: true}
	defs, _ := jobs.Lookup([]string{"all"})
	tasks, closeTasks, err := jobs.Build(defs, cfg)
	if err != nil {
		f.Fatal(err)
	}
	defer closeTasks()
	res, err := mapreduce.Run(context.Background(), plan.ReadDays(0, 1), g.Memory(mapreduce.SplitShards), tasks,
		mapreduce.Options{NewDecoder: pageview.NewMapreduceDecoder, NewEnricher: jobs.Enricher(defs, cfg), KeepPartials: true})
	if err != nil {
		f.Fatal(err)
	}
	var buf bytes.Buffer
	if err := mapreduce.EncodePartials(&buf, res.Partials); err != nil {
		f.Fatal(err)
	}
	cfg.Merging = true
	tasks, _, err = jobs.Build(defs, cfg)
	if err != nil {
		f.Fatal(err)
	}
	return plan, tasks, buf.Bytes()
}

// FuzzDecodePartials feeds DecodePartials (every job's decoder) damaged
// partial results: it refuses them with an error, never panics, and what it
// accepts builds reports.
func FuzzDecodePartials(f *testing.F) {
	plan, tasks, valid := fuzzSetup(f)
	f.Add(valid)
	for _, n := range []int{0, 4, 20, len(valid) / 3, len(valid) / 2, len(valid) - 5} {
		f.Add(valid[:n])
	}
	flip := bytes.Clone(valid)
	flip[len(flip)/2] ^= 0x40
	f.Add(flip)
	f.Fuzz(func(t *testing.T, data []byte) {
		ps, err := mapreduce.DecodePartials(bytes.NewReader(data), int64(len(data)), plan, tasks)
		if err != nil {
			if !errors.Is(err, mapreduce.ErrBadPartial) {
				t.Fatalf("error %v does not wrap ErrBadPartial", err)
			}
			return
		}
		ps.Reports()
	})
}

// TestDecodePartialsRefuses: cuts of a valid partial result (at every 97th
// byte and in its last 100 bytes) are refused, and single flipped bits (one
// in 251) are refused or decode into partials that build reports; none
// panics.
func TestDecodePartialsRefuses(t *testing.T) {
	plan, tasks, valid := fuzzSetup(t)
	if _, err := mapreduce.DecodePartials(bytes.NewReader(valid), int64(len(valid)), plan, tasks); err != nil {
		t.Fatalf("the valid encoding: %v", err)
	}
	for n := 0; n < len(valid); n++ {
		if n%97 != 0 && n < len(valid)-100 {
			continue
		}
		if _, err := mapreduce.DecodePartials(bytes.NewReader(valid[:n]), int64(n), plan, tasks); err == nil {
			t.Fatalf("the first %d of %d bytes decoded", n, len(valid))
		}
	}
	for i := 0; i < len(valid)*8; i += 251 {
		b := bytes.Clone(valid)
		b[i/8] ^= 1 << (i % 8)
		if ps, err := mapreduce.DecodePartials(bytes.NewReader(b), int64(len(b)), plan, tasks); err == nil {
			ps.Reports()
		}
	}
}
