package tally

import (
	"bytes"
	"cmp"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/pvjobs/pvjobs/jobs/validtext"
	"github.com/pvjobs/pvjobs/mapreduce"
)

// DefaultMaxRows is the number of rows a report keeps per account and
// period unless told otherwise: the rest are summed into one Other row, as
// Matomo truncates its tables, so a crawler trap or session ids in URLs do
// not make a report of a million rows.
const DefaultMaxRows = 1000

// ReportSpec describes a report built from a Tally.
type ReportSpec struct {
	Name string
	// Keys names the key columns.
	Keys     []string
	Measures []mapreduce.Measure
	// Values sets dst, one value per measure, from a row's summed counters
	// and its distinct visitors (0 when the tally keeps none).
	Values func(dst []float64, sums []int64, visitors uint64)
	// Canon, when set, maps the bytes of a raw key to the bytes of its report
	// key (a tuple of len(Keys) fields, see AppendField), appending to dst;
	// raw keys that map to the same report key are added up (visitors as a
	// union). ok false drops the key. It is called once per distinct raw key.
	Canon func(dst, raw []byte) (key []byte, ok bool)
	// Labels names label columns (see mapreduce.Report.Labels); Label
	// returns a row's labels from its key columns, once per report key.
	Labels []string
	Label  func(keys []string) []string
	// Keep, when set, drops the rows whose summed counters it refuses (an
	// exit-pages report keeps the URLs with exits).
	Keep func(sums []int64) bool
	// Days adds one row set per local day; Range one over the whole range.
	Days, Range bool
	// MaxRows keeps the rows of the MaxRows highest primary values per
	// account and period and sums the others into one Other row; 0 keeps
	// every row.
	MaxRows int
}

// Report builds the report of spec from t, whose key ids are those of keys:
// per account per day and/or over the whole range, and, when the plan reads
// a previous period for comparison and spec.Range is set, over that period
// (PeriodPrevious rows). Values of rows that
// several raw keys or days add up to are sums, and their visitors unions.
func (t *Tally) Report(plan *mapreduce.Plan, keys *Keys, spec ReportSpec) mapreduce.Report {
	b := newBuilder(t, plan, keys, spec)
	rep := mapreduce.Report{Name: spec.Name, Keys: spec.Keys, Labels: spec.Labels, Measures: spec.Measures}
	day, total, prev := b.newAgg(), b.newAgg(), b.newAgg()
	compare := spec.Range && !plan.PrevStart.IsZero()
	for a, account := range plan.Accounts {
		total.reset()
		prev.reset()
		for d := 0; d < t.days; d++ {
			day.reset()
			for _, e := range b.cell(a*t.days + d) {
				b.add(day, e)
			}
			switch {
			case plan.InRange(d):
				if spec.Days {
					rep.Rows = b.emit(rep.Rows, day, account, mapreduce.PeriodDay, plan.Calendar.Days[d].Start)
				}
				if spec.Range {
					total.fold(day)
				}
			case compare:
				prev.fold(day)
			}
		}
		if spec.Range {
			rep.Rows = b.emit(rep.Rows, total, account, mapreduce.PeriodRange, plan.Start.In(plan.Loc))
		}
		if compare {
			rep.Rows = b.emit(rep.Rows, prev, account, mapreduce.PeriodPrevious, plan.PrevStart.In(plan.Loc))
		}
	}
	return rep
}

// builder holds what building one report needs.
type builder struct {
	t    *Tally
	spec *ReportSpec
	// canon holds the report keys; cid maps a raw id to its report key's id
	// (dropped for keys Canon drops). Without Canon both are the raw ones.
	canon *Keys
	cid   []uint32
	// byCell lists the entries of each cell: order[start[c]:start[c+1]].
	order, start []int32
	// fields and labels cache the key and label columns of report keys.
	fields, labels [][]string
	vals           []float64
}

const dropped = ^uint32(0)

func newBuilder(t *Tally, plan *mapreduce.Plan, keys *Keys, spec ReportSpec) *builder {
	b := &builder{t: t, spec: &spec, canon: keys}
	// Report keys are valid UTF-8 (package jobs/validtext): a key that is
	// not gets its fields cleaned here, before rows are added up, so that
	// keys that become equal are one row with exact unions of visitors.
	invalid := false
	for id := range keys.Len() {
		if !utf8.Valid(keys.Bytes(uint32(id))) {
			invalid = true
			break
		}
	}
	if spec.Canon != nil || invalid {
		b.canon = NewKeys()
		b.cid = make([]uint32, keys.Len())
		var buf, clean []byte
		for id := range b.cid {
			k, ok := keys.Bytes(uint32(id)), true
			if spec.Canon != nil {
				k, ok = spec.Canon(buf[:0], k)
				buf = k
			}
			if !ok {
				b.cid[id] = dropped
				continue
			}
			if !utf8.Valid(k) {
				clean = validKey(clean[:0], k, spec.Keys)
				k = clean
			}
			b.cid[id] = b.canon.ID(k)
		}
	}
	cells := len(plan.Accounts) * t.days
	b.start = make([]int32, cells+1)
	for e := range t.keys {
		_, c := t.ID(int32(e))
		b.start[c+1]++
	}
	for c := range cells {
		b.start[c+1] += b.start[c]
	}
	b.order = make([]int32, len(t.keys))
	next := slices.Clone(b.start[:cells])
	for e := range t.keys {
		_, c := t.ID(int32(e))
		b.order[next[c]] = int32(e)
		next[c]++
	}
	b.fields = make([][]string, b.canon.Len())
	if spec.Label != nil {
		b.labels = make([][]string, b.canon.Len())
	}
	b.vals = make([]float64, len(spec.Measures))
	return b
}

func (b *builder) cell(c int) []int32 { return b.order[b.start[c]:b.start[c+1]] }

// agg adds up entries by report key.
type agg struct {
	cols  int
	at    []int32 // per report key: its row, valid when stamp matches gen
	stamp []uint32
	gen   uint32
	cids  []uint32
	sums  []int64
	vis   []Visitors
}

func (b *builder) newAgg() *agg {
	n := b.canon.Len()
	return &agg{cols: b.t.cols, at: make([]int32, n), stamp: make([]uint32, n)}
}

func (a *agg) reset() {
	a.gen++
	a.cids, a.sums, a.vis = a.cids[:0], a.sums[:0], a.vis[:0]
}

// row returns the row of report key cid, adding it when new.
func (a *agg) row(cid uint32) int {
	if a.stamp[cid] == a.gen {
		return int(a.at[cid])
	}
	r := len(a.cids)
	a.stamp[cid], a.at[cid] = a.gen, int32(r)
	a.cids = append(a.cids, cid)
	a.sums = append(a.sums, zeros[:a.cols]...)
	a.vis = append(a.vis, Visitors{})
	return r
}

// add adds entry e of the tally.
func (b *builder) add(a *agg, e int32) {
	id, _ := b.t.ID(e)
	cid := id
	if b.cid != nil {
		if cid = b.cid[id]; cid == dropped {
			return
		}
	}
	r := a.row(cid)
	for c := range a.cols {
		a.sums[r*a.cols+c] += b.t.vals[int(e)*a.cols+c]
	}
	if b.t.visitors {
		a.vis[r].addEntry(b.t, e)
	}
}

// fold adds the rows of o.
func (a *agg) fold(o *agg) {
	for i, cid := range o.cids {
		r := a.row(cid)
		for c := range a.cols {
			a.sums[r*a.cols+c] += o.sums[i*a.cols+c]
		}
		a.vis[r].AddVisitors(&o.vis[i])
	}
}

// emit appends the rows of a, keeping the top MaxRows and summing the rest
// into an Other row.
func (b *builder) emit(rows []mapreduce.ReportRow, a *agg, account string, p mapreduce.Period, start time.Time) []mapreduce.ReportRow {
	cols := a.cols
	idx := make([]int, 0, len(a.cids))
	for i := range a.cids {
		if b.spec.Keep == nil || b.spec.Keep(a.sums[i*cols:(i+1)*cols]) {
			idx = append(idx, i)
		}
	}
	var rest []int
	if m := b.spec.MaxRows; m > 0 && len(idx) > m {
		prim := make([]float64, len(a.cids))
		for _, i := range idx {
			prim[i] = b.values(a, i)[0]
		}
		slices.SortFunc(idx, func(x, y int) int {
			return cmp.Or(cmp.Compare(prim[y], prim[x]), bytes.Compare(b.canon.Bytes(a.cids[x]), b.canon.Bytes(a.cids[y])))
		})
		idx, rest = idx[:m], idx[m:]
	}
	for _, i := range idx {
		rows = append(rows, mapreduce.ReportRow{
			Account: account, Period: p, Start: start,
			Keys:   b.keys(a.cids[i]),
			Labels: b.rowLabels(a.cids[i]),
			Values: slices.Clone(b.values(a, i)),
		})
	}
	if len(rest) > 0 {
		sums := make([]int64, cols)
		var vis Visitors
		for _, i := range rest {
			for c := range cols {
				sums[c] += a.sums[i*cols+c]
			}
			vis.AddVisitors(&a.vis[i])
		}
		other := make([]string, len(b.spec.Keys))
		for i := range other {
			other[i] = mapreduce.Other
		}
		vals := make([]float64, len(b.spec.Measures))
		b.spec.Values(vals, sums, vis.Count())
		rows = append(rows, mapreduce.ReportRow{Account: account, Period: p, Start: start, Keys: other, Values: vals, Other: true})
	}
	return rows
}

// values computes the measures of row i of a into the builder's scratch.
func (b *builder) values(a *agg, i int) []float64 {
	var v uint64
	if b.t.visitors {
		v = a.vis[i].Count()
	}
	b.spec.Values(b.vals, a.sums[i*a.cols:(i+1)*a.cols], v)
	return b.vals
}

// keys returns the key columns of report key cid.
// validKey appends to dst the key k of the columns cols with each field made
// valid UTF-8 by the rule of its column (validtext.Cell, which never writes
// a Sep byte).
func validKey(dst, k []byte, cols []string) []byte {
	for i, f := range Fields(k, len(cols)) {
		if i > 0 {
			dst = append(dst, Sep)
		}
		col := ""
		if i < len(cols) {
			col = cols[i]
		}
		dst = append(dst, validtext.Cell(col, f)...)
	}
	return dst
}

func (b *builder) keys(cid uint32) []string {
	if f := b.fields[cid]; f != nil {
		return f
	}
	f := Fields(b.canon.Bytes(cid), len(b.spec.Keys))
	b.fields[cid] = f
	return f
}

// rowLabels returns the label columns of report key cid, or nil.
func (b *builder) rowLabels(cid uint32) []string {
	if b.labels == nil {
		return nil
	}
	if l := b.labels[cid]; l != nil {
		return l
	}
	l := b.spec.Label(b.keys(cid))
	b.labels[cid] = l
	return l
}

// PageViewsVisitors is the Values of a report of page views (counter 0) and
// visitors.
func PageViewsVisitors(dst []float64, sums []int64, visitors uint64) {
	dst[0], dst[1] = float64(sums[0]), float64(visitors)
}
