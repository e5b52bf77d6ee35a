package redis

import (
	"context"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/pvjobs/pvjobs/mapreduce/hll"
)

// checkTTL is the expiry of the probe keys of Check: what a killed check
// leaves behind disappears after it.
const checkTTL = time.Minute

// Check runs, before any data is read, every command that writing and
// swapping in reports needs, on probe keys of its own in the slot of an
// account, as temporary keys of a run of its own:
// prefix:{account}:tmp:RUN:check:... It probes one account per server: the
// first of accounts ("pvjobs" when none is given), and for a Redis Cluster
// the first in each master's slots. The commands are PING, SET with an
// expiry, MULTI/EXEC, GET, GETRANGE, EXISTS, ZADD, HSET, PEXPIRE, WATCH,
// UNWATCH, PERSIST, PFMERGE, SET KEEPTTL, RENAME and DEL; every probe key
// has an expiry at every moment, and Check deletes them at the end. It
// returns the first error, a *CommandError naming the command when the
// server refused one: NOPERM (an ACL user without a command, a
// category such as +@transaction, or the key pattern), READONLY (a
// replica), OOM (maxmemory reached with noeviction), ... It does not retry.
func Check(ctx context.Context, c goredis.UniversalClient, k Keys, accounts ...string) error {
	if err := c.Ping(ctx).Err(); err != nil {
		return wrapCmd("PING", "", err)
	}
	for _, a := range probeAccounts(ctx, c, k, accounts) {
		if err := checkAccount(ctx, c, k, a); err != nil {
			return err
		}
	}
	return nil
}

// probeAccounts returns the accounts whose slots Check probes, one per
// server: the first account for a single server, the first in each
// master's slots for a Redis Cluster; "pvjobs" when there are none.
func probeAccounts(ctx context.Context, c goredis.UniversalClient, k Keys, accounts []string) []string {
	if len(accounts) == 0 {
		return []string{"pvjobs"}
	}
	cc, ok := c.(*goredis.ClusterClient)
	if !ok {
		return accounts[:1]
	}
	var out []string
	seen := map[string]bool{}
	for _, a := range accounts {
		m, err := cc.MasterForKey(ctx, k.Key(a, "check", "x"))
		if err != nil { // Check's own commands will say why
			return append(out, a)
		}
		if addr := m.Options().Addr; !seen[addr] {
			seen[addr] = true
			out = append(out, a)
		}
	}
	return out
}

// checkAccount runs the commands of Check on probe keys in a's slot.
func checkAccount(ctx context.Context, c goredis.UniversalClient, k Keys, account string) error {
	run := newRunID()
	sketch := k.TempKey(run, account, "check", "uv")
	set := k.TempKey(run, account, "check", "zset")
	hash := k.TempKey(run, account, "check", "hash")
	renamed := k.TempKey(run, account, "check", "renamed")
	defer func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		defer cancel()
		c.Del(ctx, sketch, set, hash, renamed) // The expiry removes them otherwise.
	}()
	// A write first (a replica, a full memory, a key pattern of the ACL
	// refuse it), with its expiry.
	value := hll.New().AppendRedis(nil)
	if err := c.Set(ctx, sketch, value, checkTTL).Err(); err != nil {
		return wrapCmd("SET", sketch, err)
	}
	// Then MULTI: were it refused, the commands queued after it would run
	// one by one, a probe key for a moment without its expiry.
	cmds, err := c.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		p.Exists(ctx, sketch)
		return nil
	})
	if err := txError(cmds, err); err != nil {
		return err
	}
	cmds, err = c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		p.Get(ctx, sketch)
		p.GetRange(ctx, sketch, 0, 3)
		p.Exists(ctx, sketch, set)
		return nil
	})
	if err != nil {
		return cmdError(cmds, err)
	}
	cmds, err = c.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		p.ZAdd(ctx, set, goredis.Z{Score: 1, Member: "m"})
		p.PExpire(ctx, set, checkTTL)
		p.HSet(ctx, hash, "f", 1)
		p.PExpire(ctx, hash, checkTTL)
		return nil
	})
	if err := txError(cmds, err); err != nil {
		return err
	}
	// As a swap: WATCH, read, then one transaction.
	err = c.Watch(ctx, func(tx *goredis.Tx) error {
		if err := tx.Unwatch(ctx).Err(); err != nil {
			return wrapCmd("UNWATCH", "", err)
		}
		if err := tx.Watch(ctx, sketch, set).Err(); err != nil {
			return wrapCmd("WATCH", sketch, err)
		}
		if err := tx.Get(ctx, sketch).Err(); err != nil {
			return wrapCmd("GET", sketch, err)
		}
		cmds, err := tx.TxPipelined(ctx, func(p goredis.Pipeliner) error {
			p.Persist(ctx, set)
			p.PExpire(ctx, set, checkTTL)
			p.PFMerge(ctx, sketch, sketch)
			p.SetArgs(ctx, sketch, value, goredis.SetArgs{KeepTTL: true})
			p.Rename(ctx, set, renamed)
			p.Del(ctx, sketch)
			return nil
		})
		return txError(cmds, err)
	}, sketch)
	return watchError(err, sketch)
}

// watchError returns the error of a goredis Watch on key, naming WATCH when
// the server refused it (errors of the function are CommandErrors already).
func watchError(err error, key string) error {
	var ce *CommandError
	if err != nil && isReply(err) && !errors.As(err, &ce) && !errors.Is(err, goredis.TxFailedErr) {
		return &CommandError{Command: "WATCH", Key: key, Err: err}
	}
	return err
}

// wrapCmd returns err of the command name on key: a *CommandError for an
// error reply, else err with the command's name.
func wrapCmd(name, key string, err error) error {
	if err == nil {
		return nil
	}
	if isReply(err) {
		return &CommandError{Command: name, Key: key, Err: err}
	}
	if key == "" {
		return fmt.Errorf("%s: %w", name, err)
	}
	return fmt.Errorf("%s %s: %w", name, key, err)
}

// txError is cmdError for a transaction: when MULTI or EXEC itself was
// refused, every command carries that error, and the error names
// MULTI/EXEC (the reply says which).
func txError(cmds []goredis.Cmder, err error) error {
	if err == nil {
		return nil
	}
	if isReply(err) && !goredis.IsExecAbortError(err) && !errors.Is(err, goredis.TxFailedErr) {
		all := true
		for _, c := range cmds {
			all = all && c.Err() == err
		}
		if all {
			return &CommandError{Command: "MULTI/EXEC", Err: err}
		}
	}
	return cmdError(cmds, err)
}
