package hll_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/pvjobs/pvjobs/mapreduce/hll"
)

// FuzzParseRedis feeds arbitrary values to ParseRedis: it must never panic,
// must reject with ErrInvalid, and what it accepts must survive a round trip
// through AppendRedis with the same registers and count.
func FuzzParseRedis(f *testing.F) {
	for _, n := range []int{0, 1, 10, 1000, 5000} {
		f.Add(sketchOf(0, n).AppendRedis(nil))
	}
	f.Add(sketchOf(0, 10).AppendRedisSparseMax(nil, 0))
	f.Add([]byte(header(1) + "\x43\xe7\x84\x12\x89\x7c\x01"))
	f.Add([]byte(header(1) + "\x80\x80\x7f\xfd"))
	f.Add([]byte(header(1) + "\x7f\xfe\x40"))
	f.Add([]byte("HYLL"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := hll.ParseRedis(b)
		if err != nil {
			if !errors.Is(err, hll.ErrInvalid) {
				t.Fatalf("error %q does not wrap ErrInvalid", err)
			}
			return
		}
		want := registers(s)
		for _, limit := range []int{hll.DefaultSparseMaxBytes, 0, 1 << 20} {
			v := s.AppendRedisSparseMax(nil, limit)
			p, err := hll.ParseRedis(v)
			if err != nil {
				t.Fatalf("ParseRedis(AppendRedisSparseMax(%d)) = %v", limit, err)
			}
			if d := diffRegisters(registers(p), want); d != "" {
				t.Fatalf("round trip with limit %d: %s", limit, d)
			}
			if p.Count() != s.Count() {
				t.Fatalf("round trip with limit %d: Count() = %d, want %d", limit, p.Count(), s.Count())
			}
		}
	})
}

// FuzzAppendRedis sets arbitrary registers (3 bytes each: index, value), in
// the sparse or the dense form of the sketch, and checks the written value: it parses back to the same registers, it is
// sparse exactly when the canonical sparse value fits the limit and no
// register exceeds 32, and a sparse value never exceeds the limit.
func FuzzAppendRedis(f *testing.F) {
	f.Add([]byte{0, 0, 1}, uint16(3000), false)
	f.Add([]byte{0x3f, 0xff, 32, 0, 0, 33}, uint16(3000), true)
	f.Add(bytes.Repeat([]byte{0, 1, 2, 0, 2, 2, 0, 3, 2, 0, 4, 2, 0, 5, 2}, 3), uint16(30), false)
	f.Add([]byte{}, uint16(0), true)
	f.Fuzz(func(t *testing.T, data []byte, limit uint16, dense bool) {
		s := hll.New()
		if dense {
			s = denseWith(nil)
		}
		for ; len(data) >= 3; data = data[3:] {
			s.SetRegisterForTest(int(data[0])<<8&0x3f00|int(data[1]), data[2]&63)
		}
		want := registers(s)
		v := s.AppendRedisSparseMax(nil, int(limit))
		p, err := hll.ParseRedis(v)
		if err != nil {
			t.Fatalf("ParseRedis(AppendRedisSparseMax) = %v", err)
		}
		if d := diffRegisters(registers(p), want); d != "" {
			t.Fatal(d)
		}
		maxReg := uint8(0)
		for _, r := range want {
			maxReg = max(maxReg, r)
		}
		canonical := s.AppendRedisSparseMax(nil, 1<<20)
		wantSparse := s.IsEmpty() || (maxReg <= hll.MaxSparseValue && len(canonical) <= int(limit))
		if gotSparse := v[4] == 1; gotSparse != wantSparse {
			t.Fatalf("sparse = %v, want %v (max register %d, canonical %d bytes, limit %d)", gotSparse, wantSparse, maxReg, len(canonical), limit)
		}
		if v[4] == 1 && !bytes.Equal(v, canonical) {
			t.Fatal("sparse value differs from the canonical one")
		}
		if v[4] == 0 && len(v) != hll.DenseSize {
			t.Fatalf("dense value of %d bytes", len(v))
		}
	})
}
