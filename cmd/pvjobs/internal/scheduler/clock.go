package scheduler

import (
	"sync"
	"time"
)

// Clock tells the time and wakes the scheduler at instants. It is called from
// the scheduler's goroutines concurrently.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// At returns a channel that receives one value when the clock reaches t,
	// at once when t is not in the future, and a function that releases the
	// timer when the caller stops waiting. The channel may also fire before
	// t (a real clock wakes at least once a minute, to notice wall-clock
	// jumps), so callers check Now again.
	At(t time.Time) (<-chan time.Time, func())
}

// maxSleep bounds how long the real clock sleeps before the scheduler checks
// the wall clock again: timers run on the monotonic clock, which stops while a
// machine is suspended and ignores the wall clock being set.
const maxSleep = time.Minute

// Real is the system clock.
var Real Clock = realClock{}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) At(t time.Time) (<-chan time.Time, func()) {
	d := time.Until(t)
	if d > maxSleep {
		d = maxSleep
	}
	tm := time.NewTimer(d)
	return tm.C, func() { tm.Stop() }
}

// FakeClock is a Clock for tests: time stands still until Set or Advance moves
// it. It is safe for concurrent use.
type FakeClock struct {
	mu      sync.Mutex
	now     time.Time
	timers  map[*fakeTimer]struct{}
	changed chan struct{} // closed and replaced whenever timers change
}

type fakeTimer struct {
	at time.Time
	c  chan time.Time
}

// NewFakeClock returns a FakeClock that reads now.
func NewFakeClock(now time.Time) *FakeClock {
	return &FakeClock{now: now, timers: map[*fakeTimer]struct{}{}, changed: make(chan struct{})}
}

// Now returns the fake time.
func (f *FakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// At returns a channel that receives when the fake time reaches t.
func (f *FakeClock) At(t time.Time) (<-chan time.Time, func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := make(chan time.Time, 1)
	if !t.After(f.now) {
		c <- f.now
		return c, func() {}
	}
	tm := &fakeTimer{at: t, c: c}
	f.timers[tm] = struct{}{}
	f.notify()
	return c, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if _, ok := f.timers[tm]; ok {
			delete(f.timers, tm)
			f.notify()
		}
	}
}

func (f *FakeClock) notify() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// Set moves the fake time to t (forward or back) and fires the timers whose
// instant has come.
func (f *FakeClock) Set(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = t
	for tm := range f.timers {
		if !tm.at.After(t) {
			tm.c <- t
			delete(f.timers, tm)
		}
	}
	f.notify()
}

// Advance moves the fake time forward by d.
func (f *FakeClock) Advance(d time.Duration) { f.Set(f.Now().Add(d)) }

// Waiters returns the number of pending timers.
func (f *FakeClock) Waiters() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.timers)
}

// BlockUntil waits until at least n timers are pending, or until timeout
// passes (real time), and reports whether they were.
func (f *FakeClock) BlockUntil(n int, timeout time.Duration) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		f.mu.Lock()
		got, ch := len(f.timers), f.changed
		f.mu.Unlock()
		if got >= n {
			return true
		}
		select {
		case <-ch:
		case <-deadline.C:
			return false
		}
	}
}

// Next returns the instant of the earliest pending timer, and false when there
// is none.
func (f *FakeClock) Next() (time.Time, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var first time.Time
	for tm := range f.timers {
		if first.IsZero() || tm.at.Before(first) {
			first = tm.at
		}
	}
	return first, !first.IsZero()
}
