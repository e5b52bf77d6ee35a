package tally

import (
	"bytes"
	"hash/maphash"
	"strings"
)

// Keys interns report keys: it gives every distinct key (a byte string) a
// small dense id, 0, 1, 2, ..., and keeps each key's bytes once, in large
// chunks, so a key costs its bytes plus 24 bytes of index, not a string
// header, a map entry and an allocation. Looking up a key seen before does
// not allocate. A Keys is owned by one goroutine.
//
// A key of several columns (a tuple) is its fields joined by Sep; see
// AppendField and Fields.
type Keys struct {
	seed   maphash.Seed
	chunks [][]byte
	// shared holds keys added by IDShared: bytes owned by the caller.
	shared [][]byte
	refs   []keyRef
	// slots is the hash table: 0 is empty, else the top 32 bits of the
	// key's hash and id+1, so that a probe compares hashes without
	// touching refs; len is a power of two.
	slots []uint64
	mask  uint32
}

// keyRef locates the bytes of one key and keeps the top of its hash, which
// settles almost every probe of another key without touching its bytes. A
// chunk with the shared bit set indexes shared instead of chunks.
type keyRef struct {
	chunk, off, n uint32
	hash          uint32
}

const sharedBit = 1 << 31

// Sep separates the fields of a tuple key.
const Sep = 0

// chunkSize is the size of the chunks keys are stored in; a longer key gets
// a chunk of its own.
const chunkSize = 1 << 20

// NewKeys returns an empty Keys.
func NewKeys() *Keys {
	k := &Keys{seed: maphash.MakeSeed()}
	k.slots = make([]uint64, 64)
	k.mask = 63
	return k
}

// Len returns the number of keys.
func (k *Keys) Len() int { return len(k.refs) }

// Bytes returns the bytes of key id. They must not be modified.
func (k *Keys) Bytes(id uint32) []byte {
	r := k.refs[id]
	if r.chunk&sharedBit != 0 {
		return k.shared[r.chunk&^sharedBit]
	}
	return k.chunks[r.chunk][r.off : r.off+r.n : r.off+r.n]
}

// IDShared is ID for a key whose bytes stay unchanged for as long as k is
// used (the bytes of another Keys): a new key is not copied.
func (k *Keys) IDShared(key []byte) uint32 {
	h := maphash.Bytes(k.seed, key)
	top := uint32(h >> 32)
	for i := uint32(h) & k.mask; ; i = (i + 1) & k.mask {
		s := k.slots[i]
		if s == 0 {
			id := uint32(len(k.refs))
			k.refs = append(k.refs, keyRef{chunk: sharedBit | uint32(len(k.shared)), n: uint32(len(key)), hash: top})
			k.shared = append(k.shared, key[:len(key):len(key)])
			k.slots[i] = uint64(top)<<32 | uint64(id+1)
			if uint32(len(k.refs))*4 > uint32(len(k.slots))*3 {
				k.grow()
			}
			return id
		}
		if uint32(s>>32) == top {
			if id := uint32(s) - 1; bytes.Equal(k.Bytes(id), key) {
				return id
			}
		}
	}
}

// ID returns the id of key, adding it (a copy) when new.
func (k *Keys) ID(key []byte) uint32 {
	h := maphash.Bytes(k.seed, key)
	top := uint32(h >> 32)
	for i := uint32(h) & k.mask; ; i = (i + 1) & k.mask {
		s := k.slots[i]
		if s == 0 {
			id := k.add(key, top)
			k.slots[i] = uint64(top)<<32 | uint64(id+1)
			if uint32(len(k.refs))*4 > uint32(len(k.slots))*3 {
				k.grow()
			}
			return id
		}
		if uint32(s>>32) == top {
			if id := uint32(s) - 1; bytes.Equal(k.Bytes(id), key) {
				return id
			}
		}
	}
}

// Lookup returns the id of key and whether it is known, without adding it.
func (k *Keys) Lookup(key []byte) (uint32, bool) {
	h := maphash.Bytes(k.seed, key)
	top := uint32(h >> 32)
	for i := uint32(h) & k.mask; ; i = (i + 1) & k.mask {
		s := k.slots[i]
		if s == 0 {
			return 0, false
		}
		if uint32(s>>32) == top {
			if id := uint32(s) - 1; bytes.Equal(k.Bytes(id), key) {
				return id, true
			}
		}
	}
}

func (k *Keys) add(key []byte, top uint32) uint32 {
	n := len(key)
	last := len(k.chunks) - 1
	if last < 0 || len(k.chunks[last])+n > cap(k.chunks[last]) {
		size := chunkSize
		if n > size {
			size = n
		}
		k.chunks = append(k.chunks, make([]byte, 0, size))
		last++
	}
	c := k.chunks[last]
	off := len(c)
	k.chunks[last] = append(c, key...)
	id := uint32(len(k.refs))
	k.refs = append(k.refs, keyRef{chunk: uint32(last), off: uint32(off), n: uint32(n), hash: top})
	return id
}

// grow doubles the slot table and reinserts every key.
func (k *Keys) grow() {
	slots := make([]uint64, 2*len(k.slots))
	mask := uint32(len(slots) - 1)
	for id := range k.refs {
		h := maphash.Bytes(k.seed, k.Bytes(uint32(id)))
		i := uint32(h) & mask
		for slots[i] != 0 {
			i = (i + 1) & mask
		}
		slots[i] = h>>32<<32 | uint64(id+1)
	}
	k.slots, k.mask = slots, mask
}

// AppendField appends one field of a tuple key to dst, after a separator
// when dst is not empty. A Sep byte inside v becomes a space, so fields
// never run into each other.
func AppendField(dst []byte, v string) []byte {
	if len(dst) > 0 {
		dst = append(dst, Sep)
	}
	if strings.IndexByte(v, Sep) < 0 {
		return append(dst, v...)
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == Sep {
			c = ' '
		}
		dst = append(dst, c)
	}
	return dst
}

// Fields splits a tuple key into its n fields. A key of one column is its
// own field, whatever bytes it holds.
func Fields(key []byte, n int) []string {
	if n <= 1 {
		return []string{string(key)}
	}
	out := make([]string, 0, n)
	s := string(key)
	for i := 0; i < n-1; i++ {
		f, rest, _ := strings.Cut(s, string(rune(Sep)))
		out = append(out, f)
		s = rest
	}
	return append(out, s)
}
