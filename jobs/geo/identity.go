package geo

import (
	"fmt"
	"time"
)

// Identity names the database at path by its metadata — its type, build
// time, IP version and node count, as "GeoLite2-City built
// 2024-08-06T00:00:00Z (IPv6, 1234567 nodes)" — not by its path: what the
// fingerprint of a run cut into shards records, so that shards that looked
// IPs up in different databases are not merged, wherever each found its
// copy.
func Identity(path string) (string, error) {
	db, err := Open(path)
	if err != nil {
		return "", err
	}
	defer db.Close()
	m := db.mm.Metadata
	return fmt.Sprintf("%s built %s (IPv%d, %d nodes)", m.DatabaseType,
		time.Unix(int64(m.BuildEpoch), 0).UTC().Format(time.RFC3339), m.IPVersion, m.NodeCount), nil
}
