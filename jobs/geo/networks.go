package geo

import "net/netip"

// SampleNetwork is one network of the test databases (jobs/geo/testdb) and of
// the synthetic data that should geolocate with them.
type SampleNetwork struct {
	// Prefix is the network in CIDR form: "81.2.69.0/24", "2001:480::/48".
	Prefix string
	// Country is the ISO 3166-1 alpha-2 code.
	Country string
	// Region is the ISO 3166-2 code of the first subdivision ("GB-ENG"), or ""
	// when the record has none.
	Region string
	// City is the English city name, or "" when the record has none.
	City string
}

// SampleNetworks are the networks of the generated test databases
// jobs/geo/testdb/test-city.mmdb and test-country.mmdb (go generate
// ./jobs/geo writes them from this table), IPv4 and IPv6, across six
// continents. A synthetic-data generator that draws visitor IPs from these
// prefixes gets geo reports that look like real ones.
//
// The first eight are the networks of MaxMind's own test databases
// (GeoIP2-City-Test), which are also the default networks of the synthetic
// page-view generator; the rest are real public networks with the location
// GeoLite2-City gave them when the table was written. Some records carry a
// country only, or a country and region only, as real records do. Real
// databases move networks around: these values are test data, not facts.
var SampleNetworks = []SampleNetwork{
	{"81.2.69.0/24", "GB", "GB-ENG", "London"},
	{"89.160.20.0/24", "SE", "SE-E", "Linköping"},
	{"216.160.83.0/24", "US", "US-WA", "Milton"},
	{"2001:480::/48", "US", "US-CA", "San Diego"},
	{"175.16.199.0/24", "CN", "CN-JL", "Changchun"},
	{"2a02:cf40::/32", "NO", "", ""},
	{"67.43.156.0/24", "BT", "", ""},
	{"202.196.224.0/24", "PH", "", ""},

	{"8.8.8.0/24", "US", "", ""},
	{"2001:4860:4860::/48", "US", "", ""},
	{"73.10.10.0/24", "US", "US-NJ", "Vineland"},
	{"2600:1700::/48", "US", "US-MI", "Detroit"},
	{"24.48.10.0/24", "CA", "CA-QC", "Westmount"},
	{"187.190.10.0/24", "MX", "MX-AGU", "Aguascalientes"},
	{"189.20.20.0/24", "BR", "BR-SP", "São Paulo"},
	{"84.160.10.0/24", "DE", "DE-BW", "Weil der Stadt"},
	{"2003:e0::/40", "DE", "DE-HE", "Marburg"},
	{"2a01:cb00::/48", "FR", "FR-IDF", "Neuilly-sur-Seine"},
	{"2a00:23c0::/48", "GB", "GB-ENG", "Sheffield"},
	{"145.100.10.0/24", "NL", "NL-NH", "Amsterdam"},
	{"151.20.10.0/24", "IT", "IT-25", "Milan"},
	{"88.10.10.0/24", "ES", "ES-PV", "Irun"},
	{"95.24.10.0/24", "RU", "RU-MOW", "Moscow"},
	{"102.89.10.0/24", "NG", "NG-LA", "Ikeja"},
	{"49.36.10.0/24", "IN", "IN-MH", "Mumbai"},
	{"126.10.10.0/24", "JP", "JP-13", ""},
	{"121.130.10.0/24", "KR", "KR-11", "Nowon-gu"},
	{"2001:ee0::/48", "VN", "VN-HN", "Hanoi"},
	{"1.120.10.0/24", "AU", "AU-VIC", "Melbourne"},
}

// SamplePrefixes returns the prefixes of SampleNetworks, for a synthetic-data
// generator (synth.Config.Networks).
func SamplePrefixes() []netip.Prefix {
	ps := make([]netip.Prefix, len(SampleNetworks))
	for i, n := range SampleNetworks {
		ps[i] = netip.MustParsePrefix(n.Prefix)
	}
	return ps
}
