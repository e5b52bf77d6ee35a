package hll_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pvjobs/pvjobs/mapreduce/hll"
	"github.com/pvjobs/pvjobs/reports/redis/redistest"
)

// The tests in this file run against a real Redis at $PVJOBS_REDIS_ADDR
// (see package reports/redis/redistest).

// redisClient returns a client of the test server and a key prefix unique to
// the test; keys made with the prefix are deleted when the test ends.
func redisClient(t *testing.T) (*redis.Client, func(string) string) {
	t.Helper()
	addr := redistest.Addr(t)
	c := redis.NewClient(&redis.Options{Addr: addr, DisableIdentity: true})
	t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("PING redis at PVJOBS_REDIS_ADDR=%s: %v", addr, err)
	}
	if info, err := c.Info(ctx, "server").Result(); err == nil {
		for _, line := range bytes.Split([]byte(info), []byte("\r\n")) {
			if bytes.HasPrefix(line, []byte("redis_version:")) {
				t.Logf("redis at %s: %s", addr, line)
			}
		}
	}
	prefix := fmt.Sprintf("pvjobs:test:hll:%d:%d:%s:", os.Getpid(), time.Now().UnixNano(), t.Name())
	var keys []string
	t.Cleanup(func() {
		if len(keys) > 0 {
			if err := c.Del(context.Background(), keys...).Err(); err != nil {
				t.Errorf("delete test keys: %v", err)
			}
		}
	})
	return c, func(name string) string {
		k := prefix + name
		keys = append(keys, k)
		return k
	}
}

// elements returns the visitors [from, to) with the given prefix.
func elements(prefix string, from, to int) [][]byte {
	out := make([][]byte, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, strconv.AppendInt([]byte(prefix), int64(i), 10))
	}
	return out
}

// pfadd PFADDs elems into key in batches, pipelined, and returns the sum of
// the PFADD replies.
func pfadd(t *testing.T, c *redis.Client, key string, elems [][]byte) int64 {
	t.Helper()
	ctx := context.Background()
	const batch = 1000
	var cmds []*redis.IntCmd
	pipe := c.Pipeline()
	if len(elems) == 0 {
		cmds = append(cmds, pipe.PFAdd(ctx, key))
	}
	for i := 0; i < len(elems); i += batch {
		args := make([]any, 0, batch)
		for _, e := range elems[i:min(i+batch, len(elems))] {
			args = append(args, e)
		}
		cmds = append(cmds, pipe.PFAdd(ctx, key, args...))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatalf("PFADD %s: %v", key, err)
	}
	var sum int64
	for _, cmd := range cmds {
		sum += cmd.Val()
	}
	return sum
}

// getRegisters returns PFDEBUG GETREG key. It turns a sparse key dense.
func getRegisters(t *testing.T, c *redis.Client, key string) []uint8 {
	t.Helper()
	vals, err := c.Do(context.Background(), "PFDEBUG", "GETREG", key).Int64Slice()
	if err != nil {
		t.Fatalf("PFDEBUG GETREG %s: %v", key, err)
	}
	if len(vals) != hll.Registers {
		t.Fatalf("PFDEBUG GETREG %s: %d registers, want %d", key, len(vals), hll.Registers)
	}
	out := make([]uint8, len(vals))
	for i, v := range vals {
		out[i] = uint8(v)
	}
	return out
}

func get(t *testing.T, c *redis.Client, key string) []byte {
	t.Helper()
	v, err := c.Get(context.Background(), key).Bytes()
	if err != nil {
		t.Fatalf("GET %s: %v", key, err)
	}
	return v
}

func pfcount(t *testing.T, c *redis.Client, key string) uint64 {
	t.Helper()
	n, err := c.PFCount(context.Background(), key).Result()
	if err != nil {
		t.Fatalf("PFCOUNT %s: %v", key, err)
	}
	return uint64(n)
}

func encodingName(v []byte) string {
	switch {
	case len(v) < hll.HeaderSize:
		return "invalid"
	case v[4] == 0:
		return "dense"
	case v[4] == 1:
		return "sparse"
	}
	return "encoding " + strconv.Itoa(int(v[4]))
}

// compareValues compares the value Redis built with PFADD (redisVal) with
// the one AppendRedis wrote (ours) for the same registers. They must be equal
// except in the cases the package documentation lists, which it logs; it
// returns whether they were byte-identical.
func compareValues(t *testing.T, what string, redisVal, ours []byte) bool {
	t.Helper()
	if bytes.Equal(redisVal, ours) {
		return true
	}
	parsed, err := hll.ParseRedis(redisVal)
	if err != nil {
		t.Fatalf("%s: ParseRedis(GET) = %v", what, err)
	}
	rEnc, oEnc := encodingName(redisVal), encodingName(ours)
	if d := diffRegisters(registers(parsed), registers(mustParse(t, ours))); d != "" {
		t.Errorf("%s: registers differ: %s", what, d)
		return false
	}
	switch {
	case rEnc == oEnc && !bytes.Equal(redisVal[:hll.HeaderSize], ours[:hll.HeaderSize]):
		t.Errorf("%s: headers differ: Redis %x, AppendRedis %x", what, redisVal[:hll.HeaderSize], ours[:hll.HeaderSize])
	case rEnc == "sparse" && oEnc == "sparse":
		// Redis's cut of long runs of equal registers depends on the order
		// the registers were set in: check that this is the only difference.
		canon := parsed.AppendRedisSparseMax(nil, 1<<20)
		if !bytes.Equal(canon, ours) {
			t.Errorf("%s: sparse values differ and not only in how runs are cut: Redis %d bytes, AppendRedis %d", what, len(redisVal), len(ours))
			return false
		}
		t.Logf("%s: sparse values differ as documented (a run of 5+ equal registers cut differently): Redis %d bytes, AppendRedis %d bytes", what, len(redisVal), len(ours))
	case rEnc == "dense" && oEnc == "sparse" && len(ours) > hll.DefaultSparseMaxBytes-32:
		t.Logf("%s: Redis promoted to dense near the size limit while the canonical sparse value is %d bytes (documented)", what, len(ours))
	default:
		t.Errorf("%s: values differ: Redis %s %d bytes, AppendRedis %s %d bytes", what, rEnc, len(redisVal), oEnc, len(ours))
	}
	return false
}

func mustParse(t *testing.T, v []byte) *hll.Sketch {
	t.Helper()
	s, err := hll.ParseRedis(v)
	if err != nil {
		t.Fatalf("ParseRedis: %v", err)
	}
	return s
}

func TestRedisIntegration(t *testing.T) {
	c, key := redisClient(t)
	ctx := context.Background()
	for _, n := range []int{0, 1, 10, 1000, 10000, 100000, 1000000} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			if testing.Short() && n > 100000 {
				t.Skip("-short")
			}
			elems := elements("it-visitor-", 0, n)
			a, b := key(fmt.Sprintf("%d:A", n)), key(fmt.Sprintf("%d:B", n))

			// A: PFADD by Redis. B: SET to what pvjobs computed.
			pfadd(t, c, a, elems)
			s := hll.New()
			for _, e := range elems {
				s.Add(e)
			}
			ours := s.AppendRedis(nil)
			if err := c.Set(ctx, b, ours, 0).Err(); err != nil {
				t.Fatalf("SET %s: %v", b, err)
			}

			// The values, before PFCOUNT fills the cache or PFDEBUG turns
			// them dense.
			aVal := get(t, c, a)
			if !bytes.Equal(get(t, c, b), ours) {
				t.Fatal("GET B differs from the value SET")
			}
			identical := compareValues(t, "after PFADD", aVal, ours)
			t.Logf("n=%d: Redis %s %d bytes, AppendRedis %s %d bytes, byte-identical %v",
				n, encodingName(aVal), len(aVal), encodingName(ours), len(ours), identical)
			parsed, err := hll.ParseRedis(aVal)
			if err != nil {
				t.Fatalf("ParseRedis(GET A): %v", err)
			}
			if d := diffRegisters(registers(parsed), registers(s)); d != "" {
				t.Errorf("ParseRedis(GET A) vs sketch: %s", d)
			}

			// Counts.
			want := s.Count()
			if ca, cb := pfcount(t, c, a), pfcount(t, c, b); ca != want || cb != want {
				t.Errorf("PFCOUNT A = %d, PFCOUNT B = %d, Sketch.Count() = %d", ca, cb, want)
			}

			// New elements behave the same on both keys (still in their
			// original encodings) and on the sketch.
			more := elements("it-more-", 0, max(10, n/10))
			for i := 0; i < len(more); i += 100 {
				batch := more[i:min(i+100, len(more))]
				ra, rb := pfadd(t, c, a, batch), pfadd(t, c, b, batch)
				changed := false
				for _, e := range batch {
					changed = s.Add(e) || changed
				}
				if ra != rb || (ra == 1) != changed {
					t.Fatalf("PFADD of new elements %d..: A replied %d, B %d, Sketch.Add changed=%v", i, ra, rb, changed)
				}
			}
			// Redis updated both values the same way: when they started
			// byte-identical they must still be.
			aVal, bVal := get(t, c, a), get(t, c, b)
			if identical && !bytes.Equal(aVal, bVal) {
				t.Errorf("after more PFADDs: A (%s, %d bytes) and B (%s, %d bytes) differ", encodingName(aVal), len(aVal), encodingName(bVal), len(bVal))
			}
			want = s.Count()
			if ca, cb := pfcount(t, c, a), pfcount(t, c, b); ca != want || cb != want {
				t.Errorf("after more PFADDs: PFCOUNT A = %d, PFCOUNT B = %d, Sketch.Count() = %d", ca, cb, want)
			}
			regs := registers(s)
			if d := diffRegisters(getRegisters(t, c, a), regs); d != "" {
				t.Errorf("PFDEBUG GETREG A vs sketch: %s", d)
			}
			if d := diffRegisters(getRegisters(t, c, b), regs); d != "" {
				t.Errorf("PFDEBUG GETREG B vs sketch: %s", d)
			}

			// PFMERGE of two pvjobs-written keys is the union sketch.
			s1, s2 := sketchOf(0, n), sketchOf(n/2, n/2+n)
			k1, k2, dst := key(fmt.Sprintf("%d:M1", n)), key(fmt.Sprintf("%d:M2", n)), key(fmt.Sprintf("%d:M", n))
			if err := c.Set(ctx, k1, s1.AppendRedis(nil), 0).Err(); err != nil {
				t.Fatal(err)
			}
			if err := c.Set(ctx, k2, s2.AppendRedis(nil), 0).Err(); err != nil {
				t.Fatal(err)
			}
			if err := c.PFMerge(ctx, dst, k1, k2).Err(); err != nil {
				t.Fatalf("PFMERGE: %v", err)
			}
			union := s1.Clone()
			union.Merge(s2)
			compareValues(t, "PFMERGE", get(t, c, dst), union.AppendRedis(nil))
			if got, want := pfcount(t, c, dst), union.Count(); got != want {
				t.Errorf("PFCOUNT of PFMERGE = %d, merged Sketch.Count() = %d", got, want)
			}
			if got, want := uint64(c.PFCount(ctx, k1, k2).Val()), union.Count(); got != want {
				t.Errorf("PFCOUNT k1 k2 = %d, merged Sketch.Count() = %d", got, want)
			}
			if d := diffRegisters(getRegisters(t, c, dst), registers(union)); d != "" {
				t.Errorf("PFDEBUG GETREG of PFMERGE vs merged sketch: %s", d)
			}
		})
	}
}

// TestRedisSparseSurvey PFADDs element sets of many sizes up to past the
// default sparse limit and checks that AppendRedis matches Redis's value byte
// for byte, or differs only as documented; it logs how often each happens.
func TestRedisSparseSurvey(t *testing.T) {
	c, key := redisClient(t)
	identical, differ := 0, 0
	for n := 50; n <= 2200; n += 50 {
		for _, prefix := range []string{"survey-a-", "survey-b-"} {
			elems := elements(prefix, 0, n)
			k := key(prefix + strconv.Itoa(n))
			pfadd(t, c, k, elems)
			s := hll.New()
			for _, e := range elems {
				s.Add(e)
			}
			if compareValues(t, fmt.Sprintf("%s%d", prefix, n), get(t, c, k), s.AppendRedis(nil)) {
				identical++
			} else {
				differ++
			}
			if got, want := pfcount(t, c, k), s.Count(); got != want {
				t.Errorf("%s%d: PFCOUNT = %d, Sketch.Count() = %d", prefix, n, got, want)
			}
		}
	}
	t.Logf("%d element sets byte-identical to Redis, %d differing as documented", identical, differ)
}

// TestRedisNonCanonicalRuns shows the documented case where Redis's sparse
// value is not the canonical one: registers 1-4, then 0, then 5 set to 1, in
// that order, leave Redis with VAL:1,1 VAL:1,4 VAL:1,1 where AppendRedis
// writes VAL:1,4 VAL:1,2. Registers, PFCOUNT and later PFADDs agree.
func TestRedisNonCanonicalRuns(t *testing.T) {
	c, key := redisClient(t)
	// Find an element for each of registers 0-5 that sets it to 1.
	var found [6][]byte
	for i, left := 0, len(found); left > 0; i++ {
		e := []byte("nc-" + strconv.Itoa(i))
		h := hll.MurmurHash64A(e, hll.Seed)
		if r := h & (hll.Registers - 1); r < 6 && found[r] == nil && h&(1<<hll.Precision) != 0 {
			found[r] = e
			left--
		}
	}
	a, b := key("A"), key("B")
	s := hll.New()
	for _, r := range []int{1, 2, 3, 4, 0, 5} {
		pfadd(t, c, a, [][]byte{found[r]})
		s.Add(found[r])
	}
	redisVal, ours := get(t, c, a), s.AppendRedis(nil)
	// VAL:1,1 VAL:1,4 VAL:1,1 XZERO:16378 against VAL:1,4 VAL:1,2 XZERO:16378.
	if got, want := redisVal[hll.HeaderSize:], []byte{0x80, 0x83, 0x80, 0x7f, 0xf9}; !bytes.Equal(got, want) {
		t.Errorf("Redis's value = %x, expected the non-canonical %x", got, want)
	}
	if got, want := ours[hll.HeaderSize:], []byte{0x83, 0x81, 0x7f, 0xf9}; !bytes.Equal(got, want) {
		t.Errorf("AppendRedis = %x, want the canonical %x", got, want)
	}
	if compareValues(t, "non-canonical runs", redisVal, ours) {
		t.Error("values are identical; expected the documented difference")
	}
	if err := c.Set(context.Background(), b, ours, 0).Err(); err != nil {
		t.Fatal(err)
	}
	if ca, cb := pfcount(t, c, a), pfcount(t, c, b); ca != s.Count() || cb != s.Count() {
		t.Errorf("PFCOUNT A = %d, B = %d, Sketch.Count() = %d", ca, cb, s.Count())
	}
	more := elements("nc-more-", 0, 300)
	if ra, rb := pfadd(t, c, a, more), pfadd(t, c, b, more); ra != rb {
		t.Errorf("PFADD of more elements: A replied %d, B %d", ra, rb)
	}
	for _, e := range more {
		s.Add(e)
	}
	if ca, cb := pfcount(t, c, a), pfcount(t, c, b); ca != s.Count() || cb != s.Count() {
		t.Errorf("after more PFADDs: PFCOUNT A = %d, B = %d, Sketch.Count() = %d", ca, cb, s.Count())
	}
	if d := diffRegisters(getRegisters(t, c, a), getRegisters(t, c, b)); d != "" {
		t.Errorf("PFDEBUG GETREG A vs B: %s", d)
	}
}

// TestRedisEveryPFADD PFADDs streams of elements one at a time and compares
// Redis's value with AppendRedis after every PFADD, through the switch to
// dense: this covers every intermediate size, the promotion point included.
func TestRedisEveryPFADD(t *testing.T) {
	c, key := redisClient(t)
	ctx := context.Background()
	streams := 30
	if testing.Short() {
		streams = 3
	}
	states, identical := 0, 0
	for p := range streams {
		k := key("stream-" + strconv.Itoa(p))
		s := hll.New()
		for i := 0; ; i++ {
			e := fmt.Appendf(nil, "stream%d-%d", p, i)
			r, err := c.PFAdd(ctx, k, e).Result()
			if err != nil {
				t.Fatalf("PFADD: %v", err)
			}
			if changed := s.Add(e); changed != (r == 1) {
				t.Fatalf("stream %d element %d: PFADD replied %d, Add reported %v", p, i, r, changed)
			}
			v, ours := get(t, c, k), s.AppendRedis(nil)
			states++
			if compareValues(t, fmt.Sprintf("stream %d after %d PFADDs", p, i+1), v, ours) {
				identical++
			}
			if v[4] == 0 && ours[4] == 0 {
				break // Both dense: nothing more to learn from this stream.
			}
		}
	}
	t.Logf("%d of %d intermediate values byte-identical to Redis's", identical, states)
}
