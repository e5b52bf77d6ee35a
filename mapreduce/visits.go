package mapreduce

import (
	"cmp"
	"math"
	"slices"
	"sync"
	"time"
)

// DefaultVisitTimeout is the longest gap between two page views of one visit.
const DefaultVisitTimeout = 30 * time.Minute

// Visit is one visit (a session): a visitor's run of page views with no gap
// longer than the run's visit timeout, within one local day, and without a
// page view that brings another source (see Options.VisitTimeout and the
// package documentation). The engine finds visits whatever the work items
// and workers: a visit whose page views fell into several time slices is
// stitched together when the slices are done.
type Visit struct {
	// Account is the index of the visit's account in Plan.Accounts.
	Account int
	// Visitor is the visitor's hash (PageView.Visitor).
	Visitor uint64
	// Start and End are the times of the first and last page view (Unix
	// nanoseconds).
	Start, End int64
	// Bucket locates Start: a visit belongs to the hour and day of its first
	// page view.
	Bucket Bucket
	// PageViews is the number of page views of the visit.
	PageViews int
	// Entry is the visit's first page view: every field is set (Agent and
	// Origin as the run's enricher set them). Exit is its last page view,
	// with Time, URL, Account, Visitor and Keep set. Both are owned by the
	// engine and valid only during MapVisit.
	Entry, Exit *PageView
	// entry and exit hold what Entry and Exit point to.
	entry, exit PageView
}

// Bounce reports whether the visit has a single page view.
func (v *Visit) Bounce() bool { return v.PageViews == 1 }

// Duration returns the time from the first page view to the last: 0 for a
// bounce.
func (v *Visit) Duration() time.Duration { return time.Duration(v.End - v.Start) }

// Bot reports whether the visit's first page view is a bot's.
func (v *Visit) Bot() bool { return v.Entry.Agent != nil && v.Entry.Agent.Bot }

// visit sources: the source of a visit is the Origin.Key of its first page
// view, or sourceNone when that brings none (direct or internal traffic).
// sourceInherited marks a visit whose first page view in a work item may
// continue a visit of an earlier item: its source is that visit's.
const (
	sourceNone      = 1
	sourceInherited = 2
)

// entryCopy is a visit's first page view, kept until the visit ends.
// Every open visit has one, so it is kept small: the byte fields live one
// after the other in buf, ends[i] being where field i ends (fields in the
// order of entryFields), and fill makes a PageView of it again.
type entryCopy struct {
	// keep and agent first: a fragment's next page views read them (see
	// PageView.Earlier), the rest is read when the visit ends.
	keep   [KeepSlots]uint64
	agent  *Agent
	buf    []byte
	ends   [entryFields]uint32
	ts     [16]byte
	shard  int32
	origin Origin
	hasOrg bool
}

// entryFields is the number of byte fields of a PageView: URL, Title, IP,
// Referrer, UserAgent, Language, VisitorID.
const entryFields = 7

// set copies pv.
func (c *entryCopy) set(pv *PageView) {
	b := c.buf[:0]
	for i, f := range [entryFields][]byte{pv.URL, pv.Title, pv.IP, pv.Referrer, pv.UserAgent, pv.Language, pv.VisitorID} {
		b = append(b, f...)
		c.ends[i] = uint32(len(b))
	}
	c.buf = b
	c.ts, c.shard, c.agent, c.keep = pv.TS, int32(pv.Shard), pv.Agent, pv.Keep
	c.hasOrg = pv.Origin != nil
	if c.hasOrg {
		c.origin = *pv.Origin
	}
}

// field returns byte field i (see entryFields), nil when empty.
func (c *entryCopy) field(i int) []byte {
	from := uint32(0)
	if i > 0 {
		from = c.ends[i-1]
	}
	if end := c.ends[i]; end > from {
		return c.buf[from:end:end]
	}
	return nil
}

// fill sets the fields of pv that set copied, except Time, Account,
// Visitor and Bucket, which the fragment has; they point into c.
func (c *entryCopy) fill(pv *PageView) {
	pv.URL, pv.Title, pv.IP, pv.Referrer, pv.UserAgent, pv.Language, pv.VisitorID =
		c.field(0), c.field(1), c.field(2), c.field(3), c.field(4), c.field(5), c.field(6)
	pv.TS, pv.Shard, pv.Agent, pv.Keep = c.ts, int(c.shard), c.agent, c.keep
	pv.Origin = nil
	if c.hasOrg {
		pv.Origin = &c.origin
	}
}

// exitCopy is what a Visit's Exit carries of the last page view seen of a
// visit: its time, Keep and URL (the exit pages report's). Every open
// visit has one, so it is kept small.
type exitCopy struct {
	keep [KeepSlots]uint64
	time int64
	// entry: the last page view is the first, whose copy the fragment's
	// entry holds (a visit of one page view copies nothing more).
	entry bool
	url   []byte
}

func (c *exitCopy) set(pv *PageView) {
	c.entry = false
	c.time = pv.Time
	c.keep = pv.Keep
	c.url = append(c.url[:0], pv.URL...)
}

// fillExit sets the time, URL and Keep of pv from f's last page view.
func (f *fragment) fillExit(pv *PageView) {
	c := &f.exit
	if c.entry {
		pv.Time, pv.Keep = f.first, f.entry.keep
		pv.URL = f.entry.field(0)
		return
	}
	pv.Time = c.time
	pv.Keep = c.keep
	pv.URL = nil
	if len(c.url) > 0 {
		pv.URL = c.url[:len(c.url):len(c.url)]
	}
}

// fragment is a visit, or the part of one that a work item saw. Its
// fields are in the order a page view of an open visit touches them, so
// that it touches few cache lines: from last to the entry's agent.
type fragment struct {
	last int64
	// source is the visit's source as far as the item knows it; firstSource
	// is the Origin.Key of the first page view (0: none).
	source uint64
	day    int32
	count  int
	// qpos is the position of the fragment's queue entry, counted from the
	// sessionizer's first (see queue).
	qpos        int64
	visitor     uint64
	exit        exitCopy
	entry       entryCopy
	account     int
	first       int64
	bucket      Bucket
	firstSource uint64
	// headOpen: an earlier item may hold the page view before first, in the
	// same visit; tailOpen: a later item may hold the next one.
	headOpen, tailOpen bool
	// order sorts fragments of one visitor that start at the same instant:
	// the item's Seq, then the fragment's number within the item.
	order uint64
}

// queued is an entry of a sessionizer's activity queue: the fragment and
// its last page view time when queued; f is nil once the fragment has a
// later entry or has ended.
type queued struct {
	f    *fragment
	last int64
}

// sessionizer finds the visits of one worker's work items.
type sessionizer struct {
	timeout int64
	cal     *Calendar
	plan    *Plan
	item    WorkItem
	lo, hi  int64
	// made counts the fragments begun in the item.
	made uint64
	open *openTable
	// queue holds every page view's fragment in arrival order, so visits
	// idle for longer than the timeout are finished as time moves on and
	// the open map holds only the visitors of the last timeout. A
	// fragment's earlier entry is voided when it gets a new one (while the
	// earlier one is still recent, likely in the processor's cache), so
	// expire reads a fragment only when it ends, not at each of its page
	// views' entries half an hour later. qbase is the position of queue[0]
	// counted from the first entry.
	queue []queued
	qhead int
	qbase int64
	free  []*fragment
	// deferred are the fragments that may join those of other items.
	deferred []*fragment
	emit     func(*Visit)
	visit    Visit
}

func newSessionizer(plan *Plan, timeout time.Duration, emit func(*Visit)) *sessionizer {
	return &sessionizer{timeout: int64(timeout), cal: plan.Calendar, plan: plan, open: newOpenTable(), emit: emit}
}

// follows reports whether work item it starts where the current one (begun
// and read) ends, in the same account: the visits open at the end of the
// current item may then go on into it without the stitcher (see
// startItem).
func (s *sessionizer) follows(it WorkItem) bool {
	return it.Account == s.item.Account && it.Start.Equal(s.item.End)
}

// startItem begins a work item. With cont (the item follows the current
// one), the visits still open go on into it: the items since the last
// endItem are one stretch of time for the sessionizer, whose start (lo)
// tells the visits an earlier item may hold, and whose deferred fragments
// endItem returns together.
func (s *sessionizer) startItem(it WorkItem, cont bool) {
	s.item, s.made = it, 0
	s.hi = it.End.UnixNano()
	if !cont {
		s.lo = it.Start.UnixNano()
		s.deferred = s.deferred[:0]
	}
}

func (s *sessionizer) get() *fragment {
	if n := len(s.free); n > 0 {
		f := s.free[n-1]
		s.free = s.free[:n-1]
		return f
	}
	return &fragment{}
}

func (s *sessionizer) release(f *fragment) {
	s.free = append(s.free, f)
}

// enqueue queues f at its last page view time, voiding its earlier entry.
func (s *sessionizer) enqueue(f *fragment) {
	s.unqueue(f)
	f.qpos = s.qbase + int64(len(s.queue))
	s.queue = append(s.queue, queued{f, f.last})
}

// unqueue voids f's queue entry if it is still queued. The entry must be
// f's own: a fragment taken from the free list keeps the position of its
// earlier life, where another fragment may be queued now.
func (s *sessionizer) unqueue(f *fragment) {
	if i := f.qpos - s.qbase; i >= int64(s.qhead) && i < int64(len(s.queue)) && s.queue[i].f == f {
		s.queue[i].f = nil
	}
}

// lookup ends the visits idle at pv's time and returns pv's visitor's open
// fragment, nil when none: what add then takes.
func (s *sessionizer) lookup(pv *PageView) *fragment {
	s.expire(pv.Time)
	return s.open.get(pv.Visitor)
}

// add adds a page view of the current item; f is what lookup returned for
// it. Rows of an item come in time order; a row that comes earlier than its
// visitor's last one joins that visitor's current visit.
func (s *sessionizer) add(pv *PageView, f *fragment) {
	var key uint64
	if pv.Origin != nil {
		key = pv.Origin.Key
	}
	if f != nil {
		gap := pv.Time - f.last
		switch {
		case gap > s.timeout || pv.Bucket.Day != f.day:
			s.finish(f, false)
		case key != 0 && f.source == sourceInherited:
			// The first page view of this item that brings a source, in a
			// visit that may continue an earlier item's: whether it starts a
			// new visit depends on that visit's source. Split here; the
			// stitcher joins the two parts when the sources agree.
			s.finish(f, true)
			s.begin(pv, key, true)
			return
		case key != 0 && key != f.source:
			s.finish(f, false)
		default:
			if pv.Time > f.last {
				f.last = pv.Time
			}
			f.count++
			f.exit.set(pv)
			s.enqueue(f)
			return
		}
	}
	// A first page view of this visitor in the item, or a new visit.
	open := f == nil && pv.Time-s.timeout < s.lo && s.cal.Days[pv.Bucket.Day].StartNs < s.lo && s.lo > s.plan.ReadStart.UnixNano()
	s.begin(pv, key, open)
}

// begin starts a fragment at pv. headOpen says an earlier item may hold the
// visit's page view before pv.
func (s *sessionizer) begin(pv *PageView, key uint64, headOpen bool) {
	f := s.get()
	f.visitor, f.account = pv.Visitor, pv.Account
	f.first, f.last, f.day, f.bucket, f.count = pv.Time, pv.Time, pv.Bucket.Day, pv.Bucket, 1
	f.firstSource, f.headOpen, f.tailOpen = key, headOpen, false
	f.order = uint64(s.item.Seq)<<32 | s.made
	s.made++
	switch {
	case key != 0:
		f.source = key
	case headOpen:
		f.source = sourceInherited
	default:
		f.source = sourceNone
	}
	f.entry.set(pv)
	f.exit.entry = true
	s.open.put(pv.Visitor, f)
	s.enqueue(f)
}

// finish ends fragment f: it is a whole visit, handed to emit, unless an
// item before or after may hold more of it; then it is deferred to the
// stitcher. f is the open fragment of its visitor: the caller takes it out
// of the open map, or puts the visitor's next fragment in its place.
func (s *sessionizer) finish(f *fragment, tailOpen bool) {
	s.unqueue(f)
	f.tailOpen = tailOpen
	if f.headOpen || f.tailOpen {
		s.deferred = append(s.deferred, f)
		return
	}
	s.emitVisit(f.account, f.visitor, []*fragment{f})
	s.release(f)
}

// expire finishes the visits idle for longer than the timeout at time now.
func (s *sessionizer) expire(now int64) {
	for s.qhead < len(s.queue) {
		q := s.queue[s.qhead]
		if q.last+s.timeout >= now {
			break
		}
		s.qhead++
		if q.f != nil { // the latest entry of an open fragment
			s.open.del(q.f.visitor)
			s.finish(q.f, false)
		}
	}
	if s.qhead > 4096 && s.qhead*2 > len(s.queue) {
		n := copy(s.queue, s.queue[s.qhead:])
		s.qbase += int64(s.qhead)
		s.queue, s.qhead = s.queue[:n], 0
	}
}

// endItem finishes every open visit of the items since the last endItem
// and returns the fragments that may join those of other items. The slice
// is reused by the next item.
func (s *sessionizer) endItem() []*fragment {
	runEnd := s.plan.End.UnixNano()
	s.open.each(func(f *fragment) {
		open := s.hi < runEnd && f.last+s.timeout >= s.hi && s.cal.Days[f.day].EndNs > s.hi
		s.finish(f, open)
	})
	s.open.reset()
	s.qbase += int64(len(s.queue))
	s.queue, s.qhead = s.queue[:0], 0
	return s.deferred
}

// emitVisit hands the visit of the fragments fs (in time order) to emit.
func (s *sessionizer) emitVisit(account int, visitor uint64, fs []*fragment) {
	emitVisit(&s.visit, account, visitor, fs, s.emit)
}

func emitVisit(v *Visit, account int, visitor uint64, fs []*fragment, emit func(*Visit)) {
	first, last := fs[0], fs[len(fs)-1]
	*v = Visit{Account: account, Visitor: visitor, Start: first.first, Bucket: first.bucket,
		entry: PageView{Time: first.first, Account: account, Visitor: visitor, Bucket: first.bucket},
		exit:  PageView{Account: account, Visitor: visitor}}
	first.entry.fill(&v.entry)
	last.fillExit(&v.exit)
	v.Entry, v.Exit = &v.entry, &v.exit
	for _, f := range fs {
		v.PageViews += f.count
		v.End = max(v.End, f.last)
	}
	emit(v)
}

// stitcher joins the fragments of visits that span work items. Workers hand
// it each item's deferred fragments when the item is done; once every item
// of an account up to some time (its watermark) is done, the visits that
// can no longer grow are complete and go back to the worker to be counted.
// It is shared by the workers and locked once per work item, never per row.
type stitcher struct {
	mu       sync.Mutex
	timeout  int64
	accounts []*accountStitch
	// pos maps a work item's Seq to its account and index there.
	pos []itemPos
}

type itemPos struct{ account, index int }

type accountStitch struct {
	starts  []int64 // item start times, in order
	done    []bool
	next    int // first item not done
	pending []*fragment
}

func newStitcher(items []WorkItem, accounts int, timeout time.Duration) *stitcher {
	st := &stitcher{timeout: int64(timeout), pos: make([]itemPos, len(items))}
	st.accounts = make([]*accountStitch, accounts)
	for i := range st.accounts {
		st.accounts[i] = &accountStitch{}
	}
	byAccount := make([][]int, accounts)
	for i, it := range items {
		byAccount[it.Account] = append(byAccount[it.Account], i)
	}
	for a, idx := range byAccount {
		slices.SortStableFunc(idx, func(x, y int) int { return items[x].Start.Compare(items[y].Start) })
		as := st.accounts[a]
		for j, i := range idx {
			st.pos[items[i].Seq] = itemPos{a, j}
			as.starts = append(as.starts, items[i].Start.UnixNano())
		}
		as.done = make([]bool, len(idx))
	}
	return st
}

// done records that items (consecutive items of one account, read as one
// stretch by a sessionizer) are finished with the deferred fragments frags
// (taken over by the stitcher) and calls emit for every visit now complete,
// with the lock held. Fragments of complete visits are returned to release.
func (st *stitcher) done(items []WorkItem, frags []*fragment, emit func(*Visit), release func(*fragment)) {
	st.mu.Lock()
	defer st.mu.Unlock()
	p := st.pos[items[0].Seq]
	as := st.accounts[p.account]
	for _, it := range items {
		as.done[st.pos[it.Seq].index] = true
	}
	as.pending = append(as.pending, frags...)
	moved := false
	for as.next < len(as.done) && as.done[as.next] {
		as.next++
		moved = true
	}
	if !moved {
		return
	}
	wm := int64(math.MaxInt64)
	if as.next < len(as.starts) {
		wm = as.starts[as.next]
	}
	as.pending = st.resolve(p.account, as.pending, wm, emit, release)
}

// flush completes every pending visit; all items must be done.
func (st *stitcher) flush(emit func(*Visit)) {
	for a, as := range st.accounts {
		as.pending = st.resolve(a, as.pending, math.MaxInt64, emit, func(*fragment) {})
	}
}

// resolve emits the visits among pending that are complete at watermark wm
// (every item that starts before wm is done) and returns the fragments
// still pending.
func (st *stitcher) resolve(account int, pending []*fragment, wm int64, emit func(*Visit), release func(*fragment)) []*fragment {
	slices.SortFunc(pending, func(a, b *fragment) int {
		return cmp.Or(cmp.Compare(a.visitor, b.visitor), cmp.Compare(a.first, b.first), cmp.Compare(a.order, b.order))
	})
	keep := pending[:0]
	var v Visit
	var chain []*fragment
	for i := 0; i < len(pending); {
		f := pending[i]
		if f.first >= wm {
			// An item before f may not be done: f waits.
			keep = append(keep, f)
			i++
			continue
		}
		chain = append(chain[:0], f)
		src := f.source
		if src == sourceInherited {
			src = sourceNone // nothing before it joined: it starts a visit
		}
		j := i + 1
		for ; j < len(pending); j++ {
			g, prev := pending[j], chain[len(chain)-1]
			if g.visitor != f.visitor || g.first >= wm || !prev.tailOpen || !g.headOpen ||
				g.day != prev.day || g.first-prev.last > st.timeout ||
				(g.firstSource != 0 && g.firstSource != src) {
				break
			}
			chain = append(chain, g)
		}
		last := chain[len(chain)-1]
		if last.tailOpen && last.last+st.timeout >= wm {
			// The visit may go on in an item not done yet.
			keep = append(keep, chain...)
		} else {
			emitVisit(&v, account, f.visitor, chain, emit)
			for _, g := range chain {
				release(g)
			}
		}
		i = j
	}
	// Clear the tail so released fragments are not kept alive.
	clear(pending[len(keep):])
	return keep
}
