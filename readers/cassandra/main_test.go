package cassandra_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/readers/cassandra"
	"github.com/pvjobs/pvjobs/readers/cassandra/cassandratest"
)

// customLayout is a second table with other names, as an existing cluster's
// table might have.
var customLayout = cassandra.Layout{Table: "pv_custom", Key: "rowkey", TS: "ts", Value: "body"}

var (
	testKS    *cassandratest.Keyspace
	testKSErr error
)

// TestMain creates one keyspace with both tables for the whole package
// (Cassandra is slow at DDL) and drops it at the end.
func TestMain(m *testing.M) {
	if addr, _ := cassandratest.Addr(); addr != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		testKS, testKSErr = cassandratest.NewKeyspace(ctx, addr, cassandra.DefaultLayout, customLayout)
		cancel()
	}
	code := m.Run()
	if testKS != nil {
		if err := testKS.Drop(); err != nil {
			fmt.Fprintf(os.Stderr, "dropping keyspace %s: %v\n", testKS.Name, err)
		}
	}
	os.Exit(code)
}

// keyspace returns the package's test keyspace, or skips (fails in CI).
func keyspace(tb testing.TB) *cassandratest.Keyspace {
	tb.Helper()
	cassandratest.Require(tb)
	if testKSErr != nil {
		tb.Fatalf("creating the test keyspace: %v", testKSErr)
	}
	return testKS
}

// open opens the test table with cfg (nil: the default layout).
func open(tb testing.TB, cfg *cassandra.Config) *cassandra.Table {
	tb.Helper()
	if cfg == nil {
		cfg = keyspace(tb).Config()
	}
	tbl, err := cassandra.Open(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(tbl.Close)
	return tbl
}
