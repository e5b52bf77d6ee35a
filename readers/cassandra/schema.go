package cassandra

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Replication says how a new keyspace is replicated: NetworkTopologyStrategy
// with a factor per data centre when DCs is set, else SimpleStrategy with
// Factor.
type Replication struct {
	Factor int
	DCs    map[string]int
}

// ParseReplication parses "3" (SimpleStrategy, factor 3) or "dc1:3,dc2:2"
// (NetworkTopologyStrategy).
func ParseReplication(s string) (Replication, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.Atoi(s); err == nil {
		if n < 1 || n > 100 {
			return Replication{}, fmt.Errorf("replication factor %d: want 1 to 100", n)
		}
		return Replication{Factor: n}, nil
	}
	r := Replication{DCs: map[string]int{}}
	for _, part := range strings.Split(s, ",") {
		dc, f, ok := strings.Cut(strings.TrimSpace(part), ":")
		n, err := strconv.Atoi(f)
		if !ok || err != nil || n < 0 || n > 100 || dc == "" || strings.ContainsAny(dc, `'"`) {
			return Replication{}, fmt.Errorf("replication %q: want a factor such as 3, or data centres such as dc1:3,dc2:3", s)
		}
		r.DCs[dc] = n
	}
	return r, nil
}

// String formats r as a CQL replication map.
func (r Replication) String() string {
	if len(r.DCs) == 0 {
		return fmt.Sprintf("{'class': 'SimpleStrategy', 'replication_factor': %d}", max(r.Factor, 1))
	}
	var b strings.Builder
	b.WriteString("{'class': 'NetworkTopologyStrategy'")
	for _, dc := range slices.Sorted(maps.Keys(r.DCs)) {
		fmt.Fprintf(&b, ", '%s': %d", dc, r.DCs[dc])
	}
	b.WriteString("}")
	return b.String()
}

// SchemaCQL returns the statements that create cfg's keyspace (replicated as
// r) and table, when they do not exist yet.
func SchemaCQL(cfg *Config, r Replication) []string {
	c := cfg.defaults()
	l := c.Layout
	return []string{
		fmt.Sprintf("CREATE KEYSPACE IF NOT EXISTS %s WITH replication = %s", quote(c.Keyspace), r),
		fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s.%s (%s text, %s timeuuid, %s blob, PRIMARY KEY (%s, %s)) WITH CLUSTERING ORDER BY (%s ASC)",
			quote(c.Keyspace), quote(l.Table), quote(l.Key), quote(l.TS), quote(l.Value), quote(l.Key), quote(l.TS), quote(l.TS)),
	}
}

// CreateSchema runs SchemaCQL on the cluster and waits until every node
// agrees on the schema.
func CreateSchema(ctx context.Context, cfg *Config, r Replication) error {
	if err := cfg.Check(); err != nil {
		return err
	}
	c := cfg.defaults()
	// DDL is slow (seconds on a small node): give it more than a read.
	c.Timeout = max(c.Timeout, time.Minute)
	session, _, err := connect(ctx, &c)
	if err != nil {
		return err
	}
	defer session.Close()
	for _, stmt := range SchemaCQL(&c, r) {
		if err := session.Query(stmt).ExecContext(ctx); err != nil {
			return fmt.Errorf("%s: %w", stmt, err)
		}
	}
	if err := session.AwaitSchemaAgreement(ctx); err != nil {
		return fmt.Errorf("waiting for schema agreement: %w", err)
	}
	return nil
}
