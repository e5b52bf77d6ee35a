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
