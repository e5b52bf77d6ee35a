package tally

// LabelCounts counts, per account and raw key id, the page views of each
// raw label: a URL's titles, for the urls report's title column
// (ReportSpec.RawLabels). It is owned by one worker.
type LabelCounts struct {
	labels   *Keys
	accounts []*labelTable
	// last memoises the label bytes of the previous Add and their id.
	last   []byte
	lastID uint32
}

// labelTable holds one account's counts. Most keys have one label: the
// first label of raw key id is first[id] (+1; 0 none) with count n[id];
// other pairs are counted in counts.
type labelTable struct {
	first  []uint32
	n      []int64
	counts map[uint64]int64 // raw key id << 32 | label id
}

// NewLabelCounts returns empty counts.
func NewLabelCounts() *LabelCounts { return &LabelCounts{labels: NewKeys()} }

func (l *LabelCounts) table(a int) *labelTable {
	for a >= len(l.accounts) {
		l.accounts = append(l.accounts, &labelTable{counts: map[uint64]int64{}})
	}
	return l.accounts[a]
}

// Add counts one page view of account index a and raw key id with label.
func (l *LabelCounts) Add(a int, id uint32, label []byte) {
	t := l.table(a)
	if int(id) < len(t.first) {
		// The common case: the key's first label again, compared, not
		// hashed.
		if f := t.first[id]; f != 0 && string(l.labels.Bytes(f-1)) == string(label) {
			t.n[id]++
			return
		}
	}
	t.add(id, l.labelID(label), 1)
}

func (l *LabelCounts) labelID(label []byte) uint32 {
	if l.last != nil && string(label) == string(l.last) {
		return l.lastID
	}
	l.lastID = l.labels.ID(label)
	l.last = l.labels.Bytes(l.lastID)
	return l.lastID
}

func (t *labelTable) add(id, lid uint32, n int64) {
	for int(id) >= len(t.first) {
		t.first = append(t.first, 0)
		t.n = append(t.n, 0)
	}
	switch t.first[id] {
	case lid + 1:
		t.n[id] += n
	case 0:
		t.first[id], t.n[id] = lid+1, n
	default:
		t.counts[uint64(id)<<32|uint64(lid)] += n
	}
}

// each calls fn for every (raw key id, label id, count) of one account.
func (t *labelTable) each(fn func(id, lid uint32, n int64)) {
	for id, f := range t.first {
		if f != 0 {
			fn(uint32(id), f-1, t.n[id])
		}
	}
	for k, n := range t.counts {
		fn(uint32(k>>32), uint32(k), n)
	}
}

// each calls fn for every (account index, raw key id, label id, count).
func (l *LabelCounts) each(fn func(a int, id, lid uint32, n int64)) {
	for a, t := range l.accounts {
		t.each(func(id, lid uint32, n int64) { fn(a, id, lid, n) })
	}
}

// Merge adds o's counts; ids maps o's raw key ids to l's.
func (l *LabelCounts) Merge(o *LabelCounts, ids func(uint32) uint32) {
	lids := make([]uint32, o.labels.Len())
	for i := range lids {
		lids[i] = l.labels.ID(o.labels.Bytes(uint32(i)))
	}
	o.each(func(a int, id, lid uint32, n int64) { l.table(a).add(ids(id), lids[lid], n) })
}

// labelMapper maps raw labels to their ids in canon, each raw label once.
type labelMapper struct {
	canon *Keys
	fn    func(dst, raw []byte) []byte // nil: raw labels as they are
	clid  []int64
	buf   []byte
}

func (c *labelMapper) id(l *LabelCounts, li uint32) int64 {
	for int(li) >= len(c.clid) {
		c.clid = append(c.clid, -1)
	}
	if c.clid[li] < 0 {
		raw := l.labels.Bytes(li)
		if c.fn == nil {
			c.clid[li] = int64(c.canon.IDShared(raw))
		} else {
			c.buf = c.fn(c.buf[:0], raw)
			c.clid[li] = int64(c.canon.ID(c.buf))
		}
	}
	return c.clid[li]
}

// best fills best, for each report key id, with the id in lc.canon of the
// most frequent label of account index a once labels are mapped by lc and
// raw keys by cid (dropped raw keys left out), ties going to the label
// whose bytes sort first; -1 for report keys without labels. bestN is
// scratch of the same length. Most report keys have one label: they are
// settled in the arrays, and only keys with several go through a map.
func (l *LabelCounts) best(a int, best, bestN []int64, cid func(uint32) uint32, lc *labelMapper) {
	for i := range best {
		best[i], bestN[i] = -1, 0
	}
	if a >= len(l.accounts) {
		return
	}
	canon := lc.canon
	many := map[uint64]int64{} // report key id << 32 | label: page views, for keys of several labels
	l.accounts[a].each(func(raw, li uint32, c int64) {
		id := cid(raw)
		if id == dropped {
			return
		}
		lab := lc.id(l, li)
		switch b := best[id]; {
		case b == -1:
			best[id], bestN[id] = lab, c
		case b == lab:
			bestN[id] += c
		case b >= 0:
			// A second label: from now on this key is counted in many.
			many[uint64(id)<<32|uint64(b)] += bestN[id]
			many[uint64(id)<<32|uint64(lab)] += c
			best[id] = -2
		default:
			many[uint64(id)<<32|uint64(lab)] += c
		}
	})
	for k, c := range many {
		id, lab := uint32(k>>32), int64(uint32(k))
		switch {
		case best[id] < 0, c > bestN[id]:
		case c == bestN[id] && string(canon.Bytes(uint32(lab))) < string(canon.Bytes(uint32(best[id]))):
		default:
			continue
		}
		best[id], bestN[id] = lab, c
	}
}
