package redis_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/mapreduce/hll"
	"github.com/pvjobs/pvjobs/reports/redis"
	"github.com/pvjobs/pvjobs/reports/redis/redistest"
)

// The tests in this file run against a real Redis at $PVJOBS_REDIS_ADDR
// (see package redistest), each under a key prefix of its own whose keys
// are deleted at the end.

// redisAddr returns $PVJOBS_REDIS_ADDR, or skips (or fails) the test.
func redisAddr(t testing.TB) string { return redistest.Addr(t) }

// testRedis returns a client of the test server and a key prefix of the
// test's own, whose keys are deleted when the test ends.
func testRedis(t testing.TB) (*goredis.Client, string) {
	t.Helper()
	c := redistest.Client(t)
	return c, redistest.Prefix(t, c, "pvtest")
}

func scan(t testing.TB, c goredis.UniversalClient, pattern string) []string {
	t.Helper()
	return redistest.Keys(t, c, pattern)
}

// dumpAll returns DUMP of every key of the prefix, temporary keys included.
func dumpAll(t testing.TB, c *goredis.Client, prefix string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, k := range scan(t, c, prefix+":*") {
		v, err := c.Dump(context.Background(), k).Result()
		if err != nil {
			t.Fatalf("DUMP %s: %v", k, err)
		}
		out[k] = v
	}
	return out
}

func sameDumps(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	for k, v := range want {
		g, ok := got[k]
		switch {
		case !ok:
			t.Errorf("%s: key %s is gone", what, k)
		case g != v:
			i := 0
			for i < len(g) && i < len(v) && g[i] == v[i] {
				i++
			}
			t.Errorf("%s: key %s changed: DUMP of %d bytes, was %d, first difference at byte %d", what, k, len(g), len(v), i)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: new key %s", what, k)
		}
	}
}

// utcPlan returns the plan of account(s) over [from, from+days) in loc.
func plan(t testing.TB, loc *time.Location, from string, days int, accounts ...string) *mapreduce.Plan {
	t.Helper()
	d, err := time.ParseInLocation("2006-01-02", from, loc)
	if err != nil {
		t.Fatal(err)
	}
	p, err := mapreduce.NewPlan(mapreduce.PlanSpec{Accounts: accounts, Start: d, End: d.AddDate(0, 0, days), Loc: loc})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// sketchOf returns the sketch of the visitors prefix0 .. prefix(n-1).
func sketchOf(prefix string, n int) *hll.Sketch {
	s := hll.New()
	buf := []byte(prefix)
	for i := 0; i < n; i++ {
		s.Add(strconv.AppendInt(buf[:len(prefix)], int64(i), 10))
	}
	return s
}

// uvRows returns the rows the uniques job makes from per-hour sketches
// (index into p.Calendar.Hours): hours, days, months, the range.
func uvRows(p *mapreduce.Plan, account string, hours map[int]*hll.Sketch) []mapreduce.ReportRow {
	cal := p.Calendar
	var rows []mapreduce.ReportRow
	days := make([]*hll.Sketch, len(cal.Days))
	months := make([]*hll.Sketch, len(cal.Months))
	total := hll.New()
	for i := range days {
		days[i] = hll.New()
	}
	for i := range months {
		months[i] = hll.New()
	}
	row := func(per mapreduce.Period, s *mapreduce.Span, sk *hll.Sketch) {
		rows = append(rows, mapreduce.ReportRow{Account: account, Period: per, Start: s.Start, Sketch: sk,
			Values: []float64{float64(int64(sk.Count()))}, Partial: !s.Covers(p.Start, p.End)})
	}
	for h := range cal.Hours {
		if sk := hours[h]; sk != nil {
			row(mapreduce.PeriodHour, &cal.Hours[h], sk)
			days[cal.Hours[h].Parent].Merge(sk)
		}
	}
	for d := range cal.Days {
		row(mapreduce.PeriodDay, &cal.Days[d], days[d])
		months[cal.Days[d].Parent].Merge(days[d])
	}
	for m := range cal.Months {
		row(mapreduce.PeriodMonth, &cal.Months[m], months[m])
		total.Merge(months[m])
	}
	row(mapreduce.PeriodRange, &mapreduce.Span{Start: p.Start.In(p.Loc), End: p.End.In(p.Loc)}, total)
	return rows
}

// countRows returns day rows of a counting report: members "page/N" with
// counts, per account and day.
func countRows(p *mapreduce.Plan, account string, perDay int, seed uint64) []mapreduce.ReportRow {
	r := rand.New(rand.NewPCG(seed, 7))
	var rows []mapreduce.ReportRow
	total := map[string]int64{}
	for d := range p.Calendar.Days {
		for i := 0; i < perDay; i++ {
			url := "/page/" + strconv.Itoa(i)
			n := int64(1 + r.IntN(1000))
			rows = append(rows, mapreduce.ReportRow{Account: account, Period: mapreduce.PeriodDay, Start: p.Calendar.Days[d].Start,
				Keys: []string{url}, Values: []float64{float64(n)}})
			total[url] += n
		}
	}
	for url, n := range total {
		rows = append(rows, mapreduce.ReportRow{Account: account, Period: mapreduce.PeriodRange, Start: p.Start.In(p.Loc), Keys: []string{url}, Values: []float64{float64(n)}})
	}
	return rows
}

func write(t testing.TB, c goredis.UniversalClient, opt redis.Options, reps []mapreduce.Report, p *mapreduce.Plan) redis.Stats {
	t.Helper()
	st, err := redis.NewWriter(c, opt).Write(context.Background(), reps, p)
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	return st
}

func registers(t testing.TB, c *goredis.Client, key string) []int64 {
	t.Helper()
	// PFDEBUG GETREG turns a sparse key dense: ask on a copy.
	cp := key + ":copy"
	if err := c.Copy(context.Background(), key, cp, 0, true).Err(); err != nil {
		t.Fatalf("COPY %s: %v", key, err)
	}
	defer c.Del(context.Background(), cp)
	regs, err := c.Do(context.Background(), "PFDEBUG", "GETREG", cp).Int64Slice()
	if err != nil {
		t.Fatalf("PFDEBUG GETREG %s: %v", key, err)
	}
	return regs
}

func pfadd(t testing.TB, c *goredis.Client, key, prefix string, from, to int) int64 {
	t.Helper()
	ctx := context.Background()
	pipe := c.Pipeline()
	var cmds []*goredis.IntCmd
	if from == to {
		cmds = append(cmds, pipe.PFAdd(ctx, key))
	}
	for i := from; i < to; i += 1000 {
		var args []any
		for j := i; j < min(i+1000, to); j++ {
			args = append(args, prefix+strconv.Itoa(j))
		}
		cmds = append(cmds, pipe.PFAdd(ctx, key, args...))
		if len(cmds)%100 == 0 {
			if _, err := pipe.Exec(ctx); err != nil {
				t.Fatalf("PFADD: %v", err)
			}
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatalf("PFADD: %v", err)
	}
	var sum int64
	for _, c := range cmds {
		sum += c.Val()
	}
	return sum
}

func pfcount(t testing.TB, c *goredis.Client, keys ...string) int64 {
	t.Helper()
	n, err := c.PFCount(context.Background(), keys...).Result()
	if err != nil {
		t.Fatalf("PFCOUNT %v: %v", keys, err)
	}
	return n
}

// TestSinkHLLMatchesPFADD writes a uniques report whose hours hold 0, 1, 10,
// 1e3, 1e4, 1e5 and 1e6 visitors through the sink and compares every hour key
// with a key built by PFADDing the same visitors: PFCOUNT, registers, PFADDs
// after, and PFMERGE of the sink's hours against the sink's own day.
func TestSinkHLLMatchesPFADD(t *testing.T) {
	c, prefix := testRedis(t)
	sizes := []int{0, 1, 10, 1000, 10_000, 100_000, 1_000_000}
	if testing.Short() {
		sizes = sizes[:5]
	}
	p := plan(t, time.UTC, "2024-08-01", 1, "blog")
	hours := map[int]*hll.Sketch{}
	for h, n := range sizes {
		hours[h] = sketchOf(fmt.Sprintf("v%d-", n), n)
	}
	rep := mapreduce.Report{Name: "uniques", Measures: mapreduce.Counts("visitors"), Rows: uvRows(p, "blog", hours)}
	keys := redis.Keys{Prefix: prefix}
	write(t, c, redis.Options{Prefix: prefix, Range: true}, []mapreduce.Report{rep}, p)
	var hourKeys []string
	for h, n := range sizes {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			key := keys.Key("blog", "uv", fmt.Sprintf("20240801%02d", h))
			hourKeys = append(hourKeys, key)
			ref := prefix + ":ref:" + strconv.Itoa(n)
			pfadd(t, c, ref, fmt.Sprintf("v%d-", n), 0, n)
			ours, err := c.Get(context.Background(), key).Bytes()
			if err != nil {
				t.Fatalf("GET %s: %v", key, err)
			}
			theirs, _ := c.Get(context.Background(), ref).Bytes()
			if want := hours[h].AppendRedis(nil); !bytes.Equal(ours, want) {
				t.Errorf("the sink wrote %d bytes, not the sketch's Redis value (%d bytes)", len(ours), len(want))
			}
			t.Logf("%d visitors: sink value %d bytes (%s), PFADD value %d bytes (%s), byte-identical: %v",
				n, len(ours), enc(ours), len(theirs), enc(theirs), bytes.Equal(ours, theirs))
			if got, want := pfcount(t, c, key), pfcount(t, c, ref); got != want {
				t.Errorf("PFCOUNT: sink key %d, PFADD key %d", got, want)
			}
			if got, want := pfcount(t, c, key), int64(hours[h].Count()); got != want {
				t.Errorf("PFCOUNT %d, sketch count %d", got, want)
			}
			if !slices.Equal(registers(t, c, key), registers(t, c, ref)) {
				t.Errorf("PFDEBUG GETREG: registers differ")
			}
			// Later PFADDs: half new visitors, half known ones.
			extra := max(n/10, 5)
			a := pfadd(t, c, key, fmt.Sprintf("v%d-", n), n-extra/2, n+extra)
			b := pfadd(t, c, ref, fmt.Sprintf("v%d-", n), n-extra/2, n+extra)
			if a != b {
				t.Errorf("PFADD after: sink key altered %d times, PFADD key %d", a, b)
			}
			if got, want := pfcount(t, c, key), pfcount(t, c, ref); got != want {
				t.Errorf("PFCOUNT after PFADD: sink key %d, PFADD key %d", got, want)
			}
			if !slices.Equal(registers(t, c, key), registers(t, c, ref)) {
				t.Errorf("PFDEBUG GETREG after PFADD: registers differ")
			}
		})
	}
	t.Run("PFMERGE", func(t *testing.T) {
		// A fresh write: the hour keys were PFADDed to above.
		write(t, c, redis.Options{Prefix: prefix, Range: true}, []mapreduce.Report{rep}, p)
		merged := prefix + ":merged"
		if err := c.PFMerge(context.Background(), merged, hourKeys...).Err(); err != nil {
			t.Fatal(err)
		}
		day := keys.Key("blog", "uv", "20240801")
		if !slices.Equal(registers(t, c, merged), registers(t, c, day)) {
			t.Errorf("PFMERGE of the hour keys and the sink's day key: registers differ")
		}
		if got, want := pfcount(t, c, merged), pfcount(t, c, day); got != want {
			t.Errorf("PFCOUNT: PFMERGE of hours %d, day key %d", got, want)
		}
		if got, want := pfcount(t, c, hourKeys...), pfcount(t, c, keys.Key("blog", "uv", "20240801-20240801")); got != want {
			t.Errorf("PFCOUNT of the hours %d, range key %d", got, want)
		}
	})
}

func enc(v []byte) string {
	switch {
	case len(v) < 5:
		return "none"
	case v[4] == 0:
		return "dense"
	}
	return "sparse"
}

// TestSinkSortedSets writes counting reports and reads them back.
func TestSinkSortedSets(t *testing.T) {
	c, prefix := testRedis(t)
	ctx := context.Background()
	p := plan(t, time.UTC, "2024-08-01", 2, "blog", "shop")
	var rows []mapreduce.ReportRow
	rows = append(rows, countRows(p, "blog", 50, 1)...)
	rows = append(rows, countRows(p, "shop", 5, 2)...)
	rows = append(rows, mapreduce.ReportRow{Account: "blog", Period: mapreduce.PeriodDay, Start: p.Calendar.Days[0].Start,
		Keys: []string{"google", "pvjobs redis"}, Values: []float64{float64(3)}})
	reps := []mapreduce.Report{
		{Name: "urls", Keys: []string{"url"}, Measures: mapreduce.Counts("pageviews"), Rows: rows[:len(rows)-1]},
		{Name: "searchterms", Keys: []string{"engine", "term"}, Measures: mapreduce.Counts("pageviews"), Rows: rows[len(rows)-1:]},
	}
	st := write(t, c, redis.Options{Prefix: prefix, Top: 10, TTL: time.Hour, Range: true, Batch: 7, Pipeline: 5}, reps, p)
	keys := redis.Keys{Prefix: prefix}
	want := []string{
		keys.Key("blog", "searchterms", "20240801"),
		keys.Key("blog", "urls", "20240801"), keys.Key("blog", "urls", "20240801-20240802"), keys.Key("blog", "urls", "20240802"),
		keys.Key("shop", "urls", "20240801"), keys.Key("shop", "urls", "20240801-20240802"), keys.Key("shop", "urls", "20240802"),
	}
	if got := scan(t, c, prefix+":*"); !slices.Equal(got, want) {
		t.Errorf("keys =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if st.Replaced != 7 || st.Accounts != 2 || st.Trimmed != 3*(50-10) {
		t.Errorf("stats %+v", st)
	}
	// The top 10 of blog's first day, as ZREVRANGE lists them.
	var day []mapreduce.ReportRow
	for _, r := range rows {
		if r.Account == "blog" && r.Period == mapreduce.PeriodDay && r.Start.Equal(p.Calendar.Days[0].Start) && len(r.Keys) == 1 {
			day = append(day, r)
		}
	}
	slices.SortFunc(day, func(a, b mapreduce.ReportRow) int {
		if int64(a.Primary()) != int64(b.Primary()) {
			return int(int64(b.Primary()) - int64(a.Primary()))
		}
		return strings.Compare(b.Keys[0], a.Keys[0])
	})
	got, err := c.ZRevRangeWithScores(ctx, keys.Key("blog", "urls", "20240801"), 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 10 {
		t.Fatalf("ZREVRANGE: %d members, want 10 (--top)", len(got))
	}
	for i, z := range got {
		if z.Member != day[i].Keys[0] || int64(z.Score) != int64(day[i].Primary()) {
			t.Errorf("rank %d: %v %v, want %s %d", i, z.Member, z.Score, day[i].Keys[0], int64(day[i].Primary()))
		}
	}
	if m, _ := c.ZRange(ctx, keys.Key("blog", "searchterms", "20240801"), 0, -1).Result(); !slices.Equal(m, []string{"google\tpvjobs redis"}) {
		t.Errorf("searchterms members %q, want the keys joined by a tab", m)
	}
	if ttl := c.TTL(ctx, keys.Key("shop", "urls", "20240802")).Val(); ttl <= 59*time.Minute || ttl > time.Hour {
		t.Errorf("TTL %v, want 1h", ttl)
	}
	// A re-run without the range and without blog's second day (no rows):
	// the day key goes, the range key stays, TTLs go.
	var fewer []mapreduce.ReportRow
	for _, r := range reps[0].Rows {
		if r.Period == mapreduce.PeriodDay && (r.Account == "shop" || r.Start.Equal(p.Calendar.Days[0].Start)) {
			fewer = append(fewer, r)
		}
	}
	st = write(t, c, redis.Options{Prefix: prefix}, []mapreduce.Report{{Name: "urls", Keys: []string{"url"}, Rows: fewer}}, p)
	if ok := c.Exists(ctx, keys.Key("blog", "urls", "20240802")).Val(); ok != 0 {
		t.Errorf("blog's second day still has a key")
	}
	if n := c.ZCard(ctx, keys.Key("blog", "urls", "20240801")).Val(); n != 50 {
		t.Errorf("blog's first day: %d members, want 50 (no --top)", n)
	}
	if ttl := c.TTL(ctx, keys.Key("shop", "urls", "20240802")).Val(); ttl != -1 {
		t.Errorf("TTL %v, want none", ttl)
	}
	if c.Exists(ctx, keys.Key("blog", "urls", "20240801-20240802")).Val() != 1 {
		t.Errorf("the range key went, though the re-run wrote no range")
	}
	if st.Deleted != 1 || st.Replaced != 3 {
		t.Errorf("stats %+v, want 1 deleted, 3 replaced", st)
	}
	if left := scan(t, c, prefix+":*:tmp:*"); len(left) > 0 {
		t.Errorf("temporary keys left: %v", left)
	}
}

// TestSinkRerunIdentical writes the same reports twice: every key is
// byte-identical (DUMP) afterwards.
func TestSinkRerunIdentical(t *testing.T) {
	c, prefix := testRedis(t)
	berlin := mustLoad(t, "Europe/Berlin")
	p := plan(t, berlin, "2024-10-26", 3, "blog") // across the fall-back
	hours := map[int]*hll.Sketch{}
	for h := range p.Calendar.Hours {
		hours[h] = sketchOf(fmt.Sprintf("h%d-", h), 10*h)
	}
	reps := []mapreduce.Report{
		{Name: "uniques", Rows: uvRows(p, "blog", hours)},
		{Name: "urls", Keys: []string{"url"}, Rows: countRows(p, "blog", 300, 3)},
	}
	opt := redis.Options{Prefix: prefix, Range: true}
	write(t, c, opt, reps, p)
	first := dumpAll(t, c, prefix)
	if len(first) != len(p.Calendar.Hours)+3+1+1+3+1 {
		t.Errorf("%d keys, want %d hours, 3 days, a month, a range for uv and 3 days and a range for urls", len(first), len(p.Calendar.Hours))
	}
	keys := redis.Keys{Prefix: prefix}
	for _, k := range []string{"2024102702", "2024102702+0100", "2024102703"} {
		if _, ok := first[keys.Key("blog", "uv", k)]; !ok {
			t.Errorf("no key for hour %s", k)
		}
	}
	st := write(t, c, opt, reps, p)
	sameDumps(t, "re-run", dumpAll(t, c, prefix), first)
	if want := len(p.Calendar.Hours) + 3 + 1 + 1; st.Unchanged != want {
		t.Errorf("re-run: %d keys unchanged, want the %d HyperLogLog keys", st.Unchanged, want)
	}
	// PFCOUNT caches the count in each value: a re-run keeps it.
	for k := range first {
		if strings.Contains(k, ":uv:") {
			pfcount(t, c, k)
		}
	}
	counted := dumpAll(t, c, prefix)
	write(t, c, opt, reps, p)
	sameDumps(t, "re-run after PFCOUNTs", dumpAll(t, c, prefix), counted)
}

// TestSinkPartialPeriods runs day by day: the month key, partial in each run,
// is the union of the days; a re-run of a day leaves it unchanged; sorted
// sets of partial days are not written.
func TestSinkPartialPeriods(t *testing.T) {
	c, prefix := testRedis(t)
	keys := redis.Keys{Prefix: prefix}
	month := keys.Key("blog", "uv", "202408")
	union := hll.New()
	for d := 1; d <= 3; d++ {
		p := plan(t, time.UTC, fmt.Sprintf("2024-08-%02d", d), 1, "blog")
		hours := map[int]*hll.Sketch{}
		for h := 0; h < 24; h += 5 {
			hours[h] = sketchOf(fmt.Sprintf("d%d-h%d-", d, h), 200)
			union.Merge(hours[h])
		}
		st := write(t, c, redis.Options{Prefix: prefix}, []mapreduce.Report{{Name: "uniques", Rows: uvRows(p, "blog", hours)}}, p)
		if st.Merged != 1 {
			t.Errorf("day %d: %d keys merged, want 1 (the month)", d, st.Merged)
		}
		if got, want := pfcount(t, c, month), int64(union.Count()); got != want {
			t.Errorf("after day %d: month PFCOUNT %d, want the union's %d", d, got, want)
		}
		// The month value equals the union's, encoding aside.
		if !slices.Equal(registers(t, c, month), registersOf(union)) {
			t.Errorf("after day %d: month registers are not the union's", d)
		}
	}
	// Re-run day 2: nothing changes.
	before := dumpAll(t, c, prefix)
	p := plan(t, time.UTC, "2024-08-02", 1, "blog")
	hours := map[int]*hll.Sketch{}
	for h := 0; h < 24; h += 5 {
		hours[h] = sketchOf(fmt.Sprintf("d2-h%d-", h), 200)
	}
	write(t, c, redis.Options{Prefix: prefix}, []mapreduce.Report{{Name: "uniques", Rows: uvRows(p, "blog", hours)}}, p)
	sameDumps(t, "re-run of day 2", dumpAll(t, c, prefix), before)

	// A run from 18:00 to 06:00: the days are partial; urls days are skipped.
	start := time.Date(2024, 8, 1, 18, 0, 0, 0, time.UTC)
	pp, err := mapreduce.NewPlan(mapreduce.PlanSpec{Accounts: []string{"blog"}, Start: start, End: start.Add(12 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	st := write(t, c, redis.Options{Prefix: prefix}, []mapreduce.Report{{Name: "urls", Keys: []string{"url"}, Rows: countRows(pp, "blog", 10, 1)}}, pp)
	if st.SkippedPartial != 20 || st.Replaced != 0 {
		t.Errorf("partial days of urls: stats %+v, want 20 rows skipped, nothing replaced", st)
	}
	if n := len(scan(t, c, prefix+":{blog}:urls:*")); n != 0 {
		t.Errorf("%d urls keys written for partial days", n)
	}
}

func registersOf(s *hll.Sketch) []int64 {
	out := make([]int64, hll.Registers)
	for i := range out {
		out[i] = int64(s.Register(i))
	}
	return out
}

// TestSinkUVMerge merges into keys a live producer PFADDs to.
func TestSinkUVMerge(t *testing.T) {
	c, prefix := testRedis(t)
	keys := redis.Keys{Prefix: prefix}
	p := plan(t, time.UTC, "2024-08-01", 1, "blog")
	hourKey := keys.Key("blog", "uv", "2024080110")
	pfadd(t, c, hourKey, "live-", 0, 500)
	hours := map[int]*hll.Sketch{10: sketchOf("batch-", 500), 11: sketchOf("batch-", 50)}
	ctx := context.Background()
	c.Set(ctx, keys.Key("blog", "uv", "2024080112"), "left alone", 0)
	st := write(t, c, redis.Options{Prefix: prefix, UVMerge: true, TTL: time.Hour}, []mapreduce.Report{{Name: "uniques", Rows: uvRows(p, "blog", hours)}}, p)
	if st.Merged != 4 || st.Replaced != 0 || st.Deleted != 0 {
		t.Errorf("stats %+v, want 4 merged (2 hours, the day, the month)", st)
	}
	both := hll.New()
	both.Merge(sketchOf("live-", 500))
	both.Merge(hours[10])
	if got, want := pfcount(t, c, hourKey), int64(both.Count()); got != want {
		t.Errorf("merged hour PFCOUNT %d, want %d", got, want)
	}
	if c.Get(ctx, keys.Key("blog", "uv", "2024080112")).Val() != "left alone" {
		t.Errorf("--uv-merge deleted or changed an hour without visitors")
	}
	if ttl := c.TTL(ctx, hourKey).Val(); ttl <= 0 {
		t.Errorf("merged key TTL %v, want 1h", ttl)
	}
}
