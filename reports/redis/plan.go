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
	// Name and Part are the key's report and time parts; Name is
	// MeasureName(report, measure) for the sorted set of a measure other
	// than the report's first.
	Name, Part string
	// HLL is true for a unique-visitor key: Value is then a HyperLogLog as
	// Redis encodes it. Otherwise the key is a hash of Fields when Fields
	// is set (a report of totals), else a sorted set of Members (none for
	// a Delete), in ZREVRANGE order of the report's first measure when
	// Options.Top trimmed them.
	HLL     bool
	Value   []byte
	Members []goredis.Z
	Fields  []Field
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
	// Options.Top left out (of every sorted set of a report's measures),
	// Fields the hash fields to write, SkippedPartial the rows of counting
	// reports not written because the run covers only part of their day or
	// hour (rows of months a run covers in part are not written either, and
	// not counted: see the package documentation, "Several measures").
	Members, Trimmed, Fields, SkippedPartial int
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
	kinds := make([]keyKind, len(reps))
	measures := make([][]stored, len(reps))
	for ri := range reps {
		rep := &reps[ri]
		switch {
		case isHLLReport(rep):
			kinds[ri] = hllKey
			if err := pl.uvRows(rep); err != nil {
				return nil, err
			}
			continue
		case len(rep.Keys) == 0:
			kinds[ri] = hashKey
		default:
			kinds[ri] = setKey
		}
		ms, err := storedMeasures(rep, kinds[ri] == setKey)
		if err != nil {
			return nil, err
		}
		measures[ri] = ms
		if kinds[ri] == hashKey {
			err = pl.hashRows(rep, ms)
		} else {
			err = pl.setRows(rep, ms)
		}
		if err != nil {
			return nil, err
		}
	}
	for ri := range reps {
		switch kinds[ri] {
		case hllKey:
			pl.deletes(ReportName(reps[ri].Name), hllKey)
		case hashKey:
			pl.deletes(ReportName(reps[ri].Name), hashKey)
		default:
			for _, m := range measures[ri] {
				pl.deletes(m.name, setKey)
			}
		}
	}
	out := pl.out
	for _, ap := range pl.byAccount {
		slices.SortFunc(ap.Ops, func(a, b *KeyOp) int { return strings.Compare(a.Key, b.Key) })
		for _, o := range ap.Ops {
			out.Members += len(o.Members)
			out.Fields += len(o.Fields)
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

// keyKind is the type of a report's keys.
type keyKind uint8

const (
	setKey  keyKind = iota // sorted sets: a keyed report
	hashKey                // hashes: a report of totals, without keys
	hllKey                 // HyperLogLogs: unique visitors
)

// period is the period of a run of rows of one account, and its key's time
// part: rows come grouped by account and period, so the planner remembers
// the last one.
type period struct {
	account    string
	p          mapreduce.Period
	start      time.Time
	part       string
	incomplete bool
	set        bool
}

// of returns the period of r, computing its part only when r starts a new
// one.
func (pl *planner) of(cur *period, r *mapreduce.ReportRow) *period {
	if !cur.set || r.Account != cur.account || r.Period != cur.p || !r.Start.Equal(cur.start) {
		*cur = period{account: r.Account, p: r.Period, start: r.Start, set: true,
			part: pl.part(r.Period, r.Start), incomplete: !pl.isComplete(r.Period, r.Start)}
	}
	return cur
}

// written reports whether rows of period p go to Redis at all: the range
// only with Options.Range, the previous period (--compare) never (it is for
// the CSV and the table).
func (pl *planner) written(p mapreduce.Period) bool {
	return p != mapreduce.PeriodPrevious && (p != mapreduce.PeriodRange || pl.opt.Range)
}

// uvRows adds the ops of the rows of rep, a report of unique-visitor
// sketches: one HyperLogLog key per row.
func (pl *planner) uvRows(rep *mapreduce.Report) error {
	name := ReportName(rep.Name)
	var cur period
	for i := range rep.Rows {
		r := &rep.Rows[i]
		if !pl.written(r.Period) {
			continue
		}
		per := pl.of(&cur, r)
		key := pl.keys.Key(r.Account, name, per.part)
		if r.Sketch == nil {
			return fmt.Errorf("report %s, account %s, %s %s: %w", rep.Name, r.Account, r.Period, per.part, ErrNoSketch)
		}
		if pl.ops[key] != nil {
			return fmt.Errorf("report %s: two rows for key %s", rep.Name, key)
		}
		kind := Replace
		switch {
		case pl.opt.UVMerge:
			kind = Merge
		case r.Partial || per.incomplete:
			kind = Union
		}
		pl.add(r.Account, &KeyOp{Kind: kind, Key: key, Name: name, Part: per.part, HLL: true,
			Value: r.Sketch.AppendRedis(nil), TTL: pl.opt.TTL})
	}
	return nil
}

// setGroup is the rows of one sorted set of a keyed report's first
// measure: one account and period, and their members (boxed once, shared by
// the sorted sets of every measure).
type setGroup struct {
	account, part string
	rows          []*mapreduce.ReportRow
	members       []any
}

// setRows adds the ops of the rows of rep, a keyed report: per account and
// whole period, one sorted set per stored measure, all of the same members
// (the kept rows, Options.Top of them by the first measure).
func (pl *planner) setRows(rep *mapreduce.Report, ms []stored) error {
	var order []*setGroup
	groups := map[string]*setGroup{} // by the key of the first measure
	var cur period
	var g *setGroup // cur's
	for i := range rep.Rows {
		r := &rep.Rows[i]
		if !pl.written(r.Period) {
			continue
		}
		if per := pl.of(&cur, r); per != nil && (g == nil || g.account != r.Account || g.part != per.part) {
			g = nil
		}
		if r.Partial || cur.incomplete {
			pl.out.SkippedPartial++
			continue
		}
		if r.Other {
			continue // sorted sets hold the kept rows; the rest is in the CSV's (other) row
		}
		if g == nil {
			key := pl.keys.Key(r.Account, ms[0].name, cur.part)
			if g = groups[key]; g == nil {
				g = &setGroup{account: r.Account, part: cur.part}
				groups[key] = g
				order = append(order, g)
			}
		}
		g.rows = append(g.rows, r)
		g.members = append(g.members, r.Member())
	}
	for _, g := range order {
		pl.out.Trimmed += pl.top(g) * len(ms)
		for _, m := range ms {
			key := pl.keys.Key(g.account, m.name, g.part)
			o := pl.ops[key]
			if o == nil {
				o = &KeyOp{Kind: Replace, Key: key, Name: m.name, Part: g.part, TTL: pl.opt.TTL, Members: make([]goredis.Z, 0, len(g.rows))}
				pl.add(g.account, o)
			}
			for i, r := range g.rows {
				v, err := m.value(r)
				if err != nil {
					return fmt.Errorf("report %s, account %s, %s, %q: %w", rep.Name, g.account, g.part, g.members[i], err)
				}
				o.Members = append(o.Members, goredis.Z{Score: v, Member: g.members[i]})
			}
		}
	}
	return nil
}

// top keeps the Options.Top rows of g with the highest first value, the
// members ZREVRANGE lists first (score descending, then member descending),
// in that order, and returns how many it dropped. With Top 0, or no more
// rows than that, it leaves the rows as they came.
func (pl *planner) top(g *setGroup) int {
	top := pl.opt.Top
	if top <= 0 || len(g.rows) <= top {
		return 0
	}
	idx := make([]int, len(g.rows))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		return cmp.Or(cmp.Compare(g.rows[b].Primary(), g.rows[a].Primary()),
			strings.Compare(g.members[b].(string), g.members[a].(string)))
	})
	rows, members := make([]*mapreduce.ReportRow, top), make([]any, top)
	for i, j := range idx[:top] {
		rows[i], members[i] = g.rows[j], g.members[j]
	}
	n := len(g.rows) - top
	g.rows, g.members = rows, members
	return n
}

// hashRows adds the ops of the rows of rep, a report of totals without
// keys: one hash per account and whole period, a field per stored measure.
// Rows of hours and days the run covers in part are skipped and counted as
// sorted-set rows are; rows of months it covers in part are skipped without
// being counted (every run shorter than a month has one).
func (pl *planner) hashRows(rep *mapreduce.Report, ms []stored) error {
	name := ReportName(rep.Name)
	var cur period
	for i := range rep.Rows {
		r := &rep.Rows[i]
		if !pl.written(r.Period) {
			continue
		}
		per := pl.of(&cur, r)
		if r.Partial || per.incomplete {
			if r.Period != mapreduce.PeriodMonth {
				pl.out.SkippedPartial++
			}
			continue
		}
		key := pl.keys.Key(r.Account, name, per.part)
		if pl.ops[key] != nil {
			return fmt.Errorf("report %s: two rows for key %s", rep.Name, key)
		}
		o := &KeyOp{Kind: Replace, Key: key, Name: name, Part: per.part, TTL: pl.opt.TTL, Fields: make([]Field, len(ms))}
		for j := range ms {
			v, err := ms[j].value(r)
			if err != nil {
				return fmt.Errorf("report %s, account %s, %s %s: %w", rep.Name, r.Account, r.Period, per.part, err)
			}
			o.Fields[j] = Field{Name: ms[j].field, Value: int64(v)}
		}
		pl.add(r.Account, o)
	}
	return nil
}

// deletes adds a Delete for each key of a whole period of the run that has
// no row in the report name: days (and the range); for reports of totals
// also months and hours; for unique visitors also months, hours and (with
// Options.Minutes) minutes. With Options.UVMerge unique-visitor keys are
// never deleted.
func (pl *planner) deletes(name string, kind keyKind) {
	if kind == hllKey && pl.opt.UVMerge {
		return
	}
	cal := pl.plan.Calendar
	del := func(a string, p mapreduce.Period, start time.Time) {
		part := pl.part(p, start)
		key := pl.keys.Key(a, name, part)
		if pl.ops[key] == nil {
			pl.add(a, &KeyOp{Kind: Delete, Key: key, Name: name, Part: part, HLL: kind == hllKey})
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
		if kind == setKey {
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
			if kind == hllKey && pl.opt.Minutes {
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
