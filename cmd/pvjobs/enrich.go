package main

import (
	"net/netip"

	"github.com/pvjobs/pvjobs/jobs/devices"
	"github.com/pvjobs/pvjobs/jobs/geo"
	"github.com/pvjobs/pvjobs/mapreduce"
)

// newEnricher returns the per-worker enricher that classifies user agents, so
// bots can be kept out of reports.
func newEnricher(p *runParams) func() func(*mapreduce.PageView) {
	return devices.NewEnricher(0)
}

// sampleNetworks returns the IP networks synthetic visitors come from: the
// networks of the test GeoIP database, so geo reports on generated data are
// realistic. nil means the generator's defaults.
func sampleNetworks() []netip.Prefix { return geo.SamplePrefixes() }
