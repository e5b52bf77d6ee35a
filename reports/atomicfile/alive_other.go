//go:build !unix

package atomicfile

// processAlive cannot tell here: every process counts as running, and only
// StaleAge makes a temporary file stale.
func processAlive(int) bool { return true }
