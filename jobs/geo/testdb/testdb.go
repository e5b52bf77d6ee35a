// Package geoip embeds the generated test City database (test-city.mmdb, made
// by `go generate ./jobs/geo`), so the embedded default run of pvjobs has a
// geo report wherever it runs.
package testdb

import _ "embed"

// TestCity is the content of test-city.mmdb.
//
//go:embed test-city.mmdb
var TestCity []byte
