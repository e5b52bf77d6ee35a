package options

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// errDuration is wrapped by ParseDuration's errors.
var errDuration = errors.New("invalid duration")

// ParseDuration parses a duration the way every option of pvjobs reads one: Go's
// time.ParseDuration syntax (90m, 1h30m, 500ms) plus the units d (24 hours)
// and w (7 days), which may be combined with the others (1d12h, 2w). A
// day is 24 hours here: a duration is elapsed time, not calendar days.
func ParseDuration(s string) (time.Duration, error) {
	orig := s
	bad := func() (time.Duration, error) {
		return 0, fmt.Errorf("%w %q", errDuration, orig)
	}
	if s == "" {
		return bad()
	}
	neg := false
	if s[0] == '-' || s[0] == '+' {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "0" {
		return 0, nil
	}
	var total time.Duration
	add := func(d time.Duration) bool {
		if d < 0 || total > math.MaxInt64-d {
			return false
		}
		total += d
		return true
	}
	var rest strings.Builder // the segments time.ParseDuration reads
	for s != "" {
		i := 0
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
			i++
		}
		num := s[:i]
		j := i
		for j < len(s) && !(s[j] >= '0' && s[j] <= '9' || s[j] == '.') {
			j++
		}
		unit := s[i:j]
		if num == "" || unit == "" {
			return bad()
		}
		switch unit {
		case "d", "w":
			d, ok := days(num, unit == "w")
			if !ok || !add(d) {
				return bad()
			}
		default:
			rest.WriteString(num + unit)
		}
		s = s[j:]
	}
	if rest.Len() > 0 {
		d, err := time.ParseDuration(rest.String())
		if err != nil || !add(d) {
			return bad()
		}
	}
	if neg {
		total = -total
	}
	return total, nil
}

// days converts a number of days (or weeks), such as 3 or 1.5, exactly where
// the number is whole.
func days(num string, weeks bool) (time.Duration, bool) {
	unit := 24 * time.Hour
	if weeks {
		unit *= 7
	}
	whole, frac, _ := strings.Cut(num, ".")
	if whole == "" && frac == "" {
		return 0, false
	}
	var d time.Duration
	if whole != "" {
		n, err := strconv.ParseInt(whole, 10, 64)
		if err != nil || n > math.MaxInt64/int64(unit) {
			return 0, false
		}
		d = time.Duration(n) * unit
	}
	if frac != "" {
		f, err := strconv.ParseFloat("0."+frac, 64)
		if err != nil {
			return 0, false
		}
		d += time.Duration(math.Round(f * float64(unit)))
	}
	return d, d >= 0
}

// FormatDuration formats d as ParseDuration reads it, in the largest units
// that express it exactly: 2w, 1d12h, 90m, 1.5s.
func FormatDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	var b strings.Builder
	if d < 0 {
		b.WriteByte('-')
		d = -d
	}
	day := 24 * time.Hour
	if w := d / (7 * day); w > 0 && d%day == 0 && (d/day)%7 == 0 {
		fmt.Fprintf(&b, "%dw", w)
		return b.String()
	}
	if n := d / day; n > 0 {
		fmt.Fprintf(&b, "%dd", n)
		d -= n * day
	}
	if d == 0 {
		return b.String()
	}
	s := d.String() // such as 1h30m0s
	if d >= time.Minute && strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s") // 1h30m0s: 1h30m
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m") // 2h0m: 2h
	}
	b.WriteString(s)
	return b.String()
}
