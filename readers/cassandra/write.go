package cassandra

import (
	"bytes"
	"context"
	"fmt"
	"sync/atomic"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/pvjobs/pvjobs/mapreduce"
	"golang.org/x/sync/errgroup"
)

// WriteShard writes rows into the partition of key and returns how many it
// wrote. read is called once, from the calling goroutine; it must call fn for
// each row and return the first error fn returns (the shape of
// [mapreduce.Source.Read]). Rows are copied, so fn's Row may be reused.
//
// Rows go out as unlogged batches of Config.BatchRows rows of the one
// partition — a single mutation, which Cassandra applies atomically and does
// not count against its batch size thresholds (they apply to batches spanning
// partitions) — with at most Config.Concurrency batches in flight across all
// WriteShard calls of the Table. A batch that fails transiently is retried
// like a read. Writing a row again writes the same cell (same key and
// timeuuid), so loading the same rows twice leaves the table as loading once.
func (t *Table) WriteShard(ctx context.Context, key mapreduce.ShardKey, read func(fn func(*mapreduce.Row) error) error) (int64, error) {
	type cell struct {
		ts    gocql.UUID
		value []byte
	}
	k := key.String()
	g, gctx := errgroup.WithContext(ctx)
	var written atomic.Int64
	var batch []cell
	flush := func() error {
		cells := batch
		batch = nil
		select {
		case t.writeSem <- struct{}{}:
		case <-gctx.Done():
			return gctx.Err()
		}
		g.Go(func() error {
			defer func() { <-t.writeSem }()
			op := fmt.Sprintf("writing %d rows to %s", len(cells), k)
			err := t.cfg.retry(gctx, op, noProgress, func() error {
				b := t.session.Batch(gocql.UnloggedBatch).Consistency(t.cons)
				for _, c := range cells {
					b.Query(t.qInsert, k, c.ts, c.value)
				}
				return b.ExecContext(gctx)
			})
			if err != nil {
				return fmt.Errorf("%s: %w", op, err)
			}
			written.Add(int64(len(cells)))
			return nil
		})
		return nil
	}
	rerr := read(func(r *mapreduce.Row) error {
		batch = append(batch, cell{gocql.UUID(r.TS), bytes.Clone(r.Value)})
		if len(batch) >= t.cfg.BatchRows {
			return flush()
		}
		return nil
	})
	if rerr == nil && len(batch) > 0 {
		rerr = flush()
	}
	if err := g.Wait(); err != nil {
		return written.Load(), err
	}
	return written.Load(), rerr
}
