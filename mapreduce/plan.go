package mapreduce

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"time"
)

// DefaultSlices is the number of time slices a UTC day is cut into by default:
// one per hour.
const DefaultSlices = 24

// MaxDays bounds the length of a run's range, to catch typos such as 2204 for 2024.
const MaxDays = 3700

// ErrEmptyPlan is returned by NewPlan when there is nothing to read.
var ErrEmptyPlan = errors.New("empty plan")

// ErrBadRange is wrapped by DayRange's error for a first day after the last.
var ErrBadRange = errors.New("bad range")

// PlanSpec says what a run reads.
type PlanSpec struct {
	// Accounts to read; validated with ValidateAccount, deduplicated and sorted.
	Accounts []string
	// Start and End bound the run's time range [Start, End).
	Start, End time.Time
	// Loc is the time zone in which reports bucket hours, days and months; nil
	// means UTC.
	Loc *time.Location
	// Slices is the number of time slices per UTC day (default DefaultSlices).
	Slices int
	// Compare also reads the period of the same number of local days just
	// before [Start, End), for the reports' previous rows. The range must
	// then be whole local days of Loc.
	Compare bool
}

// ErrCompareDays is wrapped by NewPlan's error for a comparison over a range
// that is not whole local days.
var ErrCompareDays = errors.New("a comparison with the previous period needs a range of whole local days")

// DayRange returns the instants that start day from and end day to (inclusive)
// in loc, and refuses from > to with an error wrapping ErrBadRange.
func DayRange(from, to Date, loc *time.Location) (start, end time.Time, err error) {
	if loc == nil {
		loc = time.UTC
	}
	if to.Before(from) {
		return time.Time{}, time.Time{}, fmt.Errorf("%w: first day %s is after last day %s", ErrBadRange, from, to)
	}
	return from.In(loc), to.AddDays(1).In(loc), nil
}

// Split says how a source wants a shard cut into work items.
type Split int

const (
	// SplitSlices makes one work item per time slice: sources that can seek (a
	// Cassandra column slice query) read slices in parallel.
	SplitSlices Split = iota
	// SplitShards makes one work item per shard: sources that read a shard
	// sequentially (a file) read it once per run.
	SplitShards
	// SplitShardParts is SplitShards for a source that can also leave out
	// the rows of other times cheaply as it reads (a shard file: a row's
	// time comes before its value, which is then skipped unread). When a run
	// has fewer shard items than workers, each item is cut into parts (see
	// Plan.WorkItems), so that a one-account day keeps every core busy: each
	// part's worker reads the whole shard and hands over the rows
	// WorkItem.Wants.
	SplitShardParts
)

// maxParts bounds the parts a shard item is cut into (each reads the whole
// shard).
const maxParts = 16

// WorkItem is one unit of work: the rows of one shard whose time is in
// [Start, End).
type WorkItem struct {
	// ShardIndex is the shard's index in Plan.Shards.
	ShardIndex int
	Shard      ShardKey
	// Account is the index of the shard's account in Plan.Accounts.
	Account    int
	Start, End time.Time
	// Slice is the item's time-slice number within the shard's day (0 for a
	// whole-shard item).
	Slice int
	// Seq is the item's index in the list Plan.Items (or Plan.WorkItems)
	// returned.
	Seq int
	// Part is the item's number among the Parts items its shard's item was
	// cut into (SplitShardParts), which together cover [WholeStart,
	// WholeEnd); Parts is 0 for an item that was not cut.
	Part, Parts          int
	WholeStart, WholeEnd time.Time
}

// Wants reports whether a source that reads the item's shard whole should
// hand over a row of time t (Unix nanoseconds; timed is false for a row
// whose column name is not a timeuuid): every row, unless the item is a
// part of a shard (SplitShardParts). A part gets the rows of its time, and
// part 0 also those outside every part's time and those without a time, so
// that the engine counts each of them once, as skipped or bad.
func (w WorkItem) Wants(t int64, timed bool) bool {
	if w.Parts <= 1 {
		return true
	}
	if !timed {
		return w.Part == 0
	}
	if t >= w.Start.UnixNano() && t < w.End.UnixNano() {
		return true
	}
	return w.Part == 0 && (t < w.WholeStart.UnixNano() || t >= w.WholeEnd.UnixNano())
}

// String names the item for errors and logs: "20240801.blog [10:00,11:00)".
func (w WorkItem) String() string {
	end := w.End.Format("15:04:05")
	if w.End.Equal(w.Shard.End()) {
		end = "24:00:00"
	}
	return fmt.Sprintf("%s [%s,%s)", w.Shard, w.Start.Format("15:04:05"), end)
}

// Plan is the checked, expanded form of a PlanSpec: the shards to read and the
// calendar that buckets their rows.
type Plan struct {
	Accounts []string
	// Start and End bound the range the reports are of, [Start, End).
	Start, End time.Time
	// PrevStart and PrevEnd bound the previous period the reports' previous
	// rows are of (PlanSpec.Compare); both zero when there is none.
	PrevStart, PrevEnd time.Time
	// ReadStart is where reading starts: PrevStart, or Start.
	ReadStart time.Time
	Loc       *time.Location
	Slices    int
	// Shards lists every (UTC day, account) pair that overlaps
	// [ReadStart, End), by day then account.
	Shards []ShardKey
	// ShardAccount holds, for each shard, the index of its account in
	// Accounts.
	ShardAccount []int
	// Calendar covers the local days that overlap [ReadStart, End).
	Calendar *Calendar
	// dayOf holds the period of each calendar day.
	dayOf []dayPeriod
	// read holds the calendar days [read[0], read[1]) the plan reads when
	// ReadDays restricted it; readSet says it did.
	read    [2]int
	readSet bool
}

// NewPlan checks spec and expands it into shards.
func NewPlan(spec PlanSpec) (*Plan, error) {
	if len(spec.Accounts) == 0 {
		return nil, fmt.Errorf("%w: no accounts", ErrEmptyPlan)
	}
	accounts := slices.Clone(spec.Accounts)
	for _, a := range accounts {
		if err := ValidateAccount(a); err != nil {
			return nil, err
		}
	}
	slices.Sort(accounts)
	accounts = slices.Compact(accounts)
	loc := spec.Loc
	if loc == nil {
		loc = time.UTC
	}
	if !spec.Start.Before(spec.End) {
		return nil, fmt.Errorf("%w: start %s is not before end %s", ErrEmptyPlan,
			spec.Start.Format(time.RFC3339), spec.End.Format(time.RFC3339))
	}
	if spec.End.Sub(spec.Start) > MaxDays*24*time.Hour {
		return nil, fmt.Errorf("range %s to %s is longer than %d days",
			spec.Start.Format(time.RFC3339), spec.End.Format(time.RFC3339), MaxDays)
	}
	n := spec.Slices
	if n == 0 {
		n = DefaultSlices
	}
	if n < 1 || n > 24*60*60 {
		return nil, fmt.Errorf("slices per day %d: want 1 to 86400", n)
	}
	p := &Plan{
		Accounts: accounts,
		Start:    spec.Start.UTC(),
		End:      spec.End.UTC(),
		Loc:      loc,
		Slices:   n,
	}
	p.ReadStart = p.Start
	if spec.Compare {
		from, to := DateOf(spec.Start.In(loc)), DateOf(spec.End.In(loc))
		if !from.In(loc).Equal(spec.Start) || !to.In(loc).Equal(spec.End) {
			return nil, fmt.Errorf("%w: %s to %s in %s", ErrCompareDays,
				spec.Start.In(loc).Format(time.RFC3339), spec.End.In(loc).Format(time.RFC3339), loc)
		}
		days := 0
		for d := from; d.Before(to); d = d.AddDays(1) {
			days++
		}
		p.PrevStart, p.PrevEnd = from.AddDays(-days).In(loc).UTC(), p.Start
		p.ReadStart = p.PrevStart
	}
	first := p.ReadStart.Truncate(24 * time.Hour)
	for day := first; day.Before(p.End); day = day.AddDate(0, 0, 1) {
		for i, a := range accounts {
			p.Shards = append(p.Shards, ShardKey{Day: day, Account: a})
			p.ShardAccount = append(p.ShardAccount, i)
		}
	}
	p.Calendar = NewCalendar(p.ReadStart, p.End, loc)
	for _, d := range p.Calendar.Days {
		p.dayOf = append(p.dayOf, p.periodOf(d.StartNs))
	}
	return p, nil
}

// dayPeriod says which period of a plan a calendar day belongs to.
type dayPeriod uint8

const (
	dayRange dayPeriod = iota
	dayPrevious
)

func (p *Plan) periodOf(ns int64) dayPeriod {
	if !p.PrevStart.IsZero() && ns < p.Start.UnixNano() {
		return dayPrevious
	}
	return dayRange
}

// InRange reports whether calendar day d is a day of the run's range (and
// not of the previous period read for comparison).
func (p *Plan) InRange(d int) bool { return p.dayOf[d] == dayRange }

// InPrevious reports whether calendar day d is a day of the previous period.
func (p *Plan) InPrevious(d int) bool { return p.dayOf[d] == dayPrevious }

// HourInRange reports whether calendar hour h is of the run's range.
func (p *Plan) HourInRange(h int) bool { return p.InRange(p.Calendar.Hours[h].Parent) }

// SliceBounds returns the boundaries of the n equal time slices of the UTC day
// that starts at day: n+1 instants from day to day+24h.
func SliceBounds(day time.Time, n int) []time.Time {
	b := make([]time.Time, n+1)
	const dayNs = int64(24 * time.Hour)
	for i := 0; i <= n; i++ {
		b[i] = day.Add(time.Duration(dayNs * int64(i) / int64(n)))
	}
	return b
}

// Items returns the work items for a source that splits as split: one per
// shard, or one per non-empty time slice clipped to [Start, End). Items are
// ordered by shard, then time.
func (p *Plan) Items(split Split) []WorkItem {
	var items []WorkItem
	from, to := p.readWindow()
	for i, sk := range p.Shards {
		lo, hi := maxTime(sk.Start(), from), minTime(sk.End(), to)
		if !lo.Before(hi) {
			continue
		}
		if split != SplitSlices {
			items = append(items, WorkItem{ShardIndex: i, Shard: sk, Account: p.ShardAccount[i], Start: lo, End: hi, Seq: len(items)})
			continue
		}
		b := SliceBounds(sk.Day, p.Slices)
		for s := 0; s < p.Slices; s++ {
			a, z := maxTime(b[s], lo), minTime(b[s+1], hi)
			if a.Before(z) {
				items = append(items, WorkItem{ShardIndex: i, Shard: sk, Account: p.ShardAccount[i], Start: a, End: z, Slice: s, Seq: len(items)})
			}
		}
	}
	return items
}

// Cutter is what a SplitShardParts source may also be: Cut proposes where
// to cut item into k parts — k-1 instants in (item.Start, item.End), in
// order — so that the parts hold about as many rows each (traffic is not
// spread evenly over a day); nil when it cannot tell. Where it cuts changes
// only how the work is shared, never the results.
type Cutter interface {
	Cut(item WorkItem, k int) []time.Time
}

// PartsPerItem returns how many parts WorkItems cuts each of Items(split)
// into for a run with the given number of workers (0: GOMAXPROCS): 1, unless
// the source splits as SplitShardParts and there are fewer items than
// workers; then as many as it takes for every worker to have one, at most
// maxParts (and 1 again when a part would last under a second). It reads
// nothing: what shows a run's items (progress, --dry-run) uses it.
func (p *Plan) PartsPerItem(split Split, workers int) int {
	items := p.Items(split)
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if split != SplitShardParts || len(items) == 0 || workers <= len(items) {
		return 1
	}
	k := min((workers+len(items)-1)/len(items), maxParts)
	for _, it := range items {
		if it.End.Sub(it.Start) < time.Duration(k)*time.Second {
			return 1 // a part of under a second: not worth it
		}
	}
	return k
}

// WorkItems returns the work items of a run from src with the given number
// of workers (0: GOMAXPROCS): Items, with each item cut into PartsPerItem
// parts where the source proposes (Cutter), else into parts of equal time.
func (p *Plan) WorkItems(src Source, workers int) []WorkItem {
	split := src.Split()
	items := p.Items(split)
	k := p.PartsPerItem(split, workers)
	if k == 1 {
		return items
	}
	parts := make([]WorkItem, 0, k*len(items))
	cutter, _ := src.(Cutter)
	for _, it := range items {
		span := it.End.Sub(it.Start)
		cuts := []time.Time{it.Start}
		if cutter != nil {
			cuts = append(cuts, cutter.Cut(it, k)...)
		}
		cuts = append(cuts, it.End)
		if !increasing(cuts) || len(cuts) != k+1 {
			cuts = cuts[:1]
			for j := 1; j < k; j++ {
				cuts = append(cuts, it.Start.Add(span*time.Duration(j)/time.Duration(k)))
			}
			cuts = append(cuts, it.End)
		}
		for j := range k {
			pt := it
			pt.Start, pt.End = cuts[j], cuts[j+1]
			pt.Part, pt.Parts, pt.WholeStart, pt.WholeEnd = j, k, it.Start, it.End
			pt.Seq = len(parts)
			parts = append(parts, pt)
		}
	}
	return parts
}

// increasing reports whether ts is strictly increasing.
func increasing(ts []time.Time) bool {
	for i := 1; i < len(ts); i++ {
		if !ts[i-1].Before(ts[i]) {
			return false
		}
	}
	return true
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
