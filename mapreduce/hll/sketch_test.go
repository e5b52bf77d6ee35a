package hll_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"testing"

	"github.com/pvjobs/pvjobs/mapreduce/hll"
)

// visitor returns the i-th test element, "visitor-<i>", appended to buf.
func visitor(buf []byte, i int) []byte {
	return strconv.AppendInt(append(buf[:0], "visitor-"...), int64(i), 10)
}

// sketchOf returns the sketch of the visitors [from, to).
func sketchOf(from, to int) *hll.Sketch {
	s := hll.New()
	var buf []byte
	for i := from; i < to; i++ {
		buf = visitor(buf, i)
		s.Add(buf)
	}
	return s
}

// registers returns the 16384 registers of s.
func registers(s *hll.Sketch) []uint8 {
	r := make([]uint8, hll.Registers)
	for i := range r {
		r[i] = s.Register(i)
	}
	return r
}

// diffRegisters describes the first registers that differ, or returns "".
func diffRegisters(got, want []uint8) string {
	var out string
	n := 0
	for i := range want {
		if got[i] != want[i] {
			if n < 5 {
				out += fmt.Sprintf(" register %d = %d, want %d;", i, got[i], want[i])
			}
			n++
		}
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%d registers differ:%s", n, out)
}

// golden holds what Redis 7.0.15 answered after PFADDing the visitors
// [0, n) into a new key: PFCOUNT, and the SHA-256 of the value from byte 16 on
// (GETRANGE key 16 -1, the registers without the header).
var golden = []struct {
	n      int
	count  uint64
	sparse bool
	sha256 string
}{
	{1, 1, true, "f9eacbdb5e74d9126e68346e792b34a501f3388991bfb05589cd0566d86ad8d9"},
	{10, 10, true, "aab0dad0180cfb1f4cd5eb29687958827c7bfbf23cd1afd07228aa5d86c1dbf3"},
	{100, 100, true, "28e2b5e6fba615bcd2595e22ec5cd75e12cc4d50690ba3cd45c6a53e80460bff"},
	{1000, 1005, true, "f1d27f2bcaa2e745939027695bbc66d46d8604785cf82dbaec62a27902f0d93f"},
	{2000, 2015, false, "235cffecc810821631caa1952fefbe2701ea3279eb6cd681e0155322b184d523"},
	{10000, 10041, false, "833417ad71f9a971320e10800de61f3b75fe382ab60669b81d614b79c2c2c602"},
	{100000, 98911, false, "b2e43cfa076e158cb34dc3a1300ed43179ce7da05f164a835686125f4e7704ba"},
	{1000000, 992924, false, "7ac2257a568449a697cd33ad1a79765f47f47b99ea6c694466463693d903ab00"},
	{10000000, 10139966, false, "9dd4f28fa19aa00eab84ce910743aab4d5cb3040d77e55a3f0314df29af77331"},
}

func TestGoldenRedis(t *testing.T) {
	for _, tc := range golden {
		t.Run(strconv.Itoa(tc.n), func(t *testing.T) {
			if testing.Short() && tc.n > 100000 {
				t.Skip("-short")
			}
			s := sketchOf(0, tc.n)
			if got := s.Count(); got != tc.count {
				t.Errorf("Count() = %d, want PFCOUNT %d", got, tc.count)
			}
			v := s.AppendRedis(nil)
			if sparse := v[4] == 1; sparse != tc.sparse {
				t.Errorf("AppendRedis encoding sparse = %v, want %v as in Redis", sparse, tc.sparse)
			}
			sum := sha256.Sum256(v[hll.HeaderSize:])
			if got := hex.EncodeToString(sum[:]); got != tc.sha256 {
				t.Errorf("SHA-256 of AppendRedis registers = %s, want Redis's %s", got, tc.sha256)
			}
		})
	}
}

func TestZeroValue(t *testing.T) {
	var s hll.Sketch
	if !s.IsEmpty() {
		t.Error("IsEmpty() = false for the zero Sketch")
	}
	if got := s.Count(); got != 0 {
		t.Errorf("Count() = %d for the zero Sketch, want 0", got)
	}
	for _, i := range []int{0, 1, hll.Registers - 1} {
		if got := s.Register(i); got != 0 {
			t.Errorf("Register(%d) = %d for the zero Sketch, want 0", i, got)
		}
	}
	s.Merge(nil)
	s.Merge(&s)
	s.Merge(hll.New())
	if !s.IsEmpty() {
		t.Error("IsEmpty() = false after merging empty sketches")
	}
}

func TestRegisterPanicsOutOfRange(t *testing.T) {
	for _, i := range []int{-1, hll.Registers} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Register(%d) did not panic", i)
				}
			}()
			hll.New().Register(i)
		}()
	}
}

// TestSparseAndDenseAgree sets the same registers, in random order, into
// sketches that stay in the sparse form and one forced dense early, and checks
// that registers, counts and encodings agree through the switch.
func TestSparseAndDenseAgree(t *testing.T) {
	for _, n := range []int{0, 1, 100, 1000, 1536, 1537, 3000, 16384} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			want := make([]uint8, hll.Registers)
			s := hll.New()
			dense := hll.New()
			for i := range 2000 { // Force the dense form.
				dense.SetRegisterForTest(i, 1)
			}
			dense.Reset()
			if !dense.IsDenseForTest() || !dense.IsEmpty() {
				t.Fatal("Reset did not keep an empty dense sketch")
			}
			rng := uint64(n) + 1
			for range n {
				rng = rng*6364136223846793005 + 1442695040888963407
				i, v := int(rng>>33)%hll.Registers, uint8(rng>>20)%40+1
				changed := v > want[i]
				want[i] = max(want[i], v)
				if got := s.SetRegisterForTest(i, v); got != changed {
					t.Fatalf("set register %d to %d: reported %v, want %v", i, v, got, changed)
				}
				dense.SetRegisterForTest(i, v)
			}
			for name, sk := range map[string]*hll.Sketch{"incremental": s, "dense": dense} {
				if d := diffRegisters(registers(sk), want); d != "" {
					t.Fatalf("%s: %s", name, d)
				}
			}
			if s.Count() != dense.Count() {
				t.Errorf("Count() = %d, dense form %d", s.Count(), dense.Count())
			}
			if a, b := s.AppendRedis(nil), dense.AppendRedis(nil); string(a) != string(b) {
				t.Errorf("AppendRedis differs between the forms: %d and %d bytes", len(a), len(b))
			}
			if s.IsEmpty() != (n == 0) || dense.IsEmpty() != (n == 0) {
				t.Errorf("IsEmpty() = %v/%v for %d registers set", s.IsEmpty(), dense.IsEmpty(), n)
			}
		})
	}
}

func TestAccuracy(t *testing.T) {
	for _, n := range []int{1000, 10000, 100000, 1000000, 10000000} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			if testing.Short() && n > 1000000 {
				t.Skip("-short")
			}
			s := hll.New()
			var buf []byte
			for i := range n {
				// A different element set from the golden one.
				buf = strconv.AppendInt(append(buf[:0], "acc:"...), int64(i), 16)
				s.Add(buf)
			}
			got := s.Count()
			if relErr := math.Abs(float64(got)-float64(n)) / float64(n); relErr > 0.02 {
				t.Errorf("Count() = %d for %d distinct elements: error %.2f%%, want within 2%%", got, n, 100*relErr)
			} else {
				t.Logf("Count() = %d for %d distinct elements: error %.3f%%", got, n, 100*relErr)
			}
		})
	}
}

// TestMergeIsUnion checks that merging the sketches of two overlapping sets
// gives the sketch of their union, whatever the forms of the two sketches.
func TestMergeIsUnion(t *testing.T) {
	for _, tc := range []struct {
		name       string
		a, b       [2]int // element ranges
		wantSparse bool   // of the union, in memory
	}{
		{"empty+empty", [2]int{0, 0}, [2]int{0, 0}, true},
		{"small+empty", [2]int{0, 10}, [2]int{0, 0}, true},
		{"empty+small", [2]int{0, 0}, [2]int{0, 10}, true},
		{"small+small", [2]int{0, 300}, [2]int{200, 700}, true},
		{"sparse+sparse=dense", [2]int{0, 1200}, [2]int{1000, 2500}, false},
		{"sparse+dense", [2]int{0, 500}, [2]int{400, 50000}, false},
		{"dense+sparse", [2]int{0, 50000}, [2]int{49000, 50500}, false},
		{"dense+dense", [2]int{0, 100000}, [2]int{50000, 200000}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := sketchOf(tc.a[0], tc.a[1]), sketchOf(tc.b[0], tc.b[1])
			bBefore := registers(b)
			union := sketchOf(min(tc.a[0], tc.b[0]), max(tc.a[1], tc.b[1]))
			if tc.a[1] == 0 {
				union = sketchOf(tc.b[0], tc.b[1])
			}
			if tc.b[1] == 0 {
				union = sketchOf(tc.a[0], tc.a[1])
			}
			a.Merge(b)
			if d := diffRegisters(registers(a), registers(union)); d != "" {
				t.Errorf("merged registers: %s", d)
			}
			if d := diffRegisters(registers(b), bBefore); d != "" {
				t.Errorf("Merge modified its argument: %s", d)
			}
			if got, want := a.Count(), union.Count(); got != want {
				t.Errorf("Count() after Merge = %d, sketch of the union %d", got, want)
			}
			if got, want := string(a.AppendRedis(nil)), string(union.AppendRedis(nil)); got != want {
				t.Error("AppendRedis after Merge differs from the sketch of the union")
			}
			if a.IsDenseForTest() == tc.wantSparse {
				t.Errorf("dense form = %v after Merge, want %v", a.IsDenseForTest(), !tc.wantSparse)
			}
		})
	}
}

func TestCloneIsIndependent(t *testing.T) {
	for _, n := range []int{0, 10, 5000} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			s := sketchOf(0, n)
			want := registers(s)
			c := s.Clone()
			if d := diffRegisters(registers(c), want); d != "" {
				t.Fatalf("clone: %s", d)
			}
			var buf []byte
			for i := n; i < n+20000; i++ {
				buf = visitor(buf, i)
				c.Add(buf)
			}
			if d := diffRegisters(registers(s), want); d != "" {
				t.Errorf("adding to the clone changed the original: %s", d)
			}
		})
	}
}

func TestReset(t *testing.T) {
	for _, n := range []int{0, 10, 5000} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			s := sketchOf(0, n)
			s.Reset()
			if !s.IsEmpty() || s.Count() != 0 {
				t.Fatalf("after Reset: IsEmpty() = %v, Count() = %d", s.IsEmpty(), s.Count())
			}
			if d := diffRegisters(registers(s), make([]uint8, hll.Registers)); d != "" {
				t.Fatalf("after Reset: %s", d)
			}
			var buf []byte
			for i := range 100 {
				buf = visitor(buf, i)
				s.Add(buf)
			}
			if got, want := s.Count(), sketchOf(0, 100).Count(); got != want {
				t.Errorf("Count() after Reset and 100 adds = %d, want %d", got, want)
			}
		})
	}
}

// TestAddReportsChange checks Add against a model of Redis's hllPatLen
// written from its definition: Add reports true exactly when the element's
// register grew, like PFADD, through the switch from sparse to dense.
func TestAddReportsChange(t *testing.T) {
	s := hll.New()
	model := make([]uint8, hll.Registers)
	var buf []byte
	for i := range 40000 {
		buf = visitor(buf, i%30000) // The last 10000 are repeats.
		h := hll.MurmurHash64A(buf, hll.Seed)
		idx, count := int(h&(hll.Registers-1)), uint8(bits.TrailingZeros64(h>>14|1<<50)+1)
		want := count > model[idx]
		model[idx] = max(model[idx], count)
		if got := s.Add(buf); got != want {
			t.Fatalf("Add(%q) = %v, want %v", buf, got, want)
		}
		if got := s.Register(idx); got != model[idx] {
			t.Fatalf("after Add(%q): Register(%d) = %d, want %d", buf, idx, got, model[idx])
		}
		if i%5000 == 0 {
			if d := diffRegisters(registers(s), model); d != "" {
				t.Fatalf("after %d adds: %s", i+1, d)
			}
		}
	}
}
