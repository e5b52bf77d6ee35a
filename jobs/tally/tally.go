// Package tally counts keys per account and local day: the partial result that
// every counting job (urls, sources, devices, geo, ...) folds rows into.
//
// Counting is cheap on the per-row path (one map lookup that does not allocate
// for a key seen before); the work of turning raw keys into report keys is done
// once per distinct raw key, at report time, by a Canon function. So a job can
// count raw URLs and normalise each distinct URL once, not once per row.
package tally

import (
	"strings"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
)

// Tally counts keys per (account, day) cell. It is owned by one worker.
type Tally struct {
	accounts, days int
	cells          []cell
}

type cell struct {
	index  map[string]int32
	counts []int64
}

// New returns an empty Tally for plan.
func New(plan *mapreduce.Plan) *Tally {
	a, d := len(plan.Accounts), len(plan.Calendar.Days)
	return &Tally{accounts: a, days: d, cells: make([]cell, a*d)}
}

// Add counts key once for pv's account and day. key is copied when new.
func (t *Tally) Add(pv *mapreduce.PageView, key []byte) {
	t.AddN(pv.Shard%t.accounts, int(pv.Bucket.Day), key, 1)
}

// AddN adds n to key in the cell of account index a and day index d.
func (t *Tally) AddN(a, d int, key []byte, n int64) {
	c := &t.cells[a*t.days+d]
	if i, ok := c.index[string(key)]; ok {
		c.counts[i] += n
		return
	}
	c.insert(string(key), n)
}

// insert adds key, not yet in c, with count n.
func (c *cell) insert(key string, n int64) {
	if c.index == nil {
		c.index = make(map[string]int32)
	}
	c.index[key] = int32(len(c.counts))
	c.counts = append(c.counts, n)
}

// Merge adds o's counts into t. Both must come from the same plan. Keys new
// to t share o's strings: nothing is copied.
func (t *Tally) Merge(o *Tally) {
	for ci := range o.cells {
		oc, c := &o.cells[ci], &t.cells[ci]
		for k, i := range oc.index {
			if j, ok := c.index[k]; ok {
				c.counts[j] += oc.counts[i]
			} else {
				c.insert(k, oc.counts[i])
			}
		}
	}
}

// Canon maps a raw counted key to the report's key columns (joined by tabs for
// several columns); keys that map to the same string are summed. Returning ""
// drops the key.
type Canon func(raw string) string

// ReportSpec names a report built from a Tally.
type ReportSpec struct {
	Name    string
	Keys    []string
	Measure string
	// Canon maps raw keys to report keys; nil keeps them.
	Canon Canon
	// Days adds one row set per day; Range adds one over the whole range.
	Days, Range bool
}

// Report builds the report: per account per day and/or over the whole range.
func (t *Tally) Report(plan *mapreduce.Plan, spec ReportSpec) mapreduce.Report {
	rep := mapreduce.Report{Name: spec.Name, Keys: spec.Keys, Measure: spec.Measure}
	canon := map[string]string{}
	key := func(raw string) string {
		if spec.Canon == nil {
			return raw
		}
		k, ok := canon[raw]
		if !ok {
			k = spec.Canon(raw)
			canon[raw] = k
		}
		return k
	}
	for a, account := range plan.Accounts {
		total := map[string]int64{}
		for d := 0; d < t.days; d++ {
			c := &t.cells[a*t.days+d]
			day := map[string]int64{}
			for raw, i := range c.index {
				if k := key(raw); k != "" {
					day[k] += c.counts[i]
					total[k] += c.counts[i]
				}
			}
			if spec.Days {
				rep.Rows = appendRows(rep.Rows, account, mapreduce.PeriodDay, plan.Calendar.Days[d].Start, day)
			}
		}
		if spec.Range {
			rep.Rows = appendRows(rep.Rows, account, mapreduce.PeriodRange, plan.Start.In(plan.Loc), total)
		}
	}
	return rep
}

func appendRows(rows []mapreduce.ReportRow, account string, p mapreduce.Period, start time.Time, counts map[string]int64) []mapreduce.ReportRow {
	for k, n := range counts {
		rows = append(rows, mapreduce.ReportRow{Account: account, Period: p, Start: start, Keys: Keys(k), Value: n})
	}
	return rows
}

// Keys splits a tab-joined report key into its columns.
func Keys(k string) []string { return strings.Split(k, "\t") }
