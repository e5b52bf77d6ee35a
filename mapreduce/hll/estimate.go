package hll

import "math"

// alphaInf is Redis's HLL_ALPHA_INF, 0.5/ln(2).
const alphaInf = 0.721347520444481703680

// Count returns the estimated number of distinct elements added, computed
// exactly as Redis's PFCOUNT computes it from the same registers.
func (s *Sketch) Count() uint64 {
	var h [64]int
	s.histogram(&h)
	return estimate(&h)
}

// histogram counts the registers of each value.
func (s *Sketch) histogram(h *[64]int) {
	if s.dense == nil {
		h[0] = Registers - s.n
		for _, e := range s.table {
			if e != 0 {
				h[e&63]++
			}
		}
		return
	}
	// Four interleaved histograms keep consecutive increments of the same
	// counter from waiting on each other.
	var h4 [4][64]int32
	d := s.dense
	for i := 0; i < Registers; i += 4 {
		h4[0][d[i]&63]++
		h4[1][d[i+1]&63]++
		h4[2][d[i+2]&63]++
		h4[3][d[i+3]&63]++
	}
	for v := range h {
		h[v] = int(h4[0][v] + h4[1][v] + h4[2][v] + h4[3][v])
	}
}

// estimate is Redis's hllCount from the register histogram h. Registers
// above hashQ+1 (which no hash produces, but a dense value from elsewhere
// may hold) are ignored, as Redis ignores them.
//
// The explicit float64 conversions keep the compiler from fusing a
// multiplication and an addition into one rounding (Go may on FMA machines),
// so the result is rounded step by step like Redis's C code. m is a power of
// two, so folding alphaInf*m*m into one constant rounds it as C does.
func estimate(h *[64]int) uint64 {
	const m = float64(Registers)
	z := m * tau((m-float64(h[hashQ+1]))/m)
	for j := hashQ; j >= 1; j-- {
		z += float64(h[j])
		z *= 0.5
	}
	z += float64(m * sigma(float64(h[0])/m))
	return uint64(math.Round(alphaInf * m * m / z))
}

// sigma is Redis's hllSigma, Ertl's σ function.
func sigma(x float64) float64 {
	if x == 1 {
		return math.Inf(1)
	}
	y := 1.0
	z := x
	for {
		x *= x
		zPrime := z
		z += float64(x * y)
		y += y
		if zPrime == z {
			return z
		}
	}
}

// tau is Redis's hllTau, Ertl's τ function. Redis computes (1-x)² with pow;
// glibc's pow differs from the correctly rounded product here by one unit in
// the last place in about 0.1% of calls, which can move the final rounded
// estimate only when it lies within about 1e-9 of a half-integer.
func tau(x float64) float64 {
	if x == 0 || x == 1 {
		return 0
	}
	y := 1.0
	z := 1 - x
	for {
		x = math.Sqrt(x)
		zPrime := z
		y *= 0.5
		d := 1 - x
		z -= float64(float64(d*d) * y)
		if zPrime == z {
			return z / 3
		}
	}
}
