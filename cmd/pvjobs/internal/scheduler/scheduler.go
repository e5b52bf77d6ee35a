package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/daterange"
)

// DefaultGrace is how late a slot may still start when its job has no
// catch-up window: a slot missed by more (the scheduler was down, or the
// job's previous run was still going) is skipped.
const DefaultGrace = time.Minute

// Reasons a slot is skipped or a run fails, as Event.Err.
var (
	// ErrMissed: the slot is older than the job's catch-up window.
	ErrMissed = errors.New("slot missed: older than the catch-up window")
	// ErrRunningElsewhere: another holder has the job's lock.
	ErrRunningElsewhere = errors.New("the job is running elsewhere (its lock is held)")
	// ErrAlreadyDone: the Store says the slot, or a later one, is done.
	ErrAlreadyDone = errors.New("the slot is already done")
	// ErrLockLost: the job's lock expired during the run, which was cancelled.
	ErrLockLost = errors.New("the job's lock was lost")
)

// RunFunc runs job over the range [start, end). The scheduler calls it from
// the job's goroutine, never twice at once for one job. ctx is cancelled when
// the scheduler stops or the job's lock is lost; the RunFunc then returns
// promptly and leaves no partial output.
type RunFunc func(ctx context.Context, job string, start, end time.Time) error

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
	// EventCancelled: the scheduler stopped during the run.
	EventCancelled EventKind = "cancelled"
	EventSkipped   EventKind = "skipped"
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
	// Logger logs each run and skipped slot (default slog.Default()).
	Logger *slog.Logger
	// OnEvent, when set, is called for each Event, from the job's
	// goroutine.
	OnEvent func(Event)
}

// Scheduler runs jobs on their schedules.
type Scheduler struct {
	cfg Config
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
	return &Scheduler{cfg: cfg}, nil
}

// Run runs every job on its schedule until ctx is cancelled; then it cancels
// the runs in progress, waits for them to return, and returns nil.
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
			// missed slot.
			cursor = maxTime(slot, now.Add(-j.CatchUp))
			log.Warn("slot missed, skipped", "slot", slot.Format(time.RFC3339), "late", now.Sub(slot).Round(time.Second).String(),
				"catch_up", j.CatchUp.String())
			s.emit(Event{Kind: EventSkipped, Job: j.Name, Slot: slot, Start: start, End: end, Err: ErrMissed})
			continue
		}
		s.runSlot(ctx, j, slot, start, end, log)
		cursor = slot
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

// runSlot runs one slot of j under its lock.
func (s *Scheduler) runSlot(ctx context.Context, j *Job, slot, start, end time.Time, log *slog.Logger) {
	log = log.With("slot", slot.Format(time.RFC3339))
	ev := Event{Job: j.Name, Slot: slot, Start: start, End: end}
	lock, ok, err := s.cfg.Locker.TryLock(ctx, j.Name)
	if err != nil {
		ev.Kind, ev.Err = EventFailed, err
		log.Error("run failed: cannot take the job's lock", "err", err)
		s.emit(ev)
		return
	}
	if !ok {
		ev.Kind, ev.Err = EventSkipped, ErrRunningElsewhere
		log.Warn("slot skipped: " + ErrRunningElsewhere.Error())
		s.emit(ev)
		return
	}
	defer func() {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := lock.Unlock(uctx); err != nil {
			log.Warn("cannot release the job's lock; it expires by itself", "err", err)
		}
	}()
	if last, err := s.cfg.Store.Last(ctx, j.Name); err != nil {
		log.Warn("cannot read the last done slot; running anyway", "err", err)
	} else if !last.Before(slot) {
		ev.Kind, ev.Err = EventSkipped, ErrAlreadyDone
		log.Info("slot skipped: already done", "done", last.Format(time.RFC3339))
		s.emit(ev)
		return
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
	err = s.cfg.Run(runCtx, j.Name, start, end)
	ev.Duration = s.cfg.Clock.Now().Sub(t0)
	if err != nil && errors.Is(context.Cause(runCtx), ErrLockLost) {
		err = fmt.Errorf("%w: %w", ErrLockLost, err)
	}
	ev.Err = err
	switch {
	case err == nil:
		ev.Kind = EventSucceeded
		log.Info("run succeeded", "duration", ev.Duration.String())
		if err := s.cfg.Store.Done(context.WithoutCancel(ctx), j.Name, slot); err != nil {
			log.Warn("cannot record the slot as done", "err", err)
		}
	case ctx.Err() != nil:
		ev.Kind = EventCancelled
		log.Warn("run cancelled: the scheduler is stopping", "duration", ev.Duration.String(), "err", err)
	default:
		ev.Kind = EventFailed
		log.Error("run failed", "duration", ev.Duration.String(), "err", err)
	}
	s.emit(ev)
}

func (s *Scheduler) emit(ev Event) {
	if s.cfg.OnEvent != nil {
		s.cfg.OnEvent(ev)
	}
}
