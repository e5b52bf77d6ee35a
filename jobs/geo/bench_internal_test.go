package geo

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/pvjobs/pvjobs/mapreduce"
)

// visitorMix returns rows page views' ip fields, drawn as real traffic is: a
// pool of visitors (one IP each) of which a few come back often (Zipf, as the
// synthetic generator draws them), with 3% private and 2% unparsable or empty
// fields. pick draws a visitor's public IP.
func visitorMix(rows, visitors int, pick func(r *rand.Rand) netip.Addr) [][]byte {
	r := rand.New(rand.NewPCG(7, 11))
	pool := make([][]byte, visitors)
	for i := range pool {
		switch x := r.Float64(); {
		case x < 0.03:
			pool[i] = []byte(netip.AddrFrom4([4]byte{192, 168, byte(r.IntN(256)), byte(r.IntN(256))}).String())
		case x < 0.04:
			pool[i] = []byte("unknown")
		case x < 0.05:
			pool[i] = nil
		default:
			pool[i] = []byte(pick(r).String())
		}
	}
	z := rand.NewZipf(r, 1.05, 4, uint64(visitors-1))
	out := make([][]byte, rows)
	for i := range out {
		out[i] = pool[z.Uint64()]
	}
	return out
}

// sampleAddr draws an address in one of SampleNetworks.
func sampleAddr(r *rand.Rand) netip.Addr {
	p := netip.MustParsePrefix(SampleNetworks[r.IntN(len(SampleNetworks))].Prefix)
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		if r.IntN(2) == 1 {
			b[i/8] |= 1 << (7 - i%8)
		}
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// publicAddr draws a routable address anywhere: IPv4 across the whole space,
// one in eight IPv6 in 2000::/4.
func publicAddr(r *rand.Rand) netip.Addr {
	for {
		var a netip.Addr
		if r.IntN(8) == 0 {
			var b [16]byte
			for i := range b {
				b[i] = byte(r.Uint32())
			}
			b[0] = 0x20 | b[0]&0x0f
			a = netip.AddrFrom16(b)
		} else {
			a = netip.AddrFrom4([4]byte{byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32())})
		}
		if Routable(a) {
			return a
		}
	}
}

// benchMap measures the job's per-row path: one worker's Map over a mix of
// 2^20 page views, repeated. With warm, the caches are filled by a first
// pass (the steady state of a long run: cache hits); without, the figure
// includes every visitor's first lookup, amortised over b.N rows.
func benchMap(b *testing.B, path string, warm bool, visitors int, pick func(r *rand.Rand) netip.Addr) {
	db, err := Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	start := time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC)
	plan, err := mapreduce.NewPlan(mapreduce.PlanSpec{Accounts: []string{"blog"}, Start: start, End: start.AddDate(0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	ips := visitorMix(1<<20, visitors, pick)
	j := &Job{db: db}
	p := j.NewPartial(plan)
	pv := &mapreduce.PageView{}
	if warm {
		for _, ip := range ips {
			pv.IP = ip
			j.Map(p, pv)
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		pv.IP = ips[i&(len(ips)-1)]
		j.Map(p, pv)
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pageviews/s")
	b.ReportMetric(float64(len(p.r.keys)), "locations")
}

// BenchmarkMap is the per-row path in the steady state (cache hits) on the
// test database, with 80,000 visitors (the bench data of package jobs has
// 40,000 per account).
func BenchmarkMap(b *testing.B) {
	benchMap(b, "testdb/test-city.mmdb", true, 80_000, sampleAddr)
}

// BenchmarkMapCold is BenchmarkMap with the caches starting empty.
func BenchmarkMapCold(b *testing.B) {
	benchMap(b, "testdb/test-city.mmdb", false, 80_000, sampleAddr)
}

// BenchmarkMapGeoLite2Cold is the per-row path on the real GeoLite2-City,
// caches starting empty, with 80,000 visitors spread over the whole address
// space (so nearly every visitor is a different database record: a worst
// case for the record cache).
func BenchmarkMapGeoLite2Cold(b *testing.B) {
	benchMap(b, GeoLite2Path(b), false, 80_000, publicAddr)
}

// TestResolverBounded feeds one worker's resolver more distinct IPs than its
// cache has slots, and more locations than it interns, and checks that the
// caches stay bounded and the answers right.
func TestResolverBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("looks up 150,000 addresses")
	}
	if n := unsafe.Sizeof(ipSlot{}); n != 64 {
		t.Errorf("ipSlot is %d bytes, want one 64-byte cache line", n)
	}
	db, err := Open("testdb/test-city.mmdb")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r := newResolver(db)
	rnd := rand.New(rand.NewPCG(1, 1))
	check := func(field string, want Location) {
		t.Helper()
		if got := string(r.key([]byte(field))); got != want.key() {
			t.Fatalf("field %q: key %q, want %q", field, got, want.key())
		}
	}
	for i := 0; i < ipSlots+ipSlots/8; i++ {
		a := sampleAddr(rnd)
		if i%3 == 0 {
			a = publicAddr(rnd)
		}
		check(a.String(), db.Lookup(a))
		if i%1000 == 0 {
			check("81.2.69.142", Location{"GB", "GB-ENG", "London"})
		}
		if len(r.records) > maxRecords || len(r.keys) > maxLocations || len(r.slots) != ipSlots {
			t.Fatalf("after %d ips: caches hold %d records, %d locations, %d slots", i, len(r.records), len(r.keys), len(r.slots))
		}
	}
	// Fill the location table past its bound: it resets, and answers stay right.
	for i := 0; i < maxLocations+10; i++ {
		r.intern(Location{Country: "ZZ", City: fmt.Sprint(i)})
		if len(r.keys) > maxLocations {
			t.Fatalf("%d locations interned", len(r.keys))
		}
	}
	check("81.2.69.142", Location{"GB", "GB-ENG", "London"})
	check("2001:480::1", Location{"US", "US-CA", "San Diego"})
	check("", unknown)
	long := "81.2.69.1, " + strings.Repeat("10.0.0.1, ", 10)
	check(long, Location{"GB", "GB-ENG", "London"})
	check(long, Location{"GB", "GB-ENG", "London"})
}

func TestClean(t *testing.T) {
	for in, want := range map[string]string{"San Diego": "San Diego", "a\tb\nc\r": "a b c", " x ": "x", "": ""} {
		if got := clean(in); got != want {
			t.Errorf("clean(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzResolver checks that the job's cached path gives what ParseIP and
// Lookup give, for any ip field, asked twice (a miss, then a hit).
func FuzzResolver(f *testing.F) {
	for _, s := range []string{"81.2.69.142", "2001:480::1", "::ffff:1.2.3.4", "1.2.3.4, 5.6.7.8",
		"[::1]:443", "fe80::1%eth0", "", "garbage", strings.Repeat("1", 70)} {
		f.Add([]byte(s))
	}
	db, err := Open("testdb/test-city.mmdb")
	if err != nil {
		f.Fatal(err)
	}
	r := newResolver(db)
	f.Fuzz(func(t *testing.T, field []byte) {
		want := unknown
		if ip, err := ParseIP(string(field)); err == nil {
			want = db.Lookup(ip)
		}
		for range 2 {
			if got := string(r.key(field)); got != want.key() {
				t.Fatalf("field %q: key %q, want %q", field, got, want.key())
			}
		}
	})
}

// checkNetCache asks a fresh resolver for every address of ips twice, with
// neighbours in the same /24 and /16 (and IPv6 /48) in between, and checks
// every answer against an uncached DB.Lookup; it returns how many answers
// came from the network cache.
func checkNetCache(t *testing.T, path string, ips []netip.Addr) (hits int) {
	t.Helper()
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r := newResolver(db)
	rnd := rand.New(rand.NewPCG(3, 4))
	near := func(a netip.Addr, keep int) netip.Addr {
		b := a.AsSlice()
		for i := keep; i < len(b)*8; i++ {
			if rnd.IntN(2) == 1 {
				b[i/8] ^= 1 << (7 - i%8)
			}
		}
		n, _ := netip.AddrFromSlice(b)
		return n
	}
	for _, a := range ips {
		keeps := []int{24, 16, 20}
		if a.Is6() {
			keeps = []int{48, 32, 40}
		}
		for _, x := range []netip.Addr{a, near(a, keeps[0]), near(a, keeps[1]), near(a, keeps[2]), a} {
			if _, ok := r.nets.get(x); ok && Routable(x) {
				hits++
			}
			if got, want := string(r.key([]byte(x.String()))), db.Lookup(x).key(); got != want {
				t.Fatalf("%s: key %q, want %q", x, got, want)
			}
		}
	}
	return hits
}

// TestNetCache checks the network cache gives the database's answer for
// every address, on the test database.
func TestNetCache(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 6))
	var ips []netip.Addr
	for i := 0; i < 20_000; i++ {
		if i%2 == 0 {
			ips = append(ips, sampleAddr(rnd))
		} else {
			ips = append(ips, publicAddr(rnd))
		}
	}
	if hits := checkNetCache(t, "testdb/test-city.mmdb", ips); hits == 0 {
		t.Error("no answer came from the network cache")
	}
}

// TestRealGeoLite2NetCache is TestNetCache on the real GeoLite2-City, over
// 100,000 random public addresses and their neighbours.
func TestRealGeoLite2NetCache(t *testing.T) {
	path := GeoLite2Path(t)
	rnd := rand.New(rand.NewPCG(7, 8))
	var ips []netip.Addr
	for range 100_000 {
		ips = append(ips, publicAddr(rnd))
	}
	hits := checkNetCache(t, path, ips)
	t.Logf("%d of %d answers from the network cache", hits, len(ips)*5)
	if hits == 0 {
		t.Error("no answer came from the network cache")
	}
}

// BenchmarkResolveDistinctGeoLite2 is the resolver on the real
// GeoLite2-City when no two page views share an address: 2^20 random
// public addresses (IPv4 across the whole space, one in eight IPv6), each
// seen once per pass, so only the network and record caches can help. It
// reports CPU time per address too, which a machine shared with other
// processes distorts less than the elapsed time.
func BenchmarkResolveDistinctGeoLite2(b *testing.B) {
	db, err := Open(GeoLite2Path(b))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	rnd := rand.New(rand.NewPCG(9, 10))
	ips := make([][]byte, 1<<20)
	for i := range ips {
		ips[i] = []byte(publicAddr(rnd).String())
	}
	r := newResolver(db)
	b.ReportAllocs()
	cpu := cpuTime()
	i := 0
	for b.Loop() {
		if i&(len(ips)-1) == 0 {
			clear(r.slots) // every pass sees new addresses
		}
		r.loc(ips[i&(len(ips)-1)])
		i++
	}
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
}

// cpuTime returns the CPU time the process has used, in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
