package redis_test

import (
	"bufio"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/reports/redis"
)

func mustLoad(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("time zone %s: %v", name, err)
	}
	return loc
}

func TestKeys(t *testing.T) {
	k := redis.Keys{}
	if got, want := k.Key("blog", "urls", "20240801"), "pv:{blog}:urls:20240801"; got != want {
		t.Errorf("Key = %q, want %q", got, want)
	}
	if got, want := (redis.Keys{Prefix: "stats"}).TempKey("abc", "blog", "urls", "20240801"), "stats:{blog}:tmp:abc:urls:20240801"; got != want {
		t.Errorf("TempKey = %q, want %q", got, want)
	}
	if got, want := k.TempPattern("blog"), "pv:{blog}:tmp:*"; got != want {
		t.Errorf("TempPattern = %q, want %q", got, want)
	}
	if got := redis.ReportName("uniques"); got != "uv" {
		t.Errorf("ReportName(uniques) = %q", got)
	}
	if got := redis.ReportName("searchterms"); got != "searchterms" {
		t.Errorf("ReportName(searchterms) = %q", got)
	}
}

func TestTimePart(t *testing.T) {
	berlin := mustLoad(t, "Europe/Berlin")
	lordHowe := mustLoad(t, "Australia/Lord_Howe")
	troll := mustLoad(t, "Antarctica/Troll")
	at := func(loc *time.Location, s string) time.Time {
		t.Helper()
		v, err := time.ParseInLocation("2006-01-02T15:04:05", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// utcAt is an instant given in UTC, shown in loc.
	utcAt := func(loc *time.Location, s string) time.Time { return at(time.UTC, s).In(loc) }
	for _, tc := range []struct {
		name       string
		p          mapreduce.Period
		start, end time.Time
		want       string
	}{
		{"minute", mapreduce.PeriodMinute, at(time.UTC, "2024-08-01T18:20:00"), time.Time{}, "202408011820"},
		{"hour", mapreduce.PeriodHour, at(time.UTC, "2024-08-01T18:00:00"), time.Time{}, "2024080118"},
		{"day", mapreduce.PeriodDay, at(time.UTC, "2024-08-01T00:00:00"), time.Time{}, "20240801"},
		{"month", mapreduce.PeriodMonth, at(time.UTC, "2024-08-01T00:00:00"), time.Time{}, "202408"},
		{"range of days", mapreduce.PeriodRange, at(time.UTC, "2024-08-01T00:00:00"), at(time.UTC, "2024-08-08T00:00:00"), "20240801-20240807"},
		{"range of one day", mapreduce.PeriodRange, at(time.UTC, "2024-08-01T00:00:00"), at(time.UTC, "2024-08-02T00:00:00"), "20240801-20240801"},
		{"range across a year", mapreduce.PeriodRange, at(time.UTC, "2023-12-31T00:00:00"), at(time.UTC, "2024-01-01T00:00:00"), "20231231-20231231"},
		{"range of times", mapreduce.PeriodRange, at(time.UTC, "2024-08-01T18:00:00"), at(time.UTC, "2024-08-03T06:30:00"), "202408011800-202408030630"},
		{"range of seconds", mapreduce.PeriodRange, at(time.UTC, "2024-08-01T18:00:05"), at(time.UTC, "2024-08-03T06:30:00"), "20240801180005-202408030630"},
		{"range of local days", mapreduce.PeriodRange, at(berlin, "2024-10-27T00:00:00"), at(berlin, "2024-10-28T00:00:00"), "20241027-20241027"},
		{"berlin hour before fall-back", mapreduce.PeriodHour, utcAt(berlin, "2024-10-27T00:00:00"), time.Time{}, "2024102702"},
		{"berlin repeated hour", mapreduce.PeriodHour, utcAt(berlin, "2024-10-27T01:00:00"), time.Time{}, "2024102702+0100"},
		{"berlin hour after", mapreduce.PeriodHour, utcAt(berlin, "2024-10-27T02:00:00"), time.Time{}, "2024102703"},
		{"berlin repeated minute", mapreduce.PeriodMinute, utcAt(berlin, "2024-10-27T01:59:00"), time.Time{}, "202410270259+0100"},
		{"berlin first minute", mapreduce.PeriodMinute, utcAt(berlin, "2024-10-27T00:59:00"), time.Time{}, "202410270259"},
		{"berlin spring-forward hour", mapreduce.PeriodHour, utcAt(berlin, "2024-03-31T01:00:00"), time.Time{}, "2024033103"},
		{"berlin day", mapreduce.PeriodDay, at(berlin, "2024-10-27T00:00:00"), time.Time{}, "20241027"},
		// Lord Howe turns the clock back 30 minutes at 02:00 (+11 to +10:30).
		{"lord howe repeated half hour", mapreduce.PeriodHour, utcAt(lordHowe, "2024-04-06T15:00:00"), time.Time{}, "2024040701+1030"},
		{"lord howe after", mapreduce.PeriodHour, utcAt(lordHowe, "2024-04-06T16:00:00"), time.Time{}, "2024040702"},
		// Troll turns it back 2 hours at 03:00 (+02 to +00).
		{"troll first repeat", mapreduce.PeriodHour, utcAt(troll, "2024-10-27T01:00:00"), time.Time{}, "2024102701+0000"},
		{"troll second repeat", mapreduce.PeriodHour, utcAt(troll, "2024-10-27T02:00:00"), time.Time{}, "2024102702+0000"},
		{"troll after", mapreduce.PeriodHour, utcAt(troll, "2024-10-27T03:00:00"), time.Time{}, "2024102703"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := redis.TimePart(tc.p, tc.start, tc.end); got != tc.want {
				t.Errorf("TimePart(%s, %s) = %q, want %q", tc.p, tc.start.Format(time.RFC3339), got, tc.want)
			}
		})
	}
}

// zones returns the time zones to check: every zone of zone1970.tab when the
// system has it (not in -short mode), and some with unusual rules always.
func zones(t *testing.T) []string {
	names := []string{"UTC", "Europe/Berlin", "America/New_York", "America/Santiago", "America/Havana",
		"America/St_Johns", "Asia/Kolkata", "Asia/Kathmandu", "Australia/Lord_Howe", "Pacific/Chatham",
		"Antarctica/Troll", "America/Sao_Paulo", "Africa/Casablanca", "Pacific/Apia"}
	if testing.Short() {
		return names
	}
	f, err := os.Open("/usr/share/zoneinfo/zone1970.tab")
	if err != nil {
		t.Logf("no zone1970.tab (%v): checking %d zones", err, len(names))
		return names
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := sc.Text(); !strings.HasPrefix(line, "#") {
			if fields := strings.Split(line, "\t"); len(fields) >= 3 {
				names = append(names, fields[2])
			}
		}
	}
	return names
}

// TestTimePartUnique checks, in every zone, that the hours of the calendar
// (and the minutes of its days with a clock change) all get keys of their
// own over years of clock changes.
func TestTimePartUnique(t *testing.T) {
	start := time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)
	end := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if testing.Short() {
		start = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	for _, name := range zones(t) {
		loc, err := time.LoadLocation(name)
		if err != nil {
			continue
		}
		cal := mapreduce.NewCalendar(start, end, loc)
		seen := make(map[string]time.Time, len(cal.Hours))
		check := func(p mapreduce.Period, at time.Time) {
			k := string(p) + redis.TimePart(p, at, time.Time{})
			if prev, dup := seen[k]; dup {
				t.Errorf("%s: %s %s and %s have the same key %s", name, p, prev.Format(time.RFC3339), at.Format(time.RFC3339), k)
			}
			seen[k] = at
		}
		for i := range cal.Days {
			check(mapreduce.PeriodDay, cal.Days[i].Start)
		}
		for i := range cal.Months {
			check(mapreduce.PeriodMonth, cal.Months[i].Start)
		}
		for i := range cal.Hours {
			h := &cal.Hours[i]
			check(mapreduce.PeriodHour, h.Start)
			d := &cal.Days[h.Parent]
			if d.End.Sub(d.Start) != 24*time.Hour || h.Start.Minute() != 0 {
				for m := h.Start; m.Before(h.End); m = m.Add(time.Minute) {
					check(mapreduce.PeriodMinute, m)
				}
			}
		}
	}
}

func TestRepeated(t *testing.T) {
	berlin := mustLoad(t, "Europe/Berlin")
	for _, tc := range []struct {
		utc  string
		want bool
	}{
		{"2024-10-27T00:59:59Z", false}, // 02:59:59 CEST
		{"2024-10-27T01:00:00Z", true},  // 02:00 CET, shown an hour earlier
		{"2024-10-27T01:59:59Z", true},
		{"2024-10-27T02:00:00Z", false}, // 03:00 CET, first shown now
		{"2024-03-31T01:00:00Z", false}, // 03:00 CEST after the skip
		{"2024-08-01T12:00:00Z", false},
	} {
		at, _ := time.Parse(time.RFC3339, tc.utc)
		if got := redis.Repeated(at.In(berlin)); got != tc.want {
			t.Errorf("Repeated(%s) = %v, want %v", tc.utc, got, tc.want)
		}
	}
	if redis.Repeated(time.Date(2024, 10, 27, 1, 30, 0, 0, time.UTC)) {
		t.Error("Repeated(UTC time) = true")
	}
}
