package tally_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/pvjobs/pvjobs/jobs/tally"
	"github.com/pvjobs/pvjobs/mapreduce"
)

// codecTally fills a tally of p: keys of each account and day with none,
// one, a few and (key "big") more than ExactVisitors visitors, and a few
// counters.
func codecTally(p *mapreduce.Plan, seed uint64) (*tally.Keys, *tally.Tally) {
	r := rand.New(rand.NewPCG(seed, 1))
	keys, t := tally.NewKeys(), tally.New(p, tally.TrafficCols, true)
	for a := range p.Accounts {
		for d := range p.Calendar.Days {
			for _, kv := range []struct {
				k        string
				visitors int
			}{{"none", 0}, {"one", 1}, {"few", 40}, {"big", tally.ExactVisitors + 500}, {"tab\x00key", 3}} {
				k, visitors := kv.k, kv.visitors
				id := keys.ID([]byte(k))
				e := t.Entry(t.Cell(a, d), id)
				t.Add(e, tally.PageViews, int64(visitors*2+1))
				t.Add(e, tally.Visits, int64(visitors))
				t.Add(e, tally.DurationMs, r.Int64N(1e6))
				for range visitors {
					t.AddVisitor(e, r.Uint64N(5000)+1)
				}
			}
		}
	}
	return keys, t
}

func encodeTally(t testing.TB, p *mapreduce.Plan, keys *tally.Keys, tl *tally.Tally) []byte {
	t.Helper()
	var buf bytes.Buffer
	e := mapreduce.NewPartialEncoder(&buf, p)
	if err := tally.EncodeKeyed(e, keys, tl); err != nil {
		t.Fatal(err)
	}
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var trafficSpec = tally.ReportSpec{Name: "r", Keys: []string{"k"}, Measures: tally.TrafficMeasures,
	Values: tally.TrafficValues, Days: true, Range: true}

// TestCodecRoundTrip: a tally written and read back makes the same report,
// and merges with another as the original does.
func TestCodecRoundTrip(t *testing.T) {
	p := testPlan(t)
	keys, tl := codecTally(p, 1)
	okeys, other := codecTally(p, 2)
	want := rowsText(mergedReport(keys, tl, okeys, other, p), p.Loc)

	keys, tl = codecTally(p, 1)
	okeys, other = codecTally(p, 2)
	b1, b2 := encodeTally(t, p, keys, tl), encodeTally(t, p, okeys, other)
	dk, dt, err := tally.DecodeKeyed(mapreduce.NewPartialDecoder(bytes.NewReader(b1), int64(len(b1)), p), tally.TrafficCols, true)
	if err != nil {
		t.Fatal(err)
	}
	dok, dot, err := tally.DecodeKeyed(mapreduce.NewPartialDecoder(bytes.NewReader(b2), int64(len(b2)), p), tally.TrafficCols, true)
	if err != nil {
		t.Fatal(err)
	}
	got := rowsText(mergedReport(dk, dt, dok, dot, p), p.Loc)
	if !slices.Equal(got, want) {
		t.Errorf("decoded and merged:\n%v\nwant\n%v", got, want)
	}
}

func mergedReport(keys *tally.Keys, t *tally.Tally, okeys *tally.Keys, o *tally.Tally, p *mapreduce.Plan) []mapreduce.ReportRow {
	t.MergeKeyed(keys, o, okeys)
	return t.Report(p, keys, trafficSpec).Rows
}

// TestCodecRefuses: a tally read as one of other columns or without
// visitors, a cut one, and key ids beyond the keys are refused.
func TestCodecRefuses(t *testing.T) {
	p := testPlan(t)
	keys, tl := codecTally(p, 1)
	b := encodeTally(t, p, keys, tl)
	dec := func(b []byte) *mapreduce.PartialDecoder {
		return mapreduce.NewPartialDecoder(bytes.NewReader(b), int64(len(b)), p)
	}
	for _, tc := range []struct {
		name string
		err  func() error
	}{
		{"other columns", func() error { _, _, err := tally.DecodeKeyed(dec(b), 1, true); return err }},
		{"no visitors", func() error { _, _, err := tally.DecodeKeyed(dec(b), tally.TrafficCols, false); return err }},
		{"cut", func() error { _, _, err := tally.DecodeKeyed(dec(b[:len(b)-9]), tally.TrafficCols, true); return err }},
		{"fewer keys", func() error {
			d := dec(b)
			tally.DecodeKeys(d)
			tally.Decode(d, tally.TrafficCols, true, 2)
			return d.Err()
		}},
	} {
		if err := tc.err(); err == nil {
			t.Errorf("%s: decoded", tc.name)
		} else {
			t.Logf("%s: %v", tc.name, err)
		}
	}
}

// FuzzDecodeKeyed: damaged input is refused or read, never a panic, and
// what is read builds a report.
func FuzzDecodeKeyed(f *testing.F) {
	p := testPlan(f)
	small := tally.New(p, tally.TrafficCols, true)
	keys := tally.NewKeys()
	for i := range 5 {
		e := small.Entry(small.Cell(i%3, i%2), keys.ID(fmt.Appendf(nil, "k%d", i)))
		small.Add(e, 0, 3)
		for v := range i * 3 {
			small.AddVisitor(e, uint64(v+1))
		}
	}
	valid := encodeTally(f, p, keys, small)
	f.Add(valid)
	f.Add(valid[:len(valid)/2])
	bk, bt := codecTally(p, 3)
	f.Add(encodeTally(f, p, bk, bt)[:3000])
	f.Fuzz(func(t *testing.T, b []byte) {
		k, tl, err := tally.DecodeKeyed(mapreduce.NewPartialDecoder(bytes.NewReader(b), int64(len(b)), p), tally.TrafficCols, true)
		if err != nil {
			return
		}
		tl.Report(p, k, trafficSpec)
	})
}

// TestCodecLabels: label counts written and read back (and merged with
// others) label a report's rows as the originals do.
func TestCodecLabels(t *testing.T) {
	p := testPlan(t)
	fill := func(shift int) (*tally.Keys, *tally.Tally, *tally.LabelCounts) {
		keys, tl, l := tally.NewKeys(), tally.New(p, 1, true), tally.NewLabelCounts()
		for i := range 60 {
			id := keys.ID(fmt.Appendf(nil, "/page%d", i%7))
			tl.Count(pv(i%3, i%2, uint64(i+1)), id)
			l.Add(i%3, id, fmt.Appendf(nil, "Title %d", (i+shift)%4))
		}
		return keys, tl, l
	}
	spec := func(l *tally.LabelCounts) tally.ReportSpec {
		s := pvSpec
		s.Labels, s.RawLabels = []string{"title"}, l
		return s
	}
	labels := func(rows []mapreduce.ReportRow) []string {
		out := rowsText(rows, p.Loc)
		for _, r := range rows {
			out = append(out, fmt.Sprint(r.Keys, r.Labels))
		}
		slices.Sort(out)
		return out
	}
	k1, t1, l1 := fill(0)
	k2, t2, l2 := fill(1)
	t1.MergeKeyed(k1, t2, k2)
	ids := make([]uint32, k2.Len())
	for i := range ids {
		ids[i] = k1.ID(k2.Bytes(uint32(i)))
	}
	l1.Merge(l2, func(id uint32) uint32 { return ids[id] })
	want := labels(t1.Report(p, k1, spec(l1)).Rows)

	var decoded []struct {
		k *tally.Keys
		t *tally.Tally
		l *tally.LabelCounts
	}
	for _, shift := range []int{0, 1} {
		k, tl, l := fill(shift)
		var buf bytes.Buffer
		e := mapreduce.NewPartialEncoder(&buf, p)
		tally.EncodeKeyed(e, k, tl)
		tally.EncodeLabels(e, l)
		if err := e.Flush(); err != nil {
			t.Fatal(err)
		}
		d := mapreduce.NewPartialDecoder(bytes.NewReader(buf.Bytes()), int64(buf.Len()), p)
		dk, dt, err := tally.DecodeKeyed(d, 1, true)
		if err != nil {
			t.Fatal(err)
		}
		dl := tally.DecodeLabels(d, dk.Len())
		if err := d.Err(); err != nil {
			t.Fatal(err)
		}
		decoded = append(decoded, struct {
			k *tally.Keys
			t *tally.Tally
			l *tally.LabelCounts
		}{dk, dt, dl})
	}
	a, b := decoded[0], decoded[1]
	a.t.MergeKeyed(a.k, b.t, b.k)
	ids = make([]uint32, b.k.Len())
	for i := range ids {
		ids[i] = a.k.ID(b.k.Bytes(uint32(i)))
	}
	a.l.Merge(b.l, func(id uint32) uint32 { return ids[id] })
	if got := labels(a.t.Report(p, a.k, spec(a.l)).Rows); !slices.Equal(got, want) {
		t.Errorf("decoded labels:\n%v\nwant\n%v", got, want)
	}
}
