package cassandra

import (
	"context"
	"fmt"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/pvjobs/pvjobs/mapreduce"
)

// WriteBatch writes rows into the partition of key as one unlogged batch of
// that partition — a single mutation, applied atomically — and returns when
// Cassandra took it or the write failed for good. It is the collector's
// write (readers/collector.Store): the caller batches, bounds the batches in
// flight and decides what a failure means, so WriteBatch does not take a
// slot of Config.Concurrency. A transient failure is retried as a read is
// (Config.Retry), within ctx. Rows and their values are only read during the
// call. Writing a row again writes the same cell: a retry or a replay never
// stores a page view twice.
func (t *Table) WriteBatch(ctx context.Context, key mapreduce.ShardKey, rows []mapreduce.Row) error {
	if len(rows) == 0 {
		return nil
	}
	k := key.String()
	op := fmt.Sprintf("writing %d rows to %s", len(rows), k)
	err := t.cfg.retry(ctx, op, noProgress, func() error {
		b := t.session.Batch(gocql.UnloggedBatch).Consistency(t.cons)
		for i := range rows {
			b.Query(t.qInsert, k, gocql.UUID(rows[i].TS), rows[i].Value)
		}
		return b.ExecContext(ctx)
	})
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}
