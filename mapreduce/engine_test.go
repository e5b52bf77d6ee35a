package mapreduce_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/jobs/urls"
	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/pageview"
	"github.com/pvjobs/pvjobs/readers/synth"
	"github.com/vmihailenco/msgpack/v5"
)

// memSource is an in-memory Source over rows kept per shard key, honouring
// the contract: rows of [Start, End) in order, ErrNoShard for a missing shard.
type memSource struct {
	split  mapreduce.Split
	shards map[string][]mapreduce.Row
	// leak hands out every row of the shard, ignoring the item's range.
	leak bool
}

func (m *memSource) Split() mapreduce.Split { return m.split }

func (m *memSource) Read(ctx context.Context, item mapreduce.WorkItem, fn func(*mapreduce.Row) error) error {
	rows, ok := m.shards[item.Shard.String()]
	if !ok {
		return fmt.Errorf("%w: %s", mapreduce.ErrNoShard, item.Shard)
	}
	lo, hi := item.Start.UnixNano(), item.End.UnixNano()
	for i := range rows {
		if err := ctx.Err(); err != nil {
			return err
		}
		r := rows[i]
		if m.split == mapreduce.SplitShardParts {
			// Like a file: the whole shard, or a part's rows (and part 0
			// the strays).
			if !item.Wants(r.Time(), mapreduce.IsTimeUUID(r.TS)) {
				continue
			}
		} else if t := r.Time(); !m.leak && (t < lo || t >= hi) {
			continue
		}
		if err := fn(&r); err != nil {
			return err
		}
	}
	return nil
}

func encodePV(t testing.TB, fields map[string]string) []byte {
	t.Helper()
	b, err := msgpack.Marshal(fields)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// addRows appends n page views to shard key of src, spread over the day,
// with URLs from pages and every fifth one by a bot.
func addRows(t testing.TB, src *memSource, key string, n int, pages []string) {
	t.Helper()
	sk, err := mapreduce.ParseShardKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if src.shards == nil {
		src.shards = map[string][]mapreduce.Row{}
	}
	for i := range n {
		ts := sk.Day.Add(time.Duration(i) * (24 * time.Hour) / time.Duration(n))
		ua := "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"
		if i%5 == 4 {
			ua = "Googlebot/2.1 (+http://www.google.com/bot.html)"
		}
		v := encodePV(t, map[string]string{"url": pages[(i*7+len(key))%len(pages)], "user_agent": ua, "ip": "192.0.2.1"})
		rows := src.shards[key]
		src.shards[key] = append(rows, mapreduce.Row{
			TS: mapreduce.TimeUUID(ts, uint16(i), uint64(i)), Value: v, Index: int64(len(rows)), Offset: -1,
		})
	}
}

// countJob counts page views per account, local day and key(pv), checking on
// the way that the engine located each row correctly.
type countJob struct {
	key func(pv *mapreduce.PageView) string
}

type countKey struct {
	account int
	day     int32
	key     string
}

type countPartial struct {
	plan   *mapreduce.Plan
	counts map[countKey]int64
	errs   []string
}

func (j *countJob) NewPartial(plan *mapreduce.Plan) *countPartial {
	return &countPartial{plan: plan, counts: map[countKey]int64{}}
}

func (j *countJob) Map(p *countPartial, pv *mapreduce.PageView) {
	c := p.plan.Calendar
	h, d := c.Hours[pv.Bucket.Hour], c.Days[pv.Bucket.Day]
	if pv.Time < h.StartNs || pv.Time >= h.EndNs || pv.Time < d.StartNs || pv.Time >= d.EndNs ||
		int(pv.Bucket.Day) != h.Parent || int(pv.Bucket.Month) != d.Parent {
		p.errs = append(p.errs, fmt.Sprintf("row at %s in bucket %+v", mapreduce.UnixTime(pv.Time), pv.Bucket))
	}
	sk := p.plan.Shards[pv.Shard]
	if pv.Time < sk.Start().UnixNano() || pv.Time >= sk.End().UnixNano() {
		p.errs = append(p.errs, fmt.Sprintf("row at %s given shard %s", mapreduce.UnixTime(pv.Time), sk))
	}
	p.counts[countKey{pv.Account, pv.Bucket.Day, j.key(pv)}]++
}

func (j *countJob) Merge(dst, src *countPartial) {
	for k, n := range src.counts {
		dst.counts[k] += n
	}
	dst.errs = append(dst.errs, src.errs...)
}

func (j *countJob) Reports(p *countPartial, plan *mapreduce.Plan) []mapreduce.Report {
	rep := mapreduce.Report{Name: "count", Keys: []string{"key"}, Measures: mapreduce.Counts("pageviews")}
	for k, n := range p.counts {
		rep.Rows = append(rep.Rows, mapreduce.ReportRow{
			Account: plan.Accounts[k.account], Period: mapreduce.PeriodDay,
			Start: plan.Calendar.Days[k.day].Start, Keys: []string{k.key}, Values: []float64{float64(n)},
		})
	}
	if len(p.errs) > 0 {
		rep.Name = "ERRORS: " + strings.Join(p.errs[:min(5, len(p.errs))], "; ")
	}
	return []mapreduce.Report{rep}
}

func urlKey(pv *mapreduce.PageView) string { return string(pv.URL) }

func countTask(name string, opts ...mapreduce.TaskOption) mapreduce.Task {
	return mapreduce.NewTask(name, &countJob{key: urlKey}, opts...)
}

// referenceCount counts the rows of src in plan's range per account, local
// day and URL the plain way: every row, one at a time, decoded with
// msgpack.Unmarshal.
func referenceCount(t *testing.T, plan *mapreduce.Plan, src *memSource, keep func(map[string]string) bool) []mapreduce.ReportRow {
	t.Helper()
	counts := map[[3]string]int64{}
	starts := map[string]time.Time{}
	for _, sk := range plan.Shards {
		for _, r := range src.shards[sk.String()] {
			tm := mapreduce.UnixTime(r.Time())
			if tm.Before(plan.Start) || !tm.Before(plan.End) {
				continue
			}
			var f map[string]string
			if err := msgpack.Unmarshal(r.Value, &f); err != nil {
				t.Fatalf("reference decode: %v", err)
			}
			if keep != nil && !keep(f) {
				continue
			}
			lt := tm.In(plan.Loc)
			day := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, plan.Loc)
			d := day.Format("2006-01-02")
			starts[d] = day
			counts[[3]string{sk.Account, d, f["url"]}]++
		}
	}
	var rows []mapreduce.ReportRow
	for k, n := range counts {
		rows = append(rows, mapreduce.ReportRow{Account: k[0], Period: mapreduce.PeriodDay, Start: starts[k[1]], Keys: []string{k[2]}, Values: []float64{float64(n)}})
	}
	mapreduce.SortRows(rows)
	return rows
}

// sameRows compares report rows, with times compared as instants.
func sameRows(t *testing.T, what string, got, want []mapreduce.ReportRow) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d rows, want %d", what, len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Account != w.Account || g.Period != w.Period || !g.Start.Equal(w.Start) || !slices.Equal(g.Keys, w.Keys) || !slices.Equal(g.Values, w.Values) {
			t.Fatalf("%s: row %d = %+v, want %+v", what, i, g, w)
		}
	}
}

func newPlan(t testing.TB, accounts []string, from, to mapreduce.Date, loc *time.Location, slices int) *mapreduce.Plan {
	t.Helper()
	start, end, err := mapreduce.DayRange(from, to, loc)
	if err != nil {
		t.Fatal(err)
	}
	p, err := mapreduce.NewPlan(mapreduce.PlanSpec{Accounts: accounts, Start: start, End: end, Loc: loc, Slices: slices})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var testPages = []string{"/", "/a", "/b", "/c", "/d?x=1", "/e", "/f", "/g", "/h", "/i", "/j"}

func TestRunDeterministicAcrossWorkers(t *testing.T) {
	berlin := mustLoc(t, "Europe/Berlin")
	for _, split := range []mapreduce.Split{mapreduce.SplitShards, mapreduce.SplitSlices, mapreduce.SplitShardParts} {
		src := &memSource{split: split}
		for _, k := range []string{"20240731.blog", "20240801.blog", "20240802.blog", "20240731.shop", "20240801.shop", "20240802.shop"} {
			addRows(t, src, k, 500+len(k)*3, testPages)
		}
		plan := newPlan(t, []string{"shop", "blog"}, date(2024, 8, 1), date(2024, 8, 2), berlin, 24)
		want := referenceCount(t, plan, src, nil)
		var wantRows int64
		for _, r := range want {
			wantRows += int64(r.Primary())
		}
		for _, workers := range []int{1, 2, 8, 20} {
			t.Run(fmt.Sprintf("split%d/workers%d", split, workers), func(t *testing.T) {
				var items atomic.Int64
				var itemRows atomic.Int64
				res, err := mapreduce.Run(context.Background(), plan, src, []mapreduce.Task{countTask("count")}, mapreduce.Options{
					Workers:    workers,
					NewDecoder: pageview.NewMapreduceDecoder,
					OnItem: func(it mapreduce.WorkItem, rows int64) {
						items.Add(1)
						itemRows.Add(rows)
					},
				})
				if err != nil {
					t.Fatal(err)
				}
				if len(res.Reports) != 1 || res.Reports[0].Name != "count" {
					t.Fatalf("reports %v", res.Reports[0].Name)
				}
				sameRows(t, "report", res.Reports[0].Rows, want)
				s := res.Summary
				if s.Rows != wantRows || s.BadRows != 0 {
					t.Errorf("summary rows %d bad %d, want %d, 0", s.Rows, s.BadRows, wantRows)
				}
				wantItems := len(plan.Items(split))
				if split == mapreduce.SplitShardParts && workers > wantItems {
					wantItems *= (workers + wantItems - 1) / wantItems // cut into parts
				}
				if s.Workers != min(workers, s.Items) || s.Items != wantItems || int(items.Load()) != s.Items || itemRows.Load() != s.Rows {
					t.Errorf("summary %+v; OnItem saw %d items, %d rows", s, items.Load(), itemRows.Load())
				}
				if s.Shards != 6 || s.ShardsFound != 6 || s.ShardsMissing != 0 {
					t.Errorf("shards %d found %d missing %d", s.Shards, s.ShardsFound, s.ShardsMissing)
				}
			})
		}
	}
}

func TestRunBadRows(t *testing.T) {
	src := &memSource{split: mapreduce.SplitShards}
	addRows(t, src, "20240801.a", 100, testPages)
	addRows(t, src, "20240801.b", 100, testPages)
	a, b := src.shards["20240801.a"], src.shards["20240801.b"]
	a[10].Value = []byte{0x01}                                   // not a map
	a[20].Value = encodePV(t, map[string]string{"url": "x"})[:4] // truncated
	b[5].TS[6] = b[5].TS[6]&0x0f | 0x40                          // a version-4 uuid, same time bits
	plan := newPlan(t, []string{"a", "b"}, date(2024, 8, 1), date(2024, 8, 1), nil, 0)
	opts := func(budget string) mapreduce.Options {
		bgt, err := mapreduce.ParseBudget(budget)
		if err != nil {
			t.Fatal(err)
		}
		return mapreduce.Options{Workers: 1, NewDecoder: pageview.NewMapreduceDecoder, MaxBad: bgt}
	}
	wantBad := []struct {
		shard string
		index int64
		msg   string
	}{
		{"20240801.a", 10, "not a msgpack map"},
		{"20240801.a", 20, "truncated"},
		{"20240801.b", 5, "timeuuid"},
	}
	for _, budget := range []string{"3", "1.5%", "100%"} {
		t.Run("within "+budget, func(t *testing.T) {
			res, err := mapreduce.Run(context.Background(), plan, src, []mapreduce.Task{countTask("count")}, opts(budget))
			if err != nil {
				t.Fatal(err)
			}
			s := res.Summary
			if s.Rows != 200 || s.BadRows != 3 || len(s.BadSamples) != 3 {
				t.Fatalf("rows %d, bad %d, samples %d; want 200, 3, 3", s.Rows, s.BadRows, len(s.BadSamples))
			}
			for i, w := range wantBad {
				re := s.BadSamples[i]
				if re.Shard.String() != w.shard || re.Index != w.index || re.Offset != -1 || !strings.Contains(re.Error(), w.msg) {
					t.Errorf("bad row %d = %v (shard %s index %d), want shard %s index %d, %q", i, re, re.Shard, re.Index, w.shard, w.index, w.msg)
				}
				if !strings.HasPrefix(re.Error(), fmt.Sprintf("shard %s row %d: ", w.shard, w.index)) {
					t.Errorf("bad row error %q does not name shard and row first", re)
				}
			}
			var total int64
			for _, r := range res.Reports[0].Rows {
				total += int64(r.Primary())
			}
			if total != 197 {
				t.Errorf("report counts %d rows, want the 197 good ones", total)
			}
		})
	}
	for _, budget := range []string{"0", "2", "1%", "0%"} {
		t.Run("over "+budget, func(t *testing.T) {
			res, err := mapreduce.Run(context.Background(), plan, src, []mapreduce.Task{countTask("count")}, opts(budget))
			if !errors.Is(err, mapreduce.ErrTooManyBadRows) {
				t.Fatalf("err = %v, want ErrTooManyBadRows", err)
			}
			if res == nil || res.Reports != nil {
				t.Fatalf("a failed run returned reports")
			}
			var re *mapreduce.RowError
			if !errors.As(err, &re) || re.Shard.String() != "20240801.a" || re.Index != 10 {
				t.Errorf("error %v does not name the first bad row (20240801.a row 10)", err)
			}
			if !strings.Contains(err.Error(), "20240801.a row 10") || !strings.Contains(err.Error(), budget) {
				t.Errorf("error %q names neither the row nor the budget", err)
			}
			if strings.Contains(err.Error(), "--") {
				t.Errorf("error %q names a command-line flag; the engine knows none", err)
			}
		})
	}
}

// TestRunRowChecks: a source that reads whole shards may hand over every
// row, in any order. Rows outside their shard's UTC day are bad rows (named,
// counted, budgeted), rows of the day outside the run's range are skipped and
// counted, and the order of the rows changes nothing.
func TestRunRowChecks(t *testing.T) {
	berlin := mustLoc(t, "Europe/Berlin")
	// The Berlin day 2024-08-01 is [2024-07-31T22:00Z, 2024-08-01T22:00Z).
	plan := newPlan(t, []string{"a"}, date(2024, 8, 1), date(2024, 8, 1), berlin, 0)
	build := func(shuffle bool) *memSource {
		src := &memSource{split: mapreduce.SplitShards, leak: true}
		addRows(t, src, "20240731.a", 240, testPages) // one every 6 minutes
		addRows(t, src, "20240801.a", 240, testPages)
		if shuffle {
			for _, k := range []string{"20240731.a", "20240801.a"} {
				rows := src.shards[k]
				for i := range rows { // a fixed permutation: reverse odd, keep even
					if j := len(rows) - 1 - i; i < j && i%2 == 1 {
						rows[i], rows[j] = rows[j], rows[i]
					}
				}
			}
		}
		return src
	}
	// 20 rows of 2024-07-31 from 22:00 and 220 of 2024-08-01 until 22:00
	// are in range; the other 220 + 20 rows of the two days are skipped.
	const inRange, skipped = 240, 240
	ordered := build(false)
	want, err := mapreduce.Run(context.Background(), plan, ordered, []mapreduce.Task{countTask("count")},
		mapreduce.Options{NewDecoder: pageview.NewMapreduceDecoder})
	if err != nil {
		t.Fatal(err)
	}
	if s := want.Summary; s.Rows != inRange || s.Skipped != skipped || s.BadRows != 0 || s.ShardsFound != 2 {
		t.Fatalf("ordered shards: summary %+v, want %d rows, %d skipped", s, inRange, skipped)
	}
	sameRows(t, "ordered shards", want.Reports[0].Rows, referenceCount(t, plan, ordered, nil))

	t.Run("any order", func(t *testing.T) {
		got, err := mapreduce.Run(context.Background(), plan, build(true), []mapreduce.Task{countTask("count")},
			mapreduce.Options{Workers: 2, NewDecoder: pageview.NewMapreduceDecoder})
		if err != nil {
			t.Fatal(err)
		}
		if got.Summary.Rows != inRange || got.Summary.Skipped != skipped {
			t.Errorf("summary %+v", got.Summary)
		}
		sameRows(t, "shuffled shards", got.Reports[0].Rows, want.Reports[0].Rows)
	})

	t.Run("broken rows", func(t *testing.T) {
		src := build(false)
		rows := src.shards["20240801.a"]
		tooBig := errors.New("value over the size limit")
		type bad struct {
			index int
			cause error
			msg   string
		}
		wantBad := []bad{
			{10, mapreduce.ErrOutsideShard, "2024-08-05T10:00:00Z is not on 2024-08-01"},  // in range by neither day nor time
			{30, mapreduce.ErrOutsideShard, "1970-01-01T00:00:00Z is not on 2024-08-01"},  // a garbage time
			{50, mapreduce.ErrNotTimeUUID, "not a version-1 timeuuid"},                    // a version-4 uuid
			{70, tooBig, "value over the size limit"},                                     // the source could not read the value
			{235, mapreduce.ErrOutsideShard, "2024-08-02T00:00:00Z is not on 2024-08-01"}, // one past the day's end
		}
		rows[10].TS = mapreduce.TimeUUID(utc("2024-08-05T10:00:00Z"), 1, 1)
		rows[30].TS = mapreduce.TimeUUID(time.Unix(0, 0), 1, 1)
		rows[50].TS[6] = rows[50].TS[6]&0x0f | 0x40
		rows[70].Err, rows[70].Value = tooBig, nil
		rows[70].Offset, rows[70].Decompressed = 7000, true
		rows[235].TS = mapreduce.TimeUUID(utc("2024-08-02T00:00:00Z"), 1, 1)
		// A broken row of the day but outside the range is not looked at.
		rows[225].Value = []byte{0xc1}
		rows[226].Err = tooBig
		res, err := mapreduce.Run(context.Background(), plan, src, []mapreduce.Task{countTask("count")},
			mapreduce.Options{Workers: 1, NewDecoder: pageview.NewMapreduceDecoder, MaxBad: mapreduce.Budget{Count: 5}})
		if err != nil {
			t.Fatal(err)
		}
		s := res.Summary
		// Bad rows count as rows; row 235 (23:30) was skipped before it
		// moved out of the day.
		if s.BadRows != 5 || s.Rows != inRange+1 || s.Skipped != skipped-1 {
			t.Errorf("rows %d, bad %d, skipped %d; want %d, 5, %d", s.Rows, s.BadRows, s.Skipped, inRange+1, skipped-1)
		}
		if len(s.BadSamples) != len(wantBad) {
			t.Fatalf("bad samples %v", s.BadSamples)
		}
		for i, w := range wantBad {
			re := s.BadSamples[i]
			if re.Shard.String() != "20240801.a" || re.Index != int64(w.index) || !errors.Is(re, w.cause) || !strings.Contains(re.Error(), w.msg) {
				t.Errorf("bad row %d: %v, want row %d: %s", i, re, w.index, w.msg)
			}
		}
		if msg := s.BadSamples[3].Error(); !strings.Contains(msg, "row 70 (byte 7000 of the decompressed data)") {
			t.Errorf("a row of a compressed file: %q does not say its offset is in the decompressed data", msg)
		}
		var total int64
		for _, r := range res.Reports[0].Rows {
			total += int64(r.Primary())
		}
		if total != inRange-4 {
			t.Errorf("report counts %d rows, want %d", total, inRange-4)
		}
		// The bad rows are budgeted like any other.
		_, err = mapreduce.Run(context.Background(), plan, src, []mapreduce.Task{countTask("count")},
			mapreduce.Options{Workers: 1, NewDecoder: pageview.NewMapreduceDecoder, MaxBad: mapreduce.Budget{Count: 4}})
		if !errors.Is(err, mapreduce.ErrTooManyBadRows) || !strings.Contains(err.Error(), "20240801.a row 10") {
			t.Errorf("over budget: %v", err)
		}
		if err != nil && strings.Contains(err.Error(), "--") {
			t.Errorf("the engine's error %q names a command-line flag", err)
		}
	})
}

func TestRunMissingShards(t *testing.T) {
	src := &memSource{split: mapreduce.SplitSlices}
	addRows(t, src, "20240801.a", 50, testPages)
	addRows(t, src, "20240802.a", 50, testPages)
	addRows(t, src, "20240802.c", 50, testPages)
	// Shard 20240801.c exists but has no rows: it counts as missing too.
	src.shards["20240801.c"] = nil
	plan := newPlan(t, []string{"a", "b", "c"}, date(2024, 8, 1), date(2024, 8, 2), nil, 4)
	res, err := mapreduce.Run(context.Background(), plan, src, []mapreduce.Task{countTask("count")},
		mapreduce.Options{Workers: 2, NewDecoder: pageview.NewMapreduceDecoder})
	if err != nil {
		t.Fatal(err)
	}
	s := res.Summary
	var missing []string
	for _, k := range s.Missing {
		missing = append(missing, k.String())
	}
	if want := []string{"20240801.b", "20240801.c", "20240802.b"}; !slices.Equal(missing, want) {
		t.Errorf("missing %v, want %v", missing, want)
	}
	if s.Shards != 6 || s.ShardsFound != 3 || s.ShardsMissing != 3 || s.Rows != 150 {
		t.Errorf("summary %+v", s)
	}
}

// TestRunUnreadShards: a failed or cancelled run counts the shards it did
// not finish reading as unread, not as missing; missing is kept for shards
// read to the end that have no rows.
func TestRunUnreadShards(t *testing.T) {
	src := &memSource{split: mapreduce.SplitShards}
	addRows(t, src, "20240801.b", 50, testPages)
	addRows(t, src, "20240802.a", 50, testPages)
	addRows(t, src, "20240802.b", 50, testPages)
	plan := newPlan(t, []string{"a", "b"}, date(2024, 8, 1), date(2024, 8, 2), nil, 0)
	// One worker reads the items in account, then time order: 20240801.a
	// (missing), 20240802.a, then 20240801.b fails; 20240802.b is never
	// started.
	fire := errors.New("disk on fire")
	res, err := mapreduce.Run(context.Background(), plan, &shardFailer{src, "20240801.b", utc("2024-08-01T00:00:00Z"), fire},
		[]mapreduce.Task{countTask("count")}, mapreduce.Options{Workers: 1, NewDecoder: pageview.NewMapreduceDecoder})
	if !errors.Is(err, fire) {
		t.Fatalf("err = %v", err)
	}
	s := res.Summary
	if s.ShardsFound != 1 || s.ShardsMissing != 1 || s.ShardsUnread != 2 || len(s.Missing) != 1 || s.Missing[0].String() != "20240801.a" {
		t.Errorf("failed run: found %d, missing %d %v, unread %d; want 1, 1 [20240801.a], 2", s.ShardsFound, s.ShardsMissing, s.Missing, s.ShardsUnread)
	}
	// The same with slices: a shard is read when all of its slices are.
	src.split = mapreduce.SplitSlices
	res, err = mapreduce.Run(context.Background(), plan, &shardFailer{src, "20240802.b", utc("2024-08-02T23:00:00Z"), fire},
		[]mapreduce.Task{countTask("count")}, mapreduce.Options{Workers: 1, NewDecoder: pageview.NewMapreduceDecoder})
	if !errors.Is(err, fire) {
		t.Fatalf("err = %v", err)
	}
	s = res.Summary
	if s.ShardsFound != 2 || s.ShardsMissing != 1 || s.ShardsUnread != 1 {
		t.Errorf("failed run by slices: found %d, missing %d, unread %d; want 2, 1, 1", s.ShardsFound, s.ShardsMissing, s.ShardsUnread)
	}
}

func TestRunItemError(t *testing.T) {
	fire := errors.New("disk on fire")
	for _, tc := range []struct {
		split mapreduce.Split
		shard string
		start time.Time
		slice int
		desc  string
	}{
		{mapreduce.SplitSlices, "20240801.b", utc("2024-08-01T05:00:00Z"), 5, "20240801.b [05:00:00,06:00:00)"},
		{mapreduce.SplitShards, "20240801.a", utc("2024-08-01T00:00:00Z"), 0, "20240801.a [00:00:00,24:00:00)"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			src := &memSource{split: tc.split}
			addRows(t, src, "20240801.a", 50, testPages)
			addRows(t, src, "20240801.b", 50, testPages)
			plan := newPlan(t, []string{"a", "b"}, date(2024, 8, 1), date(2024, 8, 1), nil, 24)
			res, err := mapreduce.Run(context.Background(), plan, &shardFailer{src, tc.shard, tc.start, fire},
				[]mapreduce.Task{countTask("count")}, mapreduce.Options{Workers: 2, NewDecoder: pageview.NewMapreduceDecoder})
			checkItemError(t, res, err, fire, tc.shard, tc.slice, tc.desc)
		})
	}
}

// shardFailer fails the item of one shard that starts at start.
type shardFailer struct {
	*memSource
	shard string
	start time.Time
	err   error
}

func (f *shardFailer) Read(ctx context.Context, item mapreduce.WorkItem, fn func(*mapreduce.Row) error) error {
	if item.Shard.String() == f.shard && item.Start.Equal(f.start) {
		return f.err
	}
	return f.memSource.Read(ctx, item, fn)
}

func checkItemError(t *testing.T, res *mapreduce.Result, err, cause error, shard string, slice int, desc string) {
	t.Helper()
	var ie *mapreduce.ItemError
	if !errors.As(err, &ie) {
		t.Fatalf("err = %v (%T), want *ItemError", err, err)
	}
	if !errors.Is(err, cause) {
		t.Errorf("error %v does not wrap the source's error", err)
	}
	if ie.Item.Shard.String() != shard || ie.Item.Slice != slice {
		t.Errorf("ItemError names %s slice %d, want %s slice %d", ie.Item.Shard, ie.Item.Slice, shard, slice)
	}
	if !strings.Contains(err.Error(), desc) {
		t.Errorf("error %q does not name the item %q", err, desc)
	}
	if res == nil || res.Reports != nil {
		t.Errorf("failed run returned reports")
	}
}

// blockingSource blocks in Read until ctx is done.
type blockingSource struct{ started chan struct{} }

func (s *blockingSource) Split() mapreduce.Split { return mapreduce.SplitSlices }
func (s *blockingSource) Read(ctx context.Context, _ mapreduce.WorkItem, _ func(*mapreduce.Row) error) error {
	select {
	case s.started <- struct{}{}:
	default:
	}
	<-ctx.Done()
	return ctx.Err()
}

// endlessSource streams the same valid row forever and never looks at ctx:
// only fn's error stops it.
type endlessSource struct {
	row     mapreduce.Row
	started chan struct{}
}

func (s *endlessSource) Split() mapreduce.Split { return mapreduce.SplitShards }
func (s *endlessSource) Read(_ context.Context, _ mapreduce.WorkItem, fn func(*mapreduce.Row) error) error {
	select {
	case s.started <- struct{}{}:
	default:
	}
	r := s.row
	for {
		if err := fn(&r); err != nil {
			return err
		}
		r.Index++
	}
}

func TestRunCancel(t *testing.T) {
	plan := newPlan(t, []string{"a", "b"}, date(2024, 8, 1), date(2024, 8, 3), nil, 24)
	endless := &endlessSource{started: make(chan struct{}, 1), row: mapreduce.Row{
		TS:    mapreduce.TimeUUID(utc("2024-08-01T12:00:00Z"), 1, 1),
		Value: encodePV(t, map[string]string{"url": "/"}),
	}}
	for name, src := range map[string]interface {
		mapreduce.Source
	}{
		"blocking": &blockingSource{started: make(chan struct{}, 1)},
		"endless":  endless,
	} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			type result struct {
				res *mapreduce.Result
				err error
			}
			done := make(chan result, 1)
			go func() {
				res, err := mapreduce.Run(ctx, plan, src, []mapreduce.Task{countTask("count")},
					mapreduce.Options{Workers: 2, NewDecoder: pageview.NewMapreduceDecoder})
				done <- result{res, err}
			}()
			var started chan struct{}
			switch s := src.(type) {
			case *blockingSource:
				started = s.started
			case *endlessSource:
				started = s.started
			}
			select {
			case <-started:
			case <-time.After(5 * time.Second):
				t.Fatal("source never read")
			}
			// The source is inside Read: cancel now.
			cancel()
			t0 := time.Now()
			select {
			case r := <-done:
				if !errors.Is(r.err, context.Canceled) {
					t.Errorf("err = %v, want context.Canceled", r.err)
				}
				if r.res == nil || r.res.Reports != nil {
					t.Fatalf("cancelled run returned reports")
				}
				if s := r.res.Summary; s.ShardsMissing != 0 || s.ShardsFound+s.ShardsUnread != s.Shards || s.ShardsUnread == 0 {
					t.Errorf("cancelled run: %d shards found, %d missing, %d unread of %d", s.ShardsFound, s.ShardsMissing, s.ShardsUnread, s.Shards)
				}
				if d := time.Since(t0); d > 2*time.Second {
					t.Errorf("Run took %s to stop", d)
				}
			case <-time.After(2 * time.Second):
				t.Fatal("Run did not return within 2s of cancel")
			}
		})
	}
	t.Run("cancelled before start", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		src := &memSource{split: mapreduce.SplitSlices}
		addRows(t, src, "20240801.a", 10, testPages)
		res, err := mapreduce.Run(ctx, plan, src, []mapreduce.Task{countTask("count")}, mapreduce.Options{NewDecoder: pageview.NewMapreduceDecoder})
		if !errors.Is(err, context.Canceled) || res == nil || res.Reports != nil {
			t.Fatalf("Run with a cancelled context = %v, %v", res, err)
		}
		if s := res.Summary; s.ShardsMissing != 0 || len(s.Missing) != 0 {
			t.Errorf("a run cancelled before it started counts %d shards missing", s.ShardsMissing)
		}
	})
}

func TestRunBots(t *testing.T) {
	src := &memSource{split: mapreduce.SplitSlices}
	addRows(t, src, "20240801.a", 200, testPages)
	plan := newPlan(t, []string{"a"}, date(2024, 8, 1), date(2024, 8, 1), nil, 8)
	isBot := func(f map[string]string) bool { return strings.Contains(strings.ToLower(f["user_agent"]), "bot") }
	humans := referenceCount(t, plan, src, func(f map[string]string) bool { return !isBot(f) })
	everyone := referenceCount(t, plan, src, nil)
	if len(humans) == 0 || reflect.DeepEqual(humans, everyone) {
		t.Fatal("test data has no bots")
	}
	var enrichers atomic.Int64
	var mu sync.Mutex
	var stale []string
	newEnricher := func() func(*mapreduce.PageView) {
		enrichers.Add(1)
		return func(pv *mapreduce.PageView) {
			if pv.Agent != nil {
				mu.Lock()
				stale = append(stale, "Agent not reset before the enricher")
				mu.Unlock()
			}
			bot := strings.Contains(strings.ToLower(string(pv.UserAgent)), "bot")
			class := "desktop"
			if bot {
				class = "bot"
			}
			pv.Agent = &mapreduce.Agent{Class: class, Bot: bot}
		}
	}
	for _, include := range []bool{false, true} {
		t.Run(fmt.Sprintf("IncludeBots=%v", include), func(t *testing.T) {
			enrichers.Store(0)
			res, err := mapreduce.Run(context.Background(), plan, src,
				[]mapreduce.Task{countTask("humans"), countTask("all", mapreduce.WithBots())},
				mapreduce.Options{Workers: 3, NewDecoder: pageview.NewMapreduceDecoder, NewEnricher: newEnricher, IncludeBots: include})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Reports) != 2 {
				t.Fatalf("%d reports", len(res.Reports))
			}
			wantHumans := humans
			if include {
				wantHumans = everyone
			}
			sameRows(t, "task without WithBots", res.Reports[0].Rows, wantHumans)
			sameRows(t, "task WithBots", res.Reports[1].Rows, everyone)
			if n := enrichers.Load(); n != 3 {
				t.Errorf("NewEnricher called %d times, want once per worker (3)", n)
			}
			if len(stale) > 0 {
				t.Error(stale[0])
			}
		})
	}
}

func TestRunOptions(t *testing.T) {
	plan := newPlan(t, []string{"a"}, date(2024, 8, 1), date(2024, 8, 1), nil, 0)
	src := &memSource{split: mapreduce.SplitShards}
	if _, err := mapreduce.Run(context.Background(), plan, src, nil, mapreduce.Options{}); err == nil {
		t.Error("Run without NewDecoder succeeded")
	}
	// No rows at all: the tasks still report (empty), the shard is missing.
	res, err := mapreduce.Run(context.Background(), plan, src, []mapreduce.Task{countTask("count")},
		mapreduce.Options{Workers: 4, NewDecoder: pageview.NewMapreduceDecoder})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Reports) != 1 || len(res.Reports[0].Rows) != 0 || res.Summary.Workers != 1 || res.Summary.ShardsMissing != 1 {
		t.Errorf("empty run: %+v", res)
	}
}

// TestRunSplitsReadEveryRowOnce runs the urls job over generated data read as
// time slices and as whole shards: the reports and the row counts must be
// the same, and every row in range read exactly once.
func TestRunSplitsReadEveryRowOnce(t *testing.T) {
	rowsPerDay := 3000
	if testing.Short() {
		rowsPerDay = 500
	}
	g, err := synth.New(synth.Config{Accounts: []string{"blog", "shop"}, From: date(2024, 7, 31), To: date(2024, 8, 3), RowsPerDay: rowsPerDay, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	bySlices, byShards := g.Memory(mapreduce.SplitSlices), g.Memory(mapreduce.SplitShards)
	berlin := mustLoc(t, "Europe/Berlin")
	for _, tc := range []struct {
		name     string
		from, to mapreduce.Date
		loc      *time.Location
		slices   int
	}{
		{"utc whole range", date(2024, 7, 31), date(2024, 8, 3), time.UTC, 24},
		{"berlin two days", date(2024, 8, 1), date(2024, 8, 2), berlin, 96},
		{"berlin 7 slices", date(2024, 8, 1), date(2024, 8, 1), berlin, 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan := newPlan(t, []string{"blog", "shop"}, tc.from, tc.to, tc.loc, tc.slices)
			// The rows in range, counted directly from the generator.
			var inRange int64
			for _, sk := range plan.Shards {
				for _, r := range g.Rows(sk) {
					if ns := mapreduce.UUIDTime(r.TS); ns >= plan.Start.UnixNano() && ns < plan.End.UnixNano() {
						inRange++
					}
				}
			}
			var results []*mapreduce.Result
			seen := map[mapreduce.Split]map[string]int{}
			for _, src := range []*synth.MemSource{bySlices, byShards} {
				var mu sync.Mutex
				items := map[string]int{}
				res, err := mapreduce.Run(context.Background(), plan, src, []mapreduce.Task{urls.New(urls.Options{})},
					mapreduce.Options{Workers: 4, NewDecoder: pageview.NewMapreduceDecoder, OnItem: func(it mapreduce.WorkItem, _ int64) {
						mu.Lock()
						items[it.String()]++
						mu.Unlock()
					}})
				if err != nil {
					t.Fatal(err)
				}
				results = append(results, res)
				seen[src.Split()] = items
			}
			if len(seen[mapreduce.SplitSlices]) != len(plan.Items(mapreduce.SplitSlices)) {
				t.Errorf("slice items read %d, planned %d", len(seen[mapreduce.SplitSlices]), len(plan.Items(mapreduce.SplitSlices)))
			}
			for _, m := range seen {
				for it, n := range m {
					if n != 1 {
						t.Errorf("item %s read %d times", it, n)
					}
				}
			}
			a, b := results[0], results[1]
			if a.Summary.Rows != inRange || b.Summary.Rows != inRange {
				t.Errorf("rows read: slices %d, shards %d; %d in range", a.Summary.Rows, b.Summary.Rows, inRange)
			}
			if !reflect.DeepEqual(a.Reports, b.Reports) {
				t.Errorf("reports differ between SplitSlices and SplitShards")
			}
			var total int64
			for _, r := range a.Reports[0].Rows {
				if r.Period == mapreduce.PeriodRange {
					total += int64(r.Primary())
				}
			}
			if total != inRange {
				t.Errorf("range rows of the urls report sum to %d, want %d", total, inRange)
			}
			if got := slices.Collect(maps.Keys(seen)); len(got) != 2 {
				t.Errorf("splits %v", got)
			}
		})
	}
}

// gatedSource streams rows of one shard and, after the first pause rows,
// signals paused and waits for resume before handing over the rest.
type gatedSource struct {
	memSource
	pause          int
	paused, resume chan struct{}
}

func (g *gatedSource) Read(ctx context.Context, item mapreduce.WorkItem, fn func(*mapreduce.Row) error) error {
	n := 0
	return g.memSource.Read(ctx, item, func(r *mapreduce.Row) error {
		if n++; n == g.pause+1 {
			g.paused <- struct{}{}
			<-g.resume
		}
		return fn(r)
	})
}

// TestReadCountsLive shows Options.Read counting the rows of a work item
// before it finishes (what progress shows on a one-item file shard) and
// agreeing with Summary.Rows at the end.
func TestReadCountsLive(t *testing.T) {
	src := &gatedSource{memSource: memSource{split: mapreduce.SplitShards}, pause: 5000,
		paused: make(chan struct{}), resume: make(chan struct{})}
	addRows(t, &src.memSource, "20240801.a", 8000, []string{"/", "/x"})
	plan := newPlan(t, []string{"a"}, date(2024, 8, 1), date(2024, 8, 2), nil, 24)
	var read atomic.Int64
	var items atomic.Int64
	type result struct {
		res *mapreduce.Result
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := mapreduce.Run(context.Background(), plan, src, []mapreduce.Task{countTask("count")},
			mapreduce.Options{Workers: 1, NewDecoder: pageview.NewMapreduceDecoder, Read: &read,
				OnItem: func(mapreduce.WorkItem, int64) { items.Add(1) }})
		done <- result{res, err}
	}()
	<-src.paused
	if got := read.Load(); got < 5000-1024 || got > 5000 {
		t.Errorf("Read = %d with 5000 rows handed over and the item unfinished; want within 1024 rows below 5000", got)
	}
	if items.Load() != 0 {
		t.Errorf("an item finished before its rows were all read")
	}
	close(src.resume)
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if got, want := read.Load(), r.res.Summary.Rows; got != want || want != 8000 {
		t.Errorf("Read = %d at the end, Summary.Rows = %d; want both 8000", got, want)
	}
}
