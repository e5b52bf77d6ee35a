package collector

import (
	"net/netip"
	"sync"
	"time"
)

// limiter is a token bucket per client IP: rate tokens per second, at most
// burst saved up. Its memory is bounded: a shard that reaches its share of
// maxIPs first forgets the buckets that have refilled (those clients are as
// new), then, if that is not enough, half of the others.
type limiter struct {
	rate, burst float64
	perShard    int
	shards      [64]limiterShard
}

type limiterShard struct {
	mu sync.Mutex
	m  map[netip.Addr]*bucket
}

type bucket struct {
	tokens float64
	last   int64 // unix ns of the last refill
}

// newLimiter returns a limiter, or nil when rate <= 0 (no limit).
func newLimiter(rate float64, burst int, maxIPs int) *limiter {
	if rate <= 0 {
		return nil
	}
	if burst < 1 {
		burst = 1
	}
	if maxIPs < 64 {
		maxIPs = 64
	}
	l := &limiter{rate: rate, burst: float64(burst), perShard: maxIPs / 64}
	for i := range l.shards {
		l.shards[i].m = map[netip.Addr]*bucket{}
	}
	return l
}

// allow takes a token of ip's bucket at now and reports whether there was
// one.
func (l *limiter) allow(ip netip.Addr, now time.Time) bool {
	if l == nil {
		return true
	}
	b16 := ip.As16()
	h := uint32(2166136261)
	for _, c := range b16 {
		h = (h ^ uint32(c)) * 16777619
	}
	s := &l.shards[h%uint32(len(l.shards))]
	ns := now.UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.m[ip]
	if b == nil {
		if len(s.m) >= l.perShard {
			l.evict(s, ns)
		}
		b = &bucket{tokens: l.burst, last: ns}
		s.m[ip] = b
	}
	if el := ns - b.last; el > 0 {
		b.tokens = min(l.burst, b.tokens+float64(el)/1e9*l.rate)
		b.last = ns
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// evict makes room in s: buckets that have refilled by now go first.
func (l *limiter) evict(s *limiterShard, ns int64) {
	full := int64(l.burst / l.rate * 1e9)
	for ip, b := range s.m {
		if ns-b.last >= full {
			delete(s.m, ip)
		}
	}
	if len(s.m) < l.perShard {
		return
	}
	n := len(s.m) / 2
	for ip := range s.m {
		if n == 0 {
			break
		}
		delete(s.m, ip)
		n--
	}
}
