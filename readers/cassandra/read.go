package cassandra

import (
	"context"
	"fmt"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/pvjobs/pvjobs/mapreduce"
)

// Split implements mapreduce.Source: one work item per time slice, read in
// parallel.
func (t *Table) Split() mapreduce.Split { return mapreduce.SplitSlices }

// Read implements mapreduce.Source: it streams the rows of item.Shard whose
// timeuuid is in [minTimeuuid(item.Start), minTimeuuid(item.End)), page by
// page, in timeuuid order. A missing partition has no rows (nil, no error).
// Transient failures are retried, resuming after the last row delivered.
func (t *Table) Read(ctx context.Context, item mapreduce.WorkItem, fn func(*mapreduce.Row) error) error {
	lo := gocql.UUID(mapreduce.MinTimeUUID(item.Start))
	hi := gocql.UUID(mapreduce.MinTimeUUID(item.End))
	r := newRowReader(fn)
	key := item.Shard.String()
	return t.cfg.retry(ctx, item.String(), r.count, func() error {
		var q *gocql.Query
		if r.started {
			q = t.session.Query(t.qSliceAfter, key, gocql.UUID(r.row.TS), hi)
		} else {
			q = t.session.Query(t.qSlice, key, lo, hi)
		}
		return r.scan(ctx, q)
	})
}

// ReadPartition calls fn for every row of the partition key, whatever its
// time, in timeuuid order (pvjobs export). It retries like Read.
func (t *Table) ReadPartition(ctx context.Context, key mapreduce.ShardKey, fn func(*mapreduce.Row) error) error {
	r := newRowReader(fn)
	k := key.String()
	return t.cfg.retry(ctx, k, r.count, func() error {
		var q *gocql.Query
		if r.started {
			q = t.session.Query(t.qPartAfter, k, gocql.UUID(r.row.TS))
		} else {
			q = t.session.Query(t.qPart, k)
		}
		return r.scan(ctx, q)
	})
}

// rowReader scans result rows into reused buffers and hands them to fn; it
// remembers the last row delivered so a retry can resume after it.
type rowReader struct {
	fn      func(*mapreduce.Row) error
	row     mapreduce.Row
	ts      uuidBuf
	value   bytesBuf
	dest    []any
	started bool
}

func newRowReader(fn func(*mapreduce.Row) error) *rowReader {
	r := &rowReader{fn: fn}
	r.row.Offset = -1
	r.dest = []any{&r.ts, &r.value}
	return r
}

func (r *rowReader) count() int64 { return r.row.Index }

// scan runs q to the end. It returns fn's error as *fnError.
func (r *rowReader) scan(ctx context.Context, q *gocql.Query) error {
	iter := q.IterContext(ctx)
	for iter.Scan(r.dest...) {
		r.row.TS = r.ts.u
		r.row.Value = r.value.b
		if err := r.fn(&r.row); err != nil {
			iter.Close()
			return &fnError{err}
		}
		// Only now is the row delivered: a retry resumes after it.
		r.started = true
		r.row.Index++
	}
	return iter.Close()
}

// uuidBuf unmarshals a timeuuid into a fixed array without allocating.
type uuidBuf struct{ u [16]byte }

// UnmarshalCQL implements gocql.Unmarshaler.
func (b *uuidBuf) UnmarshalCQL(_ gocql.TypeInfo, data []byte) error {
	if len(data) != 16 {
		return &permanentError{fmt.Errorf("timeuuid column value is %d bytes, want 16", len(data))}
	}
	copy(b.u[:], data)
	return nil
}

// bytesBuf unmarshals a blob into a reused buffer: data belongs to the
// driver's frame, so it is copied, into the same backing array row after row.
type bytesBuf struct{ b []byte }

// UnmarshalCQL implements gocql.Unmarshaler.
func (b *bytesBuf) UnmarshalCQL(_ gocql.TypeInfo, data []byte) error {
	b.b = append(b.b[:0], data...)
	return nil
}
