package geo_test

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pvjobs/pvjobs/jobs/geo"
)

const (
	cityDB    = "testdb/test-city.mmdb"
	countryDB = "testdb/test-country.mmdb"
)

func openDB(t testing.TB, path string) *geo.DB {
	t.Helper()
	db, err := geo.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// lookup parses s as the job does and looks it up.
func lookup(db *geo.DB, s string) geo.Location {
	ip, err := geo.ParseIP(s)
	if err != nil {
		return geo.Location{Country: geo.Unknown}
	}
	return db.Lookup(ip)
}

func TestLookupCity(t *testing.T) {
	db := openDB(t, cityDB)
	if !db.HasCity() || db.Type() != "GeoLite2-City" || db.Path() != cityDB {
		t.Fatalf("HasCity %v, Type %q, Path %q", db.HasCity(), db.Type(), db.Path())
	}
	unknown := geo.Location{Country: geo.Unknown}
	london := geo.Location{Country: "GB", Region: "GB-ENG", City: "London"}
	for _, tc := range []struct {
		name, ip string
		want     geo.Location
	}{
		{"ipv4", "81.2.69.142", london},
		{"ipv4 first of network", "81.2.69.0", london},
		{"ipv4 last of network", "81.2.69.255", london},
		{"ipv4 non-ascii city", "89.160.20.1", geo.Location{Country: "SE", Region: "SE-E", City: "Linköping"}},
		{"ipv4 country only", "67.43.156.1", geo.Location{Country: "BT"}},
		{"ipv4 region only", "126.10.10.1", geo.Location{Country: "JP", Region: "JP-13"}},
		{"ipv6", "2001:480::1", geo.Location{Country: "US", Region: "US-CA", City: "San Diego"}},
		{"ipv6 upper case", "2001:480:0:0:0:0:0:ABCD", geo.Location{Country: "US", Region: "US-CA", City: "San Diego"}},
		{"ipv6 country only", "2a02:cf40:1234::1", geo.Location{Country: "NO"}},
		{"ipv4-mapped ipv6", "::ffff:81.2.69.142", london},
		{"ipv4-mapped ipv6 hex", "::ffff:5102:458e", london},
		{"forwarded list", "81.2.69.142, 10.0.0.1, 172.16.0.1", london},
		{"forwarded list private first", "10.0.0.1, 81.2.69.142", unknown},
		{"ipv4 with port", "81.2.69.142:51234", london},
		{"ipv6 bracketed with port", "[2001:480::1]:443", geo.Location{Country: "US", Region: "US-CA", City: "San Diego"}},
		{"ipv6 bracketed", "[2001:480::1]", geo.Location{Country: "US", Region: "US-CA", City: "San Diego"}},
		{"white space", "  81.2.69.142\t", london},
		{"unknown public ipv4", "9.9.9.9", unknown},
		{"unknown public ipv6", "2606:4700:4700::1111", unknown},
		{"private 10", "10.1.2.3", unknown},
		{"private 172.16", "172.20.0.1", unknown},
		{"private 192.168", "192.168.1.10", unknown},
		{"private fc00", "fd12:3456::1", unknown},
		{"loopback v4", "127.0.0.1", unknown},
		{"loopback v6", "::1", unknown},
		{"link-local", "169.254.10.1", unknown},
		{"link-local v6 with zone", "fe80::1%eth0", unknown},
		{"zone on a public address", "2001:480::1%eth0", unknown},
		{"unspecified", "0.0.0.0", unknown},
		{"multicast", "224.0.0.1", unknown},
		{"empty", "", unknown},
		{"garbage", "not an ip", unknown},
		{"out of range octet", "81.2.69.300", unknown},
		{"leading zero octet", "081.2.69.142", unknown},
		{"cidr", "81.2.69.0/24", unknown},
		{"bad port", "81.2.69.142:http", unknown},
		{"unclosed bracket", "[2001:480::1", unknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := lookup(db, tc.ip); got != tc.want {
				t.Errorf("%q: got %+v, want %+v", tc.ip, got, tc.want)
			}
		})
	}
}

func TestLookupZeroAddr(t *testing.T) {
	db := openDB(t, cityDB)
	if got := db.Lookup(netip.Addr{}); got.Country != geo.Unknown || got.Region != "" || got.City != "" {
		t.Errorf("zero Addr: got %+v", got)
	}
	z6 := netip.MustParseAddr("2001:480::1").WithZone("eth0")
	if got := db.Lookup(z6); got.Country != geo.Unknown {
		t.Errorf("zoned address: got %+v", got)
	}
	mapped := netip.AddrFrom16(netip.MustParseAddr("::ffff:81.2.69.142").As16())
	if got := db.Lookup(mapped); got.Country != "GB" {
		t.Errorf("mapped Addr: got %+v", got)
	}
}

// TestSampleNetworks checks both test databases against the table they are
// generated from, at the first and last address of each network.
func TestSampleNetworks(t *testing.T) {
	city, country := openDB(t, cityDB), openDB(t, countryDB)
	if country.HasCity() || country.Type() != "GeoLite2-Country" {
		t.Fatalf("country db: HasCity %v, Type %q", country.HasCity(), country.Type())
	}
	seen := map[string]bool{}
	var v4, v6 int
	for _, n := range geo.SampleNetworks {
		t.Run(n.Prefix, func(t *testing.T) {
			p, err := netip.ParsePrefix(n.Prefix)
			if err != nil || p != p.Masked() {
				t.Fatalf("prefix %q: %v (masked %s)", n.Prefix, err, p.Masked())
			}
			if p.Addr().Is4() {
				v4++
			} else {
				v6++
			}
			seen[n.Country] = true
			if n.Region != "" && !strings.HasPrefix(n.Region, n.Country+"-") {
				t.Errorf("region %q does not start with %s-", n.Region, n.Country)
			}
			want := geo.Location{Country: n.Country, Region: n.Region, City: n.City}
			for _, ip := range []netip.Addr{p.Addr(), last(p)} {
				if got := city.Lookup(ip); got != want {
					t.Errorf("city db %s: got %+v, want %+v", ip, got, want)
				}
				if got := country.Lookup(ip); got != (geo.Location{Country: n.Country}) {
					t.Errorf("country db %s: got %+v, want country %s only", ip, got, n.Country)
				}
			}
		})
	}
	if v4 < 10 || v6 < 5 || len(seen) < 15 {
		t.Errorf("table has %d IPv4 and %d IPv6 networks in %d countries; want a realistic spread", v4, v6, len(seen))
	}
}

// last returns the last address of p.
func last(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 1 << (7 - i%8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.mmdb")
	if err := os.WriteFile(garbage, bytes.Repeat([]byte("not a maxmind db\n"), 100), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.mmdb")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.mmdb")
	for _, tc := range []struct {
		name, path string
		is         error
	}{
		{"missing file", missing, fs.ErrNotExist},
		{"not an mmdb", garbage, nil},
		{"empty file", empty, nil},
		{"directory", dir, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, err := geo.Open(tc.path)
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), "geoip database "+tc.path+": ") {
				t.Errorf("error %q does not name the path", err)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %q is not %v", err, tc.is)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	if err := geo.Check(""); !errors.Is(err, geo.ErrNoDatabase) || !strings.Contains(err.Error(), "--geoip") {
		t.Errorf("Check(\"\") = %v, want ErrNoDatabase naming --geoip", err)
	}
	if err := geo.Check("no/such/file.mmdb"); err == nil || !strings.Contains(err.Error(), "no/such/file.mmdb") {
		t.Errorf("Check(missing) = %v, want an error naming the path", err)
	}
	for _, p := range []string{cityDB, countryDB} {
		if err := geo.Check(p); err != nil {
			t.Errorf("Check(%s) = %v", p, err)
		}
	}
}

func TestParseIP(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		ip, err := geo.ParseIP(in)
		got := ip.String()
		if err != nil {
			got = "error"
		}
		if got != want {
			t.Errorf("ParseIP(%q) = %s, want %s", in, got, want)
		}
	}
	f("81.2.69.142", "81.2.69.142")
	f("::ffff:81.2.69.142", "81.2.69.142")
	f("2001:0480:0000::0001", "2001:480::1")
	f("1.2.3.4, 5.6.7.8", "1.2.3.4")
	f(" 1.2.3.4 ,5.6.7.8", "1.2.3.4")
	f("1.2.3.4:80", "1.2.3.4")
	f("[::1]:80", "::1")
	f("[::ffff:1.2.3.4]", "1.2.3.4")
	f("::1.2.3.4", "::102:304")
	f("1.2.3.4:", "error")
	f("1.2.3.4:123456", "error")
	f("[::1]x", "error")
	f("::1:80", "::1:80") // an IPv6 address, not a port
	f("fe80::1%25eth0", "error")
	f(",1.2.3.4", "error")
	f("unknown", "error")
	f("", "error")
}

// TestGenerateReproducible regenerates the test databases and checks that the
// committed ones are what the generator writes today.
func TestGenerateReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the generator")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command in PATH")
	}
	dir := t.TempDir()
	cmd := exec.Command(gobin, "run", "./testdb/gen", "-dir", dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run gen: %v\n%s", err, out)
	}
	for _, name := range []string{"test-city.mmdb", "test-country.mmdb"} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join("testdb", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("jobs/geo/testdb/%s is stale: run go generate ./jobs/geo", name)
		}
	}
}

func FuzzParseIP(f *testing.F) {
	for _, s := range []string{"81.2.69.142", "2001:480::1", "::ffff:1.2.3.4", "1.2.3.4, 5.6.7.8",
		"[::1]:443", "1.2.3.4:80", "fe80::1%eth0", "", "garbage", "[", "]:", ":", "1.2.3.4:"} {
		f.Add(s)
	}
	db := openDB(f, cityDB)
	f.Fuzz(func(t *testing.T, s string) {
		ip, err := geo.ParseIP(s)
		if err != nil {
			if ip.IsValid() {
				t.Fatalf("ParseIP(%q): error %v with a valid address %s", s, err, ip)
			}
			return
		}
		if !ip.IsValid() || ip.Zone() != "" || ip.Is4In6() {
			t.Fatalf("ParseIP(%q) = %s: want a valid, unzoned, unmapped address", s, ip)
		}
		// The address must parse back to itself, alone or with a port.
		if again, err := geo.ParseIP(ip.String()); err != nil || again != ip {
			t.Fatalf("ParseIP(%q) = %s, which parses back as %s, %v", s, ip, again, err)
		}
		loc := db.Lookup(ip)
		if loc.Country == "" || (loc.Country == geo.Unknown && (loc.Region != "" || loc.City != "")) {
			t.Fatalf("Lookup(%s) = %+v", ip, loc)
		}
	})
}

func ExampleDB_Lookup() {
	db, err := geo.Open("testdb/test-city.mmdb")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	for _, s := range []string{"81.2.69.142", "2001:480::1", "::ffff:89.160.20.1", "192.168.1.1", "9.9.9.9", "bogus"} {
		ip, _ := geo.ParseIP(s) // an invalid address is Unknown
		loc := db.Lookup(ip)
		fmt.Printf("%-18s %s %q %q\n", s, loc.Country, loc.Region, loc.City)
	}
	// Output:
	// 81.2.69.142        GB "GB-ENG" "London"
	// 2001:480::1        US "US-CA" "San Diego"
	// ::ffff:89.160.20.1 SE "SE-E" "Linköping"
	// 192.168.1.1        ?? "" ""
	// 9.9.9.9            ?? "" ""
	// bogus              ?? "" ""
}
