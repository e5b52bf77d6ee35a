package mapreduce

import (
	"cmp"
	"math"
	"slices"
	"strconv"
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

// MeasureKind says what a measure's values are, and so how sinks write them.
type MeasureKind uint8

// The kinds of measures.
const (
	// Count is a whole number: page views, visitors, visits.
	Count MeasureKind = iota
	// Rate is a share from 0 to 1, such as a bounce rate, written with four
	// decimals (0.4231).
	Rate
	// Seconds is a duration in seconds, such as an average visit duration,
	// written with one decimal.
	Seconds
	// Mean is an average of counts, such as page views per visit, written
	// with two decimals.
	Mean
)

// Measure names one value column of a report.
type Measure struct {
	// Name is the column's name, such as "pageviews" or "bounce_rate".
	Name string
	Kind MeasureKind
}

// Format formats v as sinks write values of m: counts as whole numbers,
// rates with four decimals, seconds with one, means with two. NaN (a rate of
// nothing) is written as the empty string.
func (m Measure) Format(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return ""
	}
	switch m.Kind {
	case Rate:
		return strconv.FormatFloat(v, 'f', 4, 64)
	case Seconds:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case Mean:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
}

// Counts returns the measures named, all of kind Count.
func Counts(names ...string) []Measure {
	ms := make([]Measure, len(names))
	for i, n := range names {
		ms[i] = Measure{Name: n, Kind: Count}
	}
	return ms
}

// Other is the key of the row that sums the rows a report left out when it
// keeps only its top rows (see ReportRow.Other).
const Other = "(other)"

// Report is one table of results, ready for the sinks: rows of values keyed
// by account, period and the report's own key columns.
type Report struct {
	// Name names the report: the CSV file "<Name>.csv", the Redis key part.
	Name string
	// Keys names the key columns, for example ["url"] or ["engine", "term"].
	Keys []string
	// Labels names columns that describe a row's keys without being part
	// of them, such as a URL's title: sinks that need a row's identity (a
	// Redis member) use its keys only.
	Labels []string
	// Measures names the value columns. The first is the report's primary
	// measure: rows are ranked by it, and it is the score of the report's
	// first Redis sorted set (each other count has a sorted set of its own).
	Measures []Measure
	Rows     []ReportRow
}

// Measure returns the index of the measure named name, or -1.
func (r *Report) Measure(name string) int {
	return slices.IndexFunc(r.Measures, func(m Measure) bool { return m.Name == name })
}

// ReportRow is one row of a Report.
type ReportRow struct {
	Account string
	Period  Period
	// Start is the first instant of the period, in the run's time zone.
	Start time.Time
	// Keys holds one value per key column of the report.
	Keys []string
	// Labels holds one value per label column of the report.
	Labels []string
	// Values holds one value per measure of the report.
	Values []float64
	// Sketch is set by reports of unique visitors; Values[0] is then its
	// count.
	Sketch Sketch
	// Partial is true when the run's range covers only part of the period (a
	// month of which one day was read): sinks must not let such a row replace
	// a complete one.
	Partial bool
	// Other marks the row that sums the rows left out of a report that keeps
	// only its top rows per account and period; every key is Other. Its
	// distinct counts (visitors) are those of the union of the rows left out.
	Other bool
}

// Primary returns the row's value of the report's primary measure.
func (r *ReportRow) Primary() float64 {
	if len(r.Values) == 0 {
		return 0
	}
	return r.Values[0]
}

// Member joins the row's keys with tabs: its sorted-set member.
func (r *ReportRow) Member() string { return strings.Join(r.Keys, "\t") }

// SortRows orders rows deterministically: by account, period, start, the
// primary value descending (the Other row last), then keys.
func SortRows(rows []ReportRow) {
	slices.SortFunc(rows, func(a, b ReportRow) int {
		return cmp.Or(
			cmp.Compare(a.Account, b.Account),
			cmp.Compare(periodOrder(a.Period), periodOrder(b.Period)),
			a.Start.Compare(b.Start),
			compareBool(a.Other, b.Other),
			cmp.Compare(b.Primary(), a.Primary()),
			slices.Compare(a.Keys, b.Keys),
		)
	})
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
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
	case PeriodPrevious:
		return 5
	}
	return 6
}
