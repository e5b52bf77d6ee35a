package main

import (
	"net/netip"

	"github.com/pvjobs/pvjobs/jobs/geo"
)

// sampleNetworks returns the IP networks synthetic visitors come from: the
// networks of the test GeoIP database, so geo reports on generated data are
// realistic. nil means the generator's defaults.
func sampleNetworks() []netip.Prefix { return geo.SamplePrefixes() }
