package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/daterange"
)

// DefaultGrace is how late a slot may still start when its job has no
// catch-up window: a slot missed by more (the scheduler was down, or the
// job's previous run was still going) is dropped, with a log line and an
// Event.
const DefaultGrace = time.Minute

// DefaultRetry is how often a job whose lock is held elsewhere, or could not
// be taken, tries again.
const DefaultRetry = 10 * time.Second

// Reasons a slot is skipped or a run fails, as Event.Err.
var (
	// ErrMissed: the slot is older than the job's catch-up window; it is
	// dropped.
	ErrMissed = errors.New("slot missed: older than the catch-up window")
	// ErrRunningElsewhere: another holder has the job's lock (Event.Kind
	// EventWaiting: the slot waits for it).
	ErrRunningElsewhere = errors.New("the job is running elsewhere (its lock is held)")
	// ErrAlreadyDone: the Store says the slot, or a later one, is done.
	ErrAlreadyDone = errors.New("the slot is already done")
	// ErrLockLost: the job's lock expired during the run, which was
	// cancelled, or was found gone by Run.Fence before the run committed.
	ErrLockLost = errors.New("the job's lock was lost")
	// ErrStopped is wrapped by the error of Scheduler.Run when it stopped
	// runs in progress.
	ErrStopped = errors.New("the scheduler stopped during a run")
)

// Run is one run of a job, as the scheduler hands it to its RunFunc.
type Run struct {
	// Job names the job.
	Job string
	// Slot is the instant the schedule fired; Start and End are the range
	// [Start, End) the run reports.
	Slot, Start, End time.Time
	// Fence checks that the run still holds its job's lock and extends the
	// lock to its full expiry. The RunFunc calls it just before it commits
	// its outputs, and commits nothing when it returns an error (wrapping
	// ErrLockLost when another holder may have the lock): of two runs of one
	// slot that overlap because a holder stalled past its lock's expiry,
	// only the one holding the lock commits. The commit must take less than
	// the lock's expiry.
	Fence func(ctx context.Context) error
}

// RunFunc runs one run of a job. The scheduler calls it from the job's
// goroutine, never twice at once for one job within one scheduler. ctx is
// cancelled when the scheduler stops or the job's lock is lost; the RunFunc
// then returns promptly and leaves no partial output.
type RunFunc func(ctx context.Context, r Run) error

// Job is one scheduled job.
type Job struct {
	// Name names the job: in logs, events, lock and state keys.
	Name string
	// Schedule says when the job runs.
	Schedule *Schedule
	// Loc is the time zone of the local days Window counts (default: the
	// schedule's zone).
	Loc *time.Location
	// Window is the range each run reports, relative to its slot (default
	// daterange.Yesterday).
	Window daterange.Window
	// CatchUp is how old a missed slot may be and still run, after downtime
	// or a run that lasted past later slots; missed slots run one after
	// another, oldest first. 0 means DefaultGrace.
	CatchUp time.Duration
}

// EventKind says what happened to a slot.
type EventKind string

// The kinds of Event.
const (
	EventStarted   EventKind = "started"
	EventSucceeded EventKind = "succeeded"
	EventFailed    EventKind = "failed"
	// EventCancelled: the scheduler stopped during the run; the slot is
	// not done and stays due.
	EventCancelled EventKind = "cancelled"
	// EventSkipped: the slot was done already (ErrAlreadyDone) or is
	// dropped (ErrMissed).
	EventSkipped EventKind = "skipped"
	// EventWaiting: the job's lock is held elsewhere (ErrRunningElsewhere)
	// or could not be taken; the slot waits and tries again.
	EventWaiting EventKind = "waiting"
)

// Event reports what happened to one slot of one job.
type Event struct {
	Kind EventKind
	Job  string
	// Slot is the instant the schedule fired.
	Slot time.Time
	// Start and End are the range the run reports.
	Start, End time.Time
	// Duration is how long the run took (by the scheduler's clock).
	Duration time.Duration
	// Err is why the run failed or the slot was skipped.
	Err error
}

// Config configures a Scheduler.
type Config struct {
	// Jobs to schedule; names must be unique.
	Jobs []Job
	// Run runs a job. Required.
	Run RunFunc
	// Clock tells the time (default Real).
	Clock Clock
	// Locker keeps a job from running twice at once (default a
	// LocalLocker). A RedisLocker extends that across machines.
	Locker Locker
	// Store remembers the last done slot of each job (default a MemStore,
	// which a restart forgets: then every slot in the catch-up window
	// counts as missed).
	Store Store
	// Retry is how often a slot whose lock is held elsewhere, or could not
	// be taken, tries again (default DefaultRetry).
	Retry time.Duration
	// Logger logs each run and skipped slot (default slog.Default()).
	Logger *slog.Logger
	// OnEvent, when set, is called for each Event, from the job's
	// goroutine.
	OnEvent func(Event)
}

// Scheduler runs jobs on their schedules.
type Scheduler struct {
	cfg Config

	mu sync.Mutex
	// stopped lists the runs that were in progress when the scheduler was
	// stopped.
	stopped []string
}

// New checks cfg and returns a Scheduler.
func New(cfg Config) (*Scheduler, error) {
	if cfg.Run == nil {
		return nil, errors.New("schedule: Config.Run is required")
	}
	if len(cfg.Jobs) == 0 {
		return nil, errors.New("schedule: no jobs")
	}
	seen := map[string]bool{}
	for i, j := range cfg.Jobs {
		switch {
		case j.Name == "":
			return nil, fmt.Errorf("schedule: job %d has no name", i+1)
		case seen[j.Name]:
			return nil, fmt.Errorf("schedule: job %q is named twice", j.Name)
		case j.Schedule == nil:
			return nil, fmt.Errorf("schedule: job %q has no schedule", j.Name)
		case j.CatchUp < 0:
			return nil, fmt.Errorf("schedule: job %q: negative catch-up %s", j.Name, j.CatchUp)
		}
		seen[j.Name] = true
	}
	if cfg.Clock == nil {
		cfg.Clock = Real
	}
	if cfg.Locker == nil {
		cfg.Locker = &LocalLocker{}
	}
	if cfg.Store == nil {
		cfg.Store = &MemStore{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Retry <= 0 {
		cfg.Retry = DefaultRetry
	}
	return &Scheduler{cfg: cfg}, nil
}

// Run runs every job on its schedule until ctx is cancelled; then it cancels
// the runs in progress and waits for them to return. It returns nil when no
// run was in progress, and an error wrapping ErrStopped and ctx's error
// naming the runs it stopped otherwise.
func (s *Scheduler) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for i := range s.cfg.Jobs {
		j := s.cfg.Jobs[i]
		if j.Loc == nil {
			j.Loc = j.Schedule.Location()
		}
		if j.Window.IsZero() {
			j.Window = daterange.Yesterday
		}
		if j.CatchUp == 0 {
			j.CatchUp = DefaultGrace
		}
		wg.Go(func() { s.loop(ctx, &j) })
	}
	wg.Wait()
	s.cfg.Logger.Info("scheduler stopped")
	if len(s.stopped) > 0 {
		return fmt.Errorf("%w (%s): %w", ErrStopped, strings.Join(s.stopped, ", "), ctx.Err())
	}
	return nil
}

// loop runs the slots of one job in order until ctx is cancelled.
func (s *Scheduler) loop(ctx context.Context, j *Job) {
	clock, log := s.cfg.Clock, s.cfg.Logger.With("job", j.Name)
	cursor := clock.Now().Add(-j.CatchUp)
	if last, err := s.cfg.Store.Last(ctx, j.Name); err != nil {
		log.Warn("cannot read the last done slot; catching up the whole window", "err", err)
	} else if last.After(cursor) {
		cursor = last
	} else if !last.IsZero() {
		// The slots after the last done one that are older than the
		// catch-up window are dropped: say so.
		s.drop(j, last, cursor, log)
	}
	for ctx.Err() == nil {
		slot := j.Schedule.Next(cursor)
		if slot.IsZero() {
			log.Warn("the schedule never fires again", "schedule", j.Schedule.String())
			return
		}
		start, end := j.Window.Range(slot, j.Loc)
		log.Info("next run", "slot", slot.Format(time.RFC3339), "from", start.Format(time.RFC3339), "to", end.Format(time.RFC3339))
		if !waitUntil(ctx, clock, slot) {
			return
		}
		if now := clock.Now(); now.Sub(slot) > j.CatchUp {
			// Jump to the window rather than stepping through every
			// missed slot, but log and count each slot dropped.
			cursor = maxTime(slot, now.Add(-j.CatchUp))
			s.drop(j, slot.Add(-time.Nanosecond), cursor, log)
			continue
		}
		if !s.runSlot(ctx, j, slot, start, end, log) {
			return // stopped: the slot is not done and stays due
		}
		cursor = slot
	}
}

// maxDropLines bounds the log lines of one drop; the rest are counted in one
// line (every dropped slot still has its Event).
const maxDropLines = 10

// drop reports the slots of j in (after, upTo] as dropped: a log line each
// (the first maxDropLines, then one line for the rest) and an Event each.
func (s *Scheduler) drop(j *Job, after, upTo time.Time, log *slog.Logger) {
	now := s.cfg.Clock.Now()
	n := 0
	var last time.Time
	for slot := j.Schedule.Next(after); !slot.IsZero() && !slot.After(upTo); slot = j.Schedule.Next(slot) {
		n++
		last = slot
		if n <= maxDropLines {
			log.Warn("slot missed, dropped", "slot", slot.Format(time.RFC3339), "late", now.Sub(slot).Round(time.Second).String(),
				"catch_up", j.CatchUp.String())
		}
		start, end := j.Window.Range(slot, j.Loc)
		s.emit(Event{Kind: EventSkipped, Job: j.Name, Slot: slot, Start: start, End: end, Err: ErrMissed})
	}
	if n > maxDropLines {
		log.Warn("more slots missed, dropped", "slots", n-maxDropLines, "last", last.Format(time.RFC3339), "catch_up", j.CatchUp.String())
	}
}

// waitUntil waits until clock reaches t and reports whether it did before ctx
// was cancelled.
func waitUntil(ctx context.Context, clock Clock, t time.Time) bool {
	for clock.Now().Before(t) {
		ch, stop := clock.At(t)
		select {
		case <-ch:
			stop()
		case <-ctx.Done():
			stop()
			return false
		}
	}
	return ctx.Err() == nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// runSlot runs one slot of j under its lock, waiting for the lock while
// another holder has it. It returns false when ctx was cancelled: then the
// slot is not done and stays due (for a restart, or for a standby scheduler
// that waits for the lock).
func (s *Scheduler) runSlot(ctx context.Context, j *Job, slot, start, end time.Time, log *slog.Logger) bool {
	log = log.With("slot", slot.Format(time.RFC3339))
	ev := Event{Job: j.Name, Slot: slot, Start: start, End: end}
	lock, ok := s.lock(ctx, j, ev, log)
	if !ok {
		return ctx.Err() == nil
	}
	// The lock is released before the slot's last event, so that whoever
	// hears of the event finds the lock free.
	unlock := func() {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := lock.Unlock(uctx); err != nil {
			log.Warn("cannot release the job's lock; it expires by itself", "err", err)
		}
	}
	defer unlock() // a no-op after the first
	if last, err := s.cfg.Store.Last(ctx, j.Name); err != nil {
		log.Warn("cannot read the last done slot; running anyway", "err", err)
	} else if !last.Before(slot) {
		ev.Kind, ev.Err = EventSkipped, ErrAlreadyDone
		log.Info("slot skipped: already done", "done", last.Format(time.RFC3339))
		unlock()
		s.emit(ev)
		return true
	}
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() {
		select {
		case <-lock.Lost():
			log.Error("the job's lock was lost; cancelling the run")
			cancel(ErrLockLost)
		case <-runCtx.Done():
		}
	}()
	log.Info("run started", "from", start.Format(time.RFC3339), "to", end.Format(time.RFC3339))
	ev.Kind = EventStarted
	s.emit(ev)
	t0 := s.cfg.Clock.Now()
	err := s.cfg.Run(runCtx, Run{Job: j.Name, Slot: slot, Start: start, End: end, Fence: lock.Fence})
	ev.Duration = s.cfg.Clock.Now().Sub(t0)
	if err != nil && errors.Is(context.Cause(runCtx), ErrLockLost) && !errors.Is(err, ErrLockLost) {
		err = fmt.Errorf("%w: %w", ErrLockLost, err)
	}
	ev.Err = err
	done := true // handled: recorded, so that no scheduler runs the slot again
	switch {
	case err == nil:
		ev.Kind = EventSucceeded
		log.Info("run succeeded", "duration", ev.Duration.String())
	case ctx.Err() != nil:
		ev.Kind, done = EventCancelled, false
		log.Warn("run cancelled: the scheduler is stopping; the slot stays due", "duration", ev.Duration.String(), "err", err)
		s.mu.Lock()
		s.stopped = append(s.stopped, j.Name+" "+slot.Format(time.RFC3339))
		s.mu.Unlock()
	case errors.Is(err, ErrLockLost):
		// The lock's new holder runs the slot.
		ev.Kind, done = EventFailed, false
		log.Error("run failed: the job's lock was lost; its new holder runs the slot", "duration", ev.Duration.String(), "err", err)
	default:
		ev.Kind = EventFailed
		log.Error("run failed", "duration", ev.Duration.String(), "err", err)
	}
	if done {
		// A failed run is not retried either: re-run it by hand.
		if err := s.cfg.Store.Done(context.WithoutCancel(ctx), j.Name, slot); err != nil {
			log.Warn("cannot record the slot as done", "err", err)
		}
	}
	cancel(nil)
	unlock()
	s.emit(ev)
	return ctx.Err() == nil
}

// lock takes the job's lock for slot. While another holder has it, or it
// cannot be taken, the slot waits (an EventWaiting, then a try every
// Config.Retry): a slot that another scheduler runs is either done when the
// lock comes free, or stays due because that run was cancelled. A slot that
// cannot take its lock at all within the catch-up window is dropped. It
// returns false when the slot is not to run (ctx cancelled, or dropped).
func (s *Scheduler) lock(ctx context.Context, j *Job, ev Event, log *slog.Logger) (Lock, bool) {
	waiting := false
	for {
		lock, ok, err := s.cfg.Locker.TryLock(ctx, j.Name)
		if ok {
			return lock, true
		}
		if ctx.Err() != nil {
			return nil, false
		}
		now := s.cfg.Clock.Now()
		if err != nil && now.Sub(ev.Slot) > j.CatchUp {
			ev.Kind, ev.Err = EventSkipped, fmt.Errorf("%w: cannot take the job's lock: %w", ErrMissed, err)
			log.Error("slot dropped: cannot take the job's lock within the catch-up window", "err", err, "catch_up", j.CatchUp.String())
			s.emit(ev)
			return nil, false
		}
		if !waiting {
			waiting = true
			ev.Kind, ev.Err = EventWaiting, ErrRunningElsewhere
			if err != nil {
				ev.Err = fmt.Errorf("cannot take the job's lock: %w", err)
				log.Warn("cannot take the job's lock; trying again", "err", err, "every", s.cfg.Retry.String())
			} else {
				log.Info("slot waits: "+ErrRunningElsewhere.Error(), "every", s.cfg.Retry.String())
			}
			s.emit(ev)
		}
		if !waitUntil(ctx, s.cfg.Clock, now.Add(s.cfg.Retry)) {
			return nil, false
		}
	}
}

func (s *Scheduler) emit(ev Event) {
	if s.cfg.OnEvent != nil {
		s.cfg.OnEvent(ev)
	}
}
