package geo

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
)

// netCache maps addresses to location indexes by the database network they
// fall in. The database tells the network (prefix) of every answer, found
// or not, and every address of that network has the same answer, so one
// lookup serves every visitor of the network: exact, unlike a cache by
// /24. Visitors spread over the whole address space share networks often
// (of 300,000 random public IPv4 addresses, half fall into a GeoLite2-City
// network another one fell into before); a hit costs one or a few probes
// of small tables instead of a walk of some 30 nodes through a 60 MB tree.
//
// IPv4 networks of /16 or shorter are kept in a table per /16 (a hit is
// one load); longer ones, and IPv6 networks up to /64 (longer ones are not
// cached), in a direct-mapped table of networks, with a mask per /16 (IPv4)
// or per /32 (IPv6) of the lengths cached there, so a miss probes only
// those. The tables are caches: a network that a newer one displaces is
// looked up again when next needed.
type netCache struct {
	// v4top holds, per IPv4 /16, the index+1 of the location of a cached
	// network of /16 or shorter that covers it; 0 when none is cached.
	v4top []int32
	// v4lens holds, per IPv4 /16, bit b-17 set when a network of length b
	// (17 to 32) in that /16 was cached.
	v4lens []uint16
	// v6lens holds, per IPv6 /32 (direct-mapped by a hash), bit b-32 set
	// when a network of length b (32 to 64; a shorter one is kept as the
	// /32 looked up) in that /32 was cached.
	v6lens []v6lens
	nets   []netEntry
}

type v6lens struct {
	top  uint32
	mask uint64
}

// netEntry is a cached network: its first 64 bits (an IPv4 network in the
// low 32) masked to its length, its length with the family (netV6) and a
// mark that the entry is used (netUsed), and its location index.
type netEntry struct {
	hi   uint64
	meta uint32
	loc  int32
}

const (
	netV6   = 1 << 8
	netUsed = 1 << 9
	// netSlots is the size of the table of networks (16 bytes each).
	netSlots = 1 << 17
	// v6Slots is the size of the table of IPv6 /32 length masks.
	v6Slots = 1 << 14
)

func newNetCache() *netCache {
	return &netCache{
		v4top:  make([]int32, 1<<16),
		v4lens: make([]uint16, 1<<16),
		v6lens: make([]v6lens, v6Slots),
		nets:   make([]netEntry, netSlots),
	}
}

func (c *netCache) reset() {
	clear(c.v4top)
	clear(c.v4lens)
	clear(c.v6lens)
	clear(c.nets)
}

func netSlot(hi uint64, meta uint32) uint64 {
	x := hi ^ uint64(meta)<<56 ^ uint64(meta)
	x *= 0x9e3779b97f4a7c15
	return x >> (64 - 17)
}

// find returns the location index of the cached network (hi, meta).
func (c *netCache) find(hi uint64, meta uint32) (int32, bool) {
	e := &c.nets[netSlot(hi, meta)]
	if e.hi == hi && e.meta == meta|netUsed {
		return e.loc, true
	}
	return 0, false
}

func (c *netCache) store(hi uint64, meta uint32, loc int32) {
	c.nets[netSlot(hi, meta)] = netEntry{hi: hi, meta: meta | netUsed, loc: loc}
}

func v6Slot(top uint32) uint32 { return (top * 0x9e3779b9) >> (32 - 14) }

// get returns the location index of ip's network when it is cached.
func (c *netCache) get(ip netip.Addr) (int32, bool) {
	if ip.Is4() {
		a := ip.As4()
		u := binary.BigEndian.Uint32(a[:])
		if t := c.v4top[u>>16]; t != 0 {
			return t - 1, true
		}
		for m := c.v4lens[u>>16]; m != 0; m &= m - 1 {
			n := 17 + bits.TrailingZeros16(m)
			if i, ok := c.find(uint64(u&^(1<<(32-n)-1)), uint32(n)); ok {
				return i, true
			}
		}
		return 0, false
	}
	a := ip.As16()
	hi := binary.BigEndian.Uint64(a[:8])
	l := &c.v6lens[v6Slot(uint32(hi>>32))]
	if l.top != uint32(hi>>32) {
		return 0, false
	}
	for m := l.mask; m != 0; m &= m - 1 {
		n := 32 + bits.TrailingZeros64(m)
		if i, ok := c.find(hi&^(1<<(64-n)-1), uint32(n)|netV6); ok {
			return i, true
		}
	}
	return 0, false
}

// put caches the location index i of network p, which ip is in.
func (c *netCache) put(ip netip.Addr, p netip.Prefix, i int32) {
	if !p.IsValid() || p.Addr().Is4() != ip.Is4() || !p.Contains(ip) {
		return
	}
	n := p.Bits()
	if ip.Is4() {
		a := ip.As4()
		u := binary.BigEndian.Uint32(a[:])
		if n <= 16 {
			// Every /16 of the network, or the address's own /16 alone for a
			// very large one (an unallocated range).
			first, count := u>>16, uint32(1)
			if n >= 8 {
				first, count = first&^(1<<(16-n)-1), 1<<(16-n)
			}
			for j := range count {
				c.v4top[first+j] = i + 1
			}
			return
		}
		c.store(uint64(u&^(1<<(32-n)-1)), uint32(n), i)
		c.v4lens[u>>16] |= 1 << (n - 17)
		return
	}
	if n > 64 {
		return
	}
	n = max(n, 32)
	a := ip.As16()
	hi := binary.BigEndian.Uint64(a[:8])
	c.store(hi&^(1<<(64-n)-1), uint32(n)|netV6, i)
	l := &c.v6lens[v6Slot(uint32(hi>>32))]
	if l.top != uint32(hi>>32) {
		*l = v6lens{top: uint32(hi >> 32)}
	}
	l.mask |= 1 << (n - 32)
}
