package scheduler

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultLockTTL is the expiry of a Redis lock: a scheduler that dies holding
// a lock blocks the job on other machines at most this long.
const DefaultLockTTL = time.Minute

// DefaultPrefix starts the Redis keys of locks and state.
const DefaultPrefix = "pvjobs:scheduler:"

// refreshScript extends the lock's expiry if the caller still holds it.
var refreshScript = redis.NewScript(`
if redis.call("get", KEYS[1]) == ARGV[1] then
	return redis.call("pexpire", KEYS[1], ARGV[2])
end
return 0`)

// unlockScript deletes the lock if the caller still holds it: a lock that
// expired and was taken by another scheduler is left alone.
var unlockScript = redis.NewScript(`
if redis.call("get", KEYS[1]) == ARGV[1] then
	return redis.call("del", KEYS[1])
end
return 0`)

// RedisLocker is a Locker across processes and machines: a lock is a Redis key
// set with SET key token NX PX ttl, refreshed every TTL/3 while held, and
// deleted on Unlock only by its holder (compare-and-delete in Lua). A holder
// that dies stops refreshing, and the key expires after TTL.
type RedisLocker struct {
	Client redis.UniversalClient
	// Prefix starts the lock keys: Prefix + "lock:" + key (default
	// DefaultPrefix).
	Prefix string
	// TTL is the lock's expiry (default DefaultLockTTL).
	TTL time.Duration
}

func (r *RedisLocker) ttl() time.Duration {
	if r.TTL > 0 {
		return r.TTL
	}
	return DefaultLockTTL
}

func prefix(p string) string {
	if p == "" {
		return DefaultPrefix
	}
	return p
}

// TryLock takes key unless another holder has it.
func (r *RedisLocker) TryLock(ctx context.Context, key string) (Lock, bool, error) {
	k := prefix(r.Prefix) + "lock:" + key
	token, err := newToken()
	if err != nil {
		return nil, false, err
	}
	ttl := r.ttl()
	ok, err := r.Client.SetNX(ctx, k, token, ttl).Result()
	if err != nil {
		return nil, false, fmt.Errorf("taking lock %s: %w", k, err)
	}
	if !ok {
		return nil, false, nil
	}
	l := &redisLock{c: r.Client, key: k, token: token, ttl: ttl, lost: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
	go l.refresh()
	return l, true, nil
}

// newToken returns a value unique to one holding of a lock; it names the host
// and process, for whoever looks at the key.
func newToken() (string, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	host, _ := os.Hostname()
	return host + ":" + strconv.Itoa(os.Getpid()) + ":" + hex.EncodeToString(b[:]), nil
}

type redisLock struct {
	c          redis.UniversalClient
	key, token string
	ttl        time.Duration
	lost       chan struct{}
	lostOnce   sync.Once
	stop       chan struct{}
	done       chan struct{}
	once       sync.Once
}

func (l *redisLock) Lost() <-chan struct{} { return l.lost }

func (l *redisLock) markLost() { l.lostOnce.Do(func() { close(l.lost) }) }

// Fence extends the key's expiry if it still holds this lock's token, in one
// script: the holder then has a full TTL to commit before anyone else can
// take the lock. A key that is gone or holds another token means the lock
// expired (the holder stalled, or was cut off from Redis, for longer than
// its TTL) and another scheduler may run the slot.
func (l *redisLock) Fence(ctx context.Context) error {
	select {
	case <-l.lost:
		return fmt.Errorf("%w: %s", ErrLockLost, l.key)
	default:
	}
	n, err := refreshScript.Run(ctx, l.c, []string{l.key}, l.token, l.ttl.Milliseconds()).Int()
	if err != nil {
		return fmt.Errorf("checking lock %s before the commit: %w", l.key, err)
	}
	if n != 1 {
		l.markLost()
		return fmt.Errorf("%w: %s expired and is no longer this run's", ErrLockLost, l.key)
	}
	return nil
}

// refresh extends the expiry every ttl/3 until Unlock; when the key is gone
// or another holder's, or no refresh succeeded for a whole ttl, the lock is
// lost.
func (l *redisLock) refresh() {
	defer close(l.done)
	t := time.NewTicker(l.ttl / 3)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), l.ttl/3)
		n, err := refreshScript.Run(ctx, l.c, []string{l.key}, l.token, l.ttl.Milliseconds()).Int()
		cancel()
		switch {
		case err == nil && n == 1:
			last = time.Now()
			continue
		case err == nil, time.Since(last) >= l.ttl:
			l.markLost()
			return
		}
	}
}

func (l *redisLock) Unlock(ctx context.Context) error {
	var err error
	l.once.Do(func() {
		close(l.stop)
		<-l.done
		if e := unlockScript.Run(ctx, l.c, []string{l.key}, l.token).Err(); e != nil && !errors.Is(e, redis.Nil) {
			err = fmt.Errorf("releasing lock %s: %w", l.key, e)
		}
	})
	return err
}

// doneScript records a slot (Unix seconds) unless a later one is recorded.
var doneScript = redis.NewScript(`
local cur = redis.call("get", KEYS[1])
if not cur or tonumber(cur) < tonumber(ARGV[1]) then
	redis.call("set", KEYS[1], ARGV[1])
	return 1
end
return 0`)

// RedisStore is a Store in Redis, shared by schedulers on several machines:
// the key Prefix + "done:" + job holds the last done slot in Unix seconds.
type RedisStore struct {
	Client redis.UniversalClient
	// Prefix starts the keys (default DefaultPrefix).
	Prefix string
}

// Last returns the latest slot recorded for job.
func (r *RedisStore) Last(ctx context.Context, job string) (time.Time, error) {
	k := prefix(r.Prefix) + "done:" + job
	s, err := r.Client.Get(ctx, k).Int64()
	if errors.Is(err, redis.Nil) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("reading %s: %w", k, err)
	}
	return time.Unix(s, 0), nil
}

// Done records slot for job unless a later slot is recorded.
func (r *RedisStore) Done(ctx context.Context, job string, slot time.Time) error {
	k := prefix(r.Prefix) + "done:" + job
	if err := doneScript.Run(ctx, r.Client, []string{k}, slot.Unix()).Err(); err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("writing %s: %w", k, err)
	}
	return nil
}
