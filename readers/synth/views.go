package synth

import (
	"fmt"
	"slices"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/vmihailenco/msgpack/v5"
)

// View is one hand-made page view, for tests that need exact data: its
// account, time and stored fields (url, title, ip, referrer, user_agent,
// language, visitor_id).
type View struct {
	Account string
	Time    time.Time
	Fields  map[string]string
}

// MemoryOf returns an in-memory source of the views, stored as the
// collector stores them: per UTC day shard, in time order, each under a
// distinct version-1 timeuuid of its time.
func MemoryOf(split mapreduce.Split, views []View) (*MemSource, error) {
	vs := slices.Clone(views)
	slices.SortStableFunc(vs, func(a, b View) int { return a.Time.Compare(b.Time) })
	m := &MemSource{shards: map[string][]Row{}, split: split}
	for i, v := range vs {
		if err := mapreduce.ValidateAccount(v.Account); err != nil {
			return nil, fmt.Errorf("view %d: %w", i, err)
		}
		b, err := msgpack.Marshal(v.Fields)
		if err != nil {
			return nil, fmt.Errorf("view %d: %w", i, err)
		}
		key := mapreduce.ShardKey{Day: v.Time.UTC().Truncate(24 * time.Hour), Account: v.Account}.String()
		m.shards[key] = append(m.shards[key], Row{TS: mapreduce.TimeUUID(v.Time, uint16(i), uint64(i)+1), Value: b})
		m.rows++
	}
	return m, nil
}
