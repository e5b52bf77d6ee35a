package mapreduce

import (
	"sort"
	"time"
)

// Period names the length of a report bucket.
type Period string

// The periods reports bucket by. PeriodRange is the run's whole range.
const (
	PeriodMinute Period = "minute"
	PeriodHour   Period = "hour"
	PeriodDay    Period = "day"
	PeriodMonth  Period = "month"
	PeriodRange  Period = "range"
	// PeriodPrevious rows hold the totals of the period of the same length
	// just before the run's range, read in the same pass for comparison
	// (PlanSpec.Compare).
	PeriodPrevious Period = "previous"
)

// Span is one calendar bucket: [Start, End) in the calendar's time zone.
type Span struct {
	Start, End time.Time
	// StartNs and EndNs are Start and End in Unix nanoseconds.
	StartNs, EndNs int64
	// Parent is the index of the enclosing span: an hour's day, a day's month.
	Parent int
}

// Bucket locates an instant in a Calendar: indexes into Hours, Days and Months.
type Bucket struct {
	Hour, Day, Month int32
}

// Calendar buckets instants into local hours, days and months of one time zone
// over a run's range. Hours are real elapsed hours that start at local midnight,
// so a day has 23 or 25 of them across a daylight-saving change. A Calendar is
// read-only after NewCalendar and safe for concurrent use.
type Calendar struct {
	Loc    *time.Location
	Hours  []Span
	Days   []Span
	Months []Span
}

// NewCalendar returns the calendar of the local days of loc that overlap
// [start, end).
func NewCalendar(start, end time.Time, loc *time.Location) *Calendar {
	c := &Calendar{Loc: loc}
	ls := start.In(loc)
	date := DateOf(ls)
	day := date.In(loc)
	for day.Before(end) {
		nextDate := date.AddDays(1)
		next := nextDate.In(loc)
		if len(c.Months) == 0 || date.Month != DateOf(c.Months[len(c.Months)-1].Start).Month {
			first := Date{date.Year, date.Month, 1}
			next := DateOf(first.In(time.UTC).AddDate(0, 1, 0))
			c.Months = append(c.Months, span(first.In(loc), next.In(loc), 0))
		}
		c.Days = append(c.Days, span(day, next, len(c.Months)-1))
		for h := day; h.Before(next); {
			hn := h.Add(time.Hour)
			if hn.After(next) {
				hn = next
			}
			c.Hours = append(c.Hours, span(h, hn, len(c.Days)-1))
			h = hn
		}
		day, date = next, nextDate
	}
	return c
}

func span(a, b time.Time, parent int) Span {
	return Span{Start: a, End: b, StartNs: a.UnixNano(), EndNs: b.UnixNano(), Parent: parent}
}

// Locate returns the bucket of the instant ns (Unix nanoseconds). hint is the
// caller's last hour index: rows arrive in time order, so it is almost always
// right and saves the search. ok is false when ns is outside the calendar.
func (c *Calendar) Locate(ns int64, hint *int32) (b Bucket, ok bool) {
	h := int(*hint)
	if h < 0 || h >= len(c.Hours) || ns < c.Hours[h].StartNs || ns >= c.Hours[h].EndNs {
		h = sort.Search(len(c.Hours), func(i int) bool { return c.Hours[i].EndNs > ns })
		if h == len(c.Hours) || ns < c.Hours[h].StartNs {
			return Bucket{}, false
		}
		*hint = int32(h)
	}
	d := c.Hours[h].Parent
	return Bucket{Hour: int32(h), Day: int32(d), Month: int32(c.Days[d].Parent)}, true
}

// Covers reports whether [start, end) covers all of the span.
func (s *Span) Covers(start, end time.Time) bool {
	return !s.Start.Before(start) && !s.End.After(end)
}
