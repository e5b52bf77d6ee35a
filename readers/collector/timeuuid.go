package collector

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
)

// gregorianOffset is the number of 100 ns ticks between 1582-10-15 (the
// version-1 UUID epoch) and the Unix epoch.
const gregorianOffset = 0x01B21DD213814000

// UUIDGen issues version-1 timeuuids that never repeat. A page view is stored
// under its timeuuid, so two page views that shared one would be one cell:
// the second write would overwrite the first.
//
// Within a process, every timeuuid has a later 100 ns tick than the one
// before: Next takes the requested time, or one tick after the last one
// issued when that is not later (several requests in the same tick, or under
// load), with one atomic compare-and-swap, so it is safe for concurrent use
// and never blocks. The clock that Now reads is the wall clock at start plus
// Go's monotonic clock since then, so a wall-clock step backwards (NTP, a
// VM resume) cannot make it repeat ticks either.
//
// Across processes (restarts, several collectors, several machines) each
// generator draws a random 48-bit node id (multicast bit set, as RFC 9562
// asks for random nodes) and a random 14-bit clock sequence from
// crypto/rand: two processes collide only when they issue the same tick with
// the same 61 random bits.
type UUIDGen struct {
	node  uint64
	seq   uint16
	start time.Time // wall clock and monotonic reading at creation
	last  atomic.Int64
}

// NewUUIDGen returns a generator with a random node id and clock sequence.
func NewUUIDGen() (*UUIDGen, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("timeuuid: random node id and clock sequence: %w", err)
	}
	node := binary.BigEndian.Uint64(b[:]) >> 16 // 48 random bits
	node |= 1 << 40                             // the multicast bit of the first node byte: a random node
	seq := binary.BigEndian.Uint16(b[6:]) & 0x3fff
	return &UUIDGen{node: node, seq: seq, start: time.Now()}, nil
}

// Node returns the generator's node id (48 bits) and clock sequence (14
// bits).
func (g *UUIDGen) Node() (node uint64, clockSeq uint16) { return g.node, g.seq }

// Now returns the generator's clock: the wall-clock time at creation plus the
// monotonic time elapsed since. It never goes backwards.
func (g *UUIDGen) Now() time.Time {
	return g.start.Add(time.Since(g.start)).Round(0)
}

// Next returns a timeuuid of t (truncated to 100 ns), or of the first tick
// after the last timeuuid issued when t is not later than it. It is safe for
// concurrent use.
func (g *UUIDGen) Next(t time.Time) [16]byte {
	tick := t.UnixNano() / 100
	for {
		last := g.last.Load()
		n := max(tick, last+1)
		if g.last.CompareAndSwap(last, n) {
			return build(n, g.seq, g.node)
		}
	}
}

// build lays out a version-1 UUID from Unix 100 ns ticks.
func build(unixTicks int64, seq uint16, node uint64) [16]byte {
	ticks := uint64(unixTicks + gregorianOffset)
	var u [16]byte
	binary.BigEndian.PutUint32(u[0:4], uint32(ticks))
	binary.BigEndian.PutUint16(u[4:6], uint16(ticks>>32))
	binary.BigEndian.PutUint16(u[6:8], uint16(ticks>>48)&0x0fff|0x1000)
	binary.BigEndian.PutUint16(u[8:10], seq&0x3fff|0x8000)
	u[10] = byte(node >> 40)
	u[11] = byte(node >> 32)
	binary.BigEndian.PutUint32(u[12:16], uint32(node))
	return u
}

// shardOf returns the shard key of a page view of account stored under ts:
// the UTC day of the timeuuid's time.
func shardOf(account string, ts [16]byte) mapreduce.ShardKey {
	t := mapreduce.UnixTime(mapreduce.UUIDTime(ts))
	return mapreduce.ShardKey{Day: time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), Account: account}
}
