package hll_test

import (
	"testing"

	"github.com/pvjobs/pvjobs/mapreduce/hll"
)

// The expected hashes were computed with MurmurHash64A copied from Redis
// 7.0.15's src/hyperloglog.c, compiled with gcc on x86-64; register and count
// are Redis's hllPatLen of the element.
var murmurVectors = []struct {
	key      string
	seeded   uint64 // seed hll.Seed
	unseeded uint64 // seed 0
	register int
	count    uint8
}{
	{"", 0xd8dfea6585bc9732, 0x0000000000000000, 5938, 2},
	{"a", 0x53d2470a9b43b1a7, 0x071717d2d36b6b11, 12711, 2},
	{"ab", 0x0eaed676437142cf, 0x62be85b2fe53d1f8, 719, 1},
	{"abc", 0x77ec90aeb374e502, 0x9cc9c33498a95efb, 9474, 1},
	{"abcd", 0xb079ee3d44202b3e, 0xec1044c45cc5097a, 11070, 8},
	{"abcde", 0x52a7daa2324a0e8e, 0x1182974836d6dbb7, 3726, 4},
	{"abcdef", 0x3a4f3a74f538b54f, 0xb78e3425fc996779, 13647, 2},
	{"abcdefg", 0x22fe613bb08c9602, 0x241aa52b0a62005d, 5634, 2},
	{"abcdefgh", 0xf3a65df559914567, 0xafdb0257ff41aa98, 1383, 1},
	{"abcdefghi", 0x834fba4d9152daf7, 0xc9b9d84356146ac2, 6903, 1},
	{"hello world", 0xa919bc3051f624b7, 0xd3ba2368a832afce, 9399, 4},
	{"visitor-0", 0xec5752b8938cdc7a, 0x6d6ea27ab746c378, 7290, 1},
	{"visitor-12345", 0x887b8ea9ac70bc65, 0x76453fc0c5183866, 15461, 2},
	{"The quick brown fox jumps over the lazy dog", 0x51606c5c5b561ace, 0x5589ca33042a861b, 6862, 4},
	{"\xff\xfe\x80\x00\x01", 0xe87b8b28817fc0e1, 0x72a50eaff9e0a580, 225, 1},
}

func TestMurmurHash64A(t *testing.T) {
	for _, tc := range murmurVectors {
		t.Run(tc.key, func(t *testing.T) {
			if got := hll.MurmurHash64A([]byte(tc.key), hll.Seed); got != tc.seeded {
				t.Errorf("MurmurHash64A(%q, Seed) = %#016x, want %#016x", tc.key, got, tc.seeded)
			}
			if got := hll.MurmurHash64A([]byte(tc.key), 0); got != tc.unseeded {
				t.Errorf("MurmurHash64A(%q, 0) = %#016x, want %#016x", tc.key, got, tc.unseeded)
			}
		})
	}
}

func TestMurmurHash64AAllBytes(t *testing.T) {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	const want = 0x595202c04f157049
	if got := hll.MurmurHash64A(b, hll.Seed); got != want {
		t.Errorf("MurmurHash64A(0..255, Seed) = %#016x, want %#016x", got, want)
	}
}

// TestAddSetsRedisRegister checks that an element lands in the register, with
// the value, that Redis's hllPatLen gives it.
func TestAddSetsRedisRegister(t *testing.T) {
	for _, tc := range murmurVectors {
		t.Run(tc.key, func(t *testing.T) {
			for _, add := range []struct {
				name string
				fn   func(*hll.Sketch) bool
			}{
				{"Add", func(s *hll.Sketch) bool { return s.Add([]byte(tc.key)) }},
				{"AddString", func(s *hll.Sketch) bool { return s.AddString(tc.key) }},
				{"AddHash", func(s *hll.Sketch) bool { return s.AddHash(tc.seeded) }},
			} {
				var s hll.Sketch
				if !add.fn(&s) {
					t.Errorf("%s on an empty sketch reported no change", add.name)
				}
				if add.fn(&s) {
					t.Errorf("%s of the same element again reported a change", add.name)
				}
				for i := range hll.Registers {
					want := uint8(0)
					if i == tc.register {
						want = tc.count
					}
					if got := s.Register(i); got != want {
						t.Fatalf("%s: Register(%d) = %d, want %d", add.name, i, got, want)
					}
				}
			}
		})
	}
}
