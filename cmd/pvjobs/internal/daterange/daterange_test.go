package daterange_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/daterange"
)

func relLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestParseRange(t *testing.T) {
	berlin := relLoc(t, "Europe/Berlin")
	tests := []struct {
		name, from, to string
		loc            *time.Location
		start, end     string // RFC 3339; "" with wantErr
		wantErr        bool
	}{
		{name: "days utc", from: "2024-08-01", to: "2024-08-07", loc: time.UTC,
			start: "2024-08-01T00:00:00Z", end: "2024-08-08T00:00:00Z"},
		{name: "compact days", from: "20240801", to: "20240801", loc: nil,
			start: "2024-08-01T00:00:00Z", end: "2024-08-02T00:00:00Z"},
		{name: "days berlin summer", from: "2024-08-01", to: "2024-08-01", loc: berlin,
			start: "2024-08-01T00:00:00+02:00", end: "2024-08-02T00:00:00+02:00"},
		{name: "spring forward day is 23h", from: "2024-03-31", to: "2024-03-31", loc: berlin,
			start: "2024-03-31T00:00:00+01:00", end: "2024-04-01T00:00:00+02:00"},
		{name: "rfc3339 exact", from: "2024-08-01T06:00:00+02:00", to: "2024-08-01T04:30:00Z", loc: berlin,
			start: "2024-08-01T04:00:00Z", end: "2024-08-01T04:30:00Z"},
		{name: "local time without offset", from: "2024-08-01T06:00", to: "2024-08-01T07:00:00", loc: berlin,
			start: "2024-08-01T04:00:00Z", end: "2024-08-01T05:00:00Z"},
		{name: "mixed day and time", from: "2024-08-01", to: "2024-08-02T12:00:00Z", loc: time.UTC,
			start: "2024-08-01T00:00:00Z", end: "2024-08-02T12:00:00Z"},
		{name: "space instead of T", from: "2024-08-01 06:00:00Z", to: "2024-08-01 07:00:00Z", loc: time.UTC,
			start: "2024-08-01T06:00:00Z", end: "2024-08-01T07:00:00Z"},
		{name: "only from", from: "2024-08-01", wantErr: true},
		{name: "only to", to: "2024-08-01", wantErr: true},
		{name: "from after to", from: "2024-08-02", to: "2024-08-01", wantErr: true},
		{name: "empty time range", from: "2024-08-01T06:00:00Z", to: "2024-08-01T06:00:00Z", wantErr: true},
		{name: "no such day", from: "2024-02-30", to: "2024-03-01", wantErr: true},
		{name: "garbage", from: "yesterday", to: "today", wantErr: true},
		{name: "bad time", from: "2024-08-01T25:00:00Z", to: "2024-08-02", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start, end, err := daterange.ParseRange(tc.from, tc.to, tc.loc)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("ParseRange(%q, %q) = %v, %v; want an error", tc.from, tc.to, start, end)
				}
				if !errors.Is(err, daterange.ErrBadRange) {
					t.Errorf("error %v does not wrap ErrBadRange", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseRange(%q, %q): %v", tc.from, tc.to, err)
			}
			ws, _ := time.Parse(time.RFC3339, tc.start)
			we, _ := time.Parse(time.RFC3339, tc.end)
			if !start.Equal(ws) || !end.Equal(we) {
				t.Errorf("ParseRange(%q, %q) = [%s, %s); want [%s, %s)", tc.from, tc.to,
					start.Format(time.RFC3339), end.Format(time.RFC3339), tc.start, tc.end)
			}
		})
	}
	t.Run("both empty", func(t *testing.T) {
		start, end, err := daterange.ParseRange("", " ", time.UTC)
		if err != nil || !start.IsZero() || !end.IsZero() {
			t.Errorf("ParseRange(\"\", \"\") = %v, %v, %v; want zero times, nil", start, end, err)
		}
	})
}

func TestParseWindow(t *testing.T) {
	tests := []struct {
		in   string
		want daterange.Window
		str  string
	}{
		{"yesterday", daterange.Yesterday, "yesterday"},
		{" Today ", daterange.Today, "today"},
		{"last 7d", daterange.Window{Days: 7}, "last 7d"},
		{"7d", daterange.Window{Days: 7}, "last 7d"},
		{"last 2w", daterange.Window{Days: 14}, "last 14d"},
		{"last 1d", daterange.Yesterday, "yesterday"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			w, err := daterange.ParseWindow(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if w != tc.want || w.String() != tc.str {
				t.Errorf("ParseWindow(%q) = %+v (%q); want %+v (%q)", tc.in, w, w, tc.want, tc.str)
			}
		})
	}
	for _, bad := range []string{"", "last", "last 0d", "last -1d", "last 7", "last 7h", "last 9999d", "last week", "tomorrow"} {
		t.Run("bad "+bad, func(t *testing.T) {
			if w, err := daterange.ParseWindow(bad); err == nil {
				t.Errorf("ParseWindow(%q) = %+v; want an error", bad, w)
			}
		})
	}
}

func TestRelative(t *testing.T) {
	berlin := relLoc(t, "Europe/Berlin")
	ny := relLoc(t, "America/New_York")
	// 2024-08-08T01:30 in Berlin is still 2024-08-07 in UTC and New York.
	now := time.Date(2024, 8, 7, 23, 30, 0, 0, time.UTC)
	tests := []struct {
		name             string
		loc              *time.Location
		yesterday, today bool
		last             string
		start, end       string
		wantErr          bool
	}{
		{name: "yesterday utc", loc: time.UTC, yesterday: true, start: "2024-08-06T00:00:00Z", end: "2024-08-07T00:00:00Z"},
		{name: "yesterday berlin is a day later", loc: berlin, yesterday: true,
			start: "2024-08-07T00:00:00+02:00", end: "2024-08-08T00:00:00+02:00"},
		{name: "yesterday new york", loc: ny, yesterday: true,
			start: "2024-08-06T00:00:00-04:00", end: "2024-08-07T00:00:00-04:00"},
		{name: "today utc is whole", loc: time.UTC, today: true, start: "2024-08-07T00:00:00Z", end: "2024-08-08T00:00:00Z"},
		{name: "today berlin", loc: berlin, today: true, start: "2024-08-08T00:00:00+02:00", end: "2024-08-09T00:00:00+02:00"},
		{name: "last 7d excludes today", loc: time.UTC, last: "7d", start: "2024-07-31T00:00:00Z", end: "2024-08-07T00:00:00Z"},
		{name: "last 7d berlin", loc: berlin, last: "last 7d", start: "2024-08-01T00:00:00+02:00", end: "2024-08-08T00:00:00+02:00"},
		{name: "none", loc: time.UTC},
		{name: "two given", loc: time.UTC, yesterday: true, today: true, wantErr: true},
		{name: "three given", loc: time.UTC, yesterday: true, today: true, last: "7d", wantErr: true},
		{name: "bad last", loc: time.UTC, last: "7 days", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start, end, err := daterange.Relative(now, tc.loc, tc.yesterday, tc.today, tc.last)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("got [%s, %s); want an error", start, end)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.start == "" {
				if !start.IsZero() || !end.IsZero() {
					t.Errorf("got [%s, %s); want zero times", start, end)
				}
				return
			}
			ws, _ := time.Parse(time.RFC3339, tc.start)
			we, _ := time.Parse(time.RFC3339, tc.end)
			if !start.Equal(ws) || !end.Equal(we) {
				t.Errorf("got [%s, %s); want [%s, %s)", start.Format(time.RFC3339), end.Format(time.RFC3339), tc.start, tc.end)
			}
		})
	}
}

// TestWindowDST checks that windows are local calendar days, not multiples of
// 24 hours, across daylight-saving changes.
func TestWindowDST(t *testing.T) {
	berlin := relLoc(t, "Europe/Berlin")
	tests := []struct {
		name string
		now  time.Time
		w    daterange.Window
		want time.Duration
	}{
		{"spring forward yesterday", time.Date(2024, 4, 1, 2, 30, 0, 0, berlin), daterange.Yesterday, 23 * time.Hour},
		{"fall back yesterday", time.Date(2024, 10, 28, 2, 30, 0, 0, berlin), daterange.Yesterday, 25 * time.Hour},
		{"week over spring forward", time.Date(2024, 4, 3, 2, 30, 0, 0, berlin), daterange.Window{Days: 7}, 7*24*time.Hour - time.Hour},
		{"ordinary day", time.Date(2024, 8, 2, 2, 30, 0, 0, berlin), daterange.Yesterday, 24 * time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start, end := tc.w.Range(tc.now, berlin)
			if got := end.Sub(start); got != tc.want {
				t.Errorf("%s at %s: [%s, %s) is %s long; want %s", tc.w, tc.now, start, end, got, tc.want)
			}
			if start.In(berlin).Hour() != 0 || end.In(berlin).Hour() != 0 {
				t.Errorf("[%s, %s) does not start and end at local midnight", start, end)
			}
		})
	}
}

func ExampleRelative() {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	now := time.Date(2024, 8, 8, 2, 30, 0, 0, berlin) // a nightly run
	start, end, _ := daterange.Relative(now, berlin, true, false, "")
	fmt.Println("--yesterday:", start.Format(time.RFC3339), "to", end.Format(time.RFC3339))
	start, end, _ = daterange.Relative(now, berlin, false, false, "7d")
	fmt.Println("--last 7d:  ", start.Format(time.RFC3339), "to", end.Format(time.RFC3339))
	// Output:
	// --yesterday: 2024-08-07T00:00:00+02:00 to 2024-08-08T00:00:00+02:00
	// --last 7d:   2024-08-01T00:00:00+02:00 to 2024-08-08T00:00:00+02:00
}

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"2024-08-01", "20240801", "2024-08-01T06:00:00+02:00", "2024-08-01T06:00", "x", ""} {
		f.Add(s, "2024-08-07")
	}
	berlin := relLoc(f, "Europe/Berlin")
	f.Fuzz(func(t *testing.T, from, to string) {
		start, end, err := daterange.ParseRange(from, to, berlin)
		if err == nil && !start.IsZero() && !start.Before(end) {
			t.Errorf("ParseRange(%q, %q) = [%s, %s): not a range", from, to, start, end)
		}
	})
}
