// Package scheduler runs named jobs on cron schedules: each job at most once
// at a time in this process (through a Locker), across machines through a
// Redis lock with expiry, missed runs caught up after downtime within a job's
// catch-up window, and every run cancelled cleanly when the scheduler stops.
//
// The package knows nothing of what a job does: a RunFunc runs one job over
// one range of time. Time comes from a Clock, so tests drive the scheduler
// with a FakeClock instead of sleeping.
//
// A slot is one instant a job's cron schedule fires. For each due slot the
// scheduler takes the job's lock (waiting while another scheduler holds it),
// checks in its Store that no scheduler already handled the slot, computes
// the range the slot reports (the job's daterange.Window, such as yesterday,
// relative to the slot in the job's time zone), calls the RunFunc, and
// records the slot as handled when the run succeeded or failed. A run
// cancelled because the scheduler stops is not recorded: the slot stays due,
// for a standby scheduler waiting for the lock or for a restart. Slots older
// than the catch-up window are dropped, each with a log line and an Event.
//
// A lock with expiry cannot promise that two runs never overlap: a holder
// that stalls longer than the expiry (a long GC pause, a network partition)
// loses its lock while it still runs, and another scheduler takes the slot.
// What the package promises is that only one of them commits: a RunFunc
// calls Run.Fence just before it commits its outputs, which checks the lock
// is still this run's and extends it, and commits nothing when it is not.
package scheduler
