package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/mapreduce/hll"
)

// cleanupTimeout bounds the deletion of temporary keys by Abort, also when
// the run's context was cancelled.
const cleanupTimeout = 10 * time.Second

// Writer writes reports to Redis: counts of keyed reports as sorted sets,
// one per measure, totals as hashes, unique visitors as HyperLogLog values
// (see the package documentation). It is safe for
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
	if opt.RetryBudget <= 0 {
		opt.RetryBudget = DefaultRetryBudget
	}
	l := opt.Logger
	if l == nil {
		l = slog.Default()
	}
	return &Writer{c: c, opt: opt, keys: Keys{Prefix: opt.Prefix}, log: l}
}

// Keys returns the writer's key names.
func (w *Writer) Keys() Keys { return w.keys }

// Write writes the run's reports for plan and returns what it did: Prepare,
// then Commit; when Commit fails, the temporary keys of the accounts not
// swapped in are deleted and the error is a *CommitError.
func (w *Writer) Write(ctx context.Context, reps []mapreduce.Report, plan *mapreduce.Plan) (Stats, error) {
	p, err := w.Prepare(ctx, reps, plan)
	if err != nil {
		return Stats{}, err
	}
	st, err := p.Commit(ctx)
	if err != nil {
		if aerr := p.Abort(ctx); aerr != nil {
			w.log.Warn("redis: deleting temporary keys failed; they expire by themselves", "ttl", w.opt.TempTTL, "err", aerr)
		}
	}
	return st, err
}

// Prepared is a run whose keys are written under temporary names, ready to
// be swapped in by Commit or dropped by Abort. Its methods are not safe for
// concurrent use.
type Prepared struct {
	w       *Writer
	run     string
	accts   []*acctWork
	stats   Stats
	aborted bool
}

// acctWork is the committer's state of one account.
type acctWork struct {
	*AccountPlan
	tmp       []string // the temporary key of each op ("" for unions and deletes)
	tmps      []string // the temporary keys written, or being written
	committed bool
	// maybeRan is set when an EXEC of the swap was sent and its outcome is
	// unknown: the next attempt, in this Commit or the next, looks first.
	maybeRan bool
}

// Prepare plans the keys of reps (PlanKeys), checks that the server takes
// every command the commit needs (Check), and
// writes every key to replace or merge under a temporary name in its
// account's slot, prefix:{account}:tmp:RUN:..., with a safety expiry
// (Options.TempTTL). Each round trip is one MULTI/EXEC of one account's
// keys, and every transaction that writes a temporary key sets its expiry
// too, so no temporary key ever exists without one, even when the process
// is killed between two round trips. Transient failures are retried (see
// Options.RetryBudget); the writes are idempotent (SET, ZADD of absolute
// scores, HSET, PEXPIRE).
//
// Nothing visible to readers changes. On error the temporary keys written
// are deleted.
func (w *Writer) Prepare(ctx context.Context, reps []mapreduce.Report, plan *mapreduce.Plan) (*Prepared, error) {
	kp, err := PlanKeys(reps, plan, w.opt)
	if err != nil {
		return nil, err
	}
	p := &Prepared{w: w, run: newRunID()}
	p.stats.Accounts = len(kp.Accounts)
	p.stats.Members, p.stats.Trimmed, p.stats.Fields, p.stats.SkippedPartial = kp.Members, kp.Trimmed, kp.Fields, kp.SkippedPartial
	for _, ap := range kp.Accounts {
		a := &acctWork{AccountPlan: ap, tmp: make([]string, len(ap.Ops))}
		for i, o := range ap.Ops {
			if o.Kind == Replace || o.Kind == Merge {
				a.tmp[i] = w.keys.TempKey(p.run, ap.Account, o.Name, o.Part)
			}
		}
		p.accts = append(p.accts, a)
	}
	err = w.retry(ctx, nil, "check", &p.stats, func(ctx context.Context) error {
		return Check(ctx, w.c, w.keys, p.Accounts()...)
	})
	if err != nil {
		return nil, fmt.Errorf("checking the server: %w", err)
	}
	t0 := time.Now()
	if err := p.writeTemps(ctx); err != nil {
		if aerr := p.Abort(ctx); aerr != nil {
			w.log.Warn("redis: deleting temporary keys failed; they expire by themselves", "ttl", w.opt.TempTTL, "err", aerr)
		}
		return nil, err
	}
	w.log.Debug("redis: temporary keys written", "run", p.run, "accounts", len(p.accts), "commands", p.stats.Commands,
		"round_trips", p.stats.RoundTrips, "retries", p.stats.Retries, "took", time.Since(t0))
	return p, nil
}

// newRunID returns a random run id: 12 hex digits.
func newRunID() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// tempCmd is one command of the temporary writes: a ZADD of
// Members[lo:hi] of op i of a, the SET of a HyperLogLog (with its expiry),
// the HSET of a hash's fields, or the PEXPIRE of a sorted set or hash
// written in the same transaction.
type tempCmd struct {
	a       *acctWork
	i       int
	lo, hi  int
	pexpire bool
}

// writeTemps writes every temporary key, Options.Pipeline commands per
// transaction, a transaction never spanning two accounts (two slots).
func (p *Prepared) writeTemps(ctx context.Context) error {
	w := p.w
	var tx []tempCmd
	flush := func() error {
		if len(tx) == 0 {
			return nil
		}
		err := p.flushTemps(ctx, tx)
		tx = tx[:0]
		return err
	}
	for _, a := range p.accts {
		if err := flush(); err != nil {
			return err
		}
		for i, o := range a.Ops {
			if a.tmp[i] == "" {
				continue
			}
			a.tmps = append(a.tmps, a.tmp[i])
			if o.HLL {
				tx = append(tx, tempCmd{a: a, i: i})
				if len(tx) >= w.opt.Pipeline {
					if err := flush(); err != nil {
						return err
					}
				}
				continue
			}
			if o.Fields != nil {
				// One HSET of every field, and the expiry in the same
				// transaction.
				tx = append(tx, tempCmd{a: a, i: i}, tempCmd{a: a, i: i, pexpire: true})
				if len(tx) >= w.opt.Pipeline {
					if err := flush(); err != nil {
						return err
					}
				}
				continue
			}
			// Every transaction that ZADDs to the key also sets its expiry,
			// after its last ZADD: a ZADD creates the key when it is not
			// there (the first one, or one after the key expired).
			for lo := 0; lo < len(o.Members); lo += w.opt.Batch {
				tx = append(tx, tempCmd{a: a, i: i, lo: lo, hi: min(lo+w.opt.Batch, len(o.Members))})
				last := lo+w.opt.Batch >= len(o.Members)
				if last || len(tx)+1 >= w.opt.Pipeline {
					tx = append(tx, tempCmd{a: a, i: i, pexpire: true})
				}
				if len(tx) >= w.opt.Pipeline {
					if err := flush(); err != nil {
						return err
					}
				}
			}
		}
	}
	return flush()
}

// flushTemps sends one transaction of temporary writes, again after a
// transient failure: every command in it is idempotent.
func (p *Prepared) flushTemps(ctx context.Context, tx []tempCmd) error {
	w := p.w
	p.stats.RoundTrips++
	p.stats.Commands += len(tx)
	if testHooks.flush != nil {
		testHooks.flush(p.stats.RoundTrips)
	}
	err := w.retry(ctx, nil, "writing temporary keys", &p.stats, func(ctx context.Context) error {
		pipe := w.c.TxPipeline()
		for _, c := range tx {
			o, tmp := c.a.Ops[c.i], c.a.tmp[c.i]
			switch {
			case o.HLL:
				pipe.Set(ctx, tmp, o.Value, w.opt.TempTTL)
			case c.pexpire:
				pipe.PExpire(ctx, tmp, w.opt.TempTTL)
			case o.Fields != nil:
				pipe.HSet(ctx, tmp, fieldArgs(o.Fields)...)
			default:
				pipe.ZAdd(ctx, tmp, o.Members[c.lo:c.hi]...)
			}
		}
		cmds, err := pipe.Exec(ctx)
		return txError(cmds, err)
	})
	if err != nil {
		return fmt.Errorf("writing temporary keys of account %s: %w", tx[0].a.Account, err)
	}
	return nil
}

// fieldArgs returns the arguments of the HSET of fields: name, value, ...
// in the order of fields, which is the order Redis keeps them in.
func fieldArgs(fields []Field) []any {
	args := make([]any, 0, 2*len(fields))
	for _, f := range fields {
		args = append(args, f.Name, f.Value)
	}
	return args
}

// Commit swaps every account in, in account order, each with one MULTI/EXEC
// under WATCH of its temporary keys (and of the keys it unions into):
// RENAME over the old keys, unions, PFMERGEs, deletes. Readers see all of an
// account's new keys or none.
//
// Once it has begun, Commit goes on when ctx is cancelled, so that an
// interrupt does not leave some accounts swapped in and others not; it stops
// only when Redis fails for a reason that is not transient, or for longer
// than the retry budget, or fails after ctx was cancelled. A transaction
// whose reply was lost is resolved by looking at its temporary keys: gone
// means it ran. A failure is a *CommitError saying which accounts were
// swapped in and which were not; Commit may be called again to swap in the
// rest, or Abort to drop them. When ctx is cancelled before Commit begins,
// nothing is swapped in.
func (p *Prepared) Commit(ctx context.Context) (Stats, error) {
	if p.aborted {
		return p.stats, errors.New("redis: Commit after Abort")
	}
	committed := func() []string {
		var out []string
		for _, a := range p.accts {
			if a.committed {
				out = append(out, a.Account)
			}
		}
		return out
	}
	pending := func(from int) []string {
		var out []string
		for _, a := range p.accts[from:] {
			if !a.committed {
				out = append(out, a.Account)
			}
		}
		return out
	}
	if err := ctx.Err(); err != nil {
		return p.stats, &CommitError{Committed: committed(), Pending: pending(0), Err: err}
	}
	swapCtx := context.WithoutCancel(ctx)
	for i, a := range p.accts {
		if a.committed {
			continue
		}
		unknown, err := p.commitAccount(swapCtx, ctx, a)
		if err != nil {
			ce := &CommitError{Committed: committed(), Err: err}
			if unknown {
				ce.Unknown = a.Account
				ce.Pending = pending(i + 1)
			} else {
				ce.Pending = pending(i)
			}
			return p.stats, ce
		}
		a.committed = true
	}
	return p.stats, nil
}

// commitAccount swaps in the keys of a, retrying transient failures. It
// returns unknown true when it failed after sending an EXEC whose outcome
// it could not learn.
func (p *Prepared) commitAccount(ctx, stop context.Context, a *acctWork) (unknown bool, err error) {
	w := p.w
	if testHooks.swap != nil {
		testHooks.swap(a.Account)
	}
	var values map[*KeyOp][]byte
	ran := func(ctx context.Context) (bool, error) {
		if !a.maybeRan || len(a.tmps) == 0 {
			return false, nil // unknown, or not run: the swap is idempotent
		}
		n, err := existing(ctx, w.c, a.tmps)
		switch {
		case err != nil:
			return false, err
		case n == 0:
			return true, nil // EXEC ran; only its reply was lost
		case n < len(a.tmps):
			return false, fmt.Errorf("%d of %d temporary keys left: %w", n, len(a.tmps), ErrTempExpired)
		}
		a.maybeRan = false
		return false, nil
	}
	err = w.retry(ctx, stop, "swap", &p.stats, func(ctx context.Context) error {
		if done, err := ran(ctx); done || err != nil {
			values = nil
			return err
		}
		v, err := p.swap(ctx, a, &a.maybeRan)
		values = v
		return err
	})
	if err != nil {
		var ce *CommandError
		if errors.As(err, &ce) || errors.Is(err, goredis.TxFailedErr) || errors.Is(err, ErrTempExpired) {
			a.maybeRan = false // the server refused or aborted it
		}
		if !a.maybeRan {
			return false, err
		}
		// The connection failed (or the run was cancelled) after an EXEC
		// was sent: one more look.
		done, cerr := ran(ctx)
		switch {
		case cerr == nil && done:
			values = nil // it ran after all
		case cerr == nil && !a.maybeRan, errors.Is(cerr, ErrTempExpired):
			return false, err // every temporary key, or some, still there: it did not run
		default:
			return true, err
		}
	}
	p.count(a, values)
	return false, nil
}

// swap runs one attempt at swapping in the keys of a, in one transaction.
// It WATCHes the account's temporary keys, so that the transaction does not
// run when one of them expired, and the keys it unions into, so that it
// does not overwrite a change made after it read them. It returns the values
// of the unions and of the unchanged replacements (see queueSwap).
//
// It sets *sent before it sends EXEC.
func (p *Prepared) swap(ctx context.Context, a *acctWork, sent *bool) (map[*KeyOp][]byte, error) {
	w := p.w
	watch := slices.Clone(a.tmps)
	for _, o := range a.Ops {
		if o.Kind == Union {
			watch = append(watch, o.Key)
		}
	}
	if len(watch) == 0 { // Deletes only.
		*sent = true
		cmds, err := w.c.TxPipelined(ctx, func(pipe goredis.Pipeliner) error {
			p.queueSwap(ctx, pipe, a, nil)
			return nil
		})
		return nil, txError(cmds, err)
	}
	var values map[*KeyOp][]byte
	err := w.c.Watch(ctx, func(tx *goredis.Tx) error {
		if err := p.checkTemps(ctx, tx, a); err != nil {
			return err
		}
		if err := checkMergeTargets(ctx, tx, a); err != nil {
			return err
		}
		unions, err := unions(ctx, tx, a)
		if err != nil {
			return err
		}
		same, err := unchanged(ctx, tx, a)
		if err != nil {
			return err
		}
		for o := range same {
			unions[o] = nil
		}
		values = unions
		*sent = true
		cmds, err := tx.TxPipelined(ctx, func(pipe goredis.Pipeliner) error {
			p.queueSwap(ctx, pipe, a, unions)
			return nil
		})
		return txError(cmds, err)
	}, watch...)
	return values, watchError(err, watch[0])
}

// checkTemps fails with ErrTempExpired when a temporary key of a is gone.
func (p *Prepared) checkTemps(ctx context.Context, c goredis.Cmdable, a *acctWork) error {
	n, err := existing(ctx, c, a.tmps)
	if err != nil {
		return err
	}
	if n != len(a.tmps) {
		return fmt.Errorf("%d of %d temporary keys left: %w", n, len(a.tmps), ErrTempExpired)
	}
	return nil
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

// errNotHLL is wrapped by the error for a key to merge into that holds
// something else than a HyperLogLog.
var errNotHLL = errors.New("cannot PFMERGE into it")

// checkMergeTargets fails when a key to PFMERGE into exists but is not a
// HyperLogLog: PFMERGE would fail inside the transaction, after the commands
// before it had run.
func checkMergeTargets(ctx context.Context, tx *goredis.Tx, a *acctWork) error {
	var targets []string
	for _, o := range a.Ops {
		if o.Kind == Merge {
			targets = append(targets, o.Key)
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
		case isWrongType(herr):
			return fmt.Errorf("key %s exists and is not a HyperLogLog (not a string): %w", k, errNotHLL)
		case herr != nil:
			return cmdError([]goredis.Cmder{heads[i]}, herr)
		case v != "" && v != "HYLL":
			return fmt.Errorf("key %s exists and is not a HyperLogLog: %w", k, errNotHLL)
		}
	}
	return err
}

func isWrongType(err error) bool { return goredis.HasErrorPrefix(err, "WRONGTYPE") }

// unions reads the keys of a's Union ops and returns, per op, the value to
// SET: the union of the key's registers and the op's, or nil when the key
// holds them all already (it is then left as it is, byte for byte).
func unions(ctx context.Context, tx *goredis.Tx, a *acctWork) (map[*KeyOp][]byte, error) {
	var ops []*KeyOp
	for _, o := range a.Ops {
		if o.Kind == Union {
			ops = append(ops, o)
		}
	}
	out := make(map[*KeyOp][]byte, len(ops))
	if len(ops) == 0 {
		return out, nil
	}
	gets := make([]*goredis.StringCmd, len(ops))
	cmds, err := tx.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, o := range ops {
			gets[i] = p.Get(ctx, o.Key)
		}
		return nil
	})
	if err != nil && !errors.Is(err, goredis.Nil) && !isWrongType(err) {
		return nil, fmt.Errorf("reading keys to merge into: %w", cmdError(cmds, err))
	}
	for i, o := range ops {
		cur, err := gets[i].Bytes()
		switch {
		case errors.Is(err, goredis.Nil):
			out[o] = o.Value
			continue
		case isWrongType(err):
			return nil, fmt.Errorf("key %s exists and is not a HyperLogLog (not a string): %w", o.Key, errNotHLL)
		case err != nil:
			return nil, fmt.Errorf("reading %s: %w", o.Key, err)
		}
		have, err := hll.ParseRedis(cur)
		if err != nil {
			return nil, fmt.Errorf("key %s exists and is not a HyperLogLog: %w: %w", o.Key, errNotHLL, err)
		}
		ours, err := hll.ParseRedis(o.Value)
		if err != nil {
			return nil, fmt.Errorf("key %s: %w", o.Key, err)
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
func unchanged(ctx context.Context, tx *goredis.Tx, a *acctWork) (map[*KeyOp]bool, error) {
	var ops []*KeyOp
	for _, o := range a.Ops {
		if o.Kind == Replace && o.HLL {
			ops = append(ops, o)
		}
	}
	same := map[*KeyOp]bool{}
	const chunkSize = 1000 // GETs per round trip
	for i := 0; i < len(ops); i += chunkSize {
		chunk := ops[i:min(i+chunkSize, len(ops))]
		gets := make([]*goredis.StringCmd, len(chunk))
		cmds, err := tx.Pipelined(ctx, func(p goredis.Pipeliner) error {
			for j, o := range chunk {
				gets[j] = p.Get(ctx, o.Key)
			}
			return nil
		})
		if err != nil && !errors.Is(err, goredis.Nil) && !isWrongType(err) {
			return nil, fmt.Errorf("reading keys to replace: %w", cmdError(cmds, err))
		}
		for j, o := range chunk {
			if cur, err := gets[j].Bytes(); err == nil && sameHLL(cur, o.Value) {
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

// queueSwap queues the swap of every key of a; values holds the values of
// its Union ops (see unions), nil for those unchanged, and nil for the
// Replace ops whose key holds the value already.
func (p *Prepared) queueSwap(ctx context.Context, pipe goredis.Pipeliner, a *acctWork, values map[*KeyOp][]byte) {
	for i, o := range a.Ops {
		tmp := a.tmp[i]
		switch o.Kind {
		case Replace:
			if v, ok := values[o]; ok && v == nil { // unchanged: keep the key
				pipe.Del(ctx, tmp)
				if o.TTL > 0 {
					pipe.PExpire(ctx, o.Key, o.TTL)
				} else {
					pipe.Persist(ctx, o.Key)
				}
				continue
			}
			if o.TTL > 0 {
				pipe.PExpire(ctx, tmp, o.TTL)
			} else {
				pipe.Persist(ctx, tmp)
			}
			pipe.Rename(ctx, tmp, o.Key)
		case Merge:
			pipe.PFMerge(ctx, o.Key, tmp)
			pipe.Del(ctx, tmp)
			if o.TTL > 0 {
				pipe.PExpire(ctx, o.Key, o.TTL)
			}
		case Union:
			if v := values[o]; v != nil {
				if o.TTL > 0 {
					pipe.Set(ctx, o.Key, v, o.TTL)
				} else {
					pipe.SetArgs(ctx, o.Key, v, goredis.SetArgs{KeepTTL: true})
				}
			} else if o.TTL > 0 {
				pipe.PExpire(ctx, o.Key, o.TTL)
			}
		case Delete:
			pipe.Del(ctx, o.Key)
		}
	}
}

// count adds the account's swapped keys to the statistics; values is as
// for queueSwap.
func (p *Prepared) count(a *acctWork, values map[*KeyOp][]byte) {
	st := &p.stats
	for _, o := range a.Ops {
		if v, ok := values[o]; ok && v == nil {
			st.Unchanged++
		}
		switch o.Kind {
		case Replace:
			st.Replaced++
		case Merge, Union:
			st.Merged++
		case Delete:
			st.Deleted++
		}
	}
}

// Abort deletes the temporary keys of the accounts not swapped in, also
// when ctx was cancelled (within a short bound of its own). What it cannot
// delete expires after Options.TempTTL; the error says so. A Prepared
// cannot be committed after Abort.
func (p *Prepared) Abort(ctx context.Context) error {
	w := p.w
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	var first error
	for _, a := range p.accts {
		if a.committed {
			continue
		}
		for i := 0; i < len(a.tmps); i += 1000 {
			if err := w.c.Del(ctx, a.tmps[i:min(i+1000, len(a.tmps))]...).Err(); err != nil {
				if first == nil {
					first = fmt.Errorf("deleting temporary keys of account %s (they expire within %s): %w", a.Account, w.opt.TempTTL, err)
				}
				break
			}
		}
		a.tmps = nil
	}
	p.aborted = true
	return first
}

// Stats returns what Prepare (and Commit, when it ran) did so far.
func (p *Prepared) Stats() Stats { return p.stats }

// Accounts returns the accounts of the run, in the order Commit swaps them.
func (p *Prepared) Accounts() []string {
	out := make([]string, len(p.accts))
	for i, a := range p.accts {
		out[i] = a.Account
	}
	return out
}

// testHooks are set by tests (export_test.go): flush is called before each
// transaction of temporary writes with its number, retry before each wait
// after a transient failure, swap before the swap of each account.
var testHooks struct {
	flush func(roundTrip int)
	retry func(what string, err error)
	swap  func(account string)
}
