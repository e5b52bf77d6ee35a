package geo_test

import (
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/pvjobs/pvjobs/jobs/geo"
)

// TestRealGeoLite2 checks lookups that have been stable in GeoLite2-City for
// years against the real database. It needs the database (make geo-real) and
// skips without it.
func TestRealGeoLite2(t *testing.T) {
	db := openDB(t, geo.GeoLite2Path(t))
	if !db.HasCity() {
		t.Fatalf("%s: type %q, want a City database", db.Path(), db.Type())
	}
	for _, tc := range []struct {
		ip, country string
		region      bool // the record has a subdivision
	}{
		{"8.8.8.8", "US", false},
		{"2001:4860:4860::8888", "US", false},
		{"81.2.69.142", "GB", true},
		{"::ffff:81.2.69.142", "GB", true},
		{"2a01:cb00::1", "FR", true},
		{"49.36.10.1", "IN", false},
		{"10.0.0.1", geo.Unknown, false},
		{"1.1.1.1", geo.Unknown, false}, // anycast: a registered country only
	} {
		t.Run(tc.ip, func(t *testing.T) {
			got := lookup(db, tc.ip)
			t.Logf("%s: %+v", tc.ip, got)
			if got.Country != tc.country {
				t.Errorf("country %q, want %q", got.Country, tc.country)
			}
			if tc.region && len(got.Region) < 4 || got.Region != "" && got.Region[:3] != got.Country+"-" {
				t.Errorf("region %q, want %s-<subdivision>", got.Region, got.Country)
			}
		})
	}
}

// publicIPs returns n random routable addresses: IPv4 across the whole
// space, one in eight IPv6 in 2000::/4.
func publicIPs(n int) []netip.Addr {
	r := rand.New(rand.NewPCG(1, 2))
	out := make([]netip.Addr, 0, n)
	for len(out) < n {
		var ip netip.Addr
		if r.IntN(8) == 0 {
			var b [16]byte
			for i := range b {
				b[i] = byte(r.Uint32())
			}
			b[0] = 0x20 | b[0]&0x0f
			ip = netip.AddrFrom16(b)
		} else {
			ip = netip.AddrFrom4([4]byte{byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32())})
		}
		if geo.Routable(ip) {
			out = append(out, ip)
		}
	}
	return out
}

func benchLookup(b *testing.B, path string) {
	db := openDB(b, path)
	ips := publicIPs(1 << 16)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_ = db.Lookup(ips[i&(len(ips)-1)])
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
}

// BenchmarkLookup is an uncached lookup (the cost of a job's cache miss that
// decodes a record) of random public addresses in the test database, most of
// which it does not know.
func BenchmarkLookup(b *testing.B) { benchLookup(b, cityDB) }

// BenchmarkLookupGeoLite2 is BenchmarkLookup on the real GeoLite2-City.
func BenchmarkLookupGeoLite2(b *testing.B) { benchLookup(b, geo.GeoLite2Path(b)) }

// TestRealGeoLite2Job runs the job on the real database: every page view is
// counted once, private and unparsable IPs under "??".
func TestRealGeoLite2Job(t *testing.T) {
	lines := runJob(t, openDB(t, geo.GeoLite2Path(t)), jobRows)
	total, unknownBlog := 0, 0
	for _, l := range lines {
		f := strings.Fields(l)
		account, period, keys := f[0], f[1], f[3]
		n, err := strconv.Atoi(f[len(f)-1])
		if err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		if period == "range" {
			total += n
			if account == "blog" && strings.HasPrefix(keys, "??|") {
				unknownBlog = n
			}
		}
	}
	if total != 14 || unknownBlog < 3 {
		t.Errorf("range rows count %d page views (want 14), %d unknown on blog (want at least 3):\n%s", total, unknownBlog, strings.Join(lines, "\n"))
	}
}
