package redis

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/pvjobs/pvjobs/mapreduce"
)

// ErrMeasure is wrapped by the error of PlanKeys for a measure it cannot
// store: a count that is not a finite number, an average it has no count
// to turn into a sum for, or a measure of a kind it does not know how to
// keep exact.
var ErrMeasure = errors.New("measure cannot be stored in Redis")

// Field is one field of a hash key: a stored measure and its whole value.
type Field struct {
	Name  string
	Value int64
}

// MeasureName returns the name part of the sorted set that holds measure
// of report: "urls.visitors" for MeasureName("urls", "visitors"). The
// report's first measure has the report's own key (ReportName), which keeps
// its meaning (see the package documentation, "Several measures").
func MeasureName(report, measure string) string {
	return ReportName(report) + "." + measure
}

// average is a measure stored as the sum it averages: a sum adds up over
// periods and rows (ZUNIONSTORE, adding hash fields), an average does not.
type average struct {
	// sum is the stored measure's name.
	sum string
	// over lists the counts the average is over, the first a report has
	// being its own.
	over []string
	// scale turns the average's unit into the sum's: seconds into
	// milliseconds.
	scale float64
}

// averages are the averages of the jobs' reports, by measure name. The
// jobs sum visit durations in whole milliseconds and report the average in
// seconds, sum / n / 1000: avg × n × 1000, rounded, gives the sum back
// exactly (the three roundings of float64 arithmetic are far below half a
// millisecond for any sum under 10^15 ms).
var averages = map[string]average{
	"avg_visit_duration_s": {sum: "duration_ms", over: []string{"visits", "entries"}, scale: 1000},
}

// stored is one value of a report's rows that goes to Redis: a sorted set
// of its own per period (keyed reports), or a field of the period's hash
// (reports of totals).
type stored struct {
	// name is the key's name part: the report's for its first measure,
	// MeasureName for the others.
	name string
	// field is the measure's name as stored, the hash field: a count's own
	// name, or an average's sum ("duration_ms").
	field string
	// idx is the index of the measure in a row's Values; over, for an
	// average, that of the count it is over (-1 for a count).
	idx, over int
	scale     float64
}

// value returns the stored value of row r: the count, or the average times
// its count, rounded to a whole number of the sum's unit.
func (s *stored) value(r *mapreduce.ReportRow) (float64, error) {
	if s.idx >= len(r.Values) {
		return 0, fmt.Errorf("%s: row has %d values: %w", s.field, len(r.Values), ErrMeasure)
	}
	v := r.Values[s.idx]
	if s.over >= 0 {
		if s.over >= len(r.Values) {
			return 0, fmt.Errorf("%s: row has %d values: %w", s.field, len(r.Values), ErrMeasure)
		}
		n := r.Values[s.over]
		if n == 0 {
			return 0, nil // an average of nothing (NaN): nothing summed
		}
		v = math.Round(v * n * s.scale)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%s is %v: %w", s.field, v, ErrMeasure)
	}
	return v, nil
}

// storedMeasures returns what of rep's rows goes to Redis, in the order of
// its measures:
//
//   - a report that names no measures: its rows' first value, under the
//     report's key;
//   - otherwise every count, and every average (mapreduce.Seconds) as its
//     sum; rates and means (bounce_rate, exit_rate, pageviews_per_visit) are
//     ratios of counts stored beside them, and are not stored.
//
// For a keyed report (sorted sets) the first measure is stored whatever its
// kind, under the report's own key, as before reports had several measures.
func storedMeasures(rep *mapreduce.Report, keyed bool) ([]stored, error) {
	base := ReportName(rep.Name)
	if len(rep.Measures) == 0 {
		return []stored{{name: base, field: "value", over: -1}}, nil
	}
	var out []stored
	for i, m := range rep.Measures {
		s := stored{field: m.Name, idx: i, over: -1}
		switch avg, isAvg := averages[m.Name]; {
		case i == 0 && keyed:
			s.name = base
			out = append(out, s)
			continue
		case m.Kind == mapreduce.Count:
		case m.Kind == mapreduce.Seconds && isAvg:
			s.field, s.scale = avg.sum, avg.scale
			for _, o := range avg.over {
				if j := rep.Measure(o); j >= 0 && rep.Measures[j].Kind == mapreduce.Count {
					s.over = j
					break
				}
			}
			if s.over < 0 {
				return nil, fmt.Errorf("report %s: %s is an average over %s, which the report has not: %w",
					rep.Name, m.Name, strings.Join(avg.over, " or "), ErrMeasure)
			}
		case m.Kind == mapreduce.Rate || m.Kind == mapreduce.Mean:
			continue // a ratio of counts stored beside it
		default:
			return nil, fmt.Errorf("report %s: measure %s of kind %d: %w", rep.Name, m.Name, m.Kind, ErrMeasure)
		}
		s.name = MeasureName(rep.Name, s.field)
		out = append(out, s)
	}
	return out, nil
}
