package geo_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/oschwald/geoip2-golang/v2"
	"github.com/pvjobs/pvjobs/jobs/geo"
)

// geoip2Location is the Location that geoip2-golang's reader gives for ip:
// the reference the package's own decoding must match.
func geoip2Location(t testing.TB, r *geoip2.Reader, city bool, ip netip.Addr) geo.Location {
	t.Helper()
	ip = ip.Unmap()
	if !geo.Routable(ip) {
		return geo.Location{Country: geo.Unknown}
	}
	if !city {
		c, err := r.Country(ip)
		if err != nil {
			t.Fatalf("geoip2 Country(%s): %v", ip, err)
		}
		if c.Country.ISOCode == "" {
			return geo.Location{Country: geo.Unknown}
		}
		return geo.Location{Country: c.Country.ISOCode}
	}
	c, err := r.City(ip)
	if err != nil {
		t.Fatalf("geoip2 City(%s): %v", ip, err)
	}
	if c.Country.ISOCode == "" {
		return geo.Location{Country: geo.Unknown}
	}
	loc := geo.Location{Country: c.Country.ISOCode, City: strings.TrimSpace(c.City.Names.English)}
	if len(c.Subdivisions) > 0 && c.Subdivisions[0].ISOCode != "" {
		loc.Region = c.Country.ISOCode + "-" + c.Subdivisions[0].ISOCode
	}
	return loc
}

// matchGeoip2 compares db.Lookup with geoip2-golang on ips.
func matchGeoip2(t *testing.T, path string, ips []netip.Addr) {
	db := openDB(t, path)
	r, err := geoip2.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	bad := 0
	for _, ip := range ips {
		want := geoip2Location(t, r, db.HasCity(), ip)
		if got := db.Lookup(ip); got != want {
			t.Errorf("%s: got %+v, geoip2-golang gives %+v", ip, got, want)
			if bad++; bad > 10 {
				t.Fatal("too many differences")
			}
		}
	}
}

func sampleIPs() []netip.Addr {
	var ips []netip.Addr
	for _, n := range geo.SampleNetworks {
		p := netip.MustParsePrefix(n.Prefix)
		ips = append(ips, p.Addr(), last(p), p.Addr().Next())
	}
	for _, s := range []string{"9.9.9.9", "10.0.0.1", "::1", "::ffff:81.2.69.1", "2606:4700::1"} {
		ips = append(ips, netip.MustParseAddr(s))
	}
	return append(ips, publicIPs(2000)...)
}

// TestMatchesGeoip2 checks that the package reads records as geoip2-golang
// does, on both test databases.
func TestMatchesGeoip2(t *testing.T) {
	for _, path := range []string{cityDB, countryDB} {
		t.Run(path, func(t *testing.T) { matchGeoip2(t, path, sampleIPs()) })
	}
}

// TestRealGeoLite2MatchesGeoip2 is TestMatchesGeoip2 on the real GeoLite2-City, over
// 20,000 random public addresses.
func TestRealGeoLite2MatchesGeoip2(t *testing.T) {
	path := geo.GeoLite2Path(t)
	matchGeoip2(t, path, append(sampleIPs(), publicIPs(20_000)...))
}
