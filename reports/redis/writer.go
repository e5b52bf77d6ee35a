package redis

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/mapreduce/hll"
)

// Defaults of Options.
const (
	// DefaultBatch is the number of members per ZADD.
	DefaultBatch = 1000
	// DefaultPipeline is the number of commands per round trip.
	DefaultPipeline = 100
	// DefaultTempTTL is the safety expiry of temporary keys: what a killed
	// run leaves behind disappears after it.
	DefaultTempTTL = time.Hour
)

// swapTimeout bounds the swap of one account once the swap phase started:
// it goes on when the run's context is cancelled (see Writer.Write).
const swapTimeout = time.Minute

// ErrNoSketch is returned by Writer.Write for a uniques report whose rows
// carry no HyperLogLog sketch (counted exactly, with hash sets).
var ErrNoSketch = errors.New("uniques row without a HyperLogLog sketch (exact counts cannot be stored as Redis HyperLogLogs)")

// ErrTempExpired is returned by Writer.Write when temporary keys expired, or
// were deleted, before the swap; nothing of the account was changed.
var ErrTempExpired = errors.New("temporary keys vanished before the swap (expired: raise the temporary-key TTL)")

// Options configures a Writer. Zero values mean the defaults.
type Options struct {
	// Prefix is the first part of every key (DefaultPrefix).
	Prefix string
	// Batch is the number of members per ZADD (DefaultBatch).
	Batch int
	// Pipeline is the number of commands per round trip (DefaultPipeline).
	Pipeline int
	// Top keeps only the Top highest-scoring members of each sorted set, the
	// ones ZREVRANGE key 0 Top-1 lists (0: all).
	Top int
	// TTL is the expiry of every key written (0: none). Replaced keys get it
	// before the rename; merged keys get it after the merge.
	TTL time.Duration
	// TempTTL is the safety expiry of temporary keys (DefaultTempTTL). The
	// swap fails with ErrTempExpired when the writes took longer than this.
	TempTTL time.Duration
	// Range also writes the keys of the run's whole range ("20240801-20240807").
	Range bool
	// UVMerge merges every unique-visitor sketch into the existing key with
	// PFMERGE, for keys that a live producer also PFADDs to; periods without
	// visitors are then left alone. Without it, sketches of whole periods
	// replace their keys, and only partial periods are merged.
	UVMerge bool
	// Minutes says the uniques report was built with minute rows: whole
	// minutes of the run without visitors then lose their key, as hours do.
	Minutes bool
	// Logger receives a debug line per phase (slog.Default() when nil).
	Logger *slog.Logger
}

// Stats says what one Write did.
type Stats struct {
	Accounts int
	// Replaced counts keys swapped in with RENAME.
	Replaced int
	// Merged counts keys PFMERGEd into.
	Merged int
	// Deleted counts keys of whole periods without rows, deleted.
	Deleted int
	// Unchanged counts the replaced or merged HyperLogLog keys that held
	// the registers written already, and were left as they were.
	Unchanged int
	// Members counts sorted-set members written.
	Members int
	// Trimmed counts members left out by Options.Top.
	Trimmed int
	// SkippedPartial counts rows of counting reports not written because
	// the run covered only part of their period.
	SkippedPartial int
	// Commands counts the commands sent, and RoundTrips the round trips.
	Commands, RoundTrips int
}

// Writer writes reports to Redis: counts as sorted sets, unique visitors as
// HyperLogLog values (see the package documentation). It is safe for
// concurrent use; concurrent runs use distinct temporary keys.
type Writer struct {
	c    goredis.UniversalClient
	opt  Options
	keys Keys
	log  *slog.Logger
}

// NewWriter returns a Writer that writes through c.
func NewWriter(c goredis.UniversalClient, opt Options) *Writer {
	if opt.Batch <= 0 {
		opt.Batch = DefaultBatch
	}
	if opt.Pipeline <= 0 {
		opt.Pipeline = DefaultPipeline
	}
	if opt.TempTTL <= 0 {
		opt.TempTTL = DefaultTempTTL
	}
	l := opt.Logger
	if l == nil {
		l = slog.Default()
	}
	return &Writer{c: c, opt: opt, keys: Keys{Prefix: opt.Prefix}, log: l}
}

// Keys returns the writer's key names.
func (w *Writer) Keys() Keys { return w.keys }

type opKind uint8

const (
	opReplace opKind = iota // write tmp, then RENAME tmp final
	opMerge                 // write tmp, then PFMERGE final tmp, DEL tmp (Options.UVMerge)
	opUnion                 // SET final to its union with value, read under WATCH (a partial period)
	opDelete                // DEL final: a whole period without rows
)

// op is what happens to one final key.
type op struct {
	kind       opKind
	final, tmp string
	members    []goredis.Z // a sorted set, or
	value      []byte      // a HyperLogLog value
	hll        bool
}

// accountOps is the work of one account: its keys share a slot.
type accountOps struct {
	account string
	ops     []*op
	tmps    []string // temporary keys written, or being written
}

// Write writes the run's reports for plan and returns what it did (see the
// package documentation for what happens to each key).
//
// Every key is first written under a temporary name in its account's slot,
// prefix:{account}:tmp:RUN:..., with a safety expiry (Options.TempTTL), each
// round trip a MULTI/EXEC so that no temporary key ever exists without it.
// When every key of every account was written, each account is swapped in
// with one MULTI/EXEC: RENAME over the old keys, unions into the keys of
// partial periods (PFMERGE with Options.UVMerge), DEL of the keys of whole
// periods that have no rows any more. Readers see all of an account's new
// keys or none. When anything fails before the swap, the temporary keys are
// deleted and Redis holds the previous reports, unchanged. Once the swap
// phase has begun it goes on when ctx is cancelled, so that an interrupt does
// not leave some accounts swapped and others not; Redis failing during that
// phase does (the error names the accounts swapped).
func (w *Writer) Write(ctx context.Context, reps []mapreduce.Report, plan *mapreduce.Plan) (Stats, error) {
	var st Stats
	run := newRunID()
	accts, err := w.build(reps, plan, run, &st)
	if err != nil {
		return st, err
	}
	st.Accounts = len(accts)
	t0 := time.Now()
	if err := w.writeTemps(ctx, accts, &st); err != nil {
		w.cleanup(ctx, accts)
		return st, err
	}
	w.log.Debug("redis: temporary keys written", "run", run, "accounts", len(accts), "commands", st.Commands, "round_trips", st.RoundTrips, "took", time.Since(t0))
	swapCtx := context.WithoutCancel(ctx)
	for i, a := range accts {
		if err := w.swap(swapCtx, a, &st); err != nil {
			w.cleanup(ctx, accts[i:])
			var done []string
			for _, d := range accts[:i] {
				done = append(done, d.account)
			}
			if len(done) > 0 {
				return st, fmt.Errorf("account %s: %w (accounts swapped before: %s)", a.account, err, strings.Join(done, ", "))
			}
			return st, fmt.Errorf("account %s: %w", a.account, err)
		}
	}
	return st, nil
}

// newRunID returns a random run id: 12 hex digits.
func newRunID() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// build turns the reports into the work of each account, sorted by account
// then key. It writes nothing.
func (w *Writer) build(reps []mapreduce.Report, plan *mapreduce.Plan, run string, st *Stats) ([]*accountOps, error) {
	cal := plan.Calendar
	loc := plan.Loc
	if loc == nil {
		loc = time.UTC
	}
	rangeStart, rangeEnd := plan.Start.In(loc), plan.End.In(loc)
	complete := map[spanKey]bool{}
	for _, set := range []struct {
		p     mapreduce.Period
		spans []mapreduce.Span
	}{{mapreduce.PeriodHour, cal.Hours}, {mapreduce.PeriodDay, cal.Days}, {mapreduce.PeriodMonth, cal.Months}} {
		for i := range set.spans {
			if set.spans[i].Covers(plan.Start, plan.End) {
				complete[spanKey{set.p, set.spans[i].StartNs}] = true
			}
		}
	}
	isComplete := func(p mapreduce.Period, start time.Time) bool {
		switch p {
		case mapreduce.PeriodRange:
			return true
		case mapreduce.PeriodMinute:
			return !start.Before(plan.Start) && !start.Add(time.Minute).After(plan.End)
		}
		return complete[spanKey{p, start.UnixNano()}]
	}
	byAccount := map[string]*accountOps{}
	ops := map[string]*op{} // by final key
	account := func(a string) *accountOps {
		ao := byAccount[a]
		if ao == nil {
			ao = &accountOps{account: a}
			byAccount[a] = ao
		}
		return ao
	}
	for _, a := range plan.Accounts {
		account(a)
	}
	partOf := func(p mapreduce.Period, start time.Time) string {
		if p == mapreduce.PeriodRange {
			return TimePart(p, rangeStart, rangeEnd)
		}
		return TimePart(p, start.In(loc), time.Time{})
	}
	isUV := make([]bool, len(reps))
	for ri := range reps {
		rep := &reps[ri]
		name := ReportName(rep.Name)
		uv := isHLLReport(rep)
		isUV[ri] = uv
		if rep.Name == visitsReport {
			continue // totals without keys: no sorted set
		}
		// Rows come grouped by account and period: remember the last key.
		var last struct {
			account string
			p       mapreduce.Period
			start   time.Time
			part    string
			final   string
		}
		for i := range rep.Rows {
			r := &rep.Rows[i]
			if r.Period == mapreduce.PeriodRange && !w.opt.Range || r.Period == mapreduce.PeriodPrevious {
				continue
			}
			if r.Account != last.account || r.Period != last.p || !r.Start.Equal(last.start) || last.final == "" {
				last.account, last.p, last.start = r.Account, r.Period, r.Start
				last.part = partOf(r.Period, r.Start)
				last.final = w.keys.Key(r.Account, name, last.part)
			}
			part, final := last.part, last.final
			o := ops[final]
			if uv {
				if r.Sketch == nil {
					return nil, fmt.Errorf("report %s, account %s, %s %s: %w", rep.Name, r.Account, r.Period, part, ErrNoSketch)
				}
				if o != nil {
					return nil, fmt.Errorf("report %s: two rows for key %s", rep.Name, final)
				}
				kind := opReplace
				switch {
				case w.opt.UVMerge:
					kind = opMerge
				case r.Partial || !isComplete(r.Period, r.Start):
					kind = opUnion
				}
				o = &op{kind: kind, final: final, tmp: w.keys.TempKey(run, r.Account, name, part), hll: true,
					value: r.Sketch.AppendRedis(nil)}
				ops[final] = o
				ao := account(r.Account)
				ao.ops = append(ao.ops, o)
				continue
			}
			if r.Partial || !isComplete(r.Period, r.Start) {
				st.SkippedPartial++
				continue
			}
			if r.Other {
				continue // sorted sets hold the kept rows; the rest is in the CSV's (other) row
			}
			if o == nil {
				o = &op{kind: opReplace, final: final, tmp: w.keys.TempKey(run, r.Account, name, part)}
				ops[final] = o
				ao := account(r.Account)
				ao.ops = append(ao.ops, o)
			}
			o.members = append(o.members, goredis.Z{Score: r.Primary(), Member: r.Member()})
		}
	}
	// Whole periods of the run without rows: their keys go.
	del := func(a, name string, p mapreduce.Period, start time.Time) {
		final := w.keys.Key(a, name, partOf(p, start))
		if ops[final] == nil {
			o := &op{kind: opDelete, final: final}
			ops[final] = o
			ao := account(a)
			ao.ops = append(ao.ops, o)
		}
	}
	for ri := range reps {
		rep := &reps[ri]
		name := ReportName(rep.Name)
		uv := isUV[ri]
		if uv && w.opt.UVMerge || rep.Name == visitsReport {
			continue
		}
		for _, a := range plan.Accounts {
			if w.opt.Range {
				del(a, name, mapreduce.PeriodRange, rangeStart)
			}
			for i := range cal.Days {
				if cal.Days[i].Covers(plan.Start, plan.End) {
					del(a, name, mapreduce.PeriodDay, cal.Days[i].Start)
				}
			}
			if !uv {
				continue
			}
			for i := range cal.Months {
				if cal.Months[i].Covers(plan.Start, plan.End) {
					del(a, name, mapreduce.PeriodMonth, cal.Months[i].Start)
				}
			}
			for i := range cal.Hours {
				h := &cal.Hours[i]
				if !h.Covers(plan.Start, plan.End) {
					continue
				}
				del(a, name, mapreduce.PeriodHour, h.Start)
				if w.opt.Minutes {
					for m := h.Start; m.Before(h.End); m = m.Add(time.Minute) {
						del(a, name, mapreduce.PeriodMinute, m)
					}
				}
			}
		}
	}
	out := make([]*accountOps, 0, len(byAccount))
	for _, ao := range byAccount {
		slices.SortFunc(ao.ops, func(a, b *op) int { return strings.Compare(a.final, b.final) })
		for _, o := range ao.ops {
			if len(o.members) > 0 {
				w.trim(o, st)
			}
		}
		out = append(out, ao)
	}
	slices.SortFunc(out, func(a, b *accountOps) int { return strings.Compare(a.account, b.account) })
	return out, nil
}

type spanKey struct {
	p  mapreduce.Period
	ns int64
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

// trim orders a sorted set's members as ZREVRANGE lists them (score
// descending, then member descending) and keeps the first Options.Top.
func (w *Writer) trim(o *op, st *Stats) {
	if w.opt.Top <= 0 || len(o.members) <= w.opt.Top {
		st.Members += len(o.members)
		return
	}
	slices.SortFunc(o.members, func(a, b goredis.Z) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), strings.Compare(b.Member.(string), a.Member.(string)))
	})
	st.Trimmed += len(o.members) - w.opt.Top
	o.members = o.members[:w.opt.Top]
	st.Members += len(o.members)
}

// writeTemps writes every temporary key. Each round trip is one MULTI/EXEC
// of one account's keys (one slot, as Redis Cluster requires), so a sorted
// set's first ZADD and its PEXPIRE apply together, and every command may be
// sent again: ZADD of absolute scores and SET are idempotent.
func (w *Writer) writeTemps(ctx context.Context, accts []*accountOps, st *Stats) error {
	pipe := w.c.TxPipeline()
	n := 0
	flush := func() error {
		if n == 0 {
			return nil
		}
		st.RoundTrips++
		n = 0
		if testHookFlush != nil {
			testHookFlush(st.RoundTrips)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return fmt.Errorf("writing temporary keys: %w", err)
		}
		return nil
	}
	queue := func() error {
		n++
		st.Commands++
		if n >= w.opt.Pipeline {
			return flush()
		}
		return nil
	}
	for _, a := range accts {
		if err := flush(); err != nil { // A transaction stays in one slot.
			return err
		}
		for _, o := range a.ops {
			if o.kind == opDelete || o.kind == opUnion {
				continue
			}
			a.tmps = append(a.tmps, o.tmp)
			if o.hll {
				pipe.Set(ctx, o.tmp, o.value, w.opt.TempTTL)
				if err := queue(); err != nil {
					return err
				}
				continue
			}
			for i := 0; i < len(o.members); i += w.opt.Batch {
				pipe.ZAdd(ctx, o.tmp, o.members[i:min(i+w.opt.Batch, len(o.members))]...)
				if err := queue(); err != nil {
					return err
				}
				if i == 0 {
					pipe.PExpire(ctx, o.tmp, w.opt.TempTTL)
					if err := queue(); err != nil {
						return err
					}
				}
			}
		}
	}
	return flush()
}

// testHookFlush, when set by a test, is called before each round trip of
// writeTemps with its number.
var testHookFlush func(roundTrip int)

// swap swaps in the keys of one account in one transaction. It WATCHes the
// account's temporary keys, so that the transaction does not run when one of
// them expired, and the keys it unions into, so that it does not overwrite
// a change made after it read them.
func (w *Writer) swap(ctx context.Context, a *accountOps, st *Stats) error {
	ctx, cancel := context.WithTimeout(ctx, swapTimeout)
	defer cancel()
	if len(a.ops) == 0 {
		return nil
	}
	watch := slices.Clone(a.tmps)
	for _, o := range a.ops {
		if o.kind == opUnion {
			watch = append(watch, o.final)
		}
	}
	if len(watch) == 0 { // Deletes only.
		_, err := w.c.TxPipelined(ctx, func(p goredis.Pipeliner) error {
			return w.queueSwap(ctx, p, a, nil)
		})
		if err != nil {
			return fmt.Errorf("swap: %w", err)
		}
		w.count(a, st, nil)
		return nil
	}
	var lastErr error
	var values map[*op][]byte
	for attempt := 0; attempt < 5; attempt++ {
		err := w.c.Watch(ctx, func(tx *goredis.Tx) error {
			if err := w.checkTemps(ctx, tx, a); err != nil {
				return err
			}
			if err := w.checkMergeTargets(ctx, tx, a); err != nil {
				return err
			}
			unions, err := w.unions(ctx, tx, a)
			if err != nil {
				return err
			}
			same, err := w.unchanged(ctx, tx, a)
			if err != nil {
				return err
			}
			for o := range same {
				unions[o] = nil
			}
			values = unions
			_, err = tx.TxPipelined(ctx, func(p goredis.Pipeliner) error {
				return w.queueSwap(ctx, p, a, unions)
			})
			return err
		}, watch...)
		if err == nil {
			w.count(a, st, values)
			return nil
		}
		if errors.Is(err, ErrTempExpired) || isPermanent(err) {
			return fmt.Errorf("swap: %w", err)
		}
		// The transaction was aborted (a watched key changed or expired) or
		// its outcome is unknown (the connection failed around EXEC): the
		// temporary keys tell which. Unions alone can simply run again.
		n, cerr := w.existing(ctx, a.tmps)
		switch {
		case cerr != nil:
			return fmt.Errorf("swap: %w; checking its outcome: %w", err, cerr)
		case len(a.tmps) > 0 && n == 0:
			w.count(a, st, values) // EXEC ran; only its reply was lost.
			return nil
		case n < len(a.tmps):
			return fmt.Errorf("swap: %w: %d of %d temporary keys left: %w", err, n, len(a.tmps), ErrTempExpired)
		}
		lastErr = err
		w.log.Debug("redis: swap retried", "account", a.account, "attempt", attempt+1, "err", err)
		select {
		case <-time.After(time.Duration(attempt+1) * 50 * time.Millisecond):
		case <-ctx.Done():
			return fmt.Errorf("swap: %w", ctx.Err())
		}
	}
	return fmt.Errorf("swap: %w", lastErr)
}

// unions reads the keys of a's opUnion ops and returns, per op, the value to
// SET: the union of the key's registers and the op's, or nil when the key
// holds them all already (it is then left as it is, byte for byte).
func (w *Writer) unions(ctx context.Context, tx *goredis.Tx, a *accountOps) (map[*op][]byte, error) {
	var ops []*op
	for _, o := range a.ops {
		if o.kind == opUnion {
			ops = append(ops, o)
		}
	}
	out := make(map[*op][]byte, len(ops))
	if len(ops) == 0 {
		return out, nil
	}
	gets := make([]*goredis.StringCmd, len(ops))
	_, err := tx.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, o := range ops {
			gets[i] = p.Get(ctx, o.final)
		}
		return nil
	})
	if err != nil && !errors.Is(err, goredis.Nil) && !isWrongType(err) {
		return nil, fmt.Errorf("reading keys to merge into: %w", err)
	}
	for i, o := range ops {
		cur, err := gets[i].Bytes()
		switch {
		case errors.Is(err, goredis.Nil):
			out[o] = o.value
			continue
		case err != nil && isWrongType(err):
			return nil, fmt.Errorf("key %s exists and is not a HyperLogLog (not a string): %w", o.final, errNotHLL)
		case err != nil:
			return nil, fmt.Errorf("reading %s: %w", o.final, err)
		}
		have, err := hll.ParseRedis(cur)
		if err != nil {
			return nil, fmt.Errorf("key %s exists and is not a HyperLogLog: %w: %w", o.final, errNotHLL, err)
		}
		ours, err := hll.ParseRedis(o.value)
		if err != nil {
			return nil, fmt.Errorf("key %s: %w", o.final, err)
		}
		if !adds(have, ours) {
			out[o] = nil // unchanged
			continue
		}
		have.Merge(ours)
		out[o] = have.AppendRedis(nil)
	}
	return out, nil
}

// unchanged returns the HyperLogLog keys to replace that already hold the
// value this run writes, the cached count aside (PFCOUNT caches it in bytes
// 8 to 15): they are left as they are, so that a re-run changes no byte.
func (w *Writer) unchanged(ctx context.Context, tx *goredis.Tx, a *accountOps) (map[*op]bool, error) {
	var ops []*op
	for _, o := range a.ops {
		if o.kind == opReplace && o.hll {
			ops = append(ops, o)
		}
	}
	same := map[*op]bool{}
	const chunkSize = 1000 // GETs per round trip
	for i := 0; i < len(ops); i += chunkSize {
		chunk := ops[i:min(i+chunkSize, len(ops))]
		gets := make([]*goredis.StringCmd, len(chunk))
		_, err := tx.Pipelined(ctx, func(p goredis.Pipeliner) error {
			for j, o := range chunk {
				gets[j] = p.Get(ctx, o.final)
			}
			return nil
		})
		if err != nil && !errors.Is(err, goredis.Nil) && !isWrongType(err) {
			return nil, fmt.Errorf("reading keys to replace: %w", err)
		}
		for j, o := range chunk {
			if cur, err := gets[j].Bytes(); err == nil && sameHLL(cur, o.value) {
				same[o] = true
			}
		}
	}
	return same, nil
}

// sameHLL reports whether two HyperLogLog values are equal but for the
// cached count.
func sameHLL(a, b []byte) bool {
	return len(a) == len(b) && len(a) >= hll.HeaderSize &&
		string(a[:8]) == string(b[:8]) && string(a[hll.HeaderSize:]) == string(b[hll.HeaderSize:])
}

// adds reports whether ours has a register above have's: whether merging it
// would change have.
func adds(have, ours *hll.Sketch) bool {
	for i := 0; i < hll.Registers; i++ {
		if ours.Register(i) > have.Register(i) {
			return true
		}
	}
	return false
}

// count adds the account's swapped keys to st; values is as for queueSwap.
func (w *Writer) count(a *accountOps, st *Stats, values map[*op][]byte) {
	for _, o := range a.ops {
		if v, ok := values[o]; ok && v == nil {
			st.Unchanged++
		}
		switch o.kind {
		case opReplace:
			st.Replaced++
		case opMerge, opUnion:
			st.Merged++
		case opDelete:
			st.Deleted++
		}
	}
}

// queueSwap queues the swap of every key of a; values holds the values of
// its opUnion ops (see Writer.unions), nil for those unchanged, and nil for
// the opReplace ops whose key holds the value already.
func (w *Writer) queueSwap(ctx context.Context, p goredis.Pipeliner, a *accountOps, unions map[*op][]byte) error {
	for _, o := range a.ops {
		switch o.kind {
		case opReplace:
			if v, ok := unions[o]; ok && v == nil { // unchanged: keep the key
				p.Del(ctx, o.tmp)
				if w.opt.TTL > 0 {
					p.PExpire(ctx, o.final, w.opt.TTL)
				} else {
					p.Persist(ctx, o.final)
				}
				continue
			}
			if w.opt.TTL > 0 {
				p.PExpire(ctx, o.tmp, w.opt.TTL)
			} else {
				p.Persist(ctx, o.tmp)
			}
			p.Rename(ctx, o.tmp, o.final)
		case opMerge:
			p.PFMerge(ctx, o.final, o.tmp)
			p.Del(ctx, o.tmp)
			if w.opt.TTL > 0 {
				p.PExpire(ctx, o.final, w.opt.TTL)
			}
		case opUnion:
			if v := unions[o]; v != nil {
				if w.opt.TTL > 0 {
					p.Set(ctx, o.final, v, w.opt.TTL)
				} else {
					p.SetArgs(ctx, o.final, v, goredis.SetArgs{KeepTTL: true})
				}
			} else if w.opt.TTL > 0 {
				p.PExpire(ctx, o.final, w.opt.TTL)
			}
		case opDelete:
			p.Del(ctx, o.final)
		}
	}
	return nil
}

// checkTemps fails with ErrTempExpired when a temporary key of a is gone.
func (w *Writer) checkTemps(ctx context.Context, c goredis.Cmdable, a *accountOps) error {
	n, err := existing(ctx, c, a.tmps)
	if err != nil {
		return err
	}
	if n != len(a.tmps) {
		return fmt.Errorf("%d of %d temporary keys left: %w", n, len(a.tmps), ErrTempExpired)
	}
	return nil
}

func (w *Writer) existing(ctx context.Context, keys []string) (int, error) {
	return existing(ctx, w.c, keys)
}

// existing counts the keys that exist, in chunks (the keys share a slot).
func existing(ctx context.Context, c goredis.Cmdable, keys []string) (int, error) {
	n := 0
	for i := 0; i < len(keys); i += 1000 {
		k, err := c.Exists(ctx, keys[i:min(i+1000, len(keys))]...).Result()
		if err != nil {
			return 0, err
		}
		n += int(k)
	}
	return n, nil
}

// checkMergeTargets fails when a key to PFMERGE into exists but is not a
// HyperLogLog: PFMERGE would fail inside the transaction, after the commands
// before it had run.
func (w *Writer) checkMergeTargets(ctx context.Context, tx *goredis.Tx, a *accountOps) error {
	var targets []string
	for _, o := range a.ops {
		if o.kind == opMerge {
			targets = append(targets, o.final)
		}
	}
	if len(targets) == 0 {
		return nil
	}
	heads := make([]*goredis.StringCmd, len(targets))
	_, err := tx.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, k := range targets {
			heads[i] = p.GetRange(ctx, k, 0, 3)
		}
		return nil
	})
	for i, k := range targets {
		v, herr := heads[i].Result()
		switch {
		case herr != nil && isWrongType(herr):
			return fmt.Errorf("key %s exists and is not a HyperLogLog (not a string): %w", k, errNotHLL)
		case herr != nil:
			return fmt.Errorf("checking %s: %w", k, herr)
		case v != "" && v != "HYLL":
			return fmt.Errorf("key %s exists and is not a HyperLogLog: %w", k, errNotHLL)
		}
	}
	return err
}

var errNotHLL = errors.New("cannot PFMERGE into it")

func isWrongType(err error) bool {
	return strings.HasPrefix(err.Error(), "WRONGTYPE")
}

// isPermanent reports whether err is Redis refusing the commands (a
// permission, a full memory, a read-only replica, a wrong type) rather than
// a failure that retrying may cure.
func isPermanent(err error) bool {
	var re goredis.Error
	if !errors.As(err, &re) {
		return errors.Is(err, errNotHLL)
	}
	msg := re.Error()
	for _, p := range []string{"NOPERM", "OOM", "READONLY", "WRONGTYPE", "MISCONF", "NOAUTH", "WRONGPASS", "ERR", "EXECABORT", "CROSSSLOT", "NOSCRIPT"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// cleanup deletes the temporary keys of accts, best effort, also when ctx
// was cancelled; what it misses expires after Options.TempTTL.
func (w *Writer) cleanup(ctx context.Context, accts []*accountOps) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	for _, a := range accts {
		for i := 0; i < len(a.tmps); i += 1000 {
			if err := w.c.Del(ctx, a.tmps[i:min(i+1000, len(a.tmps))]...).Err(); err != nil {
				w.log.Warn("redis: deleting temporary keys failed; they expire by themselves", "account", a.account, "ttl", w.opt.TempTTL, "err", err)
				break
			}
		}
		a.tmps = nil
	}
}
