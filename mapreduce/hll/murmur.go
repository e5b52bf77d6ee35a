package hll

// Seed is the seed Redis passes to [MurmurHash64A] when it hashes a
// HyperLogLog element.
const Seed = 0xadc83b19

// MurmurHash64A returns the 64-bit MurmurHash2 of key with the given seed, as
// Redis's hyperloglog.c computes it: blocks of 8 bytes are read little-endian
// whatever the machine, so the value is the same on every architecture.
func MurmurHash64A(key []byte, seed uint32) uint64 {
	return murmur64A(key, seed)
}

// murmur64A is MurmurHash64A for both strings and byte slices, so that
// [Sketch.AddString] hashes a string without converting it.
func murmur64A[T string | []byte](key T, seed uint32) uint64 {
	const (
		m = 0xc6a4a7935bd1e995
		r = 47
	)
	n := len(key)
	h := uint64(seed) ^ uint64(n)*m
	for len(key) >= 8 {
		k := uint64(key[0]) | uint64(key[1])<<8 | uint64(key[2])<<16 | uint64(key[3])<<24 |
			uint64(key[4])<<32 | uint64(key[5])<<40 | uint64(key[6])<<48 | uint64(key[7])<<56
		k *= m
		k ^= k >> r
		k *= m
		h ^= k
		h *= m
		key = key[8:]
	}
	// The tail bytes are gathered first and XORed into h at once: the same
	// value as XORing them one by one, with a shorter dependency chain.
	if len(key) > 0 {
		var t uint64
		switch len(key) {
		case 7:
			t |= uint64(key[6]) << 48
			fallthrough
		case 6:
			t |= uint64(key[5]) << 40
			fallthrough
		case 5:
			t |= uint64(key[4]) << 32
			fallthrough
		case 4:
			t |= uint64(key[3]) << 24
			fallthrough
		case 3:
			t |= uint64(key[2]) << 16
			fallthrough
		case 2:
			t |= uint64(key[1]) << 8
			fallthrough
		case 1:
			t |= uint64(key[0])
		}
		h ^= t
		h *= m
	}
	h ^= h >> r
	h *= m
	h ^= h >> r
	return h
}
