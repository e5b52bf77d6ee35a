package main

import (
	"os"
	"runtime/debug"
)

// reportsGCPercent is the garbage collector's GOGC for the commands that
// build reports (run, merge, schedule) when the environment sets no GOGC.
//
// Their heap is mostly the reports being built, which live until the end,
// while the reading makes a few hundred bytes of short-lived garbage per
// row; with Go's default of 100 the heap may grow to twice what is live
// before a collection, so the peak memory is about twice the reports. At 50
// it is one and a half times: on the 9.3 million page views of make bench's
// day, peak RSS went from 564 to 466 MB for 1.3% more CPU (side by side on
// one core each). GOGC and GOMEMLIMIT in the environment take precedence.
const reportsGCPercent = 50

// reportsGC sets reportsGCPercent unless GOGC is set.
func reportsGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(reportsGCPercent)
	}
}
