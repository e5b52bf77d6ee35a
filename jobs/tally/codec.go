package tally

import (
	"cmp"
	"math"
	"slices"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/mapreduce/hll"
)

// This file writes Keys and Tallies as partial results (see
// mapreduce.PartialCodec), so that most jobs' codecs are a few lines:
// EncodeKeyed and DecodeKeyed.
//
// Keys are written in id order, each with its length. A tally is written
// as its number of columns, whether it keeps visitors, its number of
// entries, then per entry its account and day (by account id and local
// date, see mapreduce.PartialEncoder), its key id, its counters as
// zig-zag varints and, when it keeps visitors, one of: 0 (none), 1 and one
// 8-byte hash, 2 and a count of hashes and the hashes (an exact set), 3 and
// the sketch as Redis stores it (hll.Sketch.AppendRedis). Decoding rebuilds
// the same sets and sketches, so that merged partials count exactly what
// one run counts.

// Visitor encodings of an entry.
const (
	visitorsNone = iota
	visitorsOne
	visitorsSet
	visitorsSketch
)

// EncodeKeys writes k.
func EncodeKeys(e *mapreduce.PartialEncoder, k *Keys) {
	e.Uvarint(uint64(k.Len()))
	for id := range k.Len() {
		e.Bytes(k.Bytes(uint32(id)))
	}
}

// DecodeKeys reads keys that EncodeKeys wrote into a new Keys, each under
// the id it had.
func DecodeKeys(d *mapreduce.PartialDecoder) *Keys {
	k := NewKeys()
	n := d.Count(1)
	for i := 0; i < n && d.Err() == nil; i++ {
		b := d.Bytes(math.MaxInt32)
		if d.Err() != nil {
			break
		}
		if id := k.IDShared(b); id != uint32(i) {
			d.Fail("key %q written twice", b)
		}
	}
	return k
}

// Encode writes t; its key ids are those of the Keys written with it.
func (t *Tally) Encode(e *mapreduce.PartialEncoder) {
	t.flush()
	e.Uvarint(uint64(t.cols))
	e.Bool(t.visitors)
	e.Uvarint(uint64(t.Len()))
	var sk []byte
	var hs []uint64
	for i := range t.Len() {
		id, cell := t.ID(int32(i))
		e.Account(cell / t.days)
		e.Day(cell % t.days)
		e.Uvarint(uint64(id))
		for c := range t.cols {
			e.Varint(t.Val(int32(i), c))
		}
		if !t.visitors {
			continue
		}
		var sketch *hll.Sketch
		hs, sketch = t.entryVisitors(hs[:0], i)
		switch {
		case sketch != nil:
			e.Uvarint(visitorsSketch)
			sk = sketch.AppendRedis(sk[:0])
			e.Bytes(sk)
		case len(hs) == 0:
			e.Uvarint(visitorsNone)
		case len(hs) == 1:
			e.Uvarint(visitorsOne)
			e.Uint64(hs[0])
		default:
			e.Uvarint(visitorsSet)
			e.Uvarint(uint64(len(hs)))
			for _, h := range hs {
				e.Uint64(h)
			}
		}
	}
}

// entryVisitors appends the visitor hashes of entry e to dst, or returns the
// entry's sketch when its visitors are counted by one. It is the codec's
// one reader of how a tally holds visitors.
func (t *Tally) entryVisitors(dst []uint64, e int) ([]uint64, *hll.Sketch) {
	t.flush()
	if r := t.vref(int32(e)); r >= 0 {
		s := t.sets[r]
		if s.sketch != nil {
			return dst, s.sketch
		}
		for _, h := range s.slots {
			if h != 0 {
				dst = append(dst, h)
			}
		}
		return dst, nil
	}
	for _, h := range t.pair(int32(e)) {
		if h != 0 {
			dst = append(dst, h)
		}
	}
	return dst, nil
}

// Decode reads a tally that Encode wrote for d's plan, which must have
// cols counters and keep visitors as told, and key ids below keys.
func Decode(d *mapreduce.PartialDecoder, cols int, visitors bool, keys int) *Tally {
	t := New(d.Plan(), cols, visitors)
	if c := d.Uvarint(); d.Err() == nil && c != uint64(t.cols) {
		d.Fail("a tally of %d columns, want %d", c, t.cols)
	}
	if v := d.Bool(); d.Err() == nil && v != visitors {
		d.Fail("a tally that keeps visitors: %v, want %v", v, visitors)
	}
	n := d.Count(3 + t.cols)
	for i := 0; i < n && d.Err() == nil; i++ {
		a, day := d.Account(), d.Day()
		id := d.Uvarint()
		if d.Err() != nil {
			break
		}
		if id >= uint64(keys) {
			d.Fail("key id %d of %d", id, keys)
			break
		}
		before := t.Len()
		e := t.Entry(t.Cell(a, day), uint32(id))
		if t.Len() == before {
			d.Fail("an entry written twice")
			break
		}
		for c := range t.cols {
			v := d.Varint()
			if v < 0 {
				d.Fail("a negative count")
			}
			t.ents[t.at(e)+1+c] = uint64(v)
		}
		if visitors {
			t.decodeVisitors(d, e)
		}
	}
	return t
}

// decodeVisitors reads the visitors of entry e.
func (t *Tally) decodeVisitors(d *mapreduce.PartialDecoder, e int32) {
	switch kind := d.Uvarint(); kind {
	case visitorsNone:
	case visitorsOne:
		h := d.Uint64()
		if h == 0 && d.Err() == nil {
			d.Fail("a visitor hash of 0")
		}
		t.AddVisitor(e, h)
	case visitorsSet:
		n := d.Count(8)
		if d.Err() == nil && (n < 2 || n > ExactVisitors) {
			d.Fail("an exact set of %d visitors (2 to %d)", n, ExactVisitors)
			return
		}
		for range n {
			h := d.Uint64()
			if d.Err() != nil {
				return
			}
			if h == 0 {
				d.Fail("a visitor hash of 0")
				return
			}
			t.AddVisitor(e, h)
		}
		if hs, sk := t.entryVisitors(nil, int(e)); d.Err() == nil && (sk != nil || len(hs) != n) {
			d.Fail("an exact set of %d visitors that holds one twice", n)
		}
	case visitorsSketch:
		b := d.Bytes(hll.DenseSize)
		if d.Err() != nil {
			return
		}
		sk, err := hll.ParseRedis(b)
		if err != nil {
			d.Fail("visitors: %v", err)
			return
		}
		s := newVisitorSet()
		s.slots, s.sketch = nil, sk
		t.setVref(e, len(t.sets))
		t.sets = append(t.sets, s)
	default:
		d.Fail("visitors of kind %d", kind)
	}
}

// EncodeKeyed writes keys and t, the partial result of most jobs, and
// returns the encoder's error.
func EncodeKeyed(e *mapreduce.PartialEncoder, keys *Keys, t *Tally) error {
	EncodeKeys(e, keys)
	t.Encode(e)
	return e.Err()
}

// DecodeKeyed reads what EncodeKeyed wrote: a tally of cols counters,
// keeping visitors as told.
func DecodeKeyed(d *mapreduce.PartialDecoder, cols int, visitors bool) (*Keys, *Tally, error) {
	keys := DecodeKeys(d)
	t := Decode(d, cols, visitors, keys.Len())
	return keys, t, d.Err()
}

// EncodeLabels writes l: its labels (as EncodeKeys), then its counts, each
// as an account, a raw key id, a label id and a count, in that order.
func EncodeLabels(e *mapreduce.PartialEncoder, l *LabelCounts) {
	EncodeKeys(e, l.labels)
	type count struct {
		a       int
		id, lid uint32
		n       int64
	}
	var cs []count
	l.each(func(a int, id, lid uint32, n int64) { cs = append(cs, count{a, id, lid, n}) })
	slices.SortFunc(cs, func(x, y count) int {
		return cmp.Or(cmp.Compare(x.a, y.a), cmp.Compare(x.id, y.id), cmp.Compare(x.lid, y.lid))
	})
	e.Uvarint(uint64(len(cs)))
	for _, c := range cs {
		e.Account(c.a)
		e.Uvarint(uint64(c.id))
		e.Uvarint(uint64(c.lid))
		e.Varint(c.n)
	}
}

// DecodeLabels reads label counts that EncodeLabels wrote, of raw key ids
// below keys.
func DecodeLabels(d *mapreduce.PartialDecoder, keys int) *LabelCounts {
	l := NewLabelCounts()
	l.labels = DecodeKeys(d)
	n := d.Count(4)
	seen := map[[3]uint64]bool{}
	for range n {
		a := d.Account()
		id, lid, c := d.Uvarint(), d.Uvarint(), d.Varint()
		if d.Err() != nil {
			break
		}
		k := [3]uint64{uint64(a), id, lid}
		switch {
		case id >= uint64(keys) || lid >= uint64(l.labels.Len()):
			d.Fail("a label count of key %d and label %d (of %d and %d)", id, lid, keys, l.labels.Len())
		case c <= 0:
			d.Fail("a label count of %d", c)
		case seen[k]:
			d.Fail("a label count written twice")
		}
		if d.Err() != nil {
			break
		}
		seen[k] = true
		l.table(a).add(uint32(id), uint32(lid), c)
	}
	return l
}
