package scheduler

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// parser reads standard cron expressions: five fields and the @descriptors.
var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Schedule says when a job runs: the wall-clock times a cron expression names,
// in one time zone. A wall-clock time that a daylight-saving change skips
// fires at the first instant after the gap (02:30 on a spring-forward night in
// Berlin fires at 03:30 CEST); one that occurs twice fires once, the first
// time (as cronie does), so a nightly job runs exactly once every local day.
type Schedule struct {
	spec  string
	loc   *time.Location
	inner cron.Schedule // evaluated on wall-clock times written as UTC
}

// ParseCron parses a cron expression in loc (nil means UTC): five fields
// (minute hour day-of-month month day-of-week, such as "30 2 * * *"), or
// @yearly, @monthly, @weekly, @daily, @hourly or @every <duration>. A
// CRON_TZ=<zone> prefix sets the zone instead of loc.
func ParseCron(spec string, loc *time.Location) (*Schedule, error) {
	if loc == nil {
		loc = time.UTC
	}
	s := strings.TrimSpace(spec)
	if rest, ok := cutTZ(s); ok {
		zone, expr, _ := strings.Cut(rest, " ")
		l, err := time.LoadLocation(zone)
		if err != nil {
			return nil, fmt.Errorf("cron expression %q: unknown time zone %q", spec, zone)
		}
		loc, s = l, strings.TrimSpace(expr)
	}
	if s == "" {
		return nil, fmt.Errorf("cron expression %q: empty", spec)
	}
	inner, err := parser.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("cron expression %q: %w (want 5 fields: minute hour day-of-month month day-of-week, e.g. \"30 2 * * *\", or @daily, @hourly, @every 1h)", spec, err)
	}
	return &Schedule{spec: strings.TrimSpace(spec), loc: loc, inner: inner}, nil
}

func cutTZ(s string) (string, bool) {
	for _, p := range []string{"CRON_TZ=", "TZ="} {
		if rest, ok := strings.CutPrefix(s, p); ok {
			return rest, true
		}
	}
	return "", false
}

// String returns the cron expression.
func (s *Schedule) String() string { return s.spec }

// Location returns the time zone the expression is read in.
func (s *Schedule) Location() *time.Location { return s.loc }

// Next returns the first slot strictly after t, in the schedule's zone, or the
// zero time when the expression never fires again (such as 30 February).
func (s *Schedule) Next(t time.Time) time.Time {
	w := wall(t.In(s.loc))
	// A wall-clock time that occurs twice maps to its first instant, which
	// may not be after t: step on through the repeated hour.
	for range 100_000 {
		n := s.inner.Next(w)
		if n.IsZero() {
			return time.Time{}
		}
		if r := instant(n, s.loc); r.After(t) {
			return r
		}
		w = n
	}
	return time.Time{}
}

// wall returns the wall-clock reading of t written as a UTC time.
func wall(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

// instant returns the instant whose wall-clock reading in loc is w (written as
// UTC): the first one when the reading occurs twice, and the first instant
// after the gap, shifted by the reading's distance into the gap, when a
// daylight-saving change skips it. Go's time.Date leaves both cases
// unspecified.
func instant(w time.Time, loc *time.Location) time.Time {
	_, before := w.Add(-24 * time.Hour).In(loc).Zone()
	_, after := w.Add(24 * time.Hour).In(loc).Zone()
	var best time.Time
	for _, off := range []int{before, after} {
		c := w.Add(-time.Duration(off) * time.Second).In(loc)
		if wall(c).Equal(w) && (best.IsZero() || c.Before(best)) {
			best = c
		}
	}
	if best.IsZero() {
		best = w.Add(-time.Duration(before) * time.Second).In(loc)
	}
	return best
}
