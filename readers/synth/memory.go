package synth

import (
	"context"
	"fmt"

	"github.com/pvjobs/pvjobs/mapreduce"
)

// MemSource is an in-memory mapreduce.Source over generated rows: benchmarks
// use it to measure the engine and jobs without file or network I/O.
type MemSource struct {
	shards map[string][]Row
	split  mapreduce.Split
	rows   int64
}

// Memory generates every shard into memory. A shard's values lie one after
// another in one buffer, in row order, as the file and Cassandra sources
// deliver them (a read buffer, a result page), so a benchmark over a
// MemSource pays the memory access pattern of a real source, not one cache
// miss per separately allocated value.
func (g *Generator) Memory(split mapreduce.Split) *MemSource {
	m := &MemSource{shards: map[string][]Row{}, split: split}
	for _, k := range g.Shards() {
		var rows []Row
		var ends []int
		var arena []byte
		_ = g.stream(k, false, func(ts [16]byte, value, _ []byte) error {
			rows = append(rows, Row{TS: ts})
			arena = append(arena, value...)
			ends = append(ends, len(arena))
			return nil
		})
		// Point the values into the arena once it no longer moves.
		off := 0
		for i, end := range ends {
			rows[i].Value = arena[off:end:end]
			off = end
		}
		m.shards[k.String()] = rows
		m.rows += int64(len(rows))
	}
	return m
}

// Rows returns the number of rows held.
func (m *MemSource) Rows() int64 { return m.rows }

// Split implements mapreduce.Source.
func (m *MemSource) Split() mapreduce.Split { return m.split }

// Read implements mapreduce.Source.
func (m *MemSource) Read(ctx context.Context, item mapreduce.WorkItem, fn func(*mapreduce.Row) error) error {
	rows, ok := m.shards[item.Shard.String()]
	if !ok {
		return fmt.Errorf("%w: %s", mapreduce.ErrNoShard, item.Shard)
	}
	lo, hi := item.Start.UnixNano(), item.End.UnixNano()
	var row mapreduce.Row
	row.Offset = -1
	for i := range rows {
		if i&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		row.TS = rows[i].TS
		t := row.Time()
		if t < lo || t >= hi {
			continue
		}
		row.Value = rows[i].Value
		row.Index = int64(i)
		if err := fn(&row); err != nil {
			return err
		}
	}
	return nil
}
