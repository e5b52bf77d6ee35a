package mapreduce_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/pageview"
)

// codecJob is countJob with a codec: each (account, day, key) count.
type codecJob struct{ countJob }

func (j *codecJob) EncodePartial(e *mapreduce.PartialEncoder, p *countPartial) error {
	e.Uvarint(uint64(len(p.counts)))
	for k, n := range p.counts {
		e.Account(k.account)
		e.Day(int(k.day))
		e.String(k.key)
		e.Varint(n)
	}
	return e.Err()
}

func (j *codecJob) DecodePartial(d *mapreduce.PartialDecoder) (*countPartial, error) {
	p := j.NewPartial(d.Plan())
	n := d.Count(4)
	for range n {
		k := countKey{account: d.Account(), day: int32(d.Day()), key: d.String(1 << 10)}
		p.counts[k] = d.Varint()
	}
	return p, d.Err()
}

func codecTask() mapreduce.Task { return mapreduce.NewTask("count", &codecJob{countJob{key: urlKey}}) }

// partialsSource is two accounts' rows over 2024-10-25 to 2024-10-28
// (Berlin's daylight saving ends on the 27th).
func partialsSource(t *testing.T, split mapreduce.Split) *memSource {
	src := &memSource{split: split}
	for _, day := range []string{"20241024", "20241025", "20241026", "20241027", "20241028"} {
		for _, a := range []string{"blog", "shop"} {
			addRows(t, src, day+"."+a, 300, testPages)
		}
	}
	return src
}

func berlin(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestReadDays: the plans of blocks of days read, together, exactly the
// rows of the whole plan, each once.
func TestReadDays(t *testing.T) {
	from, to := mapreduce.Date{Year: 2024, Month: 10, Day: 25}, mapreduce.Date{Year: 2024, Month: 10, Day: 28}
	plan := newPlan(t, []string{"blog", "shop"}, from, to, berlin(t), 5)
	days := len(plan.Calendar.Days)
	if first, last := plan.DaysRead(); first != 0 || last != days {
		t.Errorf("DaysRead of a whole plan: %d, %d", first, last)
	}
	for _, split := range []mapreduce.Split{mapreduce.SplitSlices, mapreduce.SplitShards} {
		var whole time.Duration
		for _, it := range plan.Items(split) {
			whole += it.End.Sub(it.Start)
		}
		for n := 1; n <= days+1; n++ {
			var got time.Duration
			covered := map[[2]int64]bool{}
			for i := range n {
				first, last := i*days/n, (i+1)*days/n
				p := plan.ReadDays(first, last)
				if f, l := p.DaysRead(); f != first || l != last {
					t.Errorf("DaysRead %d, %d; want %d, %d", f, l, first, last)
				}
				for _, it := range p.Items(split) {
					if it.Start.Location() != time.UTC {
						t.Errorf("item %s starts in %s", it, it.Start.Location())
					}
					if p.Shards[it.ShardIndex] != it.Shard {
						t.Errorf("item %s points at shard %s", it, p.Shards[it.ShardIndex])
					}
					for ns := it.Start.UnixNano(); ns < it.End.UnixNano(); ns += int64(time.Minute) {
						k := [2]int64{int64(it.Account), ns}
						if covered[k] {
							t.Fatalf("%d blocks: %s of %s read twice", n, time.Unix(0, ns).UTC(), it.Shard.Account)
						}
						covered[k] = true
					}
					got += it.End.Sub(it.Start)
				}
				if first == last && len(p.Shards) != 0 {
					t.Errorf("a plan of no day has shards %v", p.Shards)
				}
			}
			if got != whole {
				t.Errorf("split %d, %d blocks read %s, the whole plan %s", split, n, got, whole)
			}
		}
	}
}

// runPartials runs plan's days in n blocks and returns each block's
// encoded partials.
func runPartials(t *testing.T, plan *mapreduce.Plan, src mapreduce.Source, n int) [][]byte {
	t.Helper()
	days := len(plan.Calendar.Days)
	var out [][]byte
	for i := range n {
		res, err := mapreduce.Run(context.Background(), plan.ReadDays(i*days/n, (i+1)*days/n), src, []mapreduce.Task{codecTask()},
			mapreduce.Options{NewDecoder: pageview.NewMapreduceDecoder, Workers: 3, KeepPartials: true})
		if err != nil {
			t.Fatal(err)
		}
		if res.Reports != nil {
			t.Error("a run that keeps partials made reports")
		}
		var buf bytes.Buffer
		if err := mapreduce.EncodePartials(&buf, res.Partials); err != nil {
			t.Fatal(err)
		}
		out = append(out, buf.Bytes())
	}
	return out
}

func decode(plan *mapreduce.Plan, b []byte) (*mapreduce.Partials, error) {
	return mapreduce.DecodePartials(bytes.NewReader(b), int64(len(b)), plan, []mapreduce.Task{codecTask()})
}

// TestPartialsRoundTrip: blocks of days, kept, encoded, decoded and merged,
// make the reports of one run, whatever the split.
func TestPartialsRoundTrip(t *testing.T) {
	from, to := mapreduce.Date{Year: 2024, Month: 10, Day: 25}, mapreduce.Date{Year: 2024, Month: 10, Day: 28}
	for _, split := range []mapreduce.Split{mapreduce.SplitSlices, mapreduce.SplitShards} {
		src := partialsSource(t, split)
		plan := newPlan(t, []string{"blog", "shop"}, from, to, berlin(t), 4)
		whole, err := mapreduce.Run(context.Background(), plan, src, []mapreduce.Task{codecTask()}, mapreduce.Options{NewDecoder: pageview.NewMapreduceDecoder})
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{1, 2, 3, 4, 6} {
			var merged *mapreduce.Partials
			for _, b := range runPartials(t, plan, src, n) {
				ps, err := decode(plan, b)
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
				t.Errorf("%d blocks hold %d days", n, len(merged.Days()))
			}
			sameRows(t, fmt.Sprintf("split %d, %d blocks", split, n), merged.Reports()[0].Rows, whole.Reports[0].Rows)
		}
	}
}

// TestPartialsRefused: partials decode only into the plan and tasks of the
// run that wrote them, and merge only when they hold different days.
func TestPartialsRefused(t *testing.T) {
	from, to := mapreduce.Date{Year: 2024, Month: 10, Day: 25}, mapreduce.Date{Year: 2024, Month: 10, Day: 28}
	src := partialsSource(t, mapreduce.SplitSlices)
	plan := newPlan(t, []string{"blog", "shop"}, from, to, berlin(t), 4)
	blocks := runPartials(t, plan, src, 2)
	for _, tc := range []struct {
		name  string
		plan  *mapreduce.Plan
		tasks []mapreduce.Task
		b     []byte
		want  string
	}{
		{"another time zone", newPlan(t, []string{"blog", "shop"}, from, to, time.UTC, 4), nil, blocks[0], "time zone data differ"},
		{"other days", newPlan(t, []string{"blog", "shop"}, from.AddDays(1), to, berlin(t), 4), nil, blocks[0], "not in the run's calendar"},
		{"other accounts", newPlan(t, []string{"blog"}, from, to, berlin(t), 4), nil, blocks[0], `account "shop" is not one of the run's`},
		{"another job", plan, []mapreduce.Task{mapreduce.NewTask("other", &codecJob{countJob{key: urlKey}})}, blocks[0], `job "count" where the run has "other"`},
		{"a job without a codec", plan, []mapreduce.Task{countTask("count")}, blocks[0], "cannot write its partial result"},
		{"cut short", plan, nil, blocks[0][:len(blocks[0])-3], "unexpected EOF"},
		{"more after the end", plan, nil, append(bytes.Clone(blocks[0]), 0), "data after the last job"},
		{"not partials", plan, nil, []byte("hello, world"), "not \"pvjB\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tasks := tc.tasks
			if tasks == nil {
				tasks = []mapreduce.Task{codecTask()}
			}
			_, err := mapreduce.DecodePartials(bytes.NewReader(tc.b), int64(len(tc.b)), tc.plan, tasks)
			if !errors.Is(err, mapreduce.ErrBadPartial) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want ErrBadPartial and %q", err, tc.want)
			}
		})
	}
	a, _ := decode(plan, blocks[0])
	b, _ := decode(plan, blocks[0])
	if err := a.Merge(b); !errors.Is(err, mapreduce.ErrOverlap) || !strings.Contains(err.Error(), "2024-10-25, 2024-10-26") {
		t.Errorf("merging a block with itself: %v", err)
	}
	if _, err := mapreduce.Run(context.Background(), plan, src, []mapreduce.Task{countTask("count")},
		mapreduce.Options{NewDecoder: pageview.NewMapreduceDecoder, KeepPartials: true}); !errors.Is(err, mapreduce.ErrNoCodec) {
		t.Errorf("keeping the partials of a job without a codec: %v", err)
	}
}
