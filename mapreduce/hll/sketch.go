package hll

import (
	"encoding/binary"
	"fmt"
	"math/bits"
)

const (
	// Precision is the number of hash bits that select a register, Redis's
	// HLL_P.
	Precision = 14
	// Registers is the number of registers of a sketch, 2^Precision.
	Registers = 1 << Precision
)

const (
	regMask = Registers - 1
	hashQ   = 64 - Precision // Redis's HLL_Q.

	// The sparse table holds entries idx<<8 | value; 0 marks a free slot
	// (stored values are never 0). It starts at minSlots, doubles when it is
	// 3/4 full and, rather than grow past maxSlots (8 KiB), the sketch
	// switches to one byte per register (16 KiB).
	minSlots      = 16
	maxSlots      = 2048
	maxSparseRegs = maxSlots / 4 * 3
	slotMul       = 0x9e3779b1 // Fibonacci hashing of the register index.
)

// Sketch is a HyperLogLog sketch with Redis's parameters: 16384 registers,
// MurmurHash64A with seed [Seed]. The zero value is an empty sketch ready to
// use. A Sketch must not be copied by value once used; use [Sketch.Clone].
type Sketch struct {
	// dense holds one register per byte; nil while the sketch is sparse.
	dense *[Registers]uint8
	// table is the sparse form: open addressing with linear probing, a
	// power-of-two number of slots, each 0 or idx<<8 | value.
	table []uint32
	// n is the number of used slots of table.
	n int
	// shift turns idx*slotMul into a slot number: 32 - log2(len(table)).
	shift uint8
}

// New returns an empty sketch. It is the same as new(Sketch).
func New() *Sketch {
	return new(Sketch)
}

// Add adds elem to the sketch. It reports whether a register changed, which
// is what Redis's PFADD reports for the same element.
func (s *Sketch) Add(elem []byte) bool {
	idx, count := position(murmur64A(elem, Seed))
	return s.set(idx, count)
}

// AddString is like [Sketch.Add] for a string element, without allocating.
func (s *Sketch) AddString(elem string) bool {
	idx, count := position(murmur64A(elem, Seed))
	return s.set(idx, count)
}

// AddHash adds an element by its [MurmurHash64A] hash with seed [Seed], for
// callers that already hashed it. It reports whether a register changed.
func (s *Sketch) AddHash(hash uint64) bool {
	idx, count := position(hash)
	return s.set(idx, count)
}

// position splits a hash into the register index and the register candidate
// value, like Redis's hllPatLen.
func position(hash uint64) (idx uint32, count uint8) {
	return uint32(hash & regMask), uint8(bits.TrailingZeros64(hash>>Precision|1<<hashQ) + 1)
}

// set raises register idx to count if it is lower and reports whether it did.
func (s *Sketch) set(idx uint32, count uint8) bool {
	if d := s.dense; d != nil {
		if count > d[idx&regMask] {
			d[idx&regMask] = count
			return true
		}
		return false
	}
	// Fast path: the register sits in its home slot and does not grow.
	if t := s.table; len(t) > 0 {
		if e := t[idx*slotMul>>s.shift&uint32(len(t)-1)]; e>>8 == idx && uint32(count) <= e&0xff {
			return false
		}
	}
	return s.setSparse(idx, count)
}

// setSparse is set for the sparse form.
func (s *Sketch) setSparse(idx uint32, count uint8) bool {
	if count == 0 {
		return false
	}
	if s.table == nil {
		s.table = make([]uint32, minSlots)
		s.shift = uint8(32 - bits.TrailingZeros(minSlots))
	}
	t := s.table
	mask := uint32(len(t) - 1)
	for i := idx * slotMul >> s.shift; ; i = (i + 1) & mask {
		e := t[i]
		if e == 0 {
			if (s.n+1)*4 > len(t)*3 {
				s.grow()
				return s.set(idx, count)
			}
			t[i] = idx<<8 | uint32(count)
			s.n++
			return true
		}
		if e>>8 == idx {
			if uint32(count) > e&0xff {
				t[i] = idx<<8 | uint32(count)
				return true
			}
			return false
		}
	}
}

// grow doubles the sparse table, or switches to the dense form when the table
// would outgrow maxSlots.
func (s *Sketch) grow() {
	if len(s.table)*2 > maxSlots {
		s.toDense()
		return
	}
	old := s.table
	s.table = make([]uint32, len(old)*2)
	s.shift--
	s.n = 0
	for _, e := range old {
		if e != 0 {
			s.insertNew(e)
		}
	}
}

// insertNew puts entry e, whose register is not in the table, into the table,
// which has room for it.
func (s *Sketch) insertNew(e uint32) {
	t := s.table
	mask := uint32(len(t) - 1)
	i := (e >> 8) * slotMul >> s.shift
	for t[i] != 0 {
		i = (i + 1) & mask
	}
	t[i] = e
	s.n++
}

// toDense switches the sketch to one byte per register.
func (s *Sketch) toDense() {
	d := new([Registers]uint8)
	for _, e := range s.table {
		if e != 0 {
			d[(e>>8)&regMask] = uint8(e)
		}
	}
	s.dense = d
	s.table = nil
	s.n = 0
	s.shift = 0
}

// reserve sizes an empty sketch for n non-zero registers.
func (s *Sketch) reserve(n int) {
	switch {
	case n == 0:
		return
	case n > maxSparseRegs:
		s.dense = new([Registers]uint8)
		return
	}
	slots := minSlots
	for n*4 > slots*3 {
		slots *= 2
	}
	s.table = make([]uint32, slots)
	s.shift = uint8(32 - bits.TrailingZeros(uint(slots)))
}

// Register returns the value of register i, 0 for a register no element
// reached. It panics if i is not in [0, Registers).
func (s *Sketch) Register(i int) uint8 {
	if i < 0 || i >= Registers {
		panic(fmt.Sprintf("hll: register index %d out of range [0, %d)", i, Registers))
	}
	if s.dense != nil {
		return s.dense[i]
	}
	if s.n == 0 {
		return 0
	}
	t := s.table
	mask := uint32(len(t) - 1)
	idx := uint32(i)
	for j := idx * slotMul >> s.shift; t[j] != 0; j = (j + 1) & mask {
		if t[j]>>8 == idx {
			return uint8(t[j])
		}
	}
	return 0
}

// IsEmpty reports whether no element was added, that is whether every
// register is 0.
func (s *Sketch) IsEmpty() bool {
	if s.dense == nil {
		return s.n == 0
	}
	for i := 0; i < Registers; i += 8 {
		if binary.LittleEndian.Uint64(s.dense[i:]) != 0 {
			return false
		}
	}
	return true
}

// Reset empties the sketch. It keeps the memory it holds for reuse.
func (s *Sketch) Reset() {
	if s.dense != nil {
		clear(s.dense[:])
	}
	clear(s.table)
	s.n = 0
}

// Clone returns an independent copy of the sketch.
func (s *Sketch) Clone() *Sketch {
	c := &Sketch{n: s.n, shift: s.shift}
	if s.dense != nil {
		d := *s.dense
		c.dense = &d
	}
	if s.table != nil {
		c.table = append([]uint32(nil), s.table...)
	}
	return c
}

// Merge raises every register of s to the value of the same register of o
// when that is higher, so that s becomes the sketch of the union of both
// element sets, like Redis's PFMERGE. o is not modified; a nil o is empty.
func (s *Sketch) Merge(o *Sketch) {
	if o == nil || o == s {
		return
	}
	if o.dense == nil {
		for _, e := range o.table {
			if e != 0 {
				s.set(e>>8, uint8(e))
			}
		}
		return
	}
	if s.dense == nil {
		s.toDense()
	}
	maxBytes(s.dense, o.dense)
}

// maxBytes sets every byte of dst to the maximum of itself and the same byte
// of src. Registers are below 128, so 8 of them are compared at once: in
// (a|0x80)-b the high bit of each byte survives exactly where a >= b.
func maxBytes(dst, src *[Registers]uint8) {
	const high = 0x8080808080808080
	for i := 0; i < Registers; i += 8 {
		a := binary.LittleEndian.Uint64(dst[i:])
		b := binary.LittleEndian.Uint64(src[i:])
		ge := ((a | high) - b) & high // high bit set where a >= b.
		keep := (ge >> 7) * 0xff      // 0xff bytes where a >= b.
		binary.LittleEndian.PutUint64(dst[i:], a&keep|b&^keep)
	}
}
