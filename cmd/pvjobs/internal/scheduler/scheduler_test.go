package scheduler_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/daterange"
	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/scheduler"
)

// wait is how long a test waits (real time) for the scheduler's goroutines to
// react; they react in microseconds, so it is only ever reached on failure.
const wait = 5 * time.Second

// harness runs a Scheduler on a FakeClock and records what happens.
type harness struct {
	t      *testing.T
	clock  *scheduler.FakeClock
	events chan scheduler.Event
	// waiters is how many timers are pending when every job waits.
	waiters int
	stops   []func()

	mu        sync.Mutex
	active    map[string]int
	maxActive map[string]int
	// commits counts the runs of each job that committed: that passed
	// their Fence.
	commits map[string]int
	// runErrs receives what each scheduler's Run returned.
	runErrs chan error
	// block, when set, makes runs of its job wait until it is closed or
	// their ctx is cancelled.
	block map[string]chan struct{}
	fail  map[string]error
}

func newHarness(t *testing.T, now time.Time) *harness {
	return &harness{
		t: t, clock: scheduler.NewFakeClock(now), events: make(chan scheduler.Event, 100), waiters: 1,
		active: map[string]int{}, maxActive: map[string]int{}, block: map[string]chan struct{}{}, fail: map[string]error{},
		commits: map[string]int{}, runErrs: make(chan error, 10),
	}
}

func (h *harness) run(ctx context.Context, r scheduler.Run) error {
	job := r.Job
	h.mu.Lock()
	h.active[job]++
	h.maxActive[job] = max(h.maxActive[job], h.active[job])
	block, fail := h.block[job], h.fail[job]
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		h.active[job]--
		h.mu.Unlock()
	}()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return fmt.Errorf("run %s: %w", job, ctx.Err())
		}
	}
	if fail != nil {
		return fail
	}
	// Commit, as pvjobs run does: only when the lock is still held.
	if err := r.Fence(ctx); err != nil {
		return fmt.Errorf("run %s: %w", job, err)
	}
	h.mu.Lock()
	h.commits[job]++
	h.mu.Unlock()
	return nil
}

// config returns a Config for jobs with the harness's clock, run func and
// event recorder.
func (h *harness) config(jobs ...scheduler.Job) scheduler.Config {
	return scheduler.Config{
		Jobs:    jobs,
		Run:     h.run,
		Clock:   h.clock,
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnEvent: func(ev scheduler.Event) { h.events <- ev },
	}
}

// start starts a scheduler with cfg and returns the function that stops it
// and returns what its Run returned; the test stops it when it ends.
func (h *harness) start(cfg scheduler.Config) (stop func() error) {
	h.t.Helper()
	s, err := scheduler.New(cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var once sync.Once
	var runErr error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(wait):
				h.t.Fatal("the scheduler did not stop")
			}
		})
		return runErr
	}
	h.stops = append(h.stops, func() { stop() })
	h.t.Cleanup(h.stop)
	return stop
}

// stop cancels the schedulers and waits for their Run to return.
func (h *harness) stop() {
	for _, f := range h.stops {
		f()
	}
}

// next waits until the scheduler waits for a timer, checks its instant and
// moves the clock there.
func (h *harness) next(want string) {
	h.t.Helper()
	if !h.clock.BlockUntil(h.waiters, wait) {
		h.t.Fatalf("the scheduler is not waiting for %s", want)
	}
	at, _ := h.clock.Next()
	if got := at.Format(time.RFC3339); got != want {
		h.t.Fatalf("the scheduler waits for %s; want %s", got, want)
	}
	h.clock.Set(at)
}

// event waits for the next event.
func (h *harness) event() scheduler.Event {
	h.t.Helper()
	select {
	case ev := <-h.events:
		return ev
	case <-time.After(wait):
		h.t.Fatal("no event")
	}
	return scheduler.Event{}
}

// expect waits for the next event and checks its kind, job and range.
func (h *harness) expect(kind scheduler.EventKind, job, from, to string) scheduler.Event {
	h.t.Helper()
	ev := h.event()
	got := fmt.Sprintf("%s %s [%s, %s)", ev.Kind, ev.Job, ev.Start.Format(time.RFC3339), ev.End.Format(time.RFC3339))
	want := fmt.Sprintf("%s %s [%s, %s)", kind, job, from, to)
	if got != want {
		h.t.Fatalf("event %s (err %v); want %s", got, ev.Err, want)
	}
	return ev
}

// quiet checks that no event is pending.
func (h *harness) quiet() {
	h.t.Helper()
	select {
	case ev := <-h.events:
		h.t.Fatalf("unexpected event %+v", ev)
	default:
	}
}

func TestSchedulerFires(t *testing.T) {
	berlin := loadLoc(t, "Europe/Berlin")
	h := newHarness(t, time.Date(2024, 8, 7, 12, 0, 0, 0, berlin))
	h.waiters = 2
	h.start(h.config(
		scheduler.Job{Name: "nightly", Schedule: mustParse(t, "30 2 * * *", berlin)},
		scheduler.Job{Name: "weekly", Schedule: mustParse(t, "0 3 * * 1", berlin), Window: daterange.Window{Days: 7}},
	))
	h.next("2024-08-08T02:30:00+02:00")
	h.expect(scheduler.EventStarted, "nightly", "2024-08-07T00:00:00+02:00", "2024-08-08T00:00:00+02:00")
	h.expect(scheduler.EventSucceeded, "nightly", "2024-08-07T00:00:00+02:00", "2024-08-08T00:00:00+02:00")
	h.next("2024-08-09T02:30:00+02:00")
	h.expect(scheduler.EventStarted, "nightly", "2024-08-08T00:00:00+02:00", "2024-08-09T00:00:00+02:00")
	h.expect(scheduler.EventSucceeded, "nightly", "2024-08-08T00:00:00+02:00", "2024-08-09T00:00:00+02:00")
	h.next("2024-08-10T02:30:00+02:00")
	h.expect(scheduler.EventStarted, "nightly", "2024-08-09T00:00:00+02:00", "2024-08-10T00:00:00+02:00")
	h.expect(scheduler.EventSucceeded, "nightly", "2024-08-09T00:00:00+02:00", "2024-08-10T00:00:00+02:00")
	h.next("2024-08-11T02:30:00+02:00")
	h.expect(scheduler.EventStarted, "nightly", "2024-08-10T00:00:00+02:00", "2024-08-11T00:00:00+02:00")
	h.expect(scheduler.EventSucceeded, "nightly", "2024-08-10T00:00:00+02:00", "2024-08-11T00:00:00+02:00")
	// Monday 2024-08-12: nightly first, then weekly.
	h.next("2024-08-12T02:30:00+02:00")
	h.expect(scheduler.EventStarted, "nightly", "2024-08-11T00:00:00+02:00", "2024-08-12T00:00:00+02:00")
	h.expect(scheduler.EventSucceeded, "nightly", "2024-08-11T00:00:00+02:00", "2024-08-12T00:00:00+02:00")
	h.next("2024-08-12T03:00:00+02:00")
	h.expect(scheduler.EventStarted, "weekly", "2024-08-05T00:00:00+02:00", "2024-08-12T00:00:00+02:00")
	h.expect(scheduler.EventSucceeded, "weekly", "2024-08-05T00:00:00+02:00", "2024-08-12T00:00:00+02:00")
	h.quiet()
}

// TestSchedulerDST runs a nightly Berlin job over both changes of 2024: it
// runs once every local day, and reports the 23-hour and the 25-hour day.
func TestSchedulerDST(t *testing.T) {
	berlin := loadLoc(t, "Europe/Berlin")
	for _, tc := range []struct {
		name  string
		now   time.Time
		slots []string
		days  []string // the day each slot reports, and its length
	}{
		{"spring forward", time.Date(2024, 3, 30, 12, 0, 0, 0, berlin),
			[]string{"2024-03-31T03:30:00+02:00", "2024-04-01T02:30:00+02:00"},
			[]string{"2024-03-30 24h0m0s", "2024-03-31 23h0m0s"}},
		{"fall back", time.Date(2024, 10, 26, 12, 0, 0, 0, berlin),
			[]string{"2024-10-27T02:30:00+02:00", "2024-10-28T02:30:00+01:00"},
			[]string{"2024-10-26 24h0m0s", "2024-10-27 25h0m0s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.now)
			h.start(h.config(scheduler.Job{Name: "nightly", Schedule: mustParse(t, "30 2 * * *", berlin)}))
			for i, slot := range tc.slots {
				h.next(slot)
				ev := h.event()
				if ev.Kind != scheduler.EventStarted {
					t.Fatalf("event %s; want started", ev.Kind)
				}
				if got := fmt.Sprintf("%s %s", ev.Start.In(berlin).Format("2006-01-02"), ev.End.Sub(ev.Start)); got != tc.days[i] {
					t.Errorf("slot %s reports %s; want %s", slot, got, tc.days[i])
				}
				if ev := h.event(); ev.Kind != scheduler.EventSucceeded {
					t.Fatalf("event %s; want succeeded", ev.Kind)
				}
			}
		})
	}
}

// TestSchedulerNoOverlap: a run that lasts past later slots is not joined by
// a second run of the same job; the slots it covered are skipped (no catch-up
// window), and the job goes on at its next slot.
func TestSchedulerNoOverlap(t *testing.T) {
	h := newHarness(t, time.Date(2024, 8, 7, 12, 30, 0, 0, time.UTC))
	release := make(chan struct{})
	h.block["hourly"] = release
	h.start(h.config(scheduler.Job{Name: "hourly", Schedule: mustParse(t, "@hourly", time.UTC), Window: daterange.Today}))
	h.next("2024-08-07T13:00:00Z")
	h.expect(scheduler.EventStarted, "hourly", "2024-08-07T00:00:00Z", "2024-08-08T00:00:00Z")
	// Three more slots pass while the run goes on: nothing waits on the
	// clock, nothing else starts.
	h.clock.Advance(3*time.Hour + 10*time.Minute)
	if n := h.clock.Waiters(); n != 0 {
		t.Fatalf("%d timers pending during the run", n)
	}
	h.quiet()
	close(release)
	h.expect(scheduler.EventSucceeded, "hourly", "2024-08-07T00:00:00Z", "2024-08-08T00:00:00Z")
	// Each slot passed during the run is dropped, and said so.
	for _, slot := range []string{"2024-08-07T14:00:00Z", "2024-08-07T15:00:00Z", "2024-08-07T16:00:00Z"} {
		ev := h.expect(scheduler.EventSkipped, "hourly", "2024-08-07T00:00:00Z", "2024-08-08T00:00:00Z")
		if !errors.Is(ev.Err, scheduler.ErrMissed) || ev.Slot.Format(time.RFC3339) != slot {
			t.Errorf("skipped slot %s with %v; want %s with ErrMissed", ev.Slot.Format(time.RFC3339), ev.Err, slot)
		}
	}
	h.next("2024-08-07T17:00:00Z")
	h.expect(scheduler.EventStarted, "hourly", "2024-08-07T00:00:00Z", "2024-08-08T00:00:00Z")
	h.expect(scheduler.EventSucceeded, "hourly", "2024-08-07T00:00:00Z", "2024-08-08T00:00:00Z")
	h.quiet()
	if m := h.maxActive["hourly"]; m != 1 {
		t.Errorf("%d runs at once; want 1", m)
	}
}

// TestSchedulerSharedLock runs two schedulers (two machines) that share a
// Locker and a Store: each slot runs once.
func TestSchedulerSharedLock(t *testing.T) {
	now := time.Date(2024, 8, 7, 12, 0, 0, 0, time.UTC)
	locker, store := &scheduler.LocalLocker{}, &scheduler.MemStore{}
	t.Run("held lock", func(t *testing.T) {
		h := newHarness(t, now)
		release := make(chan struct{})
		h.block["nightly"] = release
		job := scheduler.Job{Name: "nightly", Schedule: mustParse(t, "0 2 * * *", time.UTC)}
		for range 2 {
			cfg := h.config(job)
			cfg.Locker, cfg.Store = locker, store
			h.start(cfg)
		}
		if !h.clock.BlockUntil(2, wait) {
			t.Fatal("both schedulers should wait")
		}
		h.clock.Set(time.Date(2024, 8, 8, 2, 0, 0, 0, time.UTC))
		kinds := map[scheduler.EventKind]int{}
		for range 2 {
			ev := h.event()
			kinds[ev.Kind]++
			if ev.Kind == scheduler.EventWaiting && !errors.Is(ev.Err, scheduler.ErrRunningElsewhere) {
				t.Errorf("waiting with %v; want ErrRunningElsewhere", ev.Err)
			}
		}
		if kinds[scheduler.EventStarted] != 1 || kinds[scheduler.EventWaiting] != 1 {
			t.Fatalf("events %v; want one started and one waiting", kinds)
		}
		close(release)
		h.expect(scheduler.EventSucceeded, "nightly", "2024-08-07T00:00:00Z", "2024-08-08T00:00:00Z")
		if last, _ := store.Last(context.Background(), "nightly"); !last.Equal(time.Date(2024, 8, 8, 2, 0, 0, 0, time.UTC)) {
			t.Errorf("last done slot %s", last)
		}
		// The waiting scheduler tries again, and finds the slot done.
		h.next("2024-08-08T02:00:10Z")
		if ev := h.expect(scheduler.EventSkipped, "nightly", "2024-08-07T00:00:00Z", "2024-08-08T00:00:00Z"); !errors.Is(ev.Err, scheduler.ErrAlreadyDone) {
			t.Errorf("skipped with %v; want ErrAlreadyDone", ev.Err)
		}
		if h.commits["nightly"] != 1 {
			t.Errorf("%d commits; want 1", h.commits["nightly"])
		}
	})
	t.Run("already done", func(t *testing.T) {
		// The second scheduler takes the lock only after the first one
		// finished the slot: the Store tells it the slot is done.
		h := newHarness(t, now)
		store := &scheduler.MemStore{}
		job := scheduler.Job{Name: "nightly", Schedule: mustParse(t, "0 2 * * *", time.UTC)}
		first := h.config(job)
		first.Locker, first.Store = locker, store
		firstDone := make(chan struct{})
		first.OnEvent = func(ev scheduler.Event) {
			h.events <- ev
			if ev.Kind == scheduler.EventSucceeded {
				close(firstDone)
			}
		}
		h.start(first)
		second := h.config(job)
		second.Locker, second.Store = lateLocker{locker, firstDone}, store
		h.start(second)
		if !h.clock.BlockUntil(2, wait) {
			t.Fatal("both schedulers should wait")
		}
		h.clock.Set(time.Date(2024, 8, 8, 2, 0, 0, 0, time.UTC))
		h.expect(scheduler.EventStarted, "nightly", "2024-08-07T00:00:00Z", "2024-08-08T00:00:00Z")
		h.expect(scheduler.EventSucceeded, "nightly", "2024-08-07T00:00:00Z", "2024-08-08T00:00:00Z")
		ev := h.expect(scheduler.EventSkipped, "nightly", "2024-08-07T00:00:00Z", "2024-08-08T00:00:00Z")
		if !errors.Is(ev.Err, scheduler.ErrAlreadyDone) {
			t.Errorf("skipped with %v; want ErrAlreadyDone", ev.Err)
		}
	})
}

// lateLocker tries to take a lock only after after is closed, and until the
// first holder released it.
type lateLocker struct {
	scheduler.Locker
	after chan struct{}
}

func (l lateLocker) TryLock(ctx context.Context, key string) (scheduler.Lock, bool, error) {
	<-l.after
	for {
		if lk, ok, err := l.Locker.TryLock(ctx, key); ok || err != nil {
			return lk, ok, err
		}
		runtime.Gosched()
	}
}

// TestSchedulerCatchUp starts a scheduler after downtime: the slots missed
// within the catch-up window run at once, oldest first, then the job waits for
// its next slot.
func TestSchedulerCatchUp(t *testing.T) {
	berlin := loadLoc(t, "Europe/Berlin")
	now := time.Date(2024, 8, 8, 12, 0, 0, 0, berlin)
	tests := []struct {
		name    string
		catchUp time.Duration
		last    time.Time // the last done slot in the Store
		dropped []string  // the slots dropped (too old), each with an event
		days    []string  // the days the catch-up runs report
	}{
		{"three days", 72 * time.Hour, time.Date(2024, 8, 4, 2, 30, 0, 0, berlin),
			[]string{"2024-08-05T02:30:00+02:00"}, []string{"2024-08-05", "2024-08-06", "2024-08-07"}},
		{"window shorter than the downtime", 24 * time.Hour, time.Date(2024, 8, 4, 2, 30, 0, 0, berlin),
			[]string{"2024-08-05T02:30:00+02:00", "2024-08-06T02:30:00+02:00", "2024-08-07T02:30:00+02:00"}, []string{"2024-08-07"}},
		{"only what was missed", 72 * time.Hour, time.Date(2024, 8, 6, 2, 30, 0, 0, berlin), nil, []string{"2024-08-06", "2024-08-07"}},
		{"nothing missed", 72 * time.Hour, time.Date(2024, 8, 8, 2, 30, 0, 0, berlin), nil, nil},
		{"no catch-up", 0, time.Date(2024, 8, 4, 2, 30, 0, 0, berlin),
			[]string{"2024-08-05T02:30:00+02:00", "2024-08-06T02:30:00+02:00", "2024-08-07T02:30:00+02:00", "2024-08-08T02:30:00+02:00"}, nil},
		{"no state: the whole window", 48 * time.Hour, time.Time{}, nil, []string{"2024-08-06", "2024-08-07"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, now)
			store := &scheduler.MemStore{}
			if !tc.last.IsZero() {
				store.Done(context.Background(), "nightly", tc.last)
			}
			cfg := h.config(scheduler.Job{Name: "nightly", Schedule: mustParse(t, "30 2 * * *", berlin), CatchUp: tc.catchUp})
			cfg.Store = store
			var logs syncBuffer
			cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			h.start(cfg)
			for _, slot := range tc.dropped {
				ev := h.event()
				if ev.Kind != scheduler.EventSkipped || !errors.Is(ev.Err, scheduler.ErrMissed) || ev.Slot.Format(time.RFC3339) != slot {
					t.Fatalf("event %s of %s (%v); want %s dropped", ev.Kind, ev.Slot.Format(time.RFC3339), ev.Err, slot)
				}
			}
			for _, d := range tc.days {
				day, _ := time.ParseInLocation("2006-01-02", d, berlin)
				from, to := day.Format(time.RFC3339), day.AddDate(0, 0, 1).Format(time.RFC3339)
				h.expect(scheduler.EventStarted, "nightly", from, to)
				h.expect(scheduler.EventSucceeded, "nightly", from, to)
			}
			h.next("2024-08-09T02:30:00+02:00")
			h.expect(scheduler.EventStarted, "nightly", "2024-08-08T00:00:00+02:00", "2024-08-09T00:00:00+02:00")
			h.expect(scheduler.EventSucceeded, "nightly", "2024-08-08T00:00:00+02:00", "2024-08-09T00:00:00+02:00")
			h.quiet()
			for _, slot := range tc.dropped {
				if !strings.Contains(logs.String(), `msg="slot missed, dropped" job=nightly slot=`+slot) {
					t.Errorf("no log line for the dropped slot %s:\n%s", slot, logs.String())
				}
			}
		})
	}
}

// TestSchedulerDropMany: a long downtime of a frequent job logs the first
// dropped slots one by one and the rest in one line, and has an event for
// each.
func TestSchedulerDropMany(t *testing.T) {
	h := newHarness(t, time.Date(2024, 8, 8, 12, 0, 0, 0, time.UTC))
	store := &scheduler.MemStore{}
	store.Done(context.Background(), "often", time.Date(2024, 8, 8, 10, 0, 0, 0, time.UTC))
	cfg := h.config(scheduler.Job{Name: "often", Schedule: mustParse(t, "*/5 * * * *", time.UTC), CatchUp: time.Hour})
	cfg.Store = store
	var logs syncBuffer
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	h.start(cfg)
	// 10:05 to 11:00 are dropped (12 slots), 11:05 to 12:00 run (12).
	for i := range 12 {
		if ev := h.event(); ev.Kind != scheduler.EventSkipped || !errors.Is(ev.Err, scheduler.ErrMissed) {
			t.Fatalf("event %d: %s (%v); want dropped", i, ev.Kind, ev.Err)
		}
	}
	for range 12 {
		h.event()
		if ev := h.event(); ev.Kind != scheduler.EventSucceeded {
			t.Fatalf("event %s (%v); want succeeded", ev.Kind, ev.Err)
		}
	}
	h.next("2024-08-08T12:05:00Z")
	if n := strings.Count(logs.String(), `msg="slot missed, dropped"`); n != 10 {
		t.Errorf("%d dropped slots logged one by one; want 10:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), `msg="more slots missed, dropped" job=often slots=2 last=2024-08-08T11:00:00Z`) {
		t.Errorf("no line for the other dropped slots:\n%s", logs.String())
	}
}

// syncBuffer is a strings.Builder safe for the scheduler's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestSchedulerStop cancels the scheduler during a run: the run's ctx is
// cancelled, Run returns after the run did, and the slot is not done.
func TestSchedulerStop(t *testing.T) {
	h := newHarness(t, time.Date(2024, 8, 7, 12, 0, 0, 0, time.UTC))
	h.block["nightly"] = make(chan struct{}) // never released
	store := &scheduler.MemStore{}
	cfg := h.config(scheduler.Job{Name: "nightly", Schedule: mustParse(t, "0 2 * * *", time.UTC)})
	cfg.Store = store
	stop := h.start(cfg)
	h.next("2024-08-08T02:00:00Z")
	h.expect(scheduler.EventStarted, "nightly", "2024-08-07T00:00:00Z", "2024-08-08T00:00:00Z")
	if err := stop(); !errors.Is(err, scheduler.ErrStopped) || !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "nightly 2024-08-08T02:00:00Z") {
		t.Errorf("Run returned %v; want ErrStopped naming the run", err)
	}
	ev := h.expect(scheduler.EventCancelled, "nightly", "2024-08-07T00:00:00Z", "2024-08-08T00:00:00Z")
	if !errors.Is(ev.Err, context.Canceled) {
		t.Errorf("cancelled run returned %v", ev.Err)
	}
	if h.active["nightly"] != 0 {
		t.Error("Run returned before the run did")
	}
	if last, _ := store.Last(context.Background(), "nightly"); !last.IsZero() {
		t.Errorf("a cancelled slot is recorded as done: %s", last)
	}
}

// TestSchedulerStopIdle: a scheduler stopped while no run is in progress
// returns nil.
func TestSchedulerStopIdle(t *testing.T) {
	h := newHarness(t, time.Date(2024, 8, 7, 12, 0, 0, 0, time.UTC))
	stop := h.start(h.config(scheduler.Job{Name: "nightly", Schedule: mustParse(t, "0 2 * * *", time.UTC)}))
	if !h.clock.BlockUntil(1, wait) {
		t.Fatal("the scheduler is not waiting")
	}
	if err := stop(); err != nil {
		t.Errorf("Run returned %v; want nil", err)
	}
}

// TestSchedulerCancelledSlotStaysDue: of two schedulers sharing a lock and a
// store, the one running a slot is stopped (SIGTERM): the other, which waited
// for the lock, runs the slot.
func TestSchedulerCancelledSlotStaysDue(t *testing.T) {
	h := newHarness(t, time.Date(2024, 8, 7, 12, 0, 0, 0, time.UTC))
	release := make(chan struct{})
	h.block["nightly"] = release
	locker, store := &scheduler.LocalLocker{}, &scheduler.MemStore{}
	job := scheduler.Job{Name: "nightly", Schedule: mustParse(t, "0 2 * * *", time.UTC)}
	var stops []func() error
	for range 2 {
		cfg := h.config(job)
		cfg.Locker, cfg.Store = locker, store
		stops = append(stops, h.start(cfg))
	}
	if !h.clock.BlockUntil(2, wait) {
		t.Fatal("both schedulers should wait")
	}
	h.clock.Set(time.Date(2024, 8, 8, 2, 0, 0, 0, time.UTC))
	var started scheduler.Event
	for range 2 {
		if ev := h.event(); ev.Kind == scheduler.EventStarted {
			started = ev
		} else if ev.Kind != scheduler.EventWaiting {
			t.Fatalf("event %s; want started and waiting", ev.Kind)
		}
	}
	if started.Kind == "" {
		t.Fatal("no run started")
	}
	// Which of the two runs is unknown: stop both in turn until the run is
	// cancelled, then let the other one go on.
	var stopped error
	for _, stop := range stops {
		if err := stop(); err != nil {
			stopped = err
			break
		}
		// The waiting one was stopped: start another waiting one.
		cfg := h.config(job)
		cfg.Locker, cfg.Store = locker, store
		h.start(cfg)
		if ev := h.event(); ev.Kind != scheduler.EventWaiting {
			t.Fatalf("event %s; want waiting", ev.Kind)
		}
	}
	if !errors.Is(stopped, scheduler.ErrStopped) {
		t.Fatalf("stopping the running scheduler returned %v", stopped)
	}
	h.expect(scheduler.EventCancelled, "nightly", "2024-08-07T00:00:00Z", "2024-08-08T00:00:00Z")
	close(release)
	h.next("2024-08-08T02:00:10Z")
	h.expect(scheduler.EventStarted, "nightly", "2024-08-07T00:00:00Z", "2024-08-08T00:00:00Z")
	h.expect(scheduler.EventSucceeded, "nightly", "2024-08-07T00:00:00Z", "2024-08-08T00:00:00Z")
	if last, _ := store.Last(context.Background(), "nightly"); !last.Equal(time.Date(2024, 8, 8, 2, 0, 0, 0, time.UTC)) {
		t.Errorf("last done slot %s", last)
	}
	if h.commits["nightly"] != 1 {
		t.Errorf("%d commits; want 1", h.commits["nightly"])
	}
}

// TestSchedulerFailure: a failed run is reported and recorded as handled
// (not retried); the job goes on at its next slot.
func TestSchedulerFailure(t *testing.T) {
	h := newHarness(t, time.Date(2024, 8, 7, 12, 0, 0, 0, time.UTC))
	boom := errors.New("boom")
	h.fail["nightly"] = boom
	store := &scheduler.MemStore{}
	cfg := h.config(scheduler.Job{Name: "nightly", Schedule: mustParse(t, "0 2 * * *", time.UTC)})
	cfg.Store = store
	h.start(cfg)
	h.next("2024-08-08T02:00:00Z")
	h.expect(scheduler.EventStarted, "nightly", "2024-08-07T00:00:00Z", "2024-08-08T00:00:00Z")
	if ev := h.expect(scheduler.EventFailed, "nightly", "2024-08-07T00:00:00Z", "2024-08-08T00:00:00Z"); !errors.Is(ev.Err, boom) {
		t.Errorf("failed with %v", ev.Err)
	}
	// Recorded, so that neither a restart nor another scheduler retries it
	// (re-running a failed night is a decision for a person).
	if last, _ := store.Last(context.Background(), "nightly"); !last.Equal(time.Date(2024, 8, 8, 2, 0, 0, 0, time.UTC)) {
		t.Errorf("the failed slot is not recorded: last done %s", last)
	}
	h.next("2024-08-09T02:00:00Z")
}

// lossyLocker hands out locks the test can lose.
type lossyLocker struct{ lost chan struct{} }

func (l lossyLocker) TryLock(context.Context, string) (scheduler.Lock, bool, error) {
	return lossyLock(l), true, nil
}

type lossyLock struct{ lost chan struct{} }

func (l lossyLock) Lost() <-chan struct{}        { return l.lost }
func (l lossyLock) Unlock(context.Context) error { return nil }
func (l lossyLock) Fence(context.Context) error {
	select {
	case <-l.lost:
		return scheduler.ErrLockLost
	default:
		return nil
	}
}

// expiredLocker hands out locks whose expiry only Fence finds: the holder
// stalled past the lock's expiry and has not heard of it yet.
type expiredLocker struct{}

func (expiredLocker) TryLock(context.Context, string) (scheduler.Lock, bool, error) {
	return expiredLock{}, true, nil
}

type expiredLock struct{}

func (expiredLock) Lost() <-chan struct{}        { return nil }
func (expiredLock) Unlock(context.Context) error { return nil }
func (expiredLock) Fence(context.Context) error {
	return fmt.Errorf("%w: expired", scheduler.ErrLockLost)
}

// TestSchedulerFence: a run whose lock expired commits nothing, fails with
// ErrLockLost, and leaves the slot to the lock's new holder.
func TestSchedulerFence(t *testing.T) {
	h := newHarness(t, time.Date(2024, 8, 7, 12, 0, 0, 0, time.UTC))
	store := &scheduler.MemStore{}
	cfg := h.config(scheduler.Job{Name: "nightly", Schedule: mustParse(t, "0 2 * * *", time.UTC)})
	cfg.Locker, cfg.Store = expiredLocker{}, store
	h.start(cfg)
	h.next("2024-08-08T02:00:00Z")
	h.expect(scheduler.EventStarted, "nightly", "2024-08-07T00:00:00Z", "2024-08-08T00:00:00Z")
	if ev := h.expect(scheduler.EventFailed, "nightly", "2024-08-07T00:00:00Z", "2024-08-08T00:00:00Z"); !errors.Is(ev.Err, scheduler.ErrLockLost) {
		t.Errorf("failed with %v; want ErrLockLost", ev.Err)
	}
	if h.commits["nightly"] != 0 {
		t.Errorf("a run whose lock expired committed")
	}
	if last, _ := store.Last(context.Background(), "nightly"); !last.IsZero() {
		t.Errorf("a slot whose lock was lost is recorded as done: %s", last)
	}
}

// TestSchedulerLockLost cancels a run whose lock expired.
func TestSchedulerLockLost(t *testing.T) {
	h := newHarness(t, time.Date(2024, 8, 7, 12, 0, 0, 0, time.UTC))
	h.block["nightly"] = make(chan struct{})
	locker := lossyLocker{make(chan struct{})}
	cfg := h.config(scheduler.Job{Name: "nightly", Schedule: mustParse(t, "0 2 * * *", time.UTC)})
	cfg.Locker = locker
	h.start(cfg)
	h.next("2024-08-08T02:00:00Z")
	h.expect(scheduler.EventStarted, "nightly", "2024-08-07T00:00:00Z", "2024-08-08T00:00:00Z")
	close(locker.lost)
	ev := h.expect(scheduler.EventFailed, "nightly", "2024-08-07T00:00:00Z", "2024-08-08T00:00:00Z")
	if !errors.Is(ev.Err, scheduler.ErrLockLost) || !errors.Is(ev.Err, context.Canceled) {
		t.Errorf("failed with %v; want ErrLockLost and context.Canceled", ev.Err)
	}
	h.next("2024-08-09T02:00:00Z") // the scheduler goes on
}

func TestNewErrors(t *testing.T) {
	run := func(context.Context, scheduler.Run) error { return nil }
	s := mustParse(t, "@daily", time.UTC)
	tests := []struct {
		name string
		cfg  scheduler.Config
	}{
		{"no run func", scheduler.Config{Jobs: []scheduler.Job{{Name: "a", Schedule: s}}}},
		{"no jobs", scheduler.Config{Run: run}},
		{"no name", scheduler.Config{Run: run, Jobs: []scheduler.Job{{Schedule: s}}}},
		{"twice", scheduler.Config{Run: run, Jobs: []scheduler.Job{{Name: "a", Schedule: s}, {Name: "a", Schedule: s}}}},
		{"no schedule", scheduler.Config{Run: run, Jobs: []scheduler.Job{{Name: "a"}}}},
		{"negative catch-up", scheduler.Config{Run: run, Jobs: []scheduler.Job{{Name: "a", Schedule: s, CatchUp: -time.Hour}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := scheduler.New(tc.cfg); err == nil {
				t.Error("New succeeded")
			}
		})
	}
}

func TestLocalLocker(t *testing.T) {
	var l scheduler.LocalLocker
	ctx := context.Background()
	a, ok, _ := l.TryLock(ctx, "job")
	if !ok {
		t.Fatal("first TryLock failed")
	}
	if _, ok, _ := l.TryLock(ctx, "job"); ok {
		t.Fatal("second TryLock succeeded while held")
	}
	if _, ok, _ := l.TryLock(ctx, "other"); !ok {
		t.Fatal("another key is blocked")
	}
	a.Unlock(ctx)
	a.Unlock(ctx) // a second Unlock has no effect
	b, ok, _ := l.TryLock(ctx, "job")
	if !ok {
		t.Fatal("TryLock after Unlock failed")
	}
	a.Unlock(ctx)
	if _, ok, _ := l.TryLock(ctx, "job"); ok {
		t.Fatal("a stale Unlock released another holder's lock")
	}
	b.Unlock(ctx)
}
