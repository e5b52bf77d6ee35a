package mapreduce

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// Sketch is a unique-count sketch carried by a report row (see package
// mapreduce/hll): sinks print its count or store its Redis value.
type Sketch interface {
	Count() uint64
	// AppendRedis appends the value Redis would hold for the same registers.
	AppendRedis(dst []byte) []byte
}

// Report is one table of results, ready for the sinks: rows of counts keyed by
// account, period and the report's own key columns.
type Report struct {
	// Name names the report: the CSV file "<Name>.csv", the Redis key part.
	Name string
	// Keys names the key columns, for example ["url"] or ["engine", "term"].
	Keys []string
	// Measure names the value column, for example "pageviews".
	Measure string
	Rows    []ReportRow
}

// ReportRow is one row of a Report.
type ReportRow struct {
	Account string
	Period  Period
	// Start is the first instant of the period, in the run's time zone.
	Start time.Time
	Keys  []string
	Value int64
	// Sketch is set by reports of unique visitors; Value is then its count.
	Sketch Sketch
	// Partial is true when the run's range covers only part of the period (a
	// month of which one day was read): sinks must not let such a row replace
	// a complete one.
	Partial bool
}

// Member joins the row's keys with tabs: its sorted-set member.
func (r *ReportRow) Member() string { return strings.Join(r.Keys, "\t") }

// SortRows orders rows deterministically: by account, period, start, value
// descending, then keys.
func SortRows(rows []ReportRow) {
	slices.SortFunc(rows, func(a, b ReportRow) int {
		return cmp.Or(
			cmp.Compare(a.Account, b.Account),
			cmp.Compare(periodOrder(a.Period), periodOrder(b.Period)),
			a.Start.Compare(b.Start),
			cmp.Compare(b.Value, a.Value),
			slices.Compare(a.Keys, b.Keys),
		)
	})
}

func periodOrder(p Period) int {
	switch p {
	case PeriodMinute:
		return 0
	case PeriodHour:
		return 1
	case PeriodDay:
		return 2
	case PeriodMonth:
		return 3
	case PeriodRange:
		return 4
	}
	return 5
}
