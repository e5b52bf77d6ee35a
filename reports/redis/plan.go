package redis

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/pvjobs/pvjobs/mapreduce"
)

// OpKind says what a run does to one key.
type OpKind uint8

// The kinds of KeyOp.
const (
	// Replace writes the key's new value under a temporary name, then
	// renames it over the key: a whole period of the run.
	Replace OpKind = iota + 1
	// Merge writes the sketch under a temporary name, then PFMERGEs it into
	// the key (Options.UVMerge).
	Merge
	// Union sets the key to the union of the HyperLogLog it holds and the
	// sketch, computed under WATCH at the swap: a period the run covers in
	// part.
	Union
	// Delete deletes the key: a whole period of the run without rows.
	Delete
)

// String returns "replace", "merge", "union" or "delete".
func (k OpKind) String() string {
	switch k {
	case Replace:
		return "replace"
	case Merge:
		return "merge"
	case Union:
		return "union"
	case Delete:
		return "delete"
	}
	return fmt.Sprintf("OpKind(%d)", uint8(k))
}

// KeyOp is what a run does to one key.
type KeyOp struct {
	Kind OpKind
	// Key is the key, Keys.Key(account, Name, Part).
	Key string
	// Name and Part are the key's report and time parts.
	Name, Part string
	// HLL is true for a unique-visitor key: Value is then a HyperLogLog as
	// Redis encodes it. Otherwise the key is a sorted set of Members (none
	// for a Delete), in ZREVRANGE order when Options.Top trimmed them.
	HLL     bool
	Value   []byte
	Members []goredis.Z
	// TTL is the expiry the key gets (Options.TTL). Zero means none: a
	// replaced key is persistent, a merged or unioned key keeps the expiry
	// it had.
	TTL time.Duration
}

// AccountPlan is the work of one account. Its keys share a Redis Cluster
// slot; one transaction swaps them in.
type AccountPlan struct {
	Account string
	// Ops are sorted by key.
	Ops []*KeyOp
}

// KeyPlan is what a run writes, account by account in account order.
type KeyPlan struct {
	Accounts []*AccountPlan
	// Members counts the sorted-set members to write, Trimmed those that
	// Options.Top left out, SkippedPartial the rows of counting reports not
	// written because the run covers only part of their period.
	Members, Trimmed, SkippedPartial int
}

// PlanKeys decides what happens to each key when reps, the reports of a run
// over plan, are written with opt (see the package documentation, "Writes").
// It talks to no server: the result depends on its arguments only. The rows
// of a report must come grouped by account and period, as the jobs make
// them; a key with two unique-visitor rows is an error, and so is a
// uniques row without a sketch (ErrNoSketch).
func PlanKeys(reps []mapreduce.Report, plan *mapreduce.Plan, opt Options) (*KeyPlan, error) {
	pl := planner{opt: opt, keys: Keys{Prefix: opt.Prefix}, plan: plan, out: &KeyPlan{},
		byAccount: map[string]*AccountPlan{}, ops: map[string]*KeyOp{}}
	pl.loc = plan.Loc
	if pl.loc == nil {
		pl.loc = time.UTC
	}
	pl.rangeStart, pl.rangeEnd = plan.Start.In(pl.loc), plan.End.In(pl.loc)
	pl.complete = map[spanKey]bool{}
	cal := plan.Calendar
	for _, set := range []struct {
		p     mapreduce.Period
		spans []mapreduce.Span
	}{{mapreduce.PeriodHour, cal.Hours}, {mapreduce.PeriodDay, cal.Days}, {mapreduce.PeriodMonth, cal.Months}} {
		for i := range set.spans {
			if set.spans[i].Covers(plan.Start, plan.End) {
				pl.complete[spanKey{set.p, set.spans[i].StartNs}] = true
			}
		}
	}
	for _, a := range plan.Accounts {
		pl.account(a)
	}
	isUV := make([]bool, len(reps))
	for ri := range reps {
		isUV[ri] = isHLLReport(&reps[ri])
		if reps[ri].Name == visitsReport {
			continue // totals without keys: no sorted set
		}
		if err := pl.rows(&reps[ri], isUV[ri]); err != nil {
			return nil, err
		}
	}
	for ri := range reps {
		if reps[ri].Name == visitsReport {
			continue
		}
		pl.deletes(ReportName(reps[ri].Name), isUV[ri])
	}
	out := pl.out
	for _, ap := range pl.byAccount {
		slices.SortFunc(ap.Ops, func(a, b *KeyOp) int { return strings.Compare(a.Key, b.Key) })
		for _, o := range ap.Ops {
			if len(o.Members) > 0 {
				out.Trimmed += trim(o, opt.Top)
				out.Members += len(o.Members)
			}
		}
		out.Accounts = append(out.Accounts, ap)
	}
	slices.SortFunc(out.Accounts, func(a, b *AccountPlan) int { return strings.Compare(a.Account, b.Account) })
	return out, nil
}

// planner holds the state of one PlanKeys.
type planner struct {
	opt                  Options
	keys                 Keys
	plan                 *mapreduce.Plan
	loc                  *time.Location
	rangeStart, rangeEnd time.Time
	complete             map[spanKey]bool // whole hours, days and months of the run
	byAccount            map[string]*AccountPlan
	ops                  map[string]*KeyOp // by key
	out                  *KeyPlan
}

type spanKey struct {
	p  mapreduce.Period
	ns int64
}

func (pl *planner) account(a string) *AccountPlan {
	ap := pl.byAccount[a]
	if ap == nil {
		ap = &AccountPlan{Account: a}
		pl.byAccount[a] = ap
	}
	return ap
}

func (pl *planner) add(account string, o *KeyOp) {
	pl.ops[o.Key] = o
	ap := pl.account(account)
	ap.Ops = append(ap.Ops, o)
}

// isComplete reports whether the run covers the whole period p that starts
// at start.
func (pl *planner) isComplete(p mapreduce.Period, start time.Time) bool {
	switch p {
	case mapreduce.PeriodRange:
		return true
	case mapreduce.PeriodMinute:
		return !start.Before(pl.plan.Start) && !start.Add(time.Minute).After(pl.plan.End)
	}
	return pl.complete[spanKey{p, start.UnixNano()}]
}

// part returns the time part of the key of the period p that starts at start.
func (pl *planner) part(p mapreduce.Period, start time.Time) string {
	if p == mapreduce.PeriodRange {
		return TimePart(p, pl.rangeStart, pl.rangeEnd)
	}
	return TimePart(p, start.In(pl.loc), time.Time{})
}

// rows adds the ops of the rows of rep.
func (pl *planner) rows(rep *mapreduce.Report, uv bool) error {
	name := ReportName(rep.Name)
	// Rows come grouped by account and period: remember the last key.
	var last struct {
		account    string
		p          mapreduce.Period
		start      time.Time
		part, key  string
		incomplete bool
	}
	for i := range rep.Rows {
		r := &rep.Rows[i]
		if r.Period == mapreduce.PeriodRange && !pl.opt.Range || r.Period == mapreduce.PeriodPrevious {
			continue // the previous period (--compare) is for the CSV and the table
		}
		if r.Account != last.account || r.Period != last.p || !r.Start.Equal(last.start) || last.key == "" {
			last.account, last.p, last.start = r.Account, r.Period, r.Start
			last.part = pl.part(r.Period, r.Start)
			last.key = pl.keys.Key(r.Account, name, last.part)
			last.incomplete = !pl.isComplete(r.Period, r.Start)
		}
		o := pl.ops[last.key]
		if uv {
			if r.Sketch == nil {
				return fmt.Errorf("report %s, account %s, %s %s: %w", rep.Name, r.Account, r.Period, last.part, ErrNoSketch)
			}
			if o != nil {
				return fmt.Errorf("report %s: two rows for key %s", rep.Name, last.key)
			}
			kind := Replace
			switch {
			case pl.opt.UVMerge:
				kind = Merge
			case r.Partial || last.incomplete:
				kind = Union
			}
			pl.add(r.Account, &KeyOp{Kind: kind, Key: last.key, Name: name, Part: last.part, HLL: true,
				Value: r.Sketch.AppendRedis(nil), TTL: pl.opt.TTL})
			continue
		}
		if r.Partial || last.incomplete {
			pl.out.SkippedPartial++
			continue
		}
		if r.Other {
			continue // sorted sets hold the kept rows; the rest is in the CSV's (other) row
		}
		if o == nil {
			o = &KeyOp{Kind: Replace, Key: last.key, Name: name, Part: last.part, TTL: pl.opt.TTL}
			pl.add(r.Account, o)
		}
		o.Members = append(o.Members, member(r))
	}
	return nil
}

// member returns the sorted-set member of a counting row: its keys joined
// by tabs, scored by the report's primary measure. It is the one place that
// reads a row's values.
func member(r *mapreduce.ReportRow) goredis.Z {
	return goredis.Z{Score: r.Primary(), Member: r.Member()}
}

// deletes adds a Delete for each key of a whole period of the run that has
// no row in the report name: days (and the range), and for unique visitors
// also months, hours and (with Options.Minutes) minutes. With
// Options.UVMerge unique-visitor keys are never deleted.
func (pl *planner) deletes(name string, uv bool) {
	if uv && pl.opt.UVMerge {
		return
	}
	cal := pl.plan.Calendar
	del := func(a string, p mapreduce.Period, start time.Time) {
		part := pl.part(p, start)
		key := pl.keys.Key(a, name, part)
		if pl.ops[key] == nil {
			pl.add(a, &KeyOp{Kind: Delete, Key: key, Name: name, Part: part, HLL: uv})
		}
	}
	for _, a := range pl.plan.Accounts {
		if pl.opt.Range {
			del(a, mapreduce.PeriodRange, pl.rangeStart)
		}
		for i := range cal.Days {
			if cal.Days[i].Covers(pl.plan.Start, pl.plan.End) {
				del(a, mapreduce.PeriodDay, cal.Days[i].Start)
			}
		}
		if !uv {
			continue
		}
		for i := range cal.Months {
			if cal.Months[i].Covers(pl.plan.Start, pl.plan.End) {
				del(a, mapreduce.PeriodMonth, cal.Months[i].Start)
			}
		}
		for i := range cal.Hours {
			h := &cal.Hours[i]
			if !h.Covers(pl.plan.Start, pl.plan.End) {
				continue
			}
			del(a, mapreduce.PeriodHour, h.Start)
			if pl.opt.Minutes {
				for m := h.Start; m.Before(h.End); m = m.Add(time.Minute) {
					del(a, mapreduce.PeriodMinute, m)
				}
			}
		}
	}
}

// isHLLReport reports whether rep holds unique-visitor sketches.
func isHLLReport(rep *mapreduce.Report) bool {
	if rep.Name == uniquesReport {
		return true
	}
	for i := range rep.Rows {
		if rep.Rows[i].Sketch != nil {
			return true
		}
	}
	return false
}

// trim keeps the top highest members of a sorted set, the ones ZREVRANGE
// lists first (score descending, then member descending), in that order,
// and returns how many it dropped. With top 0, or no more members than
// that, it leaves the members as they are.
func trim(o *KeyOp, top int) int {
	if top <= 0 || len(o.Members) <= top {
		return 0
	}
	slices.SortFunc(o.Members, func(a, b goredis.Z) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), strings.Compare(b.Member.(string), a.Member.(string)))
	})
	n := len(o.Members) - top
	o.Members = o.Members[:top]
	return n
}
