package hll

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"slices"
)

const (
	// DefaultSparseMaxBytes is Redis's default hll-sparse-max-bytes: the
	// largest sparse value, header included, that Redis keeps sparse.
	DefaultSparseMaxBytes = 3000
	// MaxSparseValue is the largest register value the sparse encoding can
	// hold, Redis's HLL_SPARSE_VAL_MAX_VALUE; a key with a larger register is
	// dense.
	MaxSparseValue = 32
	// HeaderSize is the size of the header of a Redis HyperLogLog value.
	HeaderSize = 16
	// DenseSize is the size of a dense Redis HyperLogLog value, header
	// included.
	DenseSize = HeaderSize + Registers*6/8
)

// Encoding bytes of the header, and the sparse opcodes.
const (
	encDense  = 0
	encSparse = 1

	opXZero = 0x40 // 01xxxxxx yyyyyyyy: 1 to 16384 zero registers.
	opVal   = 0x80 // 1vvvvvxx: 1 to 4 registers of value 1 to 32.

	maxZeroRun  = 64    // ZERO, 00xxxxxx: 1 to 64 zero registers.
	maxXZeroRun = 16384 // XZERO.
	maxValRun   = 4     // VAL.
)

// ErrInvalid is wrapped by the errors of [ParseRedis] and
// [Sketch.UnmarshalRedis] for a value that is not a valid Redis HyperLogLog.
var ErrInvalid = errors.New("not a valid Redis HyperLogLog value")

// AppendRedis appends to dst the Redis string value of the sketch in the
// encoding Redis would hold with the default hll-sparse-max-bytes, and returns
// the extended slice. It is AppendRedisSparseMax(dst, DefaultSparseMaxBytes).
func (s *Sketch) AppendRedis(dst []byte) []byte {
	return s.AppendRedisSparseMax(dst, DefaultSparseMaxBytes)
}

// AppendRedisSparseMax appends to dst the Redis string value of the sketch and
// returns the extended slice. The value is sparse when no register exceeds
// [MaxSparseValue] and the canonical sparse value (see the package
// documentation) is at most sparseMaxBytes long, header included, as with
// Redis's hll-sparse-max-bytes; otherwise it is dense. An empty sketch is
// always sparse, as PFADD creates it. The header's cached cardinality is
// marked invalid, so Redis computes the count on the first PFCOUNT.
func (s *Sketch) AppendRedisSparseMax(dst []byte, sparseMaxBytes int) []byte {
	start := len(dst)
	// A VAL opcode covers at most 4 registers: with that many non-zero
	// registers the sparse value cannot fit, and trying would be slow.
	if s.dense == nil || !tooManyForSparse(nonZero(s.dense), sparseMaxBytes) {
		var ok bool
		dst, ok = s.appendSparse(appendHeader(dst, encSparse), start+sparseMaxBytes)
		if ok || s.IsEmpty() {
			return dst
		}
	}
	return s.appendDense(appendHeader(dst[:start], encDense))
}

// tooManyForSparse reports whether n non-zero registers, n > 0, cannot fit in
// a sparse value of at most limit bytes.
func tooManyForSparse(n, limit int) bool {
	return n > 0 && HeaderSize+(n+3)/4 > limit
}

// nonZero returns the number of non-zero registers. Registers are below 64,
// so adding 63 to each byte sets its bit 6 exactly when it is not zero.
func nonZero(regs *[Registers]uint8) int {
	n := 0
	for i := 0; i < Registers; i += 8 {
		w := binary.LittleEndian.Uint64(regs[i:])
		n += bits.OnesCount64((w + 0x3f3f3f3f3f3f3f3f) & 0x4040404040404040)
	}
	return n
}

// appendHeader appends "HYLL", the encoding, 3 unused bytes and a cached
// cardinality of 0 with the invalid bit set, as PFADD leaves it.
func appendHeader(dst []byte, enc byte) []byte {
	return append(dst, 'H', 'Y', 'L', 'L', enc, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80)
}

// appendSparse appends the canonical sparse opcodes. It reports false, having
// appended some of them, when a register is above MaxSparseValue or dst would
// grow past limit.
func (s *Sketch) appendSparse(dst []byte, limit int) ([]byte, bool) {
	if s.dense != nil {
		return appendSparseRegs(dst, limit, s.dense)
	}
	if s.n <= sortMax {
		var buf [sortMax]uint32
		entries := buf[:0]
		for _, e := range s.table {
			if e != 0 {
				entries = append(entries, e)
			}
		}
		slices.Sort(entries) // The register index is in the high bits.
		return appendSparseEntries(dst, limit, entries)
	}
	// Spread a larger table over registers in index order: cheaper than
	// sorting it.
	var scratch [Registers]uint8
	for _, e := range s.table {
		if e != 0 {
			scratch[e>>8&regMask] = uint8(e)
		}
	}
	return appendSparseRegs(dst, limit, &scratch)
}

// sortMax is the number of registers up to which appendSparse sorts the
// sparse table rather than spreading it over all registers.
const sortMax = 256

// appendSparseEntries is appendSparseRegs for the non-zero registers given as
// table entries sorted by register.
func appendSparseEntries(dst []byte, limit int, entries []uint32) ([]byte, bool) {
	next := 0 // first register not written yet
	for k := 0; k < len(entries); {
		i, v := int(entries[k]>>8), uint8(entries[k])
		if v > MaxSparseValue {
			return dst, false
		}
		end := i + 1
		for k++; k < len(entries) && int(entries[k]>>8) == end && uint8(entries[k]) == v; k++ {
			end++
		}
		dst = appendRun(dst, i-next, end-i, v)
		if len(dst) > limit {
			return dst, false
		}
		next = end
	}
	dst = appendZeros(dst, Registers-next)
	return dst, len(dst) <= limit
}

// appendSparseRegs appends the canonical sparse opcodes of regs: one ZERO or
// XZERO per run of zeros, and per run of equal values VAL opcodes of 4
// registers, then the rest. It reports false, having appended some of them,
// when a register is above MaxSparseValue or dst grows past limit.
func appendSparseRegs(dst []byte, limit int, regs *[Registers]uint8) ([]byte, bool) {
	next := 0 // first register not written yet
	// Walk 8 registers at a time and visit only the non-zero ones.
	for base := 0; base < Registers; base += 8 {
		w := binary.LittleEndian.Uint64(regs[base:])
		if done := next - base; done > 0 { // A run reached into this word.
			if done >= 8 {
				continue
			}
			w &^= 1<<(8*done) - 1
		}
		for w != 0 {
			i := base + bits.TrailingZeros64(w)>>3
			v := regs[i]
			if v > MaxSparseValue {
				return dst, false
			}
			end := i + 1
			for end < Registers && regs[end] == v {
				end++
			}
			dst = appendRun(dst, i-next, end-i, v)
			if len(dst) > limit {
				return dst, false
			}
			next = end
			if end-base >= 8 {
				break
			}
			w &^= 1<<(8*(end-base)) - 1
		}
	}
	dst = appendZeros(dst, Registers-next)
	return dst, len(dst) <= limit
}

// appendRun appends the opcodes of zeros zero registers followed by n
// registers of value v.
func appendRun(dst []byte, zeros, n int, v uint8) []byte {
	dst = appendZeros(dst, zeros)
	for ; n > 0; n -= maxValRun {
		dst = append(dst, opVal|(v-1)<<2|byte(min(n, maxValRun)-1))
	}
	return dst
}

// appendZeros appends the opcode for n zero registers, if n > 0.
func appendZeros(dst []byte, n int) []byte {
	switch {
	case n <= 0:
		return dst
	case n <= maxZeroRun:
		return append(dst, byte(n-1))
	default:
		return append(dst, opXZero|byte((n-1)>>8), byte(n-1))
	}
}

// appendDense appends the 16384 registers packed in 6 bits each, the first
// register in the low bits of the first byte, as Redis's dense encoding.
func (s *Sketch) appendDense(dst []byte) []byte {
	start := len(dst)
	dst = slices.Grow(dst, Registers*6/8)[:start+Registers*6/8]
	p := dst[start:]
	if d := s.dense; d != nil {
		// 8 registers, one per byte, become 6 bytes of 6-bit fields.
		for i, j := 0, 0; i < Registers; i, j = i+8, j+6 {
			w := binary.LittleEndian.Uint64(d[i:])
			v := w&63 | w>>2&(63<<6) | w>>4&(63<<12) | w>>6&(63<<18) |
				w>>8&(63<<24) | w>>10&(63<<30) | w>>12&(63<<36) | w>>14&(63<<42)
			binary.LittleEndian.PutUint32(p[j:], uint32(v))
			binary.LittleEndian.PutUint16(p[j+4:], uint16(v>>32))
		}
		return dst
	}
	clear(p)
	for _, e := range s.table {
		if e == 0 {
			continue
		}
		bit := int(e>>8&regMask) * 6
		v := uint16(e&63) << (bit & 7)
		p[bit>>3] |= byte(v)
		if bit&7 > 2 { // The register spills into the next byte.
			p[bit>>3+1] |= byte(v >> 8)
		}
	}
	return dst
}

// ParseRedis returns the sketch held by a Redis HyperLogLog string value, as
// GET returns it, in either encoding. The error wraps [ErrInvalid] when b is
// not a valid value.
func ParseRedis(b []byte) (*Sketch, error) {
	s := new(Sketch)
	if err := s.UnmarshalRedis(b); err != nil {
		return nil, err
	}
	return s, nil
}

// UnmarshalRedis replaces the registers of s with those of a Redis
// HyperLogLog string value, as GET returns it, in either encoding. The cached
// cardinality of the header is ignored. On error s is unchanged and the
// error wraps [ErrInvalid].
func (s *Sketch) UnmarshalRedis(b []byte) error {
	if len(b) < HeaderSize {
		return fmt.Errorf("hll: parse redis value: %d bytes, shorter than the %d-byte header: %w", len(b), HeaderSize, ErrInvalid)
	}
	if string(b[:4]) != "HYLL" {
		return fmt.Errorf("hll: parse redis value: magic %q, want \"HYLL\": %w", b[:4], ErrInvalid)
	}
	var t Sketch
	switch enc := b[4]; enc {
	case encDense:
		if len(b) != DenseSize {
			return fmt.Errorf("hll: parse redis value: dense value of %d bytes, want %d: %w", len(b), DenseSize, ErrInvalid)
		}
		t.parseDense(b[HeaderSize:])
	case encSparse:
		if err := t.parseSparse(b[HeaderSize:]); err != nil {
			return fmt.Errorf("hll: parse redis value: %w", err)
		}
	default:
		return fmt.Errorf("hll: parse redis value: unknown encoding %d: %w", enc, ErrInvalid)
	}
	*s = t
	return nil
}

// parseDense reads 16384 packed 6-bit registers into s, which is empty.
func (s *Sketch) parseDense(p []byte) {
	d := new([Registers]uint8)
	p = p[:Registers*6/8]
	for i, j := 0, 0; i < Registers; i, j = i+4, j+3 {
		v := uint32(p[j]) | uint32(p[j+1])<<8 | uint32(p[j+2])<<16
		d[i], d[i+1], d[i+2], d[i+3] = uint8(v&63), uint8(v>>6&63), uint8(v>>12&63), uint8(v>>18&63)
	}
	s.dense = d
}

// parseSparse reads sparse opcodes into s, which is empty. Like Redis, it
// requires the opcodes to cover exactly the 16384 registers.
func (s *Sketch) parseSparse(p []byte) error {
	// First check the opcodes and count the non-zero registers, so the
	// sketch is sized once.
	reg, nonZero := 0, 0
	for off := 0; off < len(p); {
		at, op := off, p[off]
		var n int
		switch {
		case op&0xc0 == 0: // ZERO
			n = int(op&0x3f) + 1
			off++
		case op&0xc0 == opXZero:
			if off+1 >= len(p) {
				return fmt.Errorf("sparse opcode at byte %d: XZERO cut short: %w", HeaderSize+at, ErrInvalid)
			}
			n = (int(op&0x3f)<<8 | int(p[off+1])) + 1
			off += 2
		default: // VAL
			n = int(op&3) + 1
			nonZero += n
			off++
		}
		if reg+n > Registers {
			return fmt.Errorf("sparse opcode at byte %d: covers registers %d to %d, past the last one, %d: %w",
				HeaderSize+at, reg, reg+n-1, Registers-1, ErrInvalid)
		}
		reg += n
	}
	if reg != Registers {
		return fmt.Errorf("sparse opcodes cover %d registers, want %d: %w", reg, Registers, ErrInvalid)
	}
	s.reserve(nonZero)
	reg = 0
	for off := 0; off < len(p); off++ {
		switch op := p[off]; {
		case op&0xc0 == 0:
			reg += int(op&0x3f) + 1
		case op&0xc0 == opXZero:
			reg += (int(op&0x3f)<<8 | int(p[off+1])) + 1
			off++
		default:
			v := op>>2&0x1f + 1
			for end := reg + int(op&3) + 1; reg < end; reg++ {
				s.set(uint32(reg), v)
			}
		}
	}
	return nil
}
