package redis

import (
	"errors"
	"fmt"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
)

// ErrUnaligned is wrapped by the error of Cover when an edge of the window
// is not on a boundary of the finest period allowed.
var ErrUnaligned = errors.New("window edge inside the finest period")

// Unit is one calendar period of a cover: a month, day, hour or minute of the
// time zone the window was given in, [Start, End).
type Unit struct {
	Period     mapreduce.Period
	Start, End time.Time
}

// String returns "hour 2024-08-01T18:00+02:00".
func (u Unit) String() string {
	return string(u.Period) + " " + u.Start.Format("2006-01-02T15:04Z07:00")
}

// Cover returns the fewest calendar periods of loc whose union is exactly the
// window [start, end): whole months, then whole days, then hours, then (when
// minutes is true) minutes at the edges, in time order. The periods are those
// of mapreduce.NewCalendar, the ones the uniques job reports: local months and
// days, and hours of real elapsed time from local midnight (23 or 25 in a day
// when daylight saving time starts or ends). A minute is one minute from the
// start of its hour.
//
// The greedy walk is minimal: it takes, from the left, the longest period
// that starts where the last one ended and ends within the window. The
// periods nest (a minute in one hour, an hour in one day, a day in one
// month), so every one it takes is a largest period inside the window, and
// any exact cover needs at least one period for each of those.
//
// The error wraps ErrUnaligned when start or end falls inside an hour (or
// inside a minute, with minutes), and is an error of its own when the window
// is empty or longer than mapreduce.MaxDays.
func Cover(start, end time.Time, loc *time.Location, minutes bool) ([]Unit, error) {
	if loc == nil {
		loc = time.UTC
	}
	if !start.Before(end) {
		return nil, fmt.Errorf("cover: empty window %s to %s", start.Format(time.RFC3339), end.Format(time.RFC3339))
	}
	if end.Sub(start) > mapreduce.MaxDays*24*time.Hour {
		return nil, fmt.Errorf("cover: window %s to %s is longer than %d days", start.Format(time.RFC3339), end.Format(time.RFC3339), mapreduce.MaxDays)
	}
	cal := mapreduce.NewCalendar(start, end, loc)
	var out []Unit
	take := func(p mapreduce.Period, s *mapreduce.Span) bool {
		if !s.Start.Equal(start) || s.End.After(end) {
			return false
		}
		out = append(out, Unit{Period: p, Start: s.Start, End: s.End})
		start = s.End
		return true
	}
	h := 0
	for start.Before(end) {
		for h < len(cal.Hours) && !cal.Hours[h].End.After(start) {
			h++
		}
		if h == len(cal.Hours) { // Cannot happen: the calendar covers the window.
			return nil, fmt.Errorf("cover: %s is outside the calendar", start.Format(time.RFC3339))
		}
		hour := &cal.Hours[h]
		day := &cal.Days[hour.Parent]
		month := &cal.Months[day.Parent]
		if take(mapreduce.PeriodMonth, month) || take(mapreduce.PeriodDay, day) || take(mapreduce.PeriodHour, hour) {
			continue
		}
		if minutes {
			off := start.Sub(hour.Start)
			m := mapreduce.Span{Start: start, End: start.Add(time.Minute)}
			if m.End.After(hour.End) {
				m.End = hour.End
			}
			if off%time.Minute == 0 && take(mapreduce.PeriodMinute, &m) {
				continue
			}
		}
		unit := "hour"
		if minutes {
			unit = "minute"
		}
		edge, at := "start", start
		if off := start.Sub(hour.Start); (minutes && off%time.Minute == 0) || (!minutes && off == 0) {
			edge, at = "end", end
		}
		return nil, fmt.Errorf("%w: the window's %s %s is not on a whole %s of %s (the finest key)",
			ErrUnaligned, edge, at.In(loc).Format(time.RFC3339), unit, loc)
	}
	return out, nil
}

// Parts returns the key time parts of the units, as TimePart names them.
func Parts(units []Unit) []string {
	out := make([]string, len(units))
	for i, u := range units {
		out[i] = TimePart(u.Period, u.Start, u.End)
	}
	return out
}
