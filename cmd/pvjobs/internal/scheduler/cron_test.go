package scheduler_test

import (
	"strings"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/scheduler"
)

func loadLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func mustParse(t testing.TB, spec string, loc *time.Location) *scheduler.Schedule {
	t.Helper()
	s, err := scheduler.ParseCron(spec, loc)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestScheduleNext(t *testing.T) {
	berlin := loadLoc(t, "Europe/Berlin")
	ny := loadLoc(t, "America/New_York")
	tests := []struct {
		name  string
		spec  string
		loc   *time.Location
		after time.Time
		want  []string // the next slots, RFC 3339
	}{
		{"nightly berlin", "30 2 * * *", berlin, time.Date(2024, 8, 7, 12, 0, 0, 0, berlin),
			[]string{"2024-08-08T02:30:00+02:00", "2024-08-09T02:30:00+02:00"}},
		{"exactly at a slot is not a slot", "30 2 * * *", berlin, time.Date(2024, 8, 8, 2, 30, 0, 0, berlin),
			[]string{"2024-08-09T02:30:00+02:00"}},
		{"spring forward: skipped 02:30 runs after the gap", "30 2 * * *", berlin, time.Date(2024, 3, 30, 12, 0, 0, 0, berlin),
			[]string{"2024-03-31T03:30:00+02:00", "2024-04-01T02:30:00+02:00"}},
		{"fall back: repeated 02:30 runs once, the first time", "30 2 * * *", berlin, time.Date(2024, 10, 26, 12, 0, 0, 0, berlin),
			[]string{"2024-10-27T02:30:00+02:00", "2024-10-28T02:30:00+01:00"}},
		{"fall back hourly: the repeated hour fires once", "0 * * * *", berlin, time.Date(2024, 10, 27, 0, 30, 0, 0, berlin),
			[]string{"2024-10-27T01:00:00+02:00", "2024-10-27T02:00:00+02:00", "2024-10-27T03:00:00+01:00"}},
		{"spring forward new york", "30 2 * * *", ny, time.Date(2024, 3, 9, 12, 0, 0, 0, ny),
			[]string{"2024-03-10T03:30:00-04:00", "2024-03-11T02:30:00-04:00"}},
		{"fall back new york", "30 1 * * *", ny, time.Date(2024, 11, 2, 12, 0, 0, 0, ny),
			[]string{"2024-11-03T01:30:00-04:00", "2024-11-04T01:30:00-05:00"}},
		{"CRON_TZ overrides the zone", "CRON_TZ=America/New_York 0 6 * * *", berlin, time.Date(2024, 8, 7, 0, 0, 0, 0, time.UTC),
			[]string{"2024-08-07T06:00:00-04:00"}},
		{"@daily in utc", "@daily", nil, time.Date(2024, 8, 7, 12, 0, 0, 0, time.UTC),
			[]string{"2024-08-08T00:00:00Z", "2024-08-09T00:00:00Z"}},
		{"@every", "@every 6h", time.UTC, time.Date(2024, 8, 7, 12, 0, 0, 0, time.UTC),
			[]string{"2024-08-07T18:00:00Z", "2024-08-08T00:00:00Z"}},
		{"weekdays", "0 7 * * 1-5", time.UTC, time.Date(2024, 8, 9, 8, 0, 0, 0, time.UTC), // a Friday
			[]string{"2024-08-12T07:00:00Z", "2024-08-13T07:00:00Z"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := mustParse(t, tc.spec, tc.loc)
			at := tc.after
			for i, w := range tc.want {
				at = s.Next(at)
				if got := at.Format(time.RFC3339); got != w {
					t.Fatalf("slot %d after %s = %s; want %s", i+1, tc.after.Format(time.RFC3339), got, w)
				}
			}
		})
	}
	t.Run("never", func(t *testing.T) {
		s := mustParse(t, "0 0 30 2 *", time.UTC)
		if n := s.Next(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)); !n.IsZero() {
			t.Errorf("30 February fires at %s", n)
		}
	})
}

func TestParseCronErrors(t *testing.T) {
	tests := []struct{ spec, want string }{
		{"", "empty"},
		{"30 2 * *", "expected exactly 5 fields"},
		{"61 2 * * *", "above maximum"},
		{"* * * * * *", "expected exactly 5 fields"},
		{"@nightly", "unrecognized descriptor"},
		{"CRON_TZ=Mars/Olympus 0 6 * * *", "unknown time zone"},
		{"CRON_TZ=UTC", "empty"},
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			_, err := scheduler.ParseCron(tc.spec, time.UTC)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseCron(%q) = %v; want an error containing %q", tc.spec, err, tc.want)
			}
		})
	}
}

func FuzzParseCron(f *testing.F) {
	for _, s := range []string{"30 2 * * *", "@daily", "@every 1h", "CRON_TZ=Europe/Berlin 0 6 * * 1-5", "*/5 * * * *", "0 0 L * *"} {
		f.Add(s)
	}
	berlin := loadLoc(f, "Europe/Berlin")
	start := time.Date(2024, 10, 26, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, spec string) {
		s, err := scheduler.ParseCron(spec, berlin)
		if err != nil {
			return
		}
		at := start
		for range 3 {
			n := s.Next(at)
			if n.IsZero() {
				return
			}
			if !n.After(at) {
				t.Fatalf("%q: Next(%s) = %s, not after", spec, at, n)
			}
			at = n
		}
	})
}
