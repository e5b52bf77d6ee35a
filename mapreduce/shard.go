package mapreduce

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxAccountLen is the longest account id a shard key may carry.
const MaxAccountLen = 64

// ErrBadAccount is wrapped by every error about a malformed account id.
var ErrBadAccount = errors.New("invalid account id")

// ValidateAccount checks that id is 1–64 characters of [A-Za-z0-9_-].
func ValidateAccount(id string) error {
	if id == "" {
		return fmt.Errorf("%w: empty", ErrBadAccount)
	}
	// Characters first: a long id of other characters is named by its first
	// bad character (counting bytes as characters would be wrong for it).
	pos := 0 // in characters
	for i, c := range id {
		pos++
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' {
			continue
		}
		what := fmt.Sprintf("character %q", c)
		if c == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(id[i:]); size == 1 {
				what = fmt.Sprintf("byte 0x%02x (not UTF-8)", id[i])
			}
		}
		shown := fmt.Sprintf("%q", id)
		if pos > MaxAccountLen || len(id) > 2*MaxAccountLen {
			shown = fmt.Sprintf("%.20q…", id)
		}
		return fmt.Errorf("%w %s: %s at position %d (allowed: A-Z a-z 0-9 _ -)", ErrBadAccount, shown, what, pos)
	}
	if len(id) > MaxAccountLen {
		return fmt.Errorf("%w %.20q…: %d characters, at most %d", ErrBadAccount, id, len(id), MaxAccountLen)
	}
	return nil
}

// ShardKey names one day partition of one account: YYYYMMDD.<account>, the UTC
// day.
type ShardKey struct {
	// Day is the UTC midnight that starts the shard's day.
	Day     time.Time
	Account string
}

// String returns the row key, for example "20240801.blog".
func (k ShardKey) String() string {
	return k.Day.Format("20060102") + "." + k.Account
}

// Start returns the first instant of the shard's day.
func (k ShardKey) Start() time.Time { return k.Day }

// End returns the first instant after the shard's day.
func (k ShardKey) End() time.Time { return k.Day.AddDate(0, 0, 1) }

// ParseShardKey parses a row key such as "20240801.blog".
func ParseShardKey(s string) (ShardKey, error) {
	day, account, ok := strings.Cut(s, ".")
	if !ok || len(day) != 8 {
		return ShardKey{}, fmt.Errorf("shard key %q: want YYYYMMDD.<account>", s)
	}
	d, err := time.Parse("20060102", day)
	if err != nil {
		return ShardKey{}, fmt.Errorf("shard key %q: bad date %q", s, day)
	}
	if err := ValidateAccount(account); err != nil {
		return ShardKey{}, fmt.Errorf("shard key %q: %w", s, err)
	}
	return ShardKey{Day: d, Account: account}, nil
}

// Date is a calendar day without a time zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate parses YYYY-MM-DD (or YYYYMMDD) and refuses dates that do not exist.
func ParseDate(s string) (Date, error) {
	layout := "2006-01-02"
	if len(s) == 8 && !strings.Contains(s, "-") {
		layout = "20060102"
	}
	t, err := time.Parse(layout, s)
	if err != nil {
		return Date{}, fmt.Errorf("date %q: want YYYY-MM-DD", s)
	}
	return DateOf(t), nil
}

// DateOf returns the calendar day of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// In returns the first instant of the day in loc. Where a daylight-saving
// change skips midnight (America/Santiago, America/Havana, ...), the day
// starts at the change, the first instant whose local date is d.
func (d Date) In(loc *time.Location) time.Time {
	t := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
	if DateOf(t) != d {
		// time.Date picked an instant of the previous local day: the day
		// begins where that zone period ends.
		_, end := t.ZoneBounds()
		if !end.IsZero() && DateOf(end) == d {
			t = end
		}
	}
	return t
}

// AddDays returns the date n days later.
func (d Date) AddDays(n int) Date { return DateOf(d.In(time.UTC).AddDate(0, 0, n)) }

// Before reports whether d is before e.
func (d Date) Before(e Date) bool { return d.In(time.UTC).Before(e.In(time.UTC)) }

// String formats d as YYYY-MM-DD.
func (d Date) String() string { return d.In(time.UTC).Format("2006-01-02") }

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }
