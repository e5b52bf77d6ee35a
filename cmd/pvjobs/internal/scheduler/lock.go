package scheduler

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
)

// Locker hands out named locks so that a job runs at most once at a time. The
// scheduler calls TryLock from the job's goroutine before each run.
type Locker interface {
	// TryLock takes the lock named key and returns it, or returns ok false
	// at once when someone else holds it. err is for failures to ask (a
	// lock server that does not answer), not for a held lock.
	TryLock(ctx context.Context, key string) (l Lock, ok bool, err error)
}

// Lock is a held lock.
type Lock interface {
	// Lost is closed when the lock was lost while held (it expired because
	// it could not be refreshed): the holder must stop its work.
	Lost() <-chan struct{}
	// Fence checks that the lock is still held and extends it to its full
	// expiry, just before its holder commits what it did under the lock. It
	// returns an error wrapping ErrLockLost when the lock is not held (and
	// closes Lost), another error when it cannot tell: either way the
	// holder must not commit.
	Fence(ctx context.Context) error
	// Unlock releases the lock; only the first call has an effect.
	Unlock(ctx context.Context) error
}

// LocalLocker is a Locker within one process. The zero LocalLocker is ready
// to use and safe for concurrent use.
type LocalLocker struct {
	mu   sync.Mutex
	held map[string]bool
}

// TryLock takes key unless it is held.
func (l *LocalLocker) TryLock(_ context.Context, key string) (Lock, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held[key] {
		return nil, false, nil
	}
	if l.held == nil {
		l.held = map[string]bool{}
	}
	l.held[key] = true
	return &localLock{l: l, key: key, lost: make(chan struct{})}, true, nil
}

type localLock struct {
	l        *LocalLocker
	key      string
	once     sync.Once
	lost     chan struct{} // never closed: a local lock cannot be lost
	unlocked atomic.Bool
}

func (k *localLock) Lost() <-chan struct{} { return k.lost }

// Fence fails only after Unlock: a local lock does not expire.
func (k *localLock) Fence(context.Context) error {
	if k.unlocked.Load() {
		return fmt.Errorf("%w: %s was released", ErrLockLost, k.key)
	}
	return nil
}

func (k *localLock) Unlock(context.Context) error {
	k.once.Do(func() {
		k.unlocked.Store(true)
		k.l.mu.Lock()
		delete(k.l.held, k.key)
		k.l.mu.Unlock()
	})
	return nil
}
