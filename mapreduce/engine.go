package mapreduce

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
)

// ErrNoShard is returned (possibly wrapped) by Source.Read when the shard does
// not exist. The engine counts the shard as missing and goes on.
var ErrNoShard = errors.New("no such shard")

// Source is where rows come from: shard files, a Cassandra table.
type Source interface {
	// Split says how the source wants shards cut into work items.
	Split() Split
	// Read calls fn for the rows of item.Shard, from the calling goroutine.
	// Read is called concurrently from several workers, each with its own item.
	// The Row and its Value are owned by the source and valid only until fn
	// returns. Read returns nil at the end of the rows, ErrNoShard when the
	// shard does not exist, fn's error unchanged when fn fails, and returns
	// promptly with ctx's error when ctx is cancelled, even when the
	// underlying I/O is stuck.
	//
	// Which rows: a source that selects rows by time (SplitSlices, a
	// Cassandra column slice) hands over exactly the rows whose time is in
	// [item.Start, item.End). A source that reads a shard whole (SplitShards,
	// SplitShardParts: a file) may hand over every row that item.Wants
	// (every row it holds, unless the item is a part), whatever its time, in any
	// order, and must not rely on the rows' order to leave any out. (Rows
	// come in time order from well-formed shards; counts never depend on it,
	// visits only approximately: a row that comes late joins its visitor's
	// current visit.) The
	// engine checks every row it is given, in this order:
	//   - a column name that is not a version-1 timeuuid: a bad row;
	//   - a time outside the shard's UTC day: a bad row (the shard is broken);
	//   - a time in the shard's day but outside [item.Start, item.End):
	//     skipped, counted in Summary.Skipped, not in Summary.Rows;
	//   - Row.Err set: a bad row;
	//   - a value the Decoder refuses: a bad row.
	// Bad rows are counted in Summary.Rows and Summary.BadRows, sampled with
	// their shard, index and offset, and held to Options.MaxBad.
	Read(ctx context.Context, item WorkItem, fn func(*Row) error) error
}

// Decoder decodes stored page-view values. Each worker owns one Decoder, so
// implementations may keep scratch buffers.
type Decoder interface {
	// Decode decodes value into pv, overwriting its page-view fields. pv's byte
	// slices may alias value or the decoder's buffers until the next call.
	Decode(value []byte, pv *PageView) error
}

// Options tunes a run.
type Options struct {
	// Workers is the number of worker goroutines (default GOMAXPROCS).
	Workers int
	// NewDecoder returns a decoder for one worker. Required.
	NewDecoder func() Decoder
	// NewEnricher, when set, returns a function for one worker that fills
	// derived fields of each page view (such as Agent) before the jobs see it.
	// When the run finds visits, Agent may already be set, to that of an
	// earlier page view with the same ip and user agent (see
	// PageView.Earlier): the function should then keep it.
	NewEnricher func() func(*PageView)
	// OnMapped, when set, is called once, from Run's goroutine, when every
	// page view and visit has been mapped (or the map phase failed) and
	// before the partials are merged: what the tasks need only to map, such
	// as a GeoIP database, can be released then, so that the merge's memory
	// does not come on top of it.
	OnMapped func()
	// IncludeBots hands bots' page views to every task, not only to those
	// built WithBots.
	IncludeBots bool
	// MaxBad is the budget of bad rows; the zero Budget allows none.
	MaxBad Budget
	// OnItem, when set, is called after each finished work item with the rows
	// it read, from the worker goroutines (concurrently).
	OnItem func(item WorkItem, rows int64)
	// Read, when set, counts the rows read (as Summary.Rows does) while the
	// run goes: every worker adds its count every 1024 rows and at the end
	// of each work item, so progress shows rows before an item finishes.
	Read *atomic.Int64
	// IncludeSpam hands page views whose Origin is Spam to the tasks; by
	// default they are dropped (and counted in Summary.Spam) before any task
	// or the sessions see them.
	IncludeSpam bool
	// VisitTimeout is the longest gap between two page views of one visit
	// (default DefaultVisitTimeout). Visits are found only when a task
	// counts them (VisitJob).
	VisitTimeout time.Duration
	// KeepPartials makes Run return the tasks' merged partial results
	// (Result.Partials) instead of reports, for a run cut into shards of
	// days (see Plan.ReadDays and Partials). Every task's job must
	// implement PartialCodec.
	KeepPartials bool
}

// Summary describes a finished (or failed) run.
type Summary struct {
	Workers int
	Items   int
	Shards  int
	// ShardsFound counts the shards read to the end that had rows in the
	// range.
	ShardsFound int
	// ShardsMissing counts the shards read to the end (or found not to
	// exist) that had no rows in the range: data that is not there.
	ShardsMissing int
	// ShardsUnread counts the shards with a work item that did not finish
	// because the run failed or was cancelled first; 0 for a successful run.
	ShardsUnread int
	// Missing lists the shards counted in ShardsMissing.
	Missing []ShardKey
	// Rows counts the rows in the range that were read, bad ones included.
	Rows    int64
	BadRows int64
	// Spam counts the page views dropped as referrer spam.
	Spam int64
	// Skipped counts rows of the shards' days outside the work items'
	// ranges, which a source that reads whole shards hands over and the
	// engine leaves out: the rows of a day before or after the run's range.
	Skipped int64
	// BadSamples holds the first bad rows (at most 10 per worker).
	BadSamples []*RowError
	Duration   time.Duration
}

// RowsPerSecond is the rate at which the run read rows.
func (s *Summary) RowsPerSecond() float64 {
	if s.Duration <= 0 {
		return 0
	}
	return float64(s.Rows) / s.Duration.Seconds()
}

// Result is what a successful run returns.
type Result struct {
	Reports []Report
	// Partials holds the merged partial results instead of Reports with
	// Options.KeepPartials.
	Partials *Partials
	Summary  Summary
}

// RowError says which row of which shard could not be used.
type RowError struct {
	Shard ShardKey
	// Index is the row's index in its shard (see Row.Index).
	Index int64
	// Offset is the byte offset in the shard file, or -1.
	Offset int64
	// Decompressed says Offset counts bytes of the decompressed stream (see
	// Row.Decompressed).
	Decompressed bool
	Err          error
}

func (e *RowError) Error() string {
	switch {
	case e.Offset >= 0 && e.Decompressed:
		return fmt.Sprintf("shard %s row %d (byte %d of the decompressed data): %v", e.Shard, e.Index, e.Offset, e.Err)
	case e.Offset >= 0:
		return fmt.Sprintf("shard %s row %d (byte %d): %v", e.Shard, e.Index, e.Offset, e.Err)
	}
	return fmt.Sprintf("shard %s row %d: %v", e.Shard, e.Index, e.Err)
}

func (e *RowError) Unwrap() error { return e.Err }

// ItemError says which work item failed.
type ItemError struct {
	Item WorkItem
	Err  error
}

func (e *ItemError) Error() string { return fmt.Sprintf("reading %s: %v", e.Item, e.Err) }
func (e *ItemError) Unwrap() error { return e.Err }

// ErrTooManyBadRows is wrapped by the error of a run whose bad rows exceed the
// budget.
var ErrTooManyBadRows = errors.New("too many bad rows")

// Budget bounds the bad rows a run tolerates: an absolute count, or a percentage
// of the rows read. The zero Budget tolerates none.
type Budget struct {
	Count   int64
	Percent float64
	// IsPercent selects Percent over Count.
	IsPercent bool
}

// ParseBudget parses "100" (rows) or "0.5%" (of the rows read).
func ParseBudget(s string) (Budget, error) {
	s = strings.TrimSpace(s)
	if p, ok := strings.CutSuffix(s, "%"); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || !(f >= 0 && f <= 100) { // NaN too
			return Budget{}, fmt.Errorf("bad-row budget %q: want a count such as 100 or a percentage from 0%% to 100%%", s)
		}
		return Budget{Percent: f, IsPercent: true}, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return Budget{}, fmt.Errorf("bad-row budget %q: want a count such as 100 or a percentage such as 0.5%%", s)
	}
	return Budget{Count: n}, nil
}

// String formats b as ParseBudget reads it.
func (b Budget) String() string {
	if b.IsPercent {
		return strconv.FormatFloat(b.Percent, 'f', -1, 64) + "%"
	}
	return strconv.FormatInt(b.Count, 10)
}

// Exceeded reports whether bad of rows is over the budget.
func (b Budget) Exceeded(bad, rows int64) bool {
	if b.IsPercent {
		// Allow for rounding: 0.7% of 1000 rows is 7, but 0.7/100*1000 is
		// 6.999999999999999 in floating point.
		return float64(bad) > b.Percent/100*float64(rows)*(1+1e-9)
	}
	return bad > b.Count
}

// Run reads every work item of plan from src with a pool of workers, feeds each
// row to every task, and merges the results. On error (a failed work item, the
// bad-row budget exceeded, ctx cancelled) it returns the error, the summary so
// far, and no reports.
func Run(ctx context.Context, plan *Plan, src Source, tasks []Task, opt Options) (*Result, error) {
	start := time.Now()
	if opt.NewDecoder == nil {
		return nil, errors.New("mapreduce: Options.NewDecoder is required")
	}
	if opt.KeepPartials {
		if err := CheckCodecs(tasks); err != nil {
			return nil, err
		}
	}
	n := opt.Workers
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	items := plan.WorkItems(src, n)
	if n > len(items) && len(items) > 0 {
		n = len(items)
	}
	workers := make([]*worker, n)
	var shared sharedState
	if slices.ContainsFunc(tasks, Task.seesVisits) {
		if opt.VisitTimeout <= 0 {
			opt.VisitTimeout = DefaultVisitTimeout
		}
		shared.stitch = newStitcher(items, len(plan.Accounts), opt.VisitTimeout)
	}
	g, gctx := errgroup.WithContext(ctx)
	queue := newItemQueue(items, n)
	for i := range workers {
		w := newWorker(plan, tasks, &opt, &shared)
		workers[i] = w
		g.Go(func() error { return w.run(gctx, src, func() (WorkItem, bool) { return queue.next(i) }) })
	}
	err := g.Wait()
	if err == nil && shared.stitch != nil && len(workers) > 0 {
		// Every item is done: the visits still pending are complete.
		shared.stitch.flush(workers[0].mapVisit)
	}
	if opt.OnMapped != nil {
		opt.OnMapped()
	}
	sum := summarize(plan, workers, items)
	sum.Duration = time.Since(start)
	// The map phase is over: what only it used (open visits and their free
	// list, decoders, enrichers' caches) is garbage for the merge to reuse.
	shared.stitch = nil
	for _, w := range workers {
		w.sess, w.dec, w.enrich, w.vkey, w.pv = nil, nil, nil, nil, PageView{}
	}
	// Collect it now. The collector's goal for the heap was set when the
	// open visits were still live, and the reading's garbage fills the
	// heap up to it; the merge would grow the heap from there. Collected
	// here, the merge starts from what the partials hold (on make bench's
	// day, peak RSS 60 MB lower, for a tenth of a second of CPU).
	runtime.GC()
	if err == nil && opt.MaxBad.Exceeded(sum.BadRows, sum.Rows) {
		err = budgetError(&sum, opt.MaxBad)
	}
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		return &Result{Summary: sum}, err
	}
	res := &Result{Summary: sum}
	if opt.KeepPartials {
		res.Partials = keepPartials(plan, tasks, workers)
		res.Summary.Duration = time.Since(start)
		return res, nil
	}
	res.Reports = mergeReports(plan, tasks, workers, n)
	res.Summary.Duration = time.Since(start)
	return res, nil
}

// mergeReports merges each task's partials and builds its reports. Tasks
// share nothing, so up to n of them are merged at once: the merge and
// report phase, which no worker can share, then takes the time of the
// longest task rather than the sum of all.
func mergeReports(plan *Plan, tasks []Task, workers []*worker, n int) []Report {
	reps := make([][]Report, len(tasks))
	var g errgroup.Group
	g.SetLimit(max(n, 1))
	for ti, t := range tasks {
		g.Go(func() error {
			// The workers let go of the task's partials, so what the report
			// does not keep is garbage once it is built, while other tasks
			// are still merging.
			parts := make([]partial, len(workers))
			for wi, w := range workers {
				parts[wi], w.parts[ti] = w.parts[ti], nil
			}
			if len(parts) == 0 {
				parts = []partial{t.newPartial(plan)}
			}
			reps[ti] = t.reports(parts, plan)
			return nil
		})
	}
	_ = g.Wait() // the functions return no error
	var out []Report
	for _, r := range reps {
		out = append(out, r...)
	}
	return out
}

func budgetError(sum *Summary, b Budget) error {
	err := fmt.Errorf("%w: %d of %d rows are bad (budget %s)", ErrTooManyBadRows, sum.BadRows, sum.Rows, b)
	if len(sum.BadSamples) > 0 {
		err = fmt.Errorf("%w; first: %w", err, sum.BadSamples[0])
	}
	return err
}

// sharedState is touched only off the per-row path (bad rows, the end of
// a work item).
type sharedState struct {
	bad    atomic.Int64
	stitch *stitcher
}

type worker struct {
	plan    *Plan
	opt     *Options
	shared  *sharedState
	tasks   []Task
	parts   []partial
	bots    []bool
	dec     Decoder
	enrich  func(*PageView)
	pv      PageView
	vkey    []byte
	hint    int32
	item    WorkItem
	ctx     context.Context
	rows    int64
	bad     int64
	spam    int64
	samples []*RowError
	// shardRows counts rows per shard index.
	shardRows []int64
	// sess finds visits when a task counts them.
	sess *sessionizer

	// shardItems counts the finished work items per shard index.
	shardItems []int32
	// lo, hi bound the current item and dayLo, dayHi its shard's UTC day, in
	// Unix nanoseconds.
	lo, hi, dayLo, dayHi int64
	// seen counts every row handed over (for the context checks); skipped
	// the rows of a shard's day outside their item.
	seen, skipped int64
	// told is the part of rows added to opt.Read.
	told int64
}

func newWorker(plan *Plan, tasks []Task, opt *Options, shared *sharedState) *worker {
	w := &worker{
		plan:      plan,
		opt:       opt,
		shared:    shared,
		tasks:     tasks,
		dec:       opt.NewDecoder(),
		shardRows: make([]int64, len(plan.Shards)),
	}
	w.shardItems = make([]int32, len(plan.Shards))
	for _, t := range tasks {
		w.parts = append(w.parts, t.newPartial(plan))
		w.bots = append(w.bots, opt.IncludeBots || t.seesBots())
	}
	if opt.NewEnricher != nil {
		w.enrich = opt.NewEnricher()
	}
	if shared.stitch != nil {
		w.sess = newSessionizer(plan, opt.VisitTimeout, w.mapVisit)
	}
	return w
}

// mapVisit hands a complete visit to every task that counts visits.
func (w *worker) mapVisit(v *Visit) {
	bot := v.Bot()
	for i, p := range w.parts {
		if bot && !w.bots[i] {
			continue
		}
		p.mapVisit(v)
	}
}

func (w *worker) run(ctx context.Context, src Source, next func() (WorkItem, bool)) error {
	w.ctx = ctx
	// stretch holds the items whose visits w.sess has open: when an item
	// follows the last one directly (a time slice and the next, read one
	// after the other by this worker), the visits go on into it, and the
	// stitcher hears of the items together when the stretch ends. With one
	// worker, a day read in 96 slices is then one stretch, as it is from a
	// shard file, instead of 96 handing their open visits on.
	var stretch []WorkItem
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		it, ok := next()
		if !ok {
			break
		}
		w.item = it
		w.lo, w.hi = it.Start.UnixNano(), it.End.UnixNano()
		w.dayLo, w.dayHi = it.Shard.Start().UnixNano(), it.Shard.End().UnixNano()
		before := w.rows
		if w.sess != nil {
			cont := len(stretch) > 0 && w.sess.follows(it)
			if !cont && len(stretch) > 0 {
				w.endStretch(stretch)
				stretch = stretch[:0]
			}
			w.sess.startItem(it, cont)
		}
		err := src.Read(ctx, it, w.row)
		if err != nil && !errors.Is(err, ErrNoShard) {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, ErrTooManyBadRows) {
				return err
			}
			return &ItemError{Item: it, Err: err}
		}
		w.shardRows[it.ShardIndex] += w.rows - before
		if w.sess != nil {
			stretch = append(stretch, it)
		}
		w.shardItems[it.ShardIndex]++
		w.tell()
		if w.opt.OnItem != nil {
			w.opt.OnItem(it, w.rows-before)
		}
	}
	if len(stretch) > 0 {
		w.endStretch(stretch)
	}
	return nil
}

// itemQueue hands the work items to the workers. Each worker starts with a
// run of items of its own, consecutive in account and time order, so that
// it reads one account's consecutive slices (or days) one after the other:
// its open visits go on from item to item (see worker.run), and its partial
// results hold the keys of few accounts. A worker that has finished its run
// takes the second half of the longest run left.
type itemQueue struct {
	mu   sync.Mutex
	runs [][]WorkItem
}

func newItemQueue(items []WorkItem, workers int) *itemQueue {
	sorted := slices.Clone(items)
	slices.SortStableFunc(sorted, func(a, b WorkItem) int {
		return cmp.Or(cmp.Compare(a.Account, b.Account), a.Start.Compare(b.Start), cmp.Compare(a.Seq, b.Seq))
	})
	q := &itemQueue{runs: make([][]WorkItem, workers)}
	for i := range workers {
		q.runs[i] = sorted[len(sorted)*i/workers : len(sorted)*(i+1)/workers]
	}
	return q
}

// next returns worker i's next item; false when no item is left.
func (q *itemQueue) next(i int) (WorkItem, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.runs[i]) == 0 {
		j := 0
		for k := range q.runs {
			if len(q.runs[k]) > len(q.runs[j]) {
				j = k
			}
		}
		if len(q.runs[j]) == 0 {
			return WorkItem{}, false
		}
		h := len(q.runs[j]) / 2
		q.runs[i], q.runs[j] = q.runs[j][h:], q.runs[j][:h]
	}
	it := q.runs[i][0]
	q.runs[i] = q.runs[i][1:]
	return it, true
}

// endStretch finishes the visits of a stretch of items and hands the
// stitcher what may join other items.
func (w *worker) endStretch(items []WorkItem) {
	w.shared.stitch.done(items, w.sess.endItem(), w.mapVisit, w.sess.release)
}

// tell adds the rows read since the last call to opt.Read.
func (w *worker) tell() {
	if w.opt.Read != nil && w.rows != w.told {
		w.opt.Read.Add(w.rows - w.told)
		w.told = w.rows
	}
}

// ErrNotTimeUUID is wrapped by the bad-row error of a row whose column name
// is not a version-1 timeuuid.
var ErrNotTimeUUID = errors.New("column name is not a version-1 timeuuid")

// ErrOutsideShard is wrapped by the bad-row error of a row whose time is
// outside its shard's UTC day.
var ErrOutsideShard = errors.New("time outside the shard's UTC day")

// row is the per-row path: no locks, no allocation. It checks the row as
// the Source contract says.
func (w *worker) row(r *Row) error {
	w.seen++
	if w.seen&1023 == 0 {
		if err := w.ctx.Err(); err != nil {
			return err
		}
		w.tell()
	}
	if !IsTimeUUID(r.TS) {
		w.rows++
		return w.badRow(r, ErrNotTimeUUID)
	}
	t := UUIDTime(r.TS)
	if t < w.lo || t >= w.hi {
		if t >= w.dayLo && t < w.dayHi {
			w.skipped++
			return nil
		}
		w.rows++
		return w.badRow(r, fmt.Errorf("%w: %s is not on %s", ErrOutsideShard,
			UnixTime(t).Format(time.RFC3339Nano), w.item.Shard.Day.Format("2006-01-02")))
	}
	w.rows++
	if r.Err != nil {
		return w.badRow(r, r.Err)
	}
	pv := &w.pv
	if err := w.dec.Decode(r.Value, pv); err != nil {
		return w.badRow(r, err)
	}
	pv.TS = r.TS
	pv.Time = t
	pv.Shard = w.item.ShardIndex
	pv.Account = w.item.Account
	pv.Visitor, w.vkey = VisitorHash(w.vkey, pv)
	b, ok := w.plan.Calendar.Locate(pv.Time, &w.hint)
	if !ok {
		// Not reached: work items lie within the calendar's range.
		return w.badRow(r, fmt.Errorf("time %s is outside the run's calendar", UnixTime(pv.Time).Format(time.RFC3339Nano)))
	}
	pv.Bucket = b
	pv.Agent, pv.Earlier = nil, nil
	var open *fragment
	if w.sess != nil {
		open = w.sess.lookup(pv)
		// The visitor key is the ip and user agent: a page view of an open
		// visit has its first page view's, whose Agent and Keep are known.
		if open != nil && len(pv.VisitorID) == 0 {
			pv.Agent, pv.Earlier = open.entry.agent, &open.entry.keep
		}
	}
	if w.enrich != nil {
		w.enrich(pv)
	}
	if pv.Origin != nil && pv.Origin.Spam && !w.opt.IncludeSpam {
		w.spam++
		return nil
	}
	pv.Keep = [KeepSlots]uint64{}
	bot := pv.Agent != nil && pv.Agent.Bot
	for i, p := range w.parts {
		if bot && !w.bots[i] {
			continue
		}
		p.mapRow(pv)
	}
	if w.sess != nil {
		w.sess.add(pv, open)
	}
	return nil
}

func (w *worker) badRow(r *Row, err error) error {
	w.bad++
	re := &RowError{Shard: w.item.Shard, Index: r.Index, Offset: r.Offset, Decompressed: r.Decompressed, Err: err}
	if len(w.samples) < 10 {
		w.samples = append(w.samples, re)
	}
	total := w.shared.bad.Add(1)
	if b := w.opt.MaxBad; !b.IsPercent && total > b.Count {
		return fmt.Errorf("%w: more than %d (budget %s); first here: %w", ErrTooManyBadRows, b.Count, b, w.samples[0])
	}
	return nil
}

func summarize(plan *Plan, workers []*worker, items []WorkItem) Summary {
	s := Summary{Workers: len(workers), Items: len(items), Shards: len(plan.Shards)}
	rows := make([]int64, len(plan.Shards))
	done := make([]int32, len(plan.Shards))
	for _, w := range workers {
		s.Rows += w.rows
		s.BadRows += w.bad
		s.Spam += w.spam
		s.Skipped += w.skipped
		s.BadSamples = append(s.BadSamples, w.samples...)
		for i := range plan.Shards {
			rows[i] += w.shardRows[i]
			done[i] += w.shardItems[i]
		}
	}
	planned := make([]int32, len(plan.Shards))
	for _, it := range items {
		planned[it.ShardIndex]++
	}
	for i, sk := range plan.Shards {
		switch {
		case done[i] < planned[i]:
			s.ShardsUnread++
		case rows[i] == 0:
			s.Missing = append(s.Missing, sk)
		default:
			s.ShardsFound++
		}
	}
	s.ShardsMissing = len(s.Missing)
	return s
}
