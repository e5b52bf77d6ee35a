package tally

import (
	"bytes"
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
	// and its distinct visitors (0 when the tally keeps none). The first
	// measure, which ranks rows, must not depend on visitors unless
	// PrimaryVisitors is set: rows are ranked before their visitors are
	// counted.
	Values          func(dst []float64, sums []int64, visitors uint64)
	PrimaryVisitors bool
	// Canon, when set, maps the bytes of a raw key to the bytes of its report
	// key (a tuple of len(Keys) fields, see AppendField), appending to dst;
	// raw keys that map to the same report key are added up (visitors as a
	// union). ok false drops the key. It is called once per distinct raw key.
	Canon func(dst, raw []byte) (key []byte, ok bool)
	// CanonIdempotent declares that Canon maps a report key to itself (URL
	// and title normalisation do): report keys then reuse the raw keys'
	// ids and bytes, and only keys that Canon changes into one no raw key
	// holds take memory of their own.
	CanonIdempotent bool
	// Labels names label columns (see mapreduce.Report.Labels); Label
	// returns a row's labels from its key columns, once per report key.
	Labels []string
	Label  func(keys []string) []string
	// RawLabels, when set instead of Label, gives each row the most
	// frequent of the labels counted with its raw keys (of the whole run),
	// as LabelCanon maps them (raw labels kept when nil); it is a tuple of
	// len(Labels) fields.
	RawLabels  *LabelCounts
	LabelCanon func(dst, raw []byte) []byte
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
	t.flush()
	b := newBuilder(t, plan, keys, spec)
	rep := mapreduce.Report{Name: spec.Name, Keys: spec.Keys, Labels: spec.Labels, Measures: spec.Measures}
	compare := spec.Range && !plan.PrevStart.IsZero()
	day, total, prev := b.newAgg(), b.newAgg(), (*agg)(nil)
	if compare {
		prev = b.newAgg()
	}
	rangeDays := 0
	for d := 0; d < t.days; d++ {
		if plan.InRange(d) {
			rangeDays++
		}
	}
	for a, account := range plan.Accounts {
		b.forAccount(a)
		total.reset()
		if compare {
			prev.reset()
		}
		n := 0
		for d := 0; d < t.days; d++ {
			n += len(b.cell(a*t.days + d))
		}
		total.reserve(min(n, b.canon.Len()))
		for d := 0; d < t.days; d++ {
			day.reset()
			day.reserve(len(b.cell(a*t.days + d)))
			for _, e := range b.cell(a*t.days + d) {
				b.add(day, e)
			}
			switch {
			case plan.InRange(d):
				if spec.Days {
					rep.Rows = b.emit(rep.Rows, day, account, mapreduce.PeriodDay, plan.Calendar.Days[d].Start)
				}
				switch {
				case !spec.Range:
				case rangeDays == 1:
					// The range is this day: its rows, not a copy.
					day, total = total, day
				default:
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
	canon *reportKeys
	cid   []uint32
	// byCell lists the entries of each cell: order[start[c]:start[c+1]].
	order, start []int32
	// fields and labels cache the key and label columns of the report keys
	// of emitted rows.
	fields, labels map[uint32][]string
	vals           []float64
	// best holds the label of each report key (an id in labelKeys), or -1,
	// for RawLabels, of the account being built (see forAccount); bestN is
	// its scratch.
	best, bestN []int64
	labelKeys   *Keys
	labelCanon  *labelMapper
	labelCID    func(uint32) uint32
	// rank holds each report key's rank in byte order (see ranks).
	rank []uint32
}

const dropped = ^uint32(0)

// reportKeys are a report's keys: with first set, ids below len(first)
// are raw keys (of first), the others keys of rest.
type reportKeys struct {
	first *Keys
	n     uint32
	rest  *Keys
}

func (r *reportKeys) Len() int { return int(r.n) + r.rest.Len() }

func (r *reportKeys) Bytes(id uint32) []byte {
	if id < r.n {
		return r.first.Bytes(id)
	}
	return r.rest.Bytes(id - r.n)
}

func newBuilder(t *Tally, plan *mapreduce.Plan, keys *Keys, spec ReportSpec) *builder {
	b := &builder{t: t, spec: &spec, canon: &reportKeys{first: keys, n: uint32(keys.Len()), rest: NewKeys()}}
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
		// Cleaning is idempotent; so is Canon when the spec says so.
		identity := spec.Canon == nil || spec.CanonIdempotent
		if !identity {
			b.canon = &reportKeys{rest: NewKeys()}
		}
		b.cid = make([]uint32, keys.Len())
		var buf, clean []byte
		for id := range b.cid {
			raw := keys.Bytes(uint32(id))
			k, ok := raw, true
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
			switch {
			case !identity && bytes.Equal(k, raw):
				b.cid[id] = b.canon.rest.IDShared(raw)
			case !identity:
				b.cid[id] = b.canon.rest.ID(k)
			case bytes.Equal(k, raw):
				b.cid[id] = uint32(id)
			default:
				// A changed key that a raw key already holds is that raw
				// key's (idempotence: the raw key is unchanged).
				if rid, found := keys.Lookup(k); found {
					b.cid[id] = rid
				} else {
					b.cid[id] = b.canon.n + b.canon.rest.ID(k)
				}
			}
		}
	}
	cells := len(plan.Accounts) * t.days
	b.start = make([]int32, cells+1)
	for e := range t.Len() {
		_, c := t.ID(int32(e))
		b.start[c+1]++
	}
	for c := range cells {
		b.start[c+1] += b.start[c]
	}
	b.order = make([]int32, t.Len())
	next := slices.Clone(b.start[:cells])
	for e := range t.Len() {
		_, c := t.ID(int32(e))
		b.order[next[c]] = int32(e)
		next[c]++
	}
	b.fields = map[uint32][]string{}
	if spec.Label != nil || spec.RawLabels != nil {
		b.labels = map[uint32][]string{}
	}
	if spec.RawLabels != nil {
		b.labelKeys = NewKeys()
		cid := func(id uint32) uint32 { return id }
		if b.cid != nil {
			cid = func(id uint32) uint32 { return b.cid[id] }
		}
		labelCanon := spec.LabelCanon
		if labelCanon != nil {
			// Labels are valid UTF-8, as keys are.
			lc := labelCanon
			labelCanon = func(dst, raw []byte) []byte {
				start := len(dst)
				dst = lc(dst, raw)
				if !utf8.Valid(dst[start:]) {
					return append(dst[:start], validKey(nil, dst[start:], spec.Labels)...)
				}
				return dst
			}
		}
		b.labelCID = cid
		b.labelCanon = &labelMapper{canon: b.labelKeys, fn: labelCanon}
		b.best = make([]int64, b.canon.Len())
		b.bestN = make([]int64, b.canon.Len())
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

// reserve makes room for n rows.
func (a *agg) reserve(n int) {
	a.cids = slices.Grow(a.cids, n)
	a.sums = slices.Grow(a.sums, n*a.cols)
	a.vis = slices.Grow(a.vis, n)
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
	a.sums = append(a.sums, make([]int64, a.cols)...)
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
		a.sums[r*a.cols+c] += b.t.Val(e, c)
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

// emit appends the rows of a in report order — primary value descending,
// then key — keeping the top MaxRows and summing the rest into an Other row
// at the end.
func (b *builder) emit(rows []mapreduce.ReportRow, a *agg, account string, p mapreduce.Period, start time.Time) []mapreduce.ReportRow {
	cols := a.cols
	idx := make([]int, 0, len(a.cids))
	for i := range a.cids {
		if b.spec.Keep == nil || b.spec.Keep(a.sums[i*cols:(i+1)*cols]) {
			idx = append(idx, i)
		}
	}
	prim := make([]float64, len(a.cids))
	for _, i := range idx {
		if b.spec.PrimaryVisitors {
			prim[i] = b.values(a, i)[0]
		} else {
			b.spec.Values(b.vals, a.sums[i*cols:(i+1)*cols], 0)
			prim[i] = b.vals[0]
		}
	}
	// before reports whether row x comes before row y.
	before := func(x, y int) bool {
		if prim[x] != prim[y] {
			return prim[x] > prim[y]
		}
		return bytes.Compare(b.canon.Bytes(a.cids[x]), b.canon.Bytes(a.cids[y])) < 0
	}
	all := idx
	if m := b.spec.MaxRows; m > 0 && len(idx) > m {
		idx = topN(idx, m, before)
	}
	if len(idx) > rankFrom {
		// Many rows: compare keys by their rank among all report keys,
		// sorted once per report, instead of by their bytes every time.
		rank := b.ranks()
		before = func(x, y int) bool {
			if prim[x] != prim[y] {
				return prim[x] > prim[y]
			}
			return rank[a.cids[x]] < rank[a.cids[y]]
		}
	}
	slices.SortFunc(idx, func(x, y int) int {
		if before(x, y) {
			return -1
		}
		if before(y, x) {
			return 1
		}
		return 0
	})
	for _, i := range idx {
		rows = append(rows, mapreduce.ReportRow{
			Account: account, Period: p, Start: start,
			Keys:   b.keys(a.cids[i]),
			Labels: b.rowLabels(a.cids[i]),
			Values: slices.Clone(b.values(a, i)),
		})
	}
	if len(idx) < len(all) {
		kept := make([]bool, len(a.cids))
		for _, i := range idx {
			kept[i] = true
		}
		sums := make([]int64, cols)
		var vis Visitors
		for _, i := range all {
			if kept[i] {
				continue
			}
			for c := range cols {
				sums[c] += a.sums[i*cols+c]
			}
			vis.AddVisitors(&a.vis[i])
		}
		other := make([]string, len(b.spec.Keys))
		for i := range other {
			other[i] = mapreduce.Other
		}
		var labels []string
		if len(b.spec.Labels) > 0 {
			labels = make([]string, len(b.spec.Labels))
		}
		vals := make([]float64, len(b.spec.Measures))
		b.spec.Values(vals, sums, vis.Count())
		rows = append(rows, mapreduce.ReportRow{Account: account, Period: p, Start: start, Keys: other, Labels: labels, Values: vals, Other: true})
	}
	return rows
}

// rankFrom is the number of rows of one period above which emit sorts by
// key ranks.
const rankFrom = 4096

// ranks returns the rank of each report key in byte order, computed once.
func (b *builder) ranks() []uint32 {
	if b.rank == nil {
		ids := make([]uint32, b.canon.Len())
		for i := range ids {
			ids[i] = uint32(i)
		}
		slices.SortFunc(ids, func(x, y uint32) int { return bytes.Compare(b.canon.Bytes(x), b.canon.Bytes(y)) })
		b.rank = make([]uint32, len(ids))
		for r, id := range ids {
			b.rank[id] = uint32(r)
		}
	}
	return b.rank
}

// topN returns the m rows of idx that come first by before (in no
// particular order), in O(n log m): a heap of the m best so far, whose root
// is the worst of them.
func topN(idx []int, m int, before func(x, y int) bool) []int {
	h := slices.Clone(idx[:m])
	worse := func(i, j int) bool { return before(h[j], h[i]) } // h[i] comes after h[j]
	down := func(i int) {
		for {
			l := 2*i + 1
			if l >= len(h) {
				return
			}
			c := l
			if r := l + 1; r < len(h) && worse(r, l) {
				c = r
			}
			if !worse(c, i) {
				return
			}
			h[i], h[c] = h[c], h[i]
			i = c
		}
	}
	for i := m/2 - 1; i >= 0; i-- {
		down(i)
	}
	for _, x := range idx[m:] {
		if before(x, h[0]) {
			h[0] = x
			down(0)
		}
	}
	return h
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
	if f, ok := b.fields[cid]; ok {
		return f
	}
	f := Fields(b.canon.Bytes(cid), len(b.spec.Keys))
	b.fields[cid] = f
	return f
}

// forAccount prepares the builder for the rows of account index a: labels
// counted per account are that account's.
func (b *builder) forAccount(a int) {
	if b.spec.RawLabels == nil {
		return
	}
	b.spec.RawLabels.best(a, b.best, b.bestN, b.labelCID, b.labelCanon)
	clear(b.labels)
}

// rowLabels returns the label columns of report key cid, or nil.
func (b *builder) rowLabels(cid uint32) []string {
	if b.labels == nil {
		return nil
	}
	if l, ok := b.labels[cid]; ok {
		return l
	}
	var l []string
	switch {
	case b.best != nil && b.best[cid] >= 0:
		l = Fields(b.labelKeys.Bytes(uint32(b.best[cid])), len(b.spec.Labels))
	case b.best != nil:
		l = make([]string, len(b.spec.Labels))
	default:
		l = b.spec.Label(b.keys(cid))
	}
	b.labels[cid] = l
	return l
}

// PageViewsVisitors is the Values of a report of page views (counter 0) and
// visitors.
func PageViewsVisitors(dst []float64, sums []int64, visitors uint64) {
	dst[0], dst[1] = float64(sums[0]), float64(visitors)
}
