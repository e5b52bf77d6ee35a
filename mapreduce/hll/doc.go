// Package hll is a HyperLogLog distinct counter that is register-for-register
// compatible with Redis's PFADD, PFCOUNT and PFMERGE (Redis 5 and later).
//
// A [Sketch] hashes an element exactly as Redis's hyperloglog.c does:
// MurmurHash64A (Redis's endian-neutral variant) with seed 0xadc83b19; the low
// 14 bits pick one of 16384 registers and the register keeps the maximum of
// "trailing zeros of the remaining 50 bits, plus one". So a Sketch fed the same
// elements as a Redis key holds the same registers, and [Sketch.Count] uses
// Redis's estimator (Otmar Ertl's improved estimator, "New cardinality
// estimation algorithms for HyperLogLog sketches", arXiv:1702.01284) and returns
// what PFCOUNT returns. Sketches merge by register maximum like PFMERGE.
//
// # Redis string values
//
// [Sketch.AppendRedis] writes the Redis string value (the "HYLL" header, the
// encoding byte and the cached cardinality marked invalid, then the registers)
// so that a SET of it yields a key that PFCOUNT, PFADD and PFMERGE use as if it
// had been built with PFADD. [ParseRedis] reads a value back from GET; it
// accepts both of Redis's encodings.
//
// The encoding written is the one Redis would hold: sparse (run-length
// opcodes ZERO, XZERO and VAL) when no register exceeds 32 and the sparse
// value fits in hll-sparse-max-bytes (3000 by default, see
// [Sketch.AppendRedisSparseMax]), else dense (16384 packed 6-bit registers).
// The sparse value is the canonical one: every run of zero registers is one
// opcode (ZERO up to 64 registers, XZERO above), and every run of equal
// non-zero registers is cut greedily into VAL opcodes of 4, then the rest.
//
// Redis's own sparse value after a series of PFADDs is byte-identical to that
// canonical value except in two cases, both rare and both harmless (PFCOUNT,
// PFDEBUG GETREG and later PFADDs behave the same on either value):
//
//   - A run of 5 or more adjacent registers holding the same non-zero value.
//     Redis merges two adjacent VAL opcodes only when together they cover at
//     most 4 registers, so how such a run is cut depends on the order in which
//     its registers were set (4+1, 2+3, 1+4, or even 1+4+1 for 6 registers),
//     which a set of registers does not record. The canonical cut 4,4,...,rest
//     is the one Redis produces when it sets registers in index order, as
//     PFMERGE into a new key from sparse sources does.
//   - A value whose canonical size is within a few bytes of the limit. Redis
//     promotes a key to dense when one PFADD would grow it past the limit
//     before merging neighbours, or when its own cut (above) is longer than the
//     canonical one, so such a key may be dense in Redis and sparse here.
//     The reverse cannot happen: the canonical value is the shortest one, so a
//     value that is dense here is dense in Redis too.
//
// The dense value is always byte-identical to Redis's.
//
// The tests check all of this against a real redis-server (7.0.15, Debian's)
// when PVJOBS_REDIS_ADDR names one; testdata/redis/redis.sh starts one.
// TestRedisEveryPFADD compares the value after every single PFADD of 30
// streams of elements, up to dense: 50,328 of 50,329 values are
// byte-identical, and the other one is the second case above (a canonical
// value of exactly 3000 bytes that Redis had promoted to dense).
//
// # Memory and speed
//
// An empty Sketch is 48 bytes and holds no register memory. Up to 1536
// non-zero registers live in an open-addressing table of 4-byte entries that
// doubles from 16 slots (64 bytes) to at most 2048 (8 KiB): about 112 bytes
// for a sketch of 10 elements, 1 KiB for 100, 8 KiB for 1000. Past that the
// sketch switches to one byte per register (16 KiB). Both forms count and
// encode the same; the switch shows only in memory use. Add allocates only
// when the table grows or switches, and hashes without allocating;
// [Sketch.AddHash] takes a hash already computed, to feed several sketches
// with one hash.
//
// A Sketch is not safe for concurrent use; the per-worker partials of the
// mapreduce engine each own theirs and merge them afterwards.
package hll
