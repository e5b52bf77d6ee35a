//go:build !unix

package cassandra_test

import "time"

// processCPU is not measured here: the cpu-ns/row metrics read 0.
func processCPU() time.Duration { return 0 }
