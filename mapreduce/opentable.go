package mapreduce

// openTable maps visitor hashes to their open fragments: an open-addressing
// table with linear probing whose slot holds the hash and the fragment
// side by side, so a lookup costs one cache line where a Go map touches
// its control word, its slot and, for a miss, the group after. It is kept
// at most half full; deletion shifts later entries back, so no slot is a
// tombstone. A slot with a nil fragment is empty.
type openTable struct {
	slots []openSlot
	mask  uint64
	n     int
}

type openSlot struct {
	visitor uint64
	f       *fragment
}

func newOpenTable() *openTable {
	return &openTable{slots: make([]openSlot, 1024), mask: 1023}
}

// home is the first slot to probe for visitor h (its hash is already
// uniform; the multiply spreads hashes a test picks by hand).
func (t *openTable) home(h uint64) uint64 { return (h * 0x9e3779b97f4a7c15) >> 20 & t.mask }

// get returns the fragment of visitor h, nil when none.
func (t *openTable) get(h uint64) *fragment {
	for i := t.home(h); ; i = (i + 1) & t.mask {
		s := &t.slots[i]
		if s.f == nil || s.visitor == h {
			return s.f
		}
	}
}

// put sets the fragment of visitor h (f not nil).
func (t *openTable) put(h uint64, f *fragment) {
	for i := t.home(h); ; i = (i + 1) & t.mask {
		s := &t.slots[i]
		if s.f == nil {
			*s = openSlot{h, f}
			t.n++
			if uint64(t.n)*2 > t.mask {
				t.grow()
			}
			return
		}
		if s.visitor == h {
			s.f = f
			return
		}
	}
}

// del removes visitor h, if present.
func (t *openTable) del(h uint64) {
	i := t.home(h)
	for ; ; i = (i + 1) & t.mask {
		s := &t.slots[i]
		if s.f == nil {
			return
		}
		if s.visitor == h {
			break
		}
	}
	// Shift back the entries of the run after i that may sit in i.
	for j := (i + 1) & t.mask; ; j = (j + 1) & t.mask {
		s := t.slots[j]
		if s.f == nil {
			break
		}
		// s may move to i when its home is not within (i, j].
		if k := t.home(s.visitor); (j-k)&t.mask >= (j-i)&t.mask {
			t.slots[i] = s
			i = j
		}
	}
	t.slots[i] = openSlot{}
	t.n--
}

func (t *openTable) grow() {
	old := t.slots
	t.slots = make([]openSlot, 2*len(old))
	t.mask = uint64(len(t.slots) - 1)
	t.n = 0
	for _, s := range old {
		if s.f != nil {
			t.put(s.visitor, s.f)
		}
	}
}

// each calls fn for every entry; fn must not change the table.
func (t *openTable) each(fn func(f *fragment)) {
	for _, s := range t.slots {
		if s.f != nil {
			fn(s.f)
		}
	}
}

// reset empties the table, keeping its size.
func (t *openTable) reset() {
	clear(t.slots)
	t.n = 0
}
