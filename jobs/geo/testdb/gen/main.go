// Command gen writes the geo job's test databases: test-city.mmdb (GeoLite2-City
// schema) and test-country.mmdb (GeoLite2-Country schema), small synthetic
// MaxMind DB files of the networks in geo.SampleNetworks, IPv4 and IPv6 in one
// IPv6 tree with IPv4 aliased (::ffff:0:0/96 and friends). The output is
// reproducible: the same table gives the same bytes.
//
// Run it with `go generate ./jobs/geo`, or:
//
//	go run ./jobs/geo/testdb/gen -dir jobs/geo/testdb
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
	"github.com/pvjobs/pvjobs/jobs/geo"
)

// buildEpoch is the databases' fixed build time (2024-08-01T00:00:00Z), so
// that the output does not change from one run to the next.
const buildEpoch = 1722470400

// countries gives each country of the table its English name and continent.
var countries = map[string]struct{ name, continent string }{
	"AU": {"Australia", "OC"}, "BR": {"Brazil", "SA"}, "BT": {"Bhutan", "AS"},
	"CA": {"Canada", "NA"}, "CN": {"China", "AS"}, "DE": {"Germany", "EU"},
	"ES": {"Spain", "EU"}, "FR": {"France", "EU"}, "GB": {"United Kingdom", "EU"},
	"IN": {"India", "AS"}, "IT": {"Italy", "EU"}, "JP": {"Japan", "AS"},
	"KR": {"South Korea", "AS"}, "MX": {"Mexico", "NA"}, "NG": {"Nigeria", "AF"},
	"NL": {"Netherlands", "EU"}, "NO": {"Norway", "EU"}, "PH": {"Philippines", "AS"},
	"RU": {"Russia", "EU"}, "SE": {"Sweden", "EU"}, "US": {"United States", "NA"},
	"VN": {"Vietnam", "AS"},
}

var continents = map[string]string{
	"AF": "Africa", "AS": "Asia", "EU": "Europe", "NA": "North America",
	"OC": "Oceania", "SA": "South America",
}

// eu lists the table's countries in the European Union.
var eu = map[string]bool{"DE": true, "ES": true, "FR": true, "IT": true, "NL": true, "SE": true}

// regions gives each region of the table its English name.
var regions = map[string]string{
	"AU-VIC": "Victoria", "BR-SP": "São Paulo", "CA-QC": "Quebec", "CN-JL": "Jilin",
	"DE-BW": "Baden-Württemberg", "DE-HE": "Hesse", "ES-PV": "Basque Country",
	"FR-IDF": "Île-de-France", "GB-ENG": "England", "IN-MH": "Maharashtra",
	"IT-25": "Lombardy", "JP-13": "Tokyo", "KR-11": "Seoul", "MX-AGU": "Aguascalientes",
	"NG-LA": "Lagos", "NL-NH": "North Holland", "RU-MOW": "Moscow",
	"SE-E": "Östergötland County", "US-CA": "California", "US-MI": "Michigan",
	"US-NJ": "New Jersey", "US-WA": "Washington", "VN-HN": "Hanoi",
}

func main() {
	dir := flag.String("dir", ".", "directory to write test-city.mmdb and test-country.mmdb into")
	flag.Parse()
	for _, city := range []bool{true, false} {
		name := "test-country.mmdb"
		if city {
			name = "test-city.mmdb"
		}
		if err := write(filepath.Join(*dir, name), city); err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
	}
}

// write builds one database and writes it to path (through a temporary file,
// so a failed run leaves the old one).
func write(path string, city bool) error {
	typ, desc := "GeoLite2-Country", "pvjobs test database: synthetic GeoLite2-Country records of geo.SampleNetworks"
	if city {
		typ, desc = "GeoLite2-City", "pvjobs test database: synthetic GeoLite2-City records of geo.SampleNetworks"
	}
	tree, err := mmdbwriter.New(mmdbwriter.Options{
		BuildEpoch:   buildEpoch,
		DatabaseType: typ,
		Description:  map[string]string{"en": desc},
		Languages:    []string{"en"},
		IPVersion:    6,
		RecordSize:   24,
	})
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	for _, n := range geo.SampleNetworks {
		rec, err := record(n, city)
		if err != nil {
			return err
		}
		_, network, err := net.ParseCIDR(n.Prefix)
		if err != nil {
			return fmt.Errorf("network %s: %w", n.Prefix, err)
		}
		if err := tree.Insert(network, rec); err != nil {
			return fmt.Errorf("inserting %s: %w", n.Prefix, err)
		}
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := tree.WriteTo(f); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

func names(en string) mmdbtype.Map { return mmdbtype.Map{"en": mmdbtype.String(en)} }

// record is the GeoIP2 record of one network: continent, country and
// registered country, and for a City database the subdivision and city.
func record(n geo.SampleNetwork, city bool) (mmdbtype.Map, error) {
	c, ok := countries[n.Country]
	if !ok {
		return nil, fmt.Errorf("network %s: no name for country %q: add it to gen's table", n.Prefix, n.Country)
	}
	country := mmdbtype.Map{"iso_code": mmdbtype.String(n.Country), "names": names(c.name)}
	if eu[n.Country] {
		country["is_in_european_union"] = mmdbtype.Bool(true)
	}
	rec := mmdbtype.Map{
		"continent":          mmdbtype.Map{"code": mmdbtype.String(c.continent), "names": names(continents[c.continent])},
		"country":            country,
		"registered_country": country,
	}
	if !city {
		return rec, nil
	}
	if n.Region != "" {
		code, ok := strings.CutPrefix(n.Region, n.Country+"-")
		name := regions[n.Region]
		if !ok || name == "" {
			return nil, fmt.Errorf("network %s: region %q: want %s-<code> with a name in gen's table", n.Prefix, n.Region, n.Country)
		}
		rec["subdivisions"] = mmdbtype.Slice{mmdbtype.Map{"iso_code": mmdbtype.String(code), "names": names(name)}}
	}
	if n.City != "" {
		rec["city"] = mmdbtype.Map{"names": names(n.City)}
	}
	return rec, nil
}
