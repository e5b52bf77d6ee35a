package html

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pvjobs/pvjobs/mapreduce"
)

// dash stands for a value that does not exist: a rate of no visits, the
// visitors of rows added together (distinct counts do not add up).
const dash = "–"

// formatValue formats v of a measure of kind k for people: counts with
// thousands separators, rates as percentages, durations as minutes and
// seconds, means with two decimals.
func formatValue(k mapreduce.MeasureKind, v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return dash
	}
	switch k {
	case mapreduce.Rate:
		return strconv.FormatFloat(v*100, 'f', 1, 64) + "%"
	case mapreduce.Seconds:
		return formatDuration(v)
	case mapreduce.Mean:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return formatCount(v)
}

// formatCount formats a whole number with commas: 1,234,567.
func formatCount(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return dash
	}
	s := strconv.FormatFloat(math.Abs(math.Round(v)), 'f', 0, 64)
	var b strings.Builder
	if v < 0 && math.Round(v) != 0 {
		b.WriteString("−")
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// formatDuration formats seconds as 45s, 3m 05s or 1h 02m.
func formatDuration(s float64) string {
	if math.IsNaN(s) || s < 0 {
		return dash
	}
	d := time.Duration(math.Round(s)) * time.Second
	h, m, sec := int(d/time.Hour), int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second)
	switch {
	case h > 0:
		return strconv.Itoa(h) + "h " + pad2(m) + "m"
	case m > 0:
		return strconv.Itoa(m) + "m " + pad2(sec) + "s"
	}
	return strconv.Itoa(sec) + "s"
}

func pad2(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

// shortCount formats a count in at most four characters for heatmap cells:
// 999, 1.2k, 12k, 1.2M.
func shortCount(v float64) string {
	switch {
	case v < 1000:
		return formatCount(v)
	case v < 10_000:
		return strconv.FormatFloat(math.Floor(v/100)/10, 'f', 1, 64) + "k"
	case v < 1_000_000:
		return strconv.FormatFloat(math.Floor(v/1000), 'f', 0, 64) + "k"
	case v < 10_000_000:
		return strconv.FormatFloat(math.Floor(v/100_000)/10, 'f', 1, 64) + "M"
	}
	return strconv.FormatFloat(math.Floor(v/1_000_000), 'f', 0, 64) + "M"
}

// change is the difference between a value and the previous period's.
type change struct {
	// Text is "+12.3%", "−4.0 pp", "new" or "±0".
	Text string
	// Dir is "up", "down" or "flat"; Good says whether the move is welcome
	// (a bounce rate that goes down is).
	Dir  string
	Good bool
	// Title says what the value was: "previous period: 1,234".
	Title string
}

// newChange compares cur with prev for a measure of kind k. Rates differ in
// percentage points, other measures by a relative change. lowerIsBetter
// turns the colours around (bounce rate). It returns nil when the change
// cannot be told (a rate of no visits on either side).
func newChange(k mapreduce.MeasureKind, cur, prev float64, lowerIsBetter bool) *change {
	if math.IsNaN(cur) || math.IsNaN(prev) || math.IsInf(cur, 0) || math.IsInf(prev, 0) {
		return nil
	}
	c := &change{Title: "previous period: " + formatValue(k, prev)}
	var d float64
	switch {
	case k == mapreduce.Rate:
		d = (cur - prev) * 100
		c.Text = signed(d, 1) + " pp"
		if math.Abs(d) < 0.05 {
			c.Text = "±0 pp"
		}
	case prev == 0 && cur == 0:
		c.Text = "±0%"
	case prev == 0:
		c.Text, c.Dir, c.Good = "new", "up", !lowerIsBetter
		return c
	default:
		d = (cur - prev) / math.Abs(prev) * 100
		c.Text = signed(d, 1) + "%"
		if math.Abs(d) < 0.05 {
			c.Text = "±0%"
		}
	}
	switch {
	case strings.HasPrefix(c.Text, "±"):
		c.Dir, c.Good = "flat", true
	case d > 0:
		c.Dir, c.Good = "up", !lowerIsBetter
	default:
		c.Dir, c.Good = "down", lowerIsBetter
	}
	return c
}

// signed formats v with its sign: +1.5, −2.0 (a real minus sign).
func signed(v float64, prec int) string {
	s := strconv.FormatFloat(math.Abs(v), 'f', prec, 64)
	if v < 0 {
		return "−" + s
	}
	return "+" + s
}

// maxText is how many characters of a key a table shows; the whole key is
// in the cell's title.
const maxText = 120

// clip shortens s to maxText characters (never cutting a character in
// two) and reports whether it did.
func clip(s string) (string, bool) {
	if utf8.RuneCountInString(s) <= maxText {
		return s, false
	}
	n := 0
	for i := range s {
		if n == maxText-1 {
			return s[:i] + "…", true
		}
		n++
	}
	return s, false
}
