// Package schedule runs named jobs on cron schedules: each job at most once at
// a time (in this process through a Locker, across machines through a Redis
// lock with expiry), missed runs caught up after downtime within a job's
// catch-up window, and every run cancelled cleanly when the scheduler stops.
//
// The package knows nothing of what a job does: a RunFunc runs one job over
// one range of time. Time comes from a Clock, so tests drive the scheduler
// with a FakeClock instead of sleeping.
//
// A slot is one instant a job's cron schedule fires. For each due slot the
// scheduler takes the job's lock, checks in its Store that no other scheduler
// already finished the slot, computes the range the slot reports (the job's
// daterange.Window, such as yesterday, relative to the slot in the job's time
// zone), calls the RunFunc, and records the slot as done when it succeeded.
package scheduler
