package hll_test

import (
	"runtime"
	"strconv"
	"testing"

	"github.com/pvjobs/pvjobs/mapreduce/hll"
)

// benchElements returns n distinct elements shaped like visitor ids.
func benchElements(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = strconv.AppendInt([]byte("v-0123456789abcdef-"), int64(i), 10)
	}
	return out
}

// benchSketch returns the sketch of benchElements(n).
func benchSketch(n int) *hll.Sketch {
	s := hll.New()
	for _, e := range benchElements(n) {
		s.Add(e)
	}
	return s
}

// Sketch sizes of the benchmarks: a quiet hour, a busy hour still in the
// sparse form, and a large sketch in the dense form.
var benchSizes = []struct {
	name string
	n    int
}{
	{"sparse-100", 100},
	{"sparse-1000", 1000},
	{"dense-1M", 1 << 20},
}

func BenchmarkAdd(b *testing.B) {
	for _, size := range benchSizes {
		elems := benchElements(size.n)
		b.Run(size.name, func(b *testing.B) {
			s := hll.New()
			for _, e := range elems {
				s.Add(e)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i, j := 0, 0; i < b.N; i++ {
				s.Add(elems[j])
				if j++; j == len(elems) {
					j = 0
				}
			}
		})
	}
}

func BenchmarkAddString(b *testing.B) {
	for _, size := range benchSizes {
		elems := make([]string, size.n)
		for i, e := range benchElements(size.n) {
			elems[i] = string(e)
		}
		b.Run(size.name, func(b *testing.B) {
			s := hll.New()
			for _, e := range elems {
				s.AddString(e)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i, j := 0, 0; i < b.N; i++ {
				s.AddString(elems[j])
				if j++; j == len(elems) {
					j = 0
				}
			}
		})
	}
}

// BenchmarkBuild measures building a sketch of n elements from empty,
// growth of the sparse form and the switch to dense included.
func BenchmarkBuild(b *testing.B) {
	for _, n := range []int{10, 100, 1000, 10000} {
		elems := benchElements(n)
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				var s hll.Sketch
				for _, e := range elems {
					s.Add(e)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/add")
		})
	}
}

func BenchmarkCount(b *testing.B) {
	for _, size := range benchSizes {
		s := benchSketch(size.n)
		b.Run(size.name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				s.Count()
			}
		})
	}
}

func BenchmarkMerge(b *testing.B) {
	dense1, dense2 := benchSketch(1<<20), benchSketch(1<<18)
	sparse1, sparse2 := benchSketch(1000), benchSketch(100)
	for _, tc := range []struct {
		name     string
		dst, src *hll.Sketch
	}{
		{"dense+dense", dense1, dense2},
		{"dense+sparse-1000", dense1, sparse1},
		{"sparse-100+sparse-100", sparse2, sparse2.Clone()},
	} {
		b.Run(tc.name, func(b *testing.B) {
			dst := tc.dst.Clone()
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				dst.Merge(tc.src)
			}
		})
	}
}

func BenchmarkAppendRedis(b *testing.B) {
	for _, size := range benchSizes {
		s := benchSketch(size.n)
		b.Run(size.name, func(b *testing.B) {
			buf := s.AppendRedis(nil)
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				buf = s.AppendRedis(buf[:0])
			}
		})
	}
}

func BenchmarkParseRedis(b *testing.B) {
	for _, size := range benchSizes {
		v := benchSketch(size.n).AppendRedis(nil)
		b.Run(size.name, func(b *testing.B) {
			b.SetBytes(int64(len(v)))
			b.ReportAllocs()
			s := hll.New()
			for range b.N {
				if err := s.UnmarshalRedis(v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMemory reports the heap a sketch of n elements holds, in
// B/sketch, to show what a month of hourly sketches costs.
func BenchmarkMemory(b *testing.B) {
	for _, n := range []int{0, 1, 10, 100, 1000, 2000, 10000} {
		elems := benchElements(n)
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			const count = 200
			sketches := make([]*hll.Sketch, count)
			var before, after runtime.MemStats
			var total float64
			b.ReportAllocs()
			for range b.N {
				runtime.GC()
				runtime.ReadMemStats(&before)
				for i := range sketches {
					s := hll.New()
					for _, e := range elems {
						s.Add(e)
					}
					sketches[i] = s
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				total += float64(after.HeapAlloc-before.HeapAlloc) / count
				clear(sketches)
			}
			b.ReportMetric(total/float64(b.N), "B/sketch")
		})
	}
}
