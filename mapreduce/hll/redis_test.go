package hll_test

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/pvjobs/pvjobs/mapreduce/hll"
)

// header is the header AppendRedis writes for the encoding enc.
func header(enc byte) string {
	return "HYLL" + string([]byte{enc, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80})
}

// withRegisters returns a sketch with the given registers set.
func withRegisters(regs map[int]uint8) *hll.Sketch {
	s := hll.New()
	for i, v := range regs {
		s.SetRegisterForTest(i, v)
	}
	return s
}

// run returns registers [from, from+n) all set to v.
func run(regs map[int]uint8, from, n int, v uint8) map[int]uint8 {
	for i := from; i < from+n; i++ {
		regs[i] = v
	}
	return regs
}

func TestAppendRedisSparse(t *testing.T) {
	for _, tc := range []struct {
		name string
		regs map[int]uint8
		want []byte // opcodes after the header
	}{
		{"empty", nil, []byte{0x7f, 0xff}},
		// The example of Redis's hyperloglog.c: XZERO:1000 VAL:2,1 ZERO:19
		// VAL:3,2 XZERO:15362.
		{"redis doc", map[int]uint8{1000: 2, 1020: 3, 1021: 3}, []byte{0x43, 0xe7, 0x84, 0x12, 0x89, 0x7c, 0x01}},
		{"first register", map[int]uint8{0: 1}, []byte{0x80, 0x7f, 0xfe}},
		{"last register", map[int]uint8{16383: 32}, []byte{0x7f, 0xfe, 0xfc}},
		{"zero run 64", map[int]uint8{64: 1}, []byte{0x3f, 0x80, 0x7f, 0xbe}},
		{"zero run 65", map[int]uint8{65: 1}, []byte{0x40, 0x40, 0x80, 0x7f, 0xbd}},
		{"zero run 1 between", map[int]uint8{0: 1, 2: 1}, []byte{0x80, 0x00, 0x80, 0x7f, 0xfc}},
		{"run of 4", run(map[int]uint8{}, 0, 4, 2), []byte{0x87, 0x7f, 0xfb}},
		{"run of 5 cut 4+1", run(map[int]uint8{}, 0, 5, 2), []byte{0x87, 0x84, 0x7f, 0xfa}},
		{"run of 9 cut 4+4+1", run(map[int]uint8{}, 0, 9, 3), []byte{0x8b, 0x8b, 0x88, 0x7f, 0xf6}},
		{"different values", map[int]uint8{0: 1, 1: 2, 2: 2, 3: 1}, []byte{0x80, 0x85, 0x80, 0x7f, 0xfb}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := withRegisters(tc.regs).AppendRedis([]byte("prefix"))
			want := "prefix" + header(1) + string(tc.want)
			if string(got) != want {
				t.Errorf("AppendRedis =\n%x, want\n%x", got, want)
			}
		})
	}
	// Every register set: 4096 VAL opcodes, sparse only past the default
	// limit.
	s := withRegisters(run(map[int]uint8{}, 0, hll.Registers, 1))
	want := header(1) + strings.Repeat("\x83", 4096)
	if got := s.AppendRedisSparseMax(nil, len(want)); string(got) != want {
		t.Errorf("every register = 1, limit %d: got %d bytes %x..., want %x...", len(want), len(got), got[:20], want[:20])
	}
	if got := s.AppendRedis(nil); got[4] != 0 {
		t.Errorf("every register = 1, default limit: encoding %d, want dense", got[4])
	}
}

func TestAppendRedisDense(t *testing.T) {
	for _, tc := range []struct {
		name string
		regs map[int]uint8
		want map[int]byte // non-zero bytes of the packed registers
	}{
		{"value 33", map[int]uint8{0: 33}, map[int]byte{0: 33}},
		{"value 51 last", map[int]uint8{16383: 51}, map[int]byte{12287: 51 << 2}},
		// Registers 1, 2: bits 6-11 and 12-17.
		{"straddling", map[int]uint8{1: 63, 2: 40}, map[int]byte{0: 0xc0, 1: 0x0f | 40<<4&0xf0, 2: 40 >> 4}},
		{"register 5", map[int]uint8{5: 33}, map[int]byte{3: 33 << 6 & 0xff, 4: 33 >> 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := make([]byte, hll.DenseSize-hll.HeaderSize)
			for i, b := range tc.want {
				want[i] = b
			}
			for _, s := range []*hll.Sketch{withRegisters(tc.regs), denseWith(tc.regs)} {
				got := s.AppendRedis(nil)
				if string(got) != header(0)+string(want) {
					t.Errorf("AppendRedis (dense form %v) = %x... of %d bytes, want %x...",
						s.IsDenseForTest(), got[:min(len(got), 24)], len(got), append([]byte(header(0)), want[:8]...))
				}
			}
		})
	}
}

// denseWith returns a sketch in the dense form with the given registers set.
func denseWith(regs map[int]uint8) *hll.Sketch {
	s := hll.New()
	for i := range 2000 {
		s.SetRegisterForTest(i, 1)
	}
	s.Reset()
	for i, v := range regs {
		s.SetRegisterForTest(i, v)
	}
	return s
}

// TestAppendRedisSparseMax checks the switch to dense at the size limit: a
// value that exactly fits stays sparse, one byte over is dense.
func TestAppendRedisSparseMax(t *testing.T) {
	s := withRegisters(map[int]uint8{1000: 2, 1020: 3, 1021: 3}) // 16+7 bytes sparse.
	for _, tc := range []struct {
		limit   int
		wantEnc byte
	}{
		{hll.DefaultSparseMaxBytes, 1},
		{24, 1},
		{23, 1},
		{22, 0},
		{0, 0},
		{-1, 0},
	} {
		t.Run(strconv.Itoa(tc.limit), func(t *testing.T) {
			got := s.AppendRedisSparseMax(nil, tc.limit)
			if got[4] != tc.wantEnc {
				t.Errorf("encoding = %d for %d-byte limit, want %d", got[4], tc.limit, tc.wantEnc)
			}
			if p, err := hll.ParseRedis(got); err != nil {
				t.Errorf("ParseRedis: %v", err)
			} else if d := diffRegisters(registers(p), registers(s)); d != "" {
				t.Errorf("round trip: %s", d)
			}
		})
	}
	// An empty sketch is sparse whatever the limit, as PFADD creates it.
	for name, empty := range map[string]*hll.Sketch{"sparse form": hll.New(), "dense form": denseWith(nil)} {
		if got := empty.AppendRedisSparseMax(nil, 0); string(got) != header(1)+"\x7f\xff" {
			t.Errorf("empty sketch (%s) with limit 0 = %x, want the sparse empty value", name, got)
		}
	}
	// Real data: the default limit is reached between 1000 and 2000 visitors.
	for n, enc := range map[int]byte{1000: 1, 2000: 0} {
		if got := sketchOf(0, n).AppendRedis(nil); got[4] != enc || (enc == 1) != (len(got) <= 3000) {
			t.Errorf("%d visitors: encoding %d, %d bytes", n, got[4], len(got))
		}
	}
}

func TestParseRedisRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 10, 100, 1000, 1600, 2000, 10000, 100000} {
		for _, limit := range []int{hll.DefaultSparseMaxBytes, 0, 1 << 20} {
			t.Run(strconv.Itoa(n)+"/"+strconv.Itoa(limit), func(t *testing.T) {
				s := sketchOf(0, n)
				v := s.AppendRedisSparseMax(nil, limit)
				p, err := hll.ParseRedis(v)
				if err != nil {
					t.Fatalf("ParseRedis(AppendRedis) = %v", err)
				}
				if d := diffRegisters(registers(p), registers(s)); d != "" {
					t.Fatalf("round trip: %s", d)
				}
				if p.Count() != s.Count() {
					t.Errorf("Count() after round trip = %d, want %d", p.Count(), s.Count())
				}
				if again := p.AppendRedisSparseMax(nil, limit); !bytes.Equal(again, v) {
					t.Error("AppendRedis of the parsed sketch differs from the parsed value")
				}
			})
		}
	}
}

// TestUnmarshalRedisIgnoresCache checks that a value whose header carries a
// valid cached cardinality, as after PFCOUNT, parses the same.
func TestUnmarshalRedisIgnoresCache(t *testing.T) {
	v := sketchOf(0, 500).AppendRedis(nil)
	copy(v[8:16], []byte{0xf4, 1, 0, 0, 0, 0, 0, 0}) // 500, valid.
	s := hll.New()
	s.AddString("stale")
	if err := s.UnmarshalRedis(v); err != nil {
		t.Fatal(err)
	}
	if d := diffRegisters(registers(s), registers(sketchOf(0, 500))); d != "" {
		t.Error(d)
	}
}

func TestParseRedisErrors(t *testing.T) {
	dense := sketchOf(0, 100000).AppendRedis(nil)
	for _, tc := range []struct {
		name    string
		value   string
		wantErr string
	}{
		{"empty", "", "shorter than the 16-byte header"},
		{"short header", "HYLL\x01", "shorter than the 16-byte header"},
		{"bad magic", "HELL" + header(1)[4:] + "\x7f\xff", `magic "HELL"`},
		{"unknown encoding", "HYLL\x02" + header(1)[5:] + "\x7f\xff", "unknown encoding 2"},
		{"raw encoding", "HYLL\xff" + header(1)[5:] + "\x7f\xff", "unknown encoding 255"},
		{"dense short", string(dense[:len(dense)-1]), "dense value of 12303 bytes, want 12304"},
		{"dense long", string(dense) + "\x00", "dense value of 12305 bytes, want 12304"},
		{"sparse no opcodes", header(1), "cover 0 registers, want 16384"},
		{"sparse too few", header(1) + "\x7f\xfe", "cover 16383 registers, want 16384"},
		{"sparse too many", header(1) + "\x7f\xff\x00", "sparse opcode at byte 18: covers registers 16384 to 16384"},
		{"sparse VAL past end", header(1) + "\x7f\xfe\x81", "sparse opcode at byte 18: covers registers 16383 to 16384"},
		{"sparse XZERO cut", header(1) + "\x7f\xfe\x40", "sparse opcode at byte 18: XZERO cut short"},
		{"sparse XZERO past end", header(1) + "\x80\x7f\xff", "covers registers 1 to 16384"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := hll.ParseRedis([]byte(tc.value))
			if err == nil {
				t.Fatalf("ParseRedis = %v, nil; want an error", s)
			}
			if !errors.Is(err, hll.ErrInvalid) {
				t.Errorf("error %q does not wrap ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %q does not mention %q", err, tc.wantErr)
			}
			// UnmarshalRedis leaves the sketch alone on error.
			u := sketchOf(0, 10)
			if err := u.UnmarshalRedis([]byte(tc.value)); err == nil {
				t.Error("UnmarshalRedis accepted it")
			}
			if d := diffRegisters(registers(u), registers(sketchOf(0, 10))); d != "" {
				t.Errorf("failed UnmarshalRedis changed the sketch: %s", d)
			}
		})
	}
}

// TestParseRedisAcceptsWhatRedisAccepts checks values Redis takes though it
// never writes them: split zero runs, unmerged VAL opcodes, dense registers
// above the hash's maximum of 51.
func TestParseRedisAcceptsWhatRedisAccepts(t *testing.T) {
	for _, tc := range []struct {
		name  string
		value []byte
		want  map[int]uint8
	}{
		{"split zeros", []byte(header(1) + "\x00\x00\x7f\xfd"), nil},
		{"unmerged VAL", []byte(header(1) + "\x80\x80\x7f\xfd"), map[int]uint8{0: 1, 1: 1}},
		{"XZERO of 1", []byte(header(1) + "\x40\x00\x84\x7f\xfd"), map[int]uint8{1: 2}},
		{"dense register 63", append([]byte(header(0)), append([]byte{63}, make([]byte, 12287)...)...), map[int]uint8{0: 63}},
		{"not-used bytes set", []byte("HYLL\x01\xff\xff\xff" + header(1)[8:] + "\x7f\xff"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := hll.ParseRedis(tc.value)
			if err != nil {
				t.Fatal(err)
			}
			if d := diffRegisters(registers(s), registers(withRegisters(tc.want))); d != "" {
				t.Error(d)
			}
		})
	}
}
