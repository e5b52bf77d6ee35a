package mapreduce_test

import (
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
)

func mustLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("time zone %s: %v", name, err)
	}
	return loc
}

// checkCalendar checks the structure every calendar must have: hours, days
// and months contiguous and nested, days starting at local midnight, hours at
// most one hour long.
func checkCalendar(t *testing.T, c *mapreduce.Calendar) {
	t.Helper()
	if len(c.Hours) == 0 || len(c.Days) == 0 || len(c.Months) == 0 {
		t.Fatalf("empty calendar: %d hours, %d days, %d months", len(c.Hours), len(c.Days), len(c.Months))
	}
	spans := map[string][]mapreduce.Span{"hours": c.Hours, "days": c.Days, "months": c.Months}
	for name, ss := range spans {
		for i, s := range ss {
			if s.StartNs != s.Start.UnixNano() || s.EndNs != s.End.UnixNano() {
				t.Fatalf("%s[%d]: ns fields disagree with times", name, i)
			}
			if !s.Start.Before(s.End) {
				t.Fatalf("%s[%d]: empty span %s..%s", name, i, s.Start, s.End)
			}
			if name != "months" && i > 0 && !ss[i-1].End.Equal(s.Start) {
				t.Fatalf("%s[%d] starts at %s, previous ends at %s", name, i, s.Start, ss[i-1].End)
			}
		}
	}
	for i, h := range c.Hours {
		if h.End.Sub(h.Start) > time.Hour {
			t.Fatalf("hour %d is %s long", i, h.End.Sub(h.Start))
		}
		d := c.Days[h.Parent]
		if h.Start.Before(d.Start) || h.End.After(d.End) {
			t.Fatalf("hour %d (%s) outside its day %s", i, h.Start, d.Start)
		}
	}
	for i, d := range c.Days {
		l := d.Start.In(c.Loc)
		if l.Hour() != 0 || l.Minute() != 0 || l.Second() != 0 {
			// Zones whose midnight does not exist start the day at the
			// first instant after it; none of the zones tested here.
			t.Fatalf("day %d starts at %s local, want midnight", i, l)
		}
		m := c.Months[d.Parent]
		if d.Start.Before(m.Start) || d.End.After(m.End) {
			t.Fatalf("day %d (%s) outside its month %s", i, d.Start, m.Start)
		}
	}
	for i := 1; i < len(c.Months); i++ {
		if !c.Months[i-1].End.Equal(c.Months[i].Start) {
			t.Fatalf("month %d does not follow month %d", i, i-1)
		}
	}
}

func TestCalendarDays(t *testing.T) {
	tests := []struct {
		name  string
		zone  string
		day   mapreduce.Date
		hours int
		// startUTC is the day's first instant in UTC.
		startUTC string
	}{
		{"utc", "UTC", mapreduce.Date{Year: 2024, Month: 8, Day: 1}, 24, "2024-08-01T00:00:00Z"},
		{"utc leap day", "UTC", mapreduce.Date{Year: 2024, Month: 2, Day: 29}, 24, "2024-02-29T00:00:00Z"},
		{"berlin summer", "Europe/Berlin", mapreduce.Date{Year: 2024, Month: 8, Day: 1}, 24, "2024-07-31T22:00:00Z"},
		{"berlin spring forward", "Europe/Berlin", mapreduce.Date{Year: 2024, Month: 3, Day: 31}, 23, "2024-03-30T23:00:00Z"},
		{"berlin fall back", "Europe/Berlin", mapreduce.Date{Year: 2024, Month: 10, Day: 27}, 25, "2024-10-26T22:00:00Z"},
		{"new york spring forward", "America/New_York", mapreduce.Date{Year: 2024, Month: 3, Day: 10}, 23, "2024-03-10T05:00:00Z"},
		{"new york fall back", "America/New_York", mapreduce.Date{Year: 2024, Month: 11, Day: 3}, 25, "2024-11-03T04:00:00Z"},
		{"kolkata", "Asia/Kolkata", mapreduce.Date{Year: 2024, Month: 8, Day: 1}, 24, "2024-07-31T18:30:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc := mustLoc(t, tt.zone)
			start, end, err := mapreduce.DayRange(tt.day, tt.day, loc)
			if err != nil {
				t.Fatal(err)
			}
			c := mapreduce.NewCalendar(start, end, loc)
			checkCalendar(t, c)
			if len(c.Days) != 1 {
				t.Fatalf("%d days, want 1", len(c.Days))
			}
			if len(c.Hours) != tt.hours {
				t.Errorf("%d hours, want %d", len(c.Hours), tt.hours)
			}
			d := c.Days[0]
			if got := d.Start.UTC().Format(time.RFC3339); got != tt.startUTC {
				t.Errorf("day starts %s UTC, want %s", got, tt.startUTC)
			}
			if got := d.End.Sub(d.Start); got != time.Duration(tt.hours)*time.Hour {
				t.Errorf("day is %s long, want %dh", got, tt.hours)
			}
			// Every hour is a full elapsed hour from local midnight.
			for i, h := range c.Hours {
				if want := d.Start.Add(time.Duration(i) * time.Hour); !h.Start.Equal(want) {
					t.Errorf("hour %d starts %s, want %s", i, h.Start, want)
				}
				if h.End.Sub(h.Start) != time.Hour {
					t.Errorf("hour %d is %s long", i, h.End.Sub(h.Start))
				}
			}
			if len(c.Months) != 1 || c.Months[0].Start.In(loc).Day() != 1 {
				t.Errorf("months %v, want the one month of the day", c.Months)
			}
		})
	}
}

func TestCalendarFallBackHoursLocal(t *testing.T) {
	loc := mustLoc(t, "Europe/Berlin")
	d := mapreduce.Date{Year: 2024, Month: 10, Day: 27}
	start, end, _ := mapreduce.DayRange(d, d, loc)
	c := mapreduce.NewCalendar(start, end, loc)
	var got []string
	for _, h := range c.Hours[:5] {
		got = append(got, h.Start.In(loc).Format("15:04Z07:00"))
	}
	want := []string{"00:00+02:00", "01:00+02:00", "02:00+02:00", "02:00+01:00", "03:00+01:00"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("hours start %v, want %v", got, want)
		}
	}
}

func TestCalendarMonthsAndPartialDays(t *testing.T) {
	loc := mustLoc(t, "Europe/Berlin")
	// From 2024-01-31 13:00 UTC to 2024-03-01 00:30 UTC: the first and last
	// local days are only partly in range but are whole in the calendar.
	start := time.Date(2024, 1, 31, 13, 0, 0, 0, time.UTC)
	end := time.Date(2024, 3, 1, 0, 30, 0, 0, time.UTC)
	c := mapreduce.NewCalendar(start, end, loc)
	checkCalendar(t, c)
	// Jan 31, Feb 1..29, Mar 1 (local Mar 1 starts 2024-02-29T23:00Z).
	if len(c.Days) != 31 {
		t.Fatalf("%d days, want 31", len(c.Days))
	}
	if len(c.Months) != 3 {
		t.Fatalf("%d months, want 3 (Jan, Feb, Mar)", len(c.Months))
	}
	if got := c.Days[0].Start.In(loc).Format("2006-01-02 15:04"); got != "2024-01-31 00:00" {
		t.Errorf("first day %s", got)
	}
	if got := c.Days[30].Start.In(loc).Format("2006-01-02"); got != "2024-03-01" {
		t.Errorf("last day %s", got)
	}
	feb := c.Months[1]
	if got := feb.End.Sub(feb.Start); got != 29*24*time.Hour {
		t.Errorf("February 2024 is %s long, want 29 days", got)
	}
	if c.Days[29].Parent != 1 || c.Days[30].Parent != 2 {
		t.Errorf("Feb 29 in month %d, Mar 1 in month %d", c.Days[29].Parent, c.Days[30].Parent)
	}
}

func TestCalendarLocate(t *testing.T) {
	for _, zone := range []string{"UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"} {
		t.Run(zone, func(t *testing.T) {
			loc := mustLoc(t, zone)
			// Three local days around the autumn change (Berlin, New York)
			// and over a month end.
			start, end, _ := mapreduce.DayRange(mapreduce.Date{Year: 2024, Month: 10, Day: 26},
				mapreduce.Date{Year: 2024, Month: 11, Day: 3}, loc)
			c := mapreduce.NewCalendar(start, end, loc)
			checkCalendar(t, c)
			var follow int32 // a hint that follows time order, as a worker's does
			for hi, h := range c.Hours {
				for _, ns := range []int64{h.StartNs, h.StartNs + 1, (h.StartNs + h.EndNs) / 2, h.EndNs - 1} {
					want := mapreduce.Bucket{Hour: int32(hi), Day: int32(h.Parent), Month: int32(c.Days[h.Parent].Parent)}
					// The hint following time order, a stale one, and nonsense ones.
					for name, hint := range map[string]int32{"follow": follow, "zero": 0, "last": int32(len(c.Hours) - 1), "neg": -5, "huge": 1 << 30} {
						hv := hint
						b, ok := c.Locate(ns, &hv)
						if !ok || b != want {
							t.Fatalf("Locate(%s) with %s hint = %+v %v, want %+v", mapreduce.UnixTime(ns), name, b, ok, want)
						}
						if hv != int32(hi) {
							t.Fatalf("Locate left hint %d, want %d", hv, hi)
						}
						if name == "follow" {
							follow = hv
						}
					}
					// Cross-check against time.Time in loc.
					lt := mapreduce.UnixTime(ns).In(loc)
					ds := c.Days[want.Day].Start.In(loc)
					if lt.Year() != ds.Year() || lt.YearDay() != ds.YearDay() {
						t.Fatalf("%s located in day %s", lt, ds)
					}
					if ms := c.Months[want.Month].Start.In(loc); ms.Month() != lt.Month() {
						t.Fatalf("%s located in month %s", lt, ms)
					}
				}
			}
			for name, ns := range map[string]int64{
				"before":        c.Hours[0].StartNs - 1,
				"at end":        c.Hours[len(c.Hours)-1].EndNs,
				"far before":    0,
				"far after":     1 << 62,
				"minimum int64": -1 << 63,
			} {
				for _, hint := range []int32{0, int32(len(c.Hours) - 1), -1} {
					if b, ok := c.Locate(ns, &hint); ok {
						t.Errorf("Locate(%s) = %+v, want out of range", name, b)
					}
				}
			}
		})
	}
}
