// Package daterange reads the date flags of the command line: --from/--to as days
// or instants, and the relative ranges --yesterday, --today, --last 7d and a
// config job's range:.
package daterange

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
)

// ErrBadRange is wrapped by every error of ParseRange, ParseWindow and Relative.
var ErrBadRange = errors.New("bad range")

// ParseRange parses the bounds of --from and --to. Each is a day (YYYY-MM-DD or
// YYYYMMDD), an RFC 3339 time (2024-08-01T06:00:00+02:00, 2024-08-01T04:00:00Z)
// or a local time without offset (2024-08-01T06:00 or 2024-08-01T06:00:00),
// which is read in loc. A day given as from starts the range at that day's local
// midnight; a day given as to is inclusive: the range ends at the next local
// midnight. Times are exact: from is the first instant of the range, to the
// first instant after it. Both empty returns zero times and no error (the
// caller picks a default); one empty is an error, and so is from not before to.
// A nil loc means UTC.
func ParseRange(from, to string, loc *time.Location) (start, end time.Time, err error) {
	if loc == nil {
		loc = time.UTC
	}
	from, to = strings.TrimSpace(from), strings.TrimSpace(to)
	if from == "" && to == "" {
		return time.Time{}, time.Time{}, nil
	}
	if from == "" || to == "" {
		return time.Time{}, time.Time{}, fmt.Errorf("%w: give both --from and --to, or neither", ErrBadRange)
	}
	start, err = parseBound(from, loc, false)
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("--from: %w", err)
	}
	end, err = parseBound(to, loc, true)
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("--to: %w", err)
	}
	if !start.Before(end) {
		// Two days make an empty range only when to is before from.
		if start.After(end) || (isDay(from) && isDay(to)) {
			return time.Time{}, time.Time{}, fmt.Errorf("%w: --from %s is after --to %s", ErrBadRange, from, to)
		}
		return time.Time{}, time.Time{}, fmt.Errorf("%w: --from %s and --to %s make an empty range", ErrBadRange, from, to)
	}
	return start, end, nil
}

// localLayouts are the date-times without offset ParseRange reads in loc.
var localLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02T15:04:05.999999999"}

// isDay reports whether a bound is a day rather than a time.
func isDay(s string) bool { return !strings.ContainsAny(s, "Tt ") }

func parseBound(s string, loc *time.Location, isEnd bool) (time.Time, error) {
	if isDay(s) {
		d, err := mapreduce.ParseDate(s)
		if err != nil {
			return time.Time{}, fmt.Errorf("%w: %q: want a day (YYYY-MM-DD) or an RFC 3339 time (2024-08-01T06:00:00+02:00)", ErrBadRange, s)
		}
		if isEnd {
			d = d.AddDays(1)
		}
		return d.In(loc), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, strings.Replace(s, " ", "T", 1)); err == nil {
		return t, nil
	}
	for _, l := range localLayouts {
		if t, err := time.ParseInLocation(l, strings.Replace(s, " ", "T", 1), loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%w: %q: want a day (YYYY-MM-DD) or an RFC 3339 time (2024-08-01T06:00:00+02:00)", ErrBadRange, s)
}

// Window is a range of whole local days relative to the day a run starts:
// yesterday, today, or the last N days. The zero Window is empty.
type Window struct {
	// Days is the number of whole local days in the window.
	Days int
	// Today says whether the window ends with today (today is included) rather
	// than with yesterday.
	Today bool
}

// Yesterday is the window of the local day before today.
var Yesterday = Window{Days: 1}

// Today is the window of the local day that contains now, whole: hours still to
// come are in the range and simply have no page views yet.
var Today = Window{Days: 1, Today: true}

// ParseWindow parses a relative range: "yesterday", "today", or "last N" with N
// a count of days ("7d") or weeks ("2w"). "last 7d" is the 7 whole local days
// before today: today is not included, so a nightly run reports only complete
// days. The "last " prefix may be left out ("7d").
func ParseWindow(s string) (Window, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	switch t {
	case "yesterday":
		return Yesterday, nil
	case "today":
		return Today, nil
	}
	t = strings.TrimSpace(strings.TrimPrefix(t, "last"))
	n, err := parseDays(t)
	if err != nil {
		return Window{}, fmt.Errorf("%w: %q: want yesterday, today or last N days (7d) or weeks (2w)", ErrBadRange, s)
	}
	return Window{Days: n}, nil
}

// parseDays parses "7d" or "2w" into days, 1 to mapreduce.MaxDays.
func parseDays(s string) (int, error) {
	if len(s) < 2 {
		return 0, ErrBadRange
	}
	mul := 0
	switch s[len(s)-1] {
	case 'd':
		mul = 1
	case 'w':
		mul = 7
	default:
		return 0, ErrBadRange
	}
	n, err := strconv.Atoi(s[:len(s)-1])
	if err != nil || n < 1 || n*mul > mapreduce.MaxDays {
		return 0, ErrBadRange
	}
	return n * mul, nil
}

// String formats w as ParseWindow reads it.
func (w Window) String() string {
	switch {
	case w.Days == 0:
		return ""
	case w == Yesterday:
		return "yesterday"
	case w == Today:
		return "today"
	case w.Today:
		return fmt.Sprintf("last %dd including today", w.Days)
	}
	return fmt.Sprintf("last %dd", w.Days)
}

// IsZero reports whether w is the zero (empty) Window.
func (w Window) IsZero() bool { return w.Days == 0 }

// Range returns the instants that start and end the window for a run at now,
// in loc's local days (nil means UTC). Days are calendar days of loc, so a
// window over a daylight-saving change is 23 or 25 hours longer or shorter
// than Days×24h.
func (w Window) Range(now time.Time, loc *time.Location) (start, end time.Time) {
	if loc == nil {
		loc = time.UTC
	}
	last := mapreduce.DateOf(now.In(loc))
	if !w.Today {
		last = last.AddDays(-1)
	}
	return last.AddDays(1 - w.Days).In(loc), last.AddDays(1).In(loc)
}

// Relative returns the range of the flags --yesterday, --today and --last N
// (see ParseWindow) for a run at now in loc. At most one may be given; none
// returns zero times and no error.
func Relative(now time.Time, loc *time.Location, yesterday, today bool, last string) (start, end time.Time, err error) {
	var given []string
	var w Window
	if yesterday {
		given, w = append(given, "--yesterday"), Yesterday
	}
	if today {
		given, w = append(given, "--today"), Today
	}
	if last != "" {
		given = append(given, "--last")
		if w, err = ParseWindow(last); err != nil {
			return time.Time{}, time.Time{}, fmt.Errorf("--last: %w", err)
		}
	}
	switch len(given) {
	case 0:
		return time.Time{}, time.Time{}, nil
	case 1:
		start, end = w.Range(now, loc)
		return start, end, nil
	}
	return time.Time{}, time.Time{}, fmt.Errorf("%w: give only one of %s", ErrBadRange, strings.Join(given, ", "))
}
