package tally_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/jobs/tally"
	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/mapreduce/hll"
)

func testPlan(t testing.TB) *mapreduce.Plan {
	t.Helper()
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	start, end, err := mapreduce.DayRange(mapreduce.Date{Year: 2024, Month: 8, Day: 1}, mapreduce.Date{Year: 2024, Month: 8, Day: 2}, berlin)
	if err != nil {
		t.Fatal(err)
	}
	p, err := mapreduce.NewPlan(mapreduce.PlanSpec{Accounts: []string{"a", "b", "c"}, Start: start, End: end, Loc: berlin})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// pv returns a page view of account index a on local day d of plan by
// visitor v.
func pv(a, d int, v uint64) *mapreduce.PageView {
	return &mapreduce.PageView{Account: a, Bucket: mapreduce.Bucket{Day: int32(d)}, Visitor: v}
}

func rowsText(rows []mapreduce.ReportRow, loc *time.Location) []string {
	mapreduce.SortRows(rows)
	var s []string
	for _, r := range rows {
		vals := make([]string, len(r.Values))
		for i, v := range r.Values {
			vals[i] = fmt.Sprint(v)
		}
		s = append(s, fmt.Sprintf("%s %s %s %s=%s", r.Account, r.Period, r.Start.In(loc).Format("2006-01-02T15:04"), strings.Join(r.Keys, "|"), strings.Join(vals, ",")))
	}
	return s
}

var pvSpec = tally.ReportSpec{Name: "r", Keys: []string{"k"}, Measures: mapreduce.Counts("pageviews", "visitors"),
	Values: tally.PageViewsVisitors, Days: true, Range: true}

func TestCountAndReport(t *testing.T) {
	p := testPlan(t)
	keys, tl := tally.NewKeys(), tally.New(p, 1, true)
	buf := []byte("x")
	for v := range 3 {
		tl.Count(pv(0, 0, uint64(v%2+1)), keys.ID(buf))
	}
	// The key is copied when new: changing the caller's buffer after ID
	// must not change what was counted.
	buf[0] = 'y'
	tl.Count(pv(0, 0, 1), keys.ID(buf))
	tl.Count(pv(0, 1, 3), keys.ID([]byte("x")))
	tl.Count(pv(2, 1, 9), keys.ID([]byte("z")))
	e := tl.Entry(tl.Cell(2, 1), keys.ID([]byte("z")))
	tl.Add(e, 0, 10)
	rep := tl.Report(p, keys, pvSpec)
	if rep.Name != "r" || !slices.Equal(rep.Keys, []string{"k"}) || rep.Measures[1].Name != "visitors" {
		t.Errorf("report header %+v", rep)
	}
	got := rowsText(rep.Rows, p.Loc)
	want := []string{
		"a day 2024-08-01T00:00 x=3,2",
		"a day 2024-08-01T00:00 y=1,1",
		"a day 2024-08-02T00:00 x=1,1",
		"a range 2024-08-01T00:00 x=4,3",
		"a range 2024-08-01T00:00 y=1,1",
		"c day 2024-08-02T00:00 z=11,1",
		"c range 2024-08-01T00:00 z=11,1",
	}
	if !slices.Equal(got, want) {
		t.Errorf("rows\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, r := range rep.Rows {
		if r.Period == mapreduce.PeriodDay {
			d := p.Calendar.Days[0]
			if r.Start.In(p.Loc).Day() == 2 {
				d = p.Calendar.Days[1]
			}
			if !r.Start.Equal(d.Start) {
				t.Errorf("day row starts %s, want the calendar day %s", r.Start, d.Start)
			}
		} else if !r.Start.Equal(p.Start) || r.Start.Location() != p.Loc {
			t.Errorf("range row starts %s, want the plan's start in its zone", r.Start)
		}
	}
	spec := pvSpec
	spec.Days = false
	if rows := tl.Report(p, keys, spec).Rows; len(rows) != 3 {
		t.Errorf("range-only rows %d, want 3", len(rows))
	}
	spec.Days, spec.Range = true, false
	if rows := tl.Report(p, keys, spec).Rows; len(rows) != 4 {
		t.Errorf("day-only rows %d, want 4", len(rows))
	}
}

func TestMerge(t *testing.T) {
	p := testPlan(t)
	ka, a := tally.NewKeys(), tally.New(p, 1, true)
	kb, b := tally.NewKeys(), tally.New(p, 1, true)
	// The two workers intern keys in different orders: ids differ.
	b.Count(pv(0, 0, 5), kb.ID([]byte("k3")))
	a.Count(pv(0, 0, 1), ka.ID([]byte("k1")))
	a.Count(pv(1, 1, 2), ka.ID([]byte("k2")))
	b.Count(pv(0, 0, 1), kb.ID([]byte("k1")))
	for v := range 5 {
		b.Count(pv(1, 1, uint64(10+v)), kb.ID([]byte("k2")))
	}
	b.Count(pv(2, 0, 7), kb.ID([]byte("k4")))
	a.MergeKeyed(ka, b, kb)
	spec := pvSpec
	spec.Range = false
	got := rowsText(a.Report(p, ka, spec).Rows, p.Loc)
	want := []string{
		"a day 2024-08-01T00:00 k1=2,1",
		"a day 2024-08-01T00:00 k3=1,1",
		"b day 2024-08-02T00:00 k2=6,6",
		"c day 2024-08-01T00:00 k4=1,1",
	}
	if !slices.Equal(got, want) {
		t.Errorf("merged rows\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestCanon(t *testing.T) {
	p := testPlan(t)
	keys, tl := tally.NewKeys(), tally.New(p, 1, true)
	for i, k := range []string{"A", "a", "a", "B", "drop", "x\x00y", "X\x00Y"} {
		tl.Count(pv(0, 0, uint64(i%3+1)), keys.ID([]byte(k)))
	}
	tl.Count(pv(0, 1, 1), keys.ID([]byte("A")))
	calls := map[string]int{}
	spec := pvSpec
	spec.Keys = []string{"k1", "k2"}
	spec.Canon = func(dst, raw []byte) ([]byte, bool) {
		calls[string(raw)]++
		if string(raw) == "drop" {
			return dst, false
		}
		return append(dst, bytes.ToLower(raw)...), true
	}
	got := rowsText(tl.Report(p, keys, spec).Rows, p.Loc)
	// Raw keys that make one report key add up their page views; their
	// visitors are a union: "a" was seen by visitors 1, 2, 3. A key of one
	// field in a report of two has an empty second column.
	want := []string{
		"a day 2024-08-01T00:00 a|=3,3",
		"a day 2024-08-01T00:00 x|y=2,2",
		"a day 2024-08-01T00:00 b|=1,1",
		"a day 2024-08-02T00:00 a|=1,1",
		"a range 2024-08-01T00:00 a|=4,3",
		"a range 2024-08-01T00:00 x|y=2,2",
		"a range 2024-08-01T00:00 b|=1,1",
	}
	if !slices.Equal(got, want) {
		t.Errorf("rows\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for raw, n := range calls {
		if n != 1 {
			t.Errorf("Canon(%q) called %d times, want once per distinct raw key", raw, n)
		}
	}
	if len(calls) != 6 {
		t.Errorf("Canon called for %d distinct keys, want 6", len(calls))
	}
}

// TestValidUTF8: report keys are valid UTF-8 (URL columns percent-encoded,
// others U+FFFD), and keys that become equal are one row: page views added,
// visitors a union.
func TestValidUTF8(t *testing.T) {
	p := testPlan(t)
	keys, tl := tally.NewKeys(), tally.New(p, 1, true)
	for _, c := range []struct {
		key     string
		visitor uint64
	}{{"/caf\xe9", 1}, {"/caf\xe9", 2}, {"/caf%E9", 2}, {"/caf%E9", 3}, {"/ok", 1}} {
		tl.Count(pv(0, 0, c.visitor), keys.ID([]byte(c.key)))
	}
	spec := pvSpec
	spec.Keys, spec.Range = []string{"url"}, false
	got := rowsText(tl.Report(p, keys, spec).Rows, p.Loc)
	want := []string{"a day 2024-08-01T00:00 /caf%E9=4,3", "a day 2024-08-01T00:00 /ok=1,1"}
	if !slices.Equal(got, want) {
		t.Errorf("url rows\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Tuple keys: each field by its column's rule, through Canon too.
	keys, tl = tally.NewKeys(), tally.New(p, 1, true)
	for v, k := range []string{"search\x00t\xe9rm", "search\x00t\xffrm", "search\x00term"} {
		tl.Count(pv(0, 0, uint64(v+1)), keys.ID([]byte(k)))
	}
	spec.Keys = []string{"medium", "term"}
	spec.Canon = func(dst, raw []byte) ([]byte, bool) { return append(dst, raw...), true }
	got = rowsText(tl.Report(p, keys, spec).Rows, p.Loc)
	want = []string{"a day 2024-08-01T00:00 search|t\uFFFDrm=2,2", "a day 2024-08-01T00:00 search|term=1,1"}
	if !slices.Equal(got, want) {
		t.Errorf("tuple rows\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestMaxRows keeps the top rows per account and period and sums the rest
// into one Other row, whose visitors are the union of the rows left out.
func TestMaxRows(t *testing.T) {
	p := testPlan(t)
	keys, tl := tally.NewKeys(), tally.New(p, 1, true)
	// Key k<i> gets i+1 page views; visitor 100 sees every key.
	for i := range 6 {
		id := keys.ID(fmt.Appendf(nil, "k%d", i))
		for j := range i + 1 {
			tl.Count(pv(0, 0, uint64(100+j*(i%2))), id)
		}
	}
	spec := pvSpec
	spec.MaxRows = 2
	spec.Range = false
	rows := tl.Report(p, keys, spec).Rows
	got := rowsText(rows, p.Loc)
	// Left out: k0 (1 pv, visitor 100), k1 (2 pv, 100 and 101), k2 (3 pv,
	// 100), k3 (4 pv, 100-103): 10 page views by 4 visitors.
	want := []string{
		"a day 2024-08-01T00:00 k5=6,6",
		"a day 2024-08-01T00:00 k4=5,1",
		"a day 2024-08-01T00:00 (other)=10,4",
	}
	if !slices.Equal(got, want) {
		t.Errorf("rows\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !rows[2].Other || rows[0].Other {
		t.Errorf("Other flags %v %v, want only the last row", rows[0].Other, rows[2].Other)
	}
	// No Other row when nothing is left out.
	spec.MaxRows = 6
	if rows := tl.Report(p, keys, spec).Rows; len(rows) != 6 || slices.ContainsFunc(rows, func(r mapreduce.ReportRow) bool { return r.Other }) {
		t.Errorf("MaxRows 6 of 6: %d rows with an Other row", len(rows))
	}
}

func TestKeep(t *testing.T) {
	p := testPlan(t)
	keys, tl := tally.NewKeys(), tally.New(p, 2, false)
	tl.Add(tl.Entry(tl.Cell(0, 0), keys.ID([]byte("in"))), 1, 3)
	tl.Add(tl.Entry(tl.Cell(0, 0), keys.ID([]byte("out"))), 0, 3)
	spec := tally.ReportSpec{Name: "k", Keys: []string{"k"}, Measures: mapreduce.Counts("n"), Days: true,
		Values: func(dst []float64, sums []int64, _ uint64) { dst[0] = float64(sums[1]) },
		Keep:   func(sums []int64) bool { return sums[1] > 0 }}
	got := rowsText(tl.Report(p, keys, spec).Rows, p.Loc)
	if want := []string{"a day 2024-08-01T00:00 in=3"}; !slices.Equal(got, want) {
		t.Errorf("rows %q, want %q", got, want)
	}
}

// TestVisitorsAgainstReference counts visitors of random page views, with a
// few keys well above ExactVisitors, merged from several workers, against a
// plain map of sets: exact up to ExactVisitors, within the sketch's error
// above, and range rows are unions, never sums, of days.
func TestVisitorsAgainstReference(t *testing.T) {
	p := testPlan(t)
	rng := rand.New(rand.NewPCG(1, 2))
	const workers = 3
	keys := make([]*tally.Keys, workers)
	tls := make([]*tally.Tally, workers)
	for i := range tls {
		keys[i], tls[i] = tally.NewKeys(), tally.New(p, 1, true)
	}
	type cell struct {
		a, d int // d -1 is the range
		key  string
	}
	ref := map[cell]map[uint64]bool{}
	see := func(c cell, v uint64) {
		if ref[c] == nil {
			ref[c] = map[uint64]bool{}
		}
		ref[c][v] = true
	}
	for range 60_000 {
		a, d := rng.IntN(2), rng.IntN(2)
		var key string
		var v uint64
		switch r := rng.IntN(10); {
		case r < 4: // a popular page: thousands of visitors
			key, v = "home", rng.Uint64N(5000)
		case r < 5: // just above the exact limit over two days
			key, v = "edge", rng.Uint64N(tally.ExactVisitors+200)
		default: // the long tail
			key, v = fmt.Sprintf("tail%d", rng.IntN(3000)), rng.Uint64N(50)
		}
		h := hll.MurmurHash64A(fmt.Appendf(nil, "v%d", v), hll.Seed)
		w := rng.IntN(workers)
		tls[w].Count(pv(a, d, h), keys[w].ID([]byte(key)))
		see(cell{a, d, key}, h)
		see(cell{a, -1, key}, h)
	}
	for w := 1; w < workers; w++ {
		tls[0].MergeKeyed(keys[0], tls[w], keys[w])
	}
	rep := tls[0].Report(p, keys[0], pvSpec)
	checked := 0
	for _, r := range rep.Rows {
		a := slices.Index(p.Accounts, r.Account)
		d := -1
		if r.Period == mapreduce.PeriodDay {
			d = slices.IndexFunc(p.Calendar.Days, func(s mapreduce.Span) bool { return s.Start.Equal(r.Start) })
		}
		want := len(ref[cell{a, d, r.Keys[0]}])
		got := int(r.Values[1])
		if want <= tally.ExactVisitors {
			if got != want {
				t.Errorf("%s %s %s: %d visitors, want exactly %d", r.Account, r.Period, r.Keys[0], got, want)
			}
		} else if diff := float64(got-want) / float64(want); diff > 0.03 || diff < -0.03 {
			t.Errorf("%s %s %s: %d visitors, want %d within 3%%", r.Account, r.Period, r.Keys[0], got, want)
		}
		checked++
	}
	if checked != len(ref) {
		t.Errorf("%d rows, want %d", checked, len(ref))
	}
}

func TestKeys(t *testing.T) {
	k := tally.NewKeys()
	seen := map[string]uint32{}
	for i := range 100_000 {
		s := fmt.Sprintf("https://example.com/%d", i%70_000)
		id := k.ID([]byte(s))
		if old, ok := seen[s]; ok && old != id {
			t.Fatalf("key %q: id %d, then %d", s, old, id)
		}
		seen[s] = id
		if string(k.Bytes(id)) != s {
			t.Fatalf("Bytes(%d) = %q, want %q", id, k.Bytes(id), s)
		}
	}
	if k.Len() != 70_000 {
		t.Errorf("Len %d, want 70000", k.Len())
	}
	if _, ok := k.Lookup([]byte("nope")); ok {
		t.Errorf("Lookup of an unknown key found it")
	}
	if id, ok := k.Lookup([]byte("https://example.com/5")); !ok || id != seen["https://example.com/5"] {
		t.Errorf("Lookup = %d, %v", id, ok)
	}
	big := bytes.Repeat([]byte("x"), 3<<20) // longer than a chunk
	if id := k.ID(big); !bytes.Equal(k.Bytes(id), big) {
		t.Errorf("a key longer than a chunk is not kept whole")
	}
	if n := testing.AllocsPerRun(100, func() { k.ID([]byte("https://example.com/77")) }); n != 0 {
		t.Errorf("ID of a known key allocates %.0f times", n)
	}
}

func TestFields(t *testing.T) {
	for _, c := range []struct {
		fields []string
		n      int
	}{
		{[]string{"a"}, 1},
		{[]string{"a", "b"}, 2},
		{[]string{"a", "", "b"}, 3},
		{[]string{""}, 1},
		{[]string{"x y", "z\t"}, 2},
	} {
		var key []byte
		for _, f := range c.fields {
			key = tally.AppendField(key, f)
		}
		if c.n == 2 && c.fields[0] == "" {
			continue
		}
		if got := tally.Fields(key, c.n); !slices.Equal(got, c.fields) {
			t.Errorf("Fields(%q) = %q, want %q", key, got, c.fields)
		}
	}
	// A separator inside a field cannot split it.
	key := tally.AppendField(tally.AppendField(nil, "a\x00b"), "c")
	if got := tally.Fields(key, 2); !slices.Equal(got, []string{"a b", "c"}) {
		t.Errorf("Fields = %q", got)
	}
	// A key of one column is its own field, whatever it holds.
	if got := tally.Fields([]byte("a\x00b"), 1); !slices.Equal(got, []string{"a\x00b"}) {
		t.Errorf("one column: %q", got)
	}
}

func BenchmarkCountHit(b *testing.B) {
	start := time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC)
	p, err := mapreduce.NewPlan(mapreduce.PlanSpec{Accounts: []string{"a"}, Start: start, End: start.AddDate(0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	for _, visitors := range []bool{false, true} {
		b.Run(fmt.Sprintf("visitors=%v", visitors), func(b *testing.B) {
			k, tl := tally.NewKeys(), tally.New(p, 1, visitors)
			keys := make([][]byte, 500)
			for i := range keys {
				keys[i] = fmt.Appendf(nil, "https://example.com/page/%d", i)
			}
			pvs := make([]mapreduce.PageView, 4096)
			for i := range pvs {
				pvs[i].Visitor = hll.MurmurHash64A(fmt.Appendf(nil, "v%d", i%1000), hll.Seed)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				tl.Count(&pvs[i%len(pvs)], k.ID(keys[i%len(keys)]))
				i++
			}
		})
	}
}

// TestLabelsPerAccount: a label is the most frequent of the row's own
// account, not of the run: two sites with one URL keep their own titles.
func TestLabelsPerAccount(t *testing.T) {
	p := testPlan(t)
	keys, tl, l := tally.NewKeys(), tally.New(p, 1, true), tally.NewLabelCounts()
	id := keys.ID([]byte("/x"))
	for i := range 5 {
		tl.Count(pv(0, 0, uint64(i+1)), id)
		l.Add(0, id, []byte("Blog home"))
	}
	for i := range 9 {
		tl.Count(pv(1, 0, uint64(i+1)), id)
		l.Add(1, id, []byte("Shop home"))
	}
	spec := pvSpec
	spec.Labels, spec.RawLabels, spec.Days = []string{"title"}, l, false
	got := map[string]string{}
	for _, r := range tl.Report(p, keys, spec).Rows {
		got[r.Account] = r.Labels[0]
	}
	if got["a"] != "Blog home" || got["b"] != "Shop home" {
		t.Errorf("labels %v, want each account's own title", got)
	}
}
