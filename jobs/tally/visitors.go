package tally

import "github.com/pvjobs/pvjobs/mapreduce/hll"

// ExactVisitors is the number of distinct visitors up to which a report
// row's visitors are counted exactly; above it they are a HyperLogLog
// estimate with Redis's parameters (standard error 0.81%).
//
// Exact counting keeps each visitor's 64-bit hash (PageView.Visitor, the
// MurmurHash64A of the visitor key that HyperLogLogs add), so two visitors
// are confused only when their hashes collide, about once in 10^13 pairs.
// A row whose visitors outgrow ExactVisitors moves to a sketch built from
// the same hashes: the sketch of a row is then the one Redis would build by
// PFADDing the row's visitor keys.
const ExactVisitors = 1536

// visitorSet holds the distinct visitors of one tally entry (or of a union
// of entries) of two or more visitors: a hash set of their hashes while
// there are at most ExactVisitors, then a sketch.
type visitorSet struct {
	// slots is an open-addressing set of hashes; 0 marks a free slot (a hash
	// of 0 is stored as 1).
	slots  []uint64
	n      int
	sketch *hll.Sketch
}

// maxSlots is the largest slot table: ExactVisitors at three quarters full.
const maxSlots = ExactVisitors * 4 / 3

func newVisitorSet() *visitorSet { return &visitorSet{slots: make([]uint64, 4)} }

// add adds the visitor hash h (never 0).
func (s *visitorSet) add(h uint64) {
	if s.sketch != nil {
		s.sketch.AddHash(h)
		return
	}
	mask := uint64(len(s.slots) - 1)
	for i := (h * 0x9e3779b97f4a7c15 >> 32) & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case h:
			return
		case 0:
			s.slots[i] = h
			s.n++
			if s.n*4 > len(s.slots)*3 {
				s.grow()
			}
			return
		}
	}
}

// grow doubles the slot table, or turns the set into a sketch when it would
// hold more than ExactVisitors.
func (s *visitorSet) grow() {
	old := s.slots
	if len(old)*2 > maxSlots {
		s.sketch = hll.New()
		for _, h := range old {
			if h != 0 {
				s.sketch.AddHash(h)
			}
		}
		s.slots, s.n = nil, 0
		return
	}
	s.slots, s.n = make([]uint64, 2*len(old)), 0
	for _, h := range old {
		if h != 0 {
			s.add(h)
		}
	}
}

// merge adds the visitors of o.
func (s *visitorSet) merge(o *visitorSet) {
	if o.sketch != nil {
		if s.sketch == nil {
			sk := o.sketch.Clone()
			for _, h := range s.slots {
				if h != 0 {
					sk.AddHash(h)
				}
			}
			s.sketch, s.slots, s.n = sk, nil, 0
			return
		}
		s.sketch.Merge(o.sketch)
		return
	}
	for _, h := range o.slots {
		if h != 0 {
			s.add(h)
		}
	}
}

// count returns the number of distinct visitors.
func (s *visitorSet) count() uint64 {
	if s.sketch != nil {
		return s.sketch.Count()
	}
	return uint64(s.n)
}

// Visitors counts distinct visitors: the union of entries' visitors when a
// report adds rows up. The zero Visitors is empty. A Visitors may share
// another's set (copy on write), so that a row made of one entry, or a
// range of one day, costs no copy.
type Visitors struct {
	one    uint64
	set    *visitorSet
	shared bool // set belongs to someone else: copy before writing
}

// own makes v's set its own to write.
func (v *Visitors) own() {
	if v.shared {
		c := &visitorSet{n: v.set.n}
		if v.set.sketch != nil {
			c.sketch = v.set.sketch.Clone()
		} else {
			c.slots = append([]uint64(nil), v.set.slots...)
		}
		v.set, v.shared = c, false
	}
}

// Add adds the visitor hash h.
func (v *Visitors) Add(h uint64) {
	if h == 0 {
		h = 1
	}
	switch {
	case v.set != nil:
		v.own()
		v.set.add(h)
	case v.one == 0:
		v.one = h
	case v.one != h:
		v.set = newVisitorSet()
		v.set.add(v.one)
		v.set.add(h)
	}
}

// addEntry adds the visitors of entry e of t.
func (v *Visitors) addEntry(t *Tally, e int32) {
	if r := t.vref(e); r >= 0 {
		v.addSet(t.sets[r])
		return
	}
	for _, h := range t.pair(e) {
		if h != 0 {
			v.Add(h)
		}
	}
}

// addSet adds the visitors of s, which v must not change: an empty v
// shares it.
func (v *Visitors) addSet(s *visitorSet) {
	switch {
	case v.set == nil && v.one == 0:
		v.set, v.shared = s, true
	case v.set == s:
	default:
		if v.set == nil {
			v.set = newVisitorSet()
			v.set.add(v.one)
		}
		v.own()
		v.set.merge(s)
	}
}

// AddVisitors adds the visitors of o.
func (v *Visitors) AddVisitors(o *Visitors) {
	switch {
	case o.set != nil:
		v.addSet(o.set)
	case o.one != 0:
		v.Add(o.one)
	}
}

// Count returns the number of distinct visitors: exact up to ExactVisitors,
// a HyperLogLog estimate above.
func (v *Visitors) Count() uint64 {
	switch {
	case v.set != nil:
		return v.set.count()
	case v.one != 0:
		return 1
	}
	return 0
}
