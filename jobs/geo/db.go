package geo

import (
	"errors"
	"fmt"
	"github.com/pvjobs/pvjobs/jobs/tally"
	"net/netip"
	"strings"

	"github.com/oschwald/maxminddb-golang/v2"
)

// Unknown is the country of a page view whose IP is missing, unparsable,
// private or not in the database. Its region and city are "".
const Unknown = "??"

// Location is where an IP is, as the geo report shows it.
type Location struct {
	// Country is the ISO 3166-1 alpha-2 code of the country the database
	// places the IP in ("US"), or Unknown ("??"). It is the record's
	// "country", never its "registered_country": the registrant's country is
	// not where the visitor is (anycast networks such as 1.1.1.0/24 have a
	// registered country and no country, and are Unknown).
	Country string
	// Region is the ISO 3166-2 code of the record's first (largest)
	// subdivision: the country code, a hyphen and the subdivision's code, as
	// in "US-CA", "GB-ENG", "DE-BY", "JP-13". It is "" when the country is
	// unknown, when the record has no subdivision, and always with a Country
	// database.
	Region string
	// City is the city's English name ("San Diego", "Linköping"), "" when
	// the record has none, and always with a Country database. Tabs and line
	// breaks are replaced with spaces.
	City string
}

// key is the location's tally key: its columns joined with tabs.
func (l Location) key() string {
	return string(tally.AppendField(tally.AppendField(tally.AppendField(nil, l.Country), l.Region), l.City))
}

var unknown = Location{Country: Unknown}

// DB is an open GeoIP2/GeoLite2 City or Country database. Its methods are safe
// for concurrent use; Close must not run concurrently with them.
type DB struct {
	path string
	mm   *maxminddb.Reader
	city bool
	// release frees the memory the database was read into (see loadHuge);
	// nil when the file is mapped.
	release func() error
	closed  bool
}

// Open opens the MaxMind DB file at path, read into memory on huge pages
// where the system grants them (else memory-mapped), and checks that it
// is a GeoIP2/GeoLite2 (or compatible DB-IP) City or Country database; the
// schema is told by its metadata's database type. Errors name the path.
//
// The reader is maxminddb-golang's, the one geoip2-golang wraps, used
// directly for two reasons: the job caches decoded records by their offset,
// which geoip2.Reader does not expose, and it decodes only the three fields
// it reports rather than the whole geoip2.City. Tests check that every
// Location matches what geoip2-golang's City and Country methods return.
func Open(path string) (*DB, error) {
	db := &DB{path: path}
	var mm *maxminddb.Reader
	buf, release, ok, err := loadHuge(path)
	switch {
	case err != nil:
		return nil, fmt.Errorf("geoip database %s: %w", path, err)
	case ok:
		db.release = release
		mm, err = maxminddb.OpenBytes(buf)
	default:
		mm, err = maxminddb.Open(path)
	}
	if err != nil {
		if release != nil {
			_ = release()
		}
		return nil, fmt.Errorf("geoip database %s: %w", path, err)
	}
	city, ok := schema(mm.Metadata.DatabaseType)
	if !ok {
		_ = mm.Close()
		if release != nil {
			_ = release()
		}
		return nil, fmt.Errorf("geoip database %s: %w", path, &TypeError{DatabaseType: mm.Metadata.DatabaseType})
	}
	db.mm, db.city = mm, city
	return db, nil
}

// TypeError is returned (wrapped) by Open for a MaxMind DB file that is not a
// City or Country database, such as GeoLite2-ASN.
type TypeError struct {
	DatabaseType string
}

func (e *TypeError) Error() string {
	return fmt.Sprintf("database type %q is not a City or Country database (want GeoLite2-City, GeoIP2-City, GeoLite2-Country or GeoIP2-Country)", e.DatabaseType)
}

// schema tells whether a database type has the City schema (city and
// subdivisions) or only the Country one; ok is false for other types. The
// types are those geoip2-golang accepts for its City and Country methods.
func schema(typ string) (city, ok bool) {
	switch typ {
	case "GeoLite2-Country", "GeoIP2-Country", "DBIP-Country-Lite", "DBIP-Country":
		return false, true
	case "GeoLite2-City", "GeoIP2-City", "GeoIP2-Precision-City", "GeoIP-City-Redacted-US",
		"GeoIP2-City-Africa", "GeoIP2-City-Asia-Pacific", "GeoIP2-City-Europe",
		"GeoIP2-City-North-America", "GeoIP2-City-South-America",
		"DBIP-City-Lite", "DBIP-Location (compat=City)",
		"GeoIP2-Enterprise", "GeoIP-Enterprise-Redacted-US",
		"DBIP-ISP (compat=Enterprise)", "DBIP-Location-ISP (compat=Enterprise)":
		return true, true
	}
	return false, false
}

// Close releases the database. Locations already returned stay valid.
// Closing it again does nothing.
func (db *DB) Close() error {
	if db.closed {
		return nil
	}
	db.closed = true
	err := db.mm.Close()
	if db.release != nil && err == nil {
		err = db.release()
		db.release = nil
	}
	if err != nil {
		return fmt.Errorf("closing geoip database %s: %w", db.path, err)
	}
	return nil
}

// Path returns the path the database was opened from.
func (db *DB) Path() string { return db.path }

// Type returns the database type from its metadata, such as "GeoLite2-City".
func (db *DB) Type() string { return db.mm.Metadata.DatabaseType }

// HasCity reports whether the database has the City schema; a Country
// database gives countries only, with Region and City always "".
func (db *DB) HasCity() bool { return db.city }

// Lookup returns the location of ip. An IPv4-mapped IPv6 address
// (::ffff:1.2.3.4) is looked up as IPv4. Invalid, private, loopback,
// link-local, multicast and unspecified addresses, and addresses with a zone,
// are Unknown without a lookup, as are addresses the database does not know
// and records it cannot decode.
func (db *DB) Lookup(ip netip.Addr) Location {
	ip = ip.Unmap()
	if !Routable(ip) {
		return unknown
	}
	res := db.mm.Lookup(ip)
	if !res.Found() {
		return unknown
	}
	return db.decode(res)
}

// record is the part of a GeoIP2 City or Country record that a Location
// needs, in the layout of geoip2-golang's City type; decoding skips the rest
// of the record (names in other languages, location, postal code, traits),
// which makes a decode about three times faster than into geoip2.City.
type record struct {
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
	Subdivisions []struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"subdivisions"`
	City struct {
		Names struct {
			English string `maxminddb:"en"`
		} `maxminddb:"names"`
	} `maxminddb:"city"`
}

// decode reads a found record into a Location; a record it cannot decode,
// or that has no country, is Unknown.
func (db *DB) decode(res maxminddb.Result) Location {
	var rec record
	if err := res.Decode(&rec); err != nil {
		return unknown
	}
	loc := Location{Country: clean(rec.Country.ISOCode)}
	if loc.Country == "" {
		return unknown
	}
	if !db.city {
		return loc
	}
	loc.City = clean(rec.City.Names.English)
	if len(rec.Subdivisions) > 0 {
		if sub := clean(rec.Subdivisions[0].ISOCode); sub != "" {
			loc.Region = loc.Country + "-" + sub
		}
	}
	return loc
}

// clean keeps a database string from breaking the report's tab-joined keys
// or its CSV lines.
func clean(s string) string {
	if strings.ContainsAny(s, "\t\r\n") {
		s = strings.Map(func(r rune) rune {
			if r == '\t' || r == '\r' || r == '\n' {
				return ' '
			}
			return r
		}, s)
	}
	return strings.TrimSpace(s)
}

// Routable reports whether ip is valid and could be a visitor's public
// address: not private (10/8, 172.16/12, 192.168/16, fc00::/7), loopback,
// link-local, multicast or unspecified, and without a zone.
func Routable(ip netip.Addr) bool {
	return ip.IsValid() && ip.Zone() == "" && !ip.IsPrivate() && !ip.IsLoopback() &&
		!ip.IsLinkLocalUnicast() && !ip.IsLinkLocalMulticast() &&
		!ip.IsInterfaceLocalMulticast() && !ip.IsMulticast() && !ip.IsUnspecified()
}

// ErrBadIP is returned by ParseIP for a field that holds no usable address.
var ErrBadIP = errors.New("not an IP address")

// ParseIP parses a page view's ip field, as stored by trackers and proxies:
//   - surrounding white space is ignored;
//   - a comma-separated list, as in an X-Forwarded-For header
//     ("203.0.113.7, 10.0.0.1"), stands for its first entry, the client;
//   - a port is dropped: "1.2.3.4:5678", "[2001:db8::1]:443", and brackets
//     alone: "[2001:db8::1]";
//   - an IPv4-mapped IPv6 address (::ffff:1.2.3.4) becomes IPv4.
//
// Anything else that netip.ParseAddr refuses, and any address with a zone
// (fe80::1%eth0), is ErrBadIP.
func ParseIP(s string) (netip.Addr, error) {
	if i := strings.IndexByte(s, ','); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(s, "["); ok {
		host, port, ok := strings.Cut(rest, "]")
		if !ok || !isPort(port) {
			return netip.Addr{}, ErrBadIP
		}
		s = host
	} else if i := strings.IndexByte(s, ':'); i >= 0 && strings.IndexByte(s, '.') >= 0 && strings.Count(s, ":") == 1 {
		if !isPort(s[i:]) {
			return netip.Addr{}, ErrBadIP
		}
		s = s[:i]
	}
	ip, err := netip.ParseAddr(s)
	if err != nil || ip.Zone() != "" {
		return netip.Addr{}, ErrBadIP
	}
	return ip.Unmap(), nil
}

// parseIPv4 parses b when it is a plain dotted-quad IPv4 address, as
// netip.ParseAddr would ("1.2.3.4"; no white space, port, list, or leading
// zeros), without the string ParseIP needs; ok is false for anything else,
// which ParseIP then reads.
func parseIPv4(b []byte) (ip netip.Addr, ok bool) {
	var a [4]byte
	field, digits, val := 0, 0, 0
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			if digits == 1 && val == 0 {
				return ip, false // a leading zero
			}
			val = val*10 + int(c-'0')
			digits++
			if val > 255 {
				return ip, false
			}
		case c == '.' && digits > 0 && field < 3:
			a[field] = byte(val)
			field, digits, val = field+1, 0, 0
		default:
			return ip, false
		}
	}
	if field != 3 || digits == 0 {
		return ip, false
	}
	a[3] = byte(val)
	return netip.AddrFrom4(a), true
}

// isPort reports whether s is "" or ":" followed by 1 to 5 digits.
func isPort(s string) bool {
	if s == "" {
		return true
	}
	if len(s) < 2 || len(s) > 6 || s[0] != ':' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
