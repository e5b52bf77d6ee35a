package redis

import (
	"strings"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
)

// DefaultPrefix is the first part of every key unless Options.Prefix says
// otherwise.
const DefaultPrefix = "pv"

// UVName is the report part of the keys of the uniques report: the unique
// visitors' HyperLogLog keys are "pv:{blog}:uv:2024080118".
const UVName = "uv"

// uniquesReport is the name of the uniques job's report (jobs/uniques.Name;
// reports do not import jobs).
const uniquesReport = "uniques"

// Keys names the keys of one prefix (see the package documentation for the
// scheme). The zero value uses DefaultPrefix.
type Keys struct {
	// Prefix is the first part of every key, "pv" when empty.
	Prefix string
}

func (k Keys) prefix() string {
	if k.Prefix == "" {
		return DefaultPrefix
	}
	return k.Prefix
}

// Key returns prefix:{account}:name:part, for example "pv:{blog}:urls:20240801".
// The account sits in a hash tag, so every key of an account maps to one Redis
// Cluster slot.
func (k Keys) Key(account, name, part string) string {
	var b strings.Builder
	p := k.prefix()
	b.Grow(len(p) + len(account) + len(name) + len(part) + 6)
	b.WriteString(p)
	b.WriteString(":{")
	b.WriteString(account)
	b.WriteString("}:")
	b.WriteString(name)
	b.WriteByte(':')
	b.WriteString(part)
	return b.String()
}

// TempKey returns the temporary key under which run builds Key(account, name,
// part): prefix:{account}:tmp:run:name:part, in the account's slot so that
// RENAME works in Redis Cluster.
func (k Keys) TempKey(run, account, name, part string) string {
	return k.Key(account, "tmp:"+run+":"+name, part)
}

// TempPattern returns the SCAN pattern of every temporary key of account, of
// any run: prefix:{account}:tmp:*.
func (k Keys) TempPattern(account string) string {
	return k.prefix() + ":{" + account + "}:tmp:*"
}

// UV returns the HyperLogLog key of account for the calendar period u.
func (k Keys) UV(account string, u Unit) string {
	return k.Key(account, UVName, TimePart(u.Period, u.Start, u.End))
}

// ReportName returns the name part of a report's keys: UVName for the
// uniques report, else the report's own name.
func ReportName(report string) string {
	if report == uniquesReport {
		return UVName
	}
	return report
}

// TimePart returns the time part of the key of the period p that starts at
// start; end matters only for PeriodRange. Times are wall-clock times of
// start's location (the run's time zone):
//
//	minute  202408011820        hour  2024080118
//	day     20240801            month 202408
//	range   20240801-20240807   (whole local days, the last one included)
//	range   202408011800-202408030630 (otherwise: start and end, to the minute,
//	        or to the second when they are not whole minutes)
//
// A minute or hour that starts at a wall-clock time the clock already showed
// earlier (the repeated hour when daylight saving time ends) gets the UTC
// offset appended, "2024102702+0100", so every period has its own key; the
// first occurrence keeps the plain name.
func TimePart(p mapreduce.Period, start, end time.Time) string {
	switch p {
	case mapreduce.PeriodMinute:
		return withOffset(start.Format("200601021504"), start)
	case mapreduce.PeriodHour:
		return withOffset(start.Format("2006010215"), start)
	case mapreduce.PeriodDay:
		return start.Format("20060102")
	case mapreduce.PeriodMonth:
		return start.Format("200601")
	case mapreduce.PeriodRange:
		end = end.In(start.Location())
		if isMidnight(start) && isMidnight(end) {
			last := time.Date(end.Year(), end.Month(), end.Day()-1, 12, 0, 0, 0, end.Location())
			return start.Format("20060102") + "-" + last.Format("20060102")
		}
		return instantPart(start) + "-" + instantPart(end)
	}
	return string(p) + start.Format("20060102150405")
}

func instantPart(t time.Time) string {
	layout := "200601021504"
	if t.Second() != 0 || t.Nanosecond() != 0 {
		layout = "20060102150405"
	}
	return withOffset(t.Format(layout), t)
}

// isMidnight reports whether t is the start of its local day.
func isMidnight(t time.Time) bool {
	return t.Equal(time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location()))
}

// withOffset appends t's UTC offset (+0100) to s when t's wall-clock time is
// repeated.
func withOffset(s string, t time.Time) string {
	if Repeated(t) {
		return s + t.Format("-0700")
	}
	return s
}

// Repeated reports whether the wall-clock time of t (in its location) was
// already shown earlier: t falls within the first d after the clock was
// turned back by d.
func Repeated(t time.Time) bool {
	zs, _ := t.ZoneBounds()
	if zs.IsZero() {
		return false
	}
	_, before := zs.Add(-time.Nanosecond).Zone()
	_, after := t.Zone()
	back := time.Duration(before-after) * time.Second
	return back > 0 && t.Sub(zs) < back
}
