package tally

// LabelCounts counts, per raw key id, the page views of each raw label: a
// URL's titles, for the urls report's title column (ReportSpec.RawLabels).
// It is owned by one worker.
type LabelCounts struct {
	labels *Keys
	// Most keys have one label: the first label of raw key id is first[id]
	// (+1; 0 none) with count n[id]; other pairs are counted in counts.
	first  []uint32
	n      []int64
	counts map[uint64]int64 // raw key id << 32 | label id
	// last memoises the label bytes of the previous Add and their id.
	last   []byte
	lastID uint32
}

// NewLabelCounts returns empty counts.
func NewLabelCounts() *LabelCounts {
	return &LabelCounts{labels: NewKeys(), counts: map[uint64]int64{}}
}

// Add counts one page view of raw key id with label.
func (l *LabelCounts) Add(id uint32, label []byte) {
	if int(id) < len(l.first) {
		// The common case: the key's first label again, compared, not
		// hashed.
		if f := l.first[id]; f != 0 && string(l.labels.Bytes(f-1)) == string(label) {
			l.n[id]++
			return
		}
	}
	l.add(id, l.labelID(label), 1)
}

func (l *LabelCounts) labelID(label []byte) uint32 {
	if l.last != nil && string(label) == string(l.last) {
		return l.lastID
	}
	l.lastID = l.labels.ID(label)
	l.last = l.labels.Bytes(l.lastID)
	return l.lastID
}

func (l *LabelCounts) add(id, lid uint32, n int64) {
	for int(id) >= len(l.first) {
		l.first = append(l.first, 0)
		l.n = append(l.n, 0)
	}
	switch l.first[id] {
	case lid + 1:
		l.n[id] += n
	case 0:
		l.first[id], l.n[id] = lid+1, n
	default:
		l.counts[uint64(id)<<32|uint64(lid)] += n
	}
}

// each calls fn for every (raw key id, label id, count).
func (l *LabelCounts) each(fn func(id, lid uint32, n int64)) {
	for id, f := range l.first {
		if f != 0 {
			fn(uint32(id), f-1, l.n[id])
		}
	}
	for k, n := range l.counts {
		fn(uint32(k>>32), uint32(k), n)
	}
}

// Merge adds o's counts; ids maps o's raw key ids to l's.
func (l *LabelCounts) Merge(o *LabelCounts, ids func(uint32) uint32) {
	lids := make([]uint32, o.labels.Len())
	for i := range lids {
		lids[i] = l.labels.ID(o.labels.Bytes(uint32(i)))
	}
	o.each(func(id, lid uint32, n int64) { l.add(ids(id), lids[lid], n) })
}

// best returns, for each report key id (of n), the id in canon of its most
// frequent label once labels are mapped by labelCanon and raw keys by cid
// (dropped raw keys left out), ties going to the label whose bytes sort
// first; -1 for report keys without labels. Most report keys have one
// label: they are settled in arrays, and only keys with several go through
// a map.
func (l *LabelCounts) best(n int, cid func(uint32) uint32, labelCanon func(dst, raw []byte) []byte, canon *Keys) []int64 {
	clid := make([]int64, l.labels.Len())
	for i := range clid {
		clid[i] = -1
	}
	var buf []byte
	best := make([]int64, n)
	bestN := make([]int64, n)
	for i := range best {
		best[i] = -1
	}
	many := map[uint64]int64{} // report key id << 32 | label: page views, for keys of several labels
	l.each(func(raw, li uint32, c int64) {
		id := cid(raw)
		if id == dropped {
			return
		}
		if clid[li] < 0 {
			raw := l.labels.Bytes(li)
			if labelCanon == nil {
				clid[li] = int64(canon.IDShared(raw))
			} else {
				buf = labelCanon(buf[:0], raw)
				clid[li] = int64(canon.ID(buf))
			}
		}
		lab := clid[li]
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
	return best
}
