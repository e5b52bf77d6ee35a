package cassandra_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/readers/cassandra"
	"github.com/pvjobs/pvjobs/readers/cassandra/cassandratest"
)

// customLayout is a second table with other names, as an existing cluster's
// table might have.
var customLayout = cassandra.Layout{Table: "pv_custom", Key: "rowkey", TS: "ts", Value: "body"}

// Each test makes its own keyspace (cassandratest.KeyspaceFor), dropped when
// it ends. The benchmarks share one, loaded once per process and dropped by
// TestMain.
var bench struct {
	sync.Mutex
	ks *cassandratest.Keyspace
}

func TestMain(m *testing.M) {
	code := m.Run()
	if ks := bench.ks; ks != nil {
		if err := ks.Drop(); err != nil {
			fmt.Fprintf(os.Stderr, "dropping keyspace %s: %v\n", ks.Name, err)
		}
	}
	os.Exit(code)
}

// benchKeyspace returns the benchmarks' keyspace, creating it on first use.
func benchKeyspace(b *testing.B) *cassandratest.Keyspace {
	b.Helper()
	addr := cassandratest.Require(b)
	bench.Lock()
	defer bench.Unlock()
	if bench.ks == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		ks, err := cassandratest.NewKeyspace(ctx, addr)
		if err != nil {
			b.Fatalf("creating the benchmark keyspace: %v", err)
		}
		bench.ks = ks
	}
	return bench.ks
}

// open opens the table of cfg and closes it when tb ends.
func open(tb testing.TB, cfg *cassandra.Config) *cassandra.Table {
	tb.Helper()
	tbl, err := cassandra.Open(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(tbl.Close)
	return tbl
}
