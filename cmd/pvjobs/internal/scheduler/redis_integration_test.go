package scheduler_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/scheduler"
	"github.com/pvjobs/pvjobs/reports/redis/redistest"
)

// The tests in this file run against a real Redis at $PVJOBS_REDIS_ADDR
// (see package reports/redis/redistest).

// redisClient returns a new client of the test server (one per simulated
// machine) and a key prefix unique to the test, whose keys are deleted when
// the test ends.
func redisClient(t *testing.T) (func() *redis.Client, string) {
	t.Helper()
	addr := redistest.Addr(t)
	newClient := func() *redis.Client {
		c := redis.NewClient(&redis.Options{Addr: addr, DisableIdentity: true})
		t.Cleanup(func() { c.Close() })
		return c
	}
	c := newClient()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("PING redis at PVJOBS_REDIS_ADDR=%s: %v", addr, err)
	}
	prefix := fmt.Sprintf("pvjobs:test:schedule:%d:%d:%s:", os.Getpid(), time.Now().UnixNano(), t.Name())
	t.Cleanup(func() {
		keys, _ := c.Keys(context.Background(), prefix+"*").Result()
		if len(keys) > 0 {
			c.Del(context.Background(), keys...)
		}
	})
	return newClient, prefix
}

func TestRedisLocker(t *testing.T) {
	newClient, prefix := redisClient(t)
	ctx := context.Background()
	// Long enough for refreshes under -race on a busy machine.
	const ttl = time.Second
	// Two machines, each with its own connection.
	a := &scheduler.RedisLocker{Client: newClient(), Prefix: prefix, TTL: ttl}
	b := &scheduler.RedisLocker{Client: newClient(), Prefix: prefix, TTL: ttl}
	raw := newClient()
	key := prefix + "lock:nightly"

	t.Run("exclusive", func(t *testing.T) {
		la, ok, err := a.TryLock(ctx, "nightly")
		if err != nil || !ok {
			t.Fatalf("a: TryLock = %v, %v", ok, err)
		}
		if _, ok, err := b.TryLock(ctx, "nightly"); err != nil || ok {
			t.Fatalf("b: TryLock while a holds = %v, %v; want false", ok, err)
		}
		if _, ok, _ := b.TryLock(ctx, "weekly"); !ok {
			t.Fatal("b: another job's lock is blocked")
		}
		if err := la.Unlock(ctx); err != nil {
			t.Fatal(err)
		}
		lb, ok, err := b.TryLock(ctx, "nightly")
		if err != nil || !ok {
			t.Fatalf("b: TryLock after a's Unlock = %v, %v", ok, err)
		}
		lb.Unlock(ctx)
		raw.Del(ctx, prefix+"lock:weekly")
	})

	t.Run("refreshed while held", func(t *testing.T) {
		// Watch the key's expiry go back up at each refresh, until the
		// lock has lived past its TTL twice over: no sleep, and an expiry
		// long enough for a busy machine (refreshes come every TTL/3).
		const ttl = 3 * time.Second
		a := &scheduler.RedisLocker{Client: a.Client, Prefix: prefix, TTL: ttl}
		la, ok, _ := a.TryLock(ctx, "nightly")
		if !ok {
			t.Fatal("a: TryLock failed")
		}
		defer la.Unlock(ctx)
		start, refreshes := time.Now(), 0
		prev := raw.PTTL(ctx, key).Val()
		for time.Since(start) < 2*ttl {
			pttl := raw.PTTL(ctx, key).Val()
			if pttl <= 0 || pttl > ttl {
				t.Fatalf("PTTL %s after %s; want in (0, %s]", pttl, time.Since(start), ttl)
			}
			if pttl > prev {
				refreshes++
			}
			prev = pttl
			time.Sleep(5 * time.Millisecond) // a polling period, not to hammer the shared server
		}
		if refreshes < 3 {
			t.Errorf("%d refreshes in %s; want one every %s", refreshes, 2*ttl, ttl/3)
		}
		if _, ok, _ := b.TryLock(ctx, "nightly"); ok {
			t.Fatal("b took a lock a holds and refreshes")
		}
		select {
		case <-la.Lost():
			t.Fatal("a's lock is lost")
		default:
		}
	})

	t.Run("expires when the holder dies", func(t *testing.T) {
		// A holder that died: its key, never refreshed.
		if err := raw.SetNX(ctx, key, "dead-host:1:0", ttl).Err(); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := b.TryLock(ctx, "nightly"); ok {
			t.Fatal("b took a live lock")
		}
		deadline := time.Now().Add(10 * ttl)
		for {
			lb, ok, err := b.TryLock(ctx, "nightly")
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				lb.Unlock(ctx)
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the dead holder's lock did not expire")
			}
			time.Sleep(ttl / 10)
		}
	})

	t.Run("fence: the lock expired while its holder ran", func(t *testing.T) {
		la, ok, _ := a.TryLock(ctx, "nightly")
		if !ok {
			t.Fatal("a: TryLock failed")
		}
		defer la.Unlock(ctx)
		if err := la.Fence(ctx); err != nil {
			t.Fatalf("a: Fence while held: %v", err)
		}
		if pttl := raw.PTTL(ctx, key).Val(); pttl <= ttl*2/3 {
			t.Errorf("PTTL after Fence %s; want the lock extended to about %s", pttl, ttl)
		}
		// a stalls past the expiry (a GC pause, a partition): the key
		// expires and b takes the lock and runs the slot too.
		raw.PExpire(ctx, key, time.Millisecond)
		var lb scheduler.Lock
		for deadline := time.Now().Add(10 * ttl); ; {
			if lb, ok, _ = b.TryLock(ctx, "nightly"); ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("b could not take the expired lock")
			}
		}
		defer lb.Unlock(ctx)
		// Both are about to commit: only the holder may.
		if err := la.Fence(ctx); !errors.Is(err, scheduler.ErrLockLost) {
			t.Errorf("a: Fence after its lock expired: %v; want ErrLockLost", err)
		}
		select {
		case <-la.Lost():
		default:
			t.Error("a's Fence found the lock gone but Lost is open")
		}
		if err := lb.Fence(ctx); err != nil {
			t.Errorf("b: Fence: %v", err)
		}
		if err := la.Fence(ctx); !errors.Is(err, scheduler.ErrLockLost) {
			t.Errorf("a: second Fence: %v; want ErrLockLost", err)
		}
	})

	t.Run("lost lock", func(t *testing.T) {
		// A longer expiry: b's key must outlive a busy machine's pauses
		// while a notices, at a refresh, that it lost the lock.
		a := &scheduler.RedisLocker{Client: a.Client, Prefix: prefix, TTL: 3 * time.Second}
		b := &scheduler.RedisLocker{Client: b.Client, Prefix: prefix, TTL: 3 * time.Second}
		la, ok, _ := a.TryLock(ctx, "nightly")
		if !ok {
			t.Fatal("a: TryLock failed")
		}
		// The key goes (expired during a network partition, say) and b
		// takes the lock.
		raw.Del(ctx, key)
		lb, ok, _ := b.TryLock(ctx, "nightly")
		if !ok {
			t.Fatal("b: TryLock failed")
		}
		select {
		case <-la.Lost():
		case <-time.After(10 * a.TTL):
			t.Fatal("a did not notice it lost the lock")
		}
		// a's Unlock must not release b's lock.
		if err := la.Unlock(ctx); err != nil {
			t.Fatal(err)
		}
		if n := raw.Exists(ctx, key).Val(); n != 1 {
			t.Fatal("a's stale Unlock deleted b's lock")
		}
		lb.Unlock(ctx)
		if n := raw.Exists(ctx, key).Val(); n != 0 {
			t.Fatal("b's Unlock left the key")
		}
	})
}

func TestRedisStore(t *testing.T) {
	newClient, prefix := redisClient(t)
	testStore(t, &scheduler.RedisStore{Client: newClient(), Prefix: prefix})
}

// TestRedisTwoSchedulers runs two schedulers, each with its own Redis
// connection (two machines), on the same job: the slot runs once; the other
// scheduler waits for the lock and then finds the slot done.
func TestRedisTwoSchedulers(t *testing.T) {
	newClient, prefix := redisClient(t)
	h := newHarness(t, time.Date(2024, 8, 7, 12, 0, 0, 0, time.UTC))
	release := make(chan struct{})
	h.block["nightly"] = release
	job := scheduler.Job{Name: "nightly", Schedule: mustParse(t, "0 2 * * *", time.UTC)}
	for range 2 {
		c := newClient()
		cfg := h.config(job)
		cfg.Locker = &scheduler.RedisLocker{Client: c, Prefix: prefix, TTL: time.Second}
		cfg.Store = &scheduler.RedisStore{Client: c, Prefix: prefix}
		h.start(cfg)
	}
	if !h.clock.BlockUntil(2, wait) {
		t.Fatal("both schedulers should wait")
	}
	h.clock.Set(time.Date(2024, 8, 8, 2, 0, 0, 0, time.UTC))
	kinds := map[scheduler.EventKind]int{}
	for range 2 {
		kinds[h.event().Kind]++
	}
	if kinds[scheduler.EventStarted] != 1 || kinds[scheduler.EventWaiting] != 1 {
		t.Fatalf("events %v; want one started and one waiting", kinds)
	}
	close(release)
	h.expect(scheduler.EventSucceeded, "nightly", "2024-08-07T00:00:00Z", "2024-08-08T00:00:00Z")
	h.next("2024-08-08T02:00:10Z")
	if ev := h.expect(scheduler.EventSkipped, "nightly", "2024-08-07T00:00:00Z", "2024-08-08T00:00:00Z"); !errors.Is(ev.Err, scheduler.ErrAlreadyDone) {
		t.Errorf("skipped with %v; want ErrAlreadyDone", ev.Err)
	}
	last, err := (&scheduler.RedisStore{Client: newClient(), Prefix: prefix}).Last(context.Background(), "nightly")
	if err != nil || !last.Equal(time.Date(2024, 8, 8, 2, 0, 0, 0, time.UTC)) {
		t.Errorf("last done slot in Redis: %s, %v", last, err)
	}
}
