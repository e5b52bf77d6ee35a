// Package tally counts keys per account and local day: the partial result
// that every report of keyed rows (urls, sources, devices, geo, ...) folds
// page views and visits into, and the builder of those reports.
//
// A job gives each distinct raw key an id (with a Keys interner, or ids of
// its own), and a Tally keeps, per (account, day, id), a few counters — page
// views, and the job's others, such as visits or bounces — and, when asked,
// the key's distinct visitors (see Visitors). Counting is one probe of a flat
// hash table on the per-row path and does not allocate for a key seen
// before; turning raw keys into report keys (a URL's normalisation, say) is
// done once per distinct raw key when the report is built (see Report).
package tally

import (
	"github.com/pvjobs/pvjobs/mapreduce"
)

// Tally holds counters per (account, day, key id). Column 0 is conventionally
// page views; a job names its columns in its ReportSpec. A Tally is owned by
// one worker.
type Tally struct {
	cols, days int
	visitors   bool
	// Per entry: its (id, cell) key, cols counters, and its visitors: one
	// hashes in vone and vtwo (0: none), or a set in sets[vref] (vref -1
	// when none): most keys of a long tail have one or two visitors, who
	// then cost no set.
	keys  []uint64
	vals  []int64
	vone  []uint64
	vtwo  []uint64
	vref  []int32
	sets  []*visitorSet
	slots []int32 // -1 is empty, else an entry; len is a power of two
	mask  uint32
	// recentE (entry + 1) and recentH are the (entry, visitor) pairs added
	// last, direct-mapped: see AddVisitor.
	recentE [1 << recentBits]int32
	recentH [1 << recentBits]uint64
	// pending are visitors of entries with sets, not yet added: see
	// AddVisitor and flush; sorted is flush's scratch space.
	pending, sorted []pendingVisitor
}

// pendingVisitor is a visitor hash h to add to set ref.
type pendingVisitor struct {
	ref int32
	h   uint64
}

// pendingMax is how many visitors of sets a Tally collects before it adds
// them, set by set.
const pendingMax = 1 << 13

// recentBits sizes the table of recent (entry, visitor) pairs.
const recentBits = 10

// New returns an empty Tally for plan with cols counters per entry, keeping
// each entry's distinct visitors when visitors is true.
func New(plan *mapreduce.Plan, cols int, visitors bool) *Tally {
	if cols > MaxCols {
		panic("tally: too many columns")
	}
	t := &Tally{cols: max(cols, 1), days: len(plan.Calendar.Days), visitors: visitors}
	t.slots = newSlots(256)
	t.mask = 255
	return t
}

// zeros holds the counters of a new entry.
var zeros [16]int64

// MaxCols is the most counters an entry may have.
const MaxCols = len(zeros)

func newSlots(n int) []int32 {
	s := make([]int32, n)
	for i := range s {
		s[i] = -1
	}
	return s
}

// Cell returns the cell index of account index a and day index d.
func (t *Tally) Cell(a, d int) int { return a*t.days + d }

// Len returns the number of entries.
func (t *Tally) Len() int { return len(t.keys) }

func slotHash(k uint64) uint32 { return uint32((k * 0x9e3779b97f4a7c15) >> 32) }

// Entry returns the entry of key id in cell, adding it with zero counters
// when new.
func (t *Tally) Entry(cell int, id uint32) int32 {
	k := uint64(id)<<32 | uint64(uint32(cell))
	for i := slotHash(k) & t.mask; ; i = (i + 1) & t.mask {
		e := t.slots[i]
		if e < 0 {
			e = int32(len(t.keys))
			t.keys = append(t.keys, k)
			t.vals = append(t.vals, zeros[:t.cols]...)
			if t.visitors {
				t.vone = append(t.vone, 0)
				t.vtwo = append(t.vtwo, 0)
				t.vref = append(t.vref, -1)
			}
			t.slots[i] = e
			if len(t.keys)*4 > len(t.slots)*3 {
				t.grow()
			}
			return e
		}
		if t.keys[e] == k {
			return e
		}
	}
}

func (t *Tally) grow() {
	slots := newSlots(2 * len(t.slots))
	mask := uint32(len(slots) - 1)
	for e, k := range t.keys {
		i := slotHash(k) & mask
		for slots[i] >= 0 {
			i = (i + 1) & mask
		}
		slots[i] = int32(e)
	}
	t.slots, t.mask = slots, mask
}

// Add adds n to counter col of entry e.
func (t *Tally) Add(e int32, col int, n int64) { t.vals[int(e)*t.cols+col] += n }

// Val returns counter col of entry e.
func (t *Tally) Val(e int32, col int) int64 { return t.vals[int(e)*t.cols+col] }

// AddVisitor adds the visitor hash h to entry e. It does nothing when the
// tally keeps no visitors.
func (t *Tally) AddVisitor(e int32, h uint64) {
	if !t.visitors {
		return
	}
	if h == 0 {
		h = 1
	}
	// A visitor's page views come in runs (a visit's pages share a device,
	// a location, a language, a source): a small direct-mapped table of the
	// pairs added last answers those without touching the entry's set.
	i := (h ^ uint64(e)*0x9e3779b97f4a7c15) >> (64 - recentBits)
	if t.recentE[i] == e+1 && t.recentH[i] == h {
		return
	}
	t.recentE[i], t.recentH[i] = e+1, h
	if r := t.vref[e]; r >= 0 {
		// A set of many visitors is a table or a sketch of up to 16 KB:
		// adding to it where the page views come is a cache miss each time.
		// Collected and added set by set, the visitors of the busy rows find
		// their set in the cache (the result does not depend on the order).
		t.pending = append(t.pending, pendingVisitor{r, h})
		if len(t.pending) == pendingMax {
			t.flush()
		}
		return
	}
	switch one, two := t.vone[e], t.vtwo[e]; {
	case one == h || two == h:
	case one == 0:
		t.vone[e] = h
	case two == 0:
		t.vtwo[e] = h
	default:
		s := newVisitorSet()
		s.add(one)
		s.add(two)
		s.add(h)
		t.vref[e] = int32(len(t.sets))
		t.sets = append(t.sets, s)
		t.vone[e], t.vtwo[e] = 0, 0
	}
}

// flush adds the pending visitors to their sets, grouped by set (a radix
// sort by ref, a byte at a time). Everything that reads the sets calls it
// first.
func (t *Tally) flush() {
	p := t.pending
	if len(p) == 0 {
		return
	}
	if cap(t.sorted) < len(p) {
		t.sorted = make([]pendingVisitor, pendingMax)
	}
	tmp := t.sorted[:len(p)]
	for shift := 0; len(t.sets)>>shift > 0 && shift < 32; shift += 8 {
		var count [257]int
		for i := range p {
			count[uint32(p[i].ref)>>shift&0xff+1]++
		}
		for b := 1; b < len(count); b++ {
			count[b] += count[b-1]
		}
		for i := range p {
			b := uint32(p[i].ref) >> shift & 0xff
			tmp[count[b]] = p[i]
			count[b]++
		}
		p, tmp = tmp, p
	}
	for i := range p {
		t.sets[p[i].ref].add(p[i].h)
	}
	// Both buffers are kept for the next flush (p is one of them).
	t.pending, t.sorted = t.pending[:0], t.sorted[:0]
}

// Count counts a page view under key id: counter 0 (page views) plus one,
// and its visitor, in the cell of pv's account and day. It returns the
// entry.
func (t *Tally) Count(pv *mapreduce.PageView, id uint32) int32 {
	e := t.Entry(pv.Account*t.days+int(pv.Bucket.Day), id)
	t.vals[int(e)*t.cols]++
	if t.visitors {
		t.AddVisitor(e, pv.Visitor)
	}
	return e
}

// ID returns the key id and the cell of entry e.
func (t *Tally) ID(e int32) (id uint32, cell int) {
	k := t.keys[e]
	return uint32(k >> 32), int(uint32(k))
}

// Merge adds the entries of o into t. ids maps o's key ids to t's (nil when
// both use the same ids). Both must come from the same plan and have the
// same columns.
func (t *Tally) Merge(o *Tally, ids func(uint32) uint32) {
	t.flush()
	o.flush()
	for oe := range o.keys {
		id, cell := o.ID(int32(oe))
		if ids != nil {
			id = ids(id)
		}
		e := t.Entry(cell, id)
		for c := range t.cols {
			t.vals[int(e)*t.cols+c] += o.vals[oe*o.cols+c]
		}
		if !t.visitors {
			continue
		}
		if r := o.vref[oe]; r >= 0 {
			os := o.sets[r]
			if tr := t.vref[e]; tr >= 0 {
				t.sets[tr].merge(os)
				continue
			}
			// Take o's set over; it is not used again.
			for _, h := range [2]uint64{t.vone[e], t.vtwo[e]} {
				if h != 0 {
					os.add(h)
				}
			}
			t.vref[e] = int32(len(t.sets))
			t.sets = append(t.sets, os)
			t.vone[e], t.vtwo[e] = 0, 0
			o.sets[r] = nil
		} else {
			for _, h := range [2]uint64{o.vone[oe], o.vtwo[oe]} {
				if h != 0 {
					t.AddVisitor(e, h)
				}
			}
		}
	}
}

// MergeKeyed merges o into t where each uses its own Keys: o's ids are
// re-interned in keys by their bytes in okeys.
func (t *Tally) MergeKeyed(keys *Keys, o *Tally, okeys *Keys) {
	ids := make([]uint32, okeys.Len())
	for i := range ids {
		ids[i] = keys.ID(okeys.Bytes(uint32(i)))
	}
	t.Merge(o, func(id uint32) uint32 { return ids[id] })
}
