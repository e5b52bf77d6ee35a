package geo_test

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
	"github.com/pvjobs/pvjobs/jobs/geo"
)

// writeDB writes a database of type typ with the records given by network
// and returns its path.
func writeDB(t *testing.T, typ string, records map[string]mmdbtype.Map) string {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: typ, RecordSize: 24, BuildEpoch: 1})
	if err != nil {
		t.Fatal(err)
	}
	for network, rec := range records {
		_, n, err := net.ParseCIDR(network)
		if err != nil {
			t.Fatal(err)
		}
		if err := tree.Insert(n, rec); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "test.mmdb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func en(s string) mmdbtype.Map { return mmdbtype.Map{"en": mmdbtype.String(s)} }

// TestOddRecords reads records real databases have and the generated test
// database does not.
func TestOddRecords(t *testing.T) {
	us := mmdbtype.Map{"iso_code": mmdbtype.String("US"), "names": en("United States")}
	path := writeDB(t, "GeoIP2-City", map[string]mmdbtype.Map{
		// A name with a tab and a line break must not split the report key.
		"11.0.0.0/24": {"country": us, "city": mmdbtype.Map{"names": en("New\tYork\n")},
			"subdivisions": mmdbtype.Slice{mmdbtype.Map{"iso_code": mmdbtype.String("NY")}}},
		// Anycast and satellite networks: a registered country only.
		"11.0.1.0/24": {"registered_country": us},
		// A continent only, as for some networks of GeoLite2.
		"11.0.2.0/24": {"continent": mmdbtype.Map{"code": mmdbtype.String("EU")}},
		// A subdivision without a code, a city without an English name.
		"11.0.3.0/24": {"country": us, "subdivisions": mmdbtype.Slice{mmdbtype.Map{"names": en("Somewhere")}},
			"city": mmdbtype.Map{"names": mmdbtype.Map{"de": mmdbtype.String("München")}}},
		// Two subdivisions: the first, the largest, is the region.
		"11.0.4.0/24": {"country": mmdbtype.Map{"iso_code": mmdbtype.String("GB")}, "city": mmdbtype.Map{"names": en("Oxford")},
			"subdivisions": mmdbtype.Slice{mmdbtype.Map{"iso_code": mmdbtype.String("ENG")}, mmdbtype.Map{"iso_code": mmdbtype.String("OXF")}}},
		// A field of the wrong type is a record the job cannot read.
		"11.0.5.0/24": {"country": mmdbtype.String("US")},
	})
	db := openDB(t, path)
	for _, tc := range []struct {
		ip   string
		want geo.Location
	}{
		{"11.0.0.1", geo.Location{Country: "US", Region: "US-NY", City: "New York"}},
		{"11.0.1.1", geo.Location{Country: geo.Unknown}},
		{"11.0.2.1", geo.Location{Country: geo.Unknown}},
		{"11.0.3.1", geo.Location{Country: "US"}},
		{"11.0.4.1", geo.Location{Country: "GB", Region: "GB-ENG", City: "Oxford"}},
		{"11.0.5.1", geo.Location{Country: geo.Unknown}},
		{"11.0.6.1", geo.Location{Country: geo.Unknown}},
	} {
		if got := db.Lookup(netip.MustParseAddr(tc.ip)); got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.ip, got, tc.want)
		}
	}
}

func TestOpenWrongType(t *testing.T) {
	path := writeDB(t, "GeoLite2-ASN", map[string]mmdbtype.Map{
		"11.0.0.0/24": {"autonomous_system_number": mmdbtype.Uint32(64500)},
	})
	_, err := geo.Open(path)
	var te *geo.TypeError
	if !errors.As(err, &te) || te.DatabaseType != "GeoLite2-ASN" {
		t.Fatalf("Open(ASN database) = %v, want a TypeError", err)
	}
	t.Log(err)
}
