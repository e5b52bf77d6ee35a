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
	// ents holds the entries, stride words each, one after the other (so
	// that counting a page view touches one or two cache lines): its (id,
	// cell) key, cols counters, and with visitors: one or two visitor
	// hashes (0: none) or, in the third word, the index+1 of a set in sets
	// (0: none). Most keys of a long tail have one or two visitors, who
	// then cost no set.
	ents   []uint64
	stride int
	sets   []*visitorSet
	slots  []int32 // -1 is empty, else an entry; len is a power of two
	mask   uint32
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
	t.stride = 1 + t.cols
	if visitors {
		t.stride += 3
	}
	t.slots = newSlots(256)
	t.mask = 255
	return t
}

// zeros holds the words of a new entry.
var zeros [MaxCols + 4]uint64

// MaxCols is the most counters an entry may have.
const MaxCols = 16

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
func (t *Tally) Len() int { return len(t.ents) / t.stride }

// at returns the index in ents of entry e.
func (t *Tally) at(e int32) int { return int(e) * t.stride }

// Visitor words of an entry, after its key and counters: see ents.
func (t *Tally) vone(e int32) int { return t.at(e) + 1 + t.cols }

// vref returns the index in sets of entry e's set of visitors, -1 when it
// has none.
func (t *Tally) vref(e int32) int { return int(t.ents[t.vone(e)+2]) - 1 }

func (t *Tally) setVref(e int32, r int) { t.ents[t.vone(e)+2] = uint64(r + 1) }

// pair returns the one or two visitors of entry e that has no set.
func (t *Tally) pair(e int32) [2]uint64 {
	i := t.vone(e)
	return [2]uint64{t.ents[i], t.ents[i+1]}
}

func slotHash(k uint64) uint32 { return uint32((k * 0x9e3779b97f4a7c15) >> 32) }

// Entry returns the entry of key id in cell, adding it with zero counters
// when new.
func (t *Tally) Entry(cell int, id uint32) int32 {
	k := uint64(id)<<32 | uint64(uint32(cell))
	for i := slotHash(k) & t.mask; ; i = (i + 1) & t.mask {
		e := t.slots[i]
		if e < 0 {
			e = int32(t.Len())
			t.ents = append(t.ents, k)
			t.ents = append(t.ents, zeros[:t.stride-1]...)
			t.slots[i] = e
			if (int(e)+1)*4 > len(t.slots)*3 {
				t.grow()
			}
			return e
		}
		if t.ents[t.at(e)] == k {
			return e
		}
	}
}

func (t *Tally) grow() {
	slots := newSlots(2 * len(t.slots))
	mask := uint32(len(slots) - 1)
	for e := range t.Len() {
		i := slotHash(t.ents[e*t.stride]) & mask
		for slots[i] >= 0 {
			i = (i + 1) & mask
		}
		slots[i] = int32(e)
	}
	t.slots, t.mask = slots, mask
}

// Add adds n to counter col of entry e.
func (t *Tally) Add(e int32, col int, n int64) { t.ents[t.at(e)+1+col] += uint64(n) }

// Val returns counter col of entry e.
func (t *Tally) Val(e int32, col int) int64 { return int64(t.ents[t.at(e)+1+col]) }

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
	v := t.vone(e)
	if r := int32(t.ents[v+2]) - 1; r >= 0 {
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
	switch one, two := t.ents[v], t.ents[v+1]; {
	case one == h || two == h:
	case one == 0:
		t.ents[v] = h
	case two == 0:
		t.ents[v+1] = h
	default:
		s := newVisitorSet()
		s.add(one)
		s.add(two)
		s.add(h)
		t.ents[v], t.ents[v+1], t.ents[v+2] = 0, 0, uint64(len(t.sets)+1)
		t.sets = append(t.sets, s)
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
	t.ents[t.at(e)+1]++
	if t.visitors {
		t.AddVisitor(e, pv.Visitor)
	}
	return e
}

// ID returns the key id and the cell of entry e.
func (t *Tally) ID(e int32) (id uint32, cell int) {
	k := t.ents[t.at(e)]
	return uint32(k >> 32), int(uint32(k))
}

// Merge adds the entries of o into t. ids maps o's key ids to t's (nil when
// both use the same ids). Both must come from the same plan and have the
// same columns.
func (t *Tally) Merge(o *Tally, ids func(uint32) uint32) {
	t.flush()
	o.flush()
	for oe := range int32(o.Len()) {
		id, cell := o.ID(oe)
		if ids != nil {
			id = ids(id)
		}
		e := t.Entry(cell, id)
		for c := range t.cols {
			t.ents[t.at(e)+1+c] += o.ents[o.at(oe)+1+c]
		}
		if !t.visitors {
			continue
		}
		if r := o.vref(oe); r >= 0 {
			os := o.sets[r]
			if tr := t.vref(e); tr >= 0 {
				t.sets[tr].merge(os)
				continue
			}
			// Take o's set over; it is not used again.
			for _, h := range t.pair(e) {
				if h != 0 {
					os.add(h)
				}
			}
			v := t.vone(e)
			t.ents[v], t.ents[v+1] = 0, 0
			t.setVref(e, len(t.sets))
			t.sets = append(t.sets, os)
			o.sets[r] = nil
		} else {
			for _, h := range o.pair(oe) {
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
