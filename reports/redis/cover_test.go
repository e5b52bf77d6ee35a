package redis_test

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/reports/redis"
)

func TestCover(t *testing.T) {
	berlin := mustLoad(t, "Europe/Berlin")
	kolkata := mustLoad(t, "Asia/Kolkata")
	lordHowe := mustLoad(t, "Australia/Lord_Howe")
	hours := func(day string, from, to int) []string {
		var out []string
		for h := from; h < to; h++ {
			out = append(out, day+twoDigits(h))
		}
		return out
	}
	minutes := func(hour string, from, to int) []string {
		var out []string
		for m := from; m < to; m++ {
			out = append(out, hour+twoDigits(m))
		}
		return out
	}
	cat := func(parts ...[]string) []string { return slices.Concat(parts...) }
	for _, tc := range []struct {
		name       string
		loc        *time.Location
		start, end string // local times, 2006-01-02T15:04
		minutes    bool
		want       []string
		err        error
	}{
		{"issue example", time.UTC, "2024-08-01T18:00", "2024-08-03T06:30", true,
			cat(hours("20240801", 18, 24), []string{"20240802"}, hours("20240803", 0, 6), minutes("2024080306", 0, 30)), nil},
		{"issue example without minutes", time.UTC, "2024-08-01T18:00", "2024-08-03T06:30", false, nil, redis.ErrUnaligned},
		{"start inside an hour", time.UTC, "2024-08-01T18:30", "2024-08-03T06:00", false, nil, redis.ErrUnaligned},
		{"start inside a minute", time.UTC, "2024-08-01T18:30:30", "2024-08-03T06:00", true, nil, redis.ErrUnaligned},
		{"one hour", time.UTC, "2024-08-01T18:00", "2024-08-01T19:00", false, []string{"2024080118"}, nil},
		{"one minute", time.UTC, "2024-08-01T18:00", "2024-08-01T18:01", true, []string{"202408011800"}, nil},
		{"one day", time.UTC, "2024-08-01T00:00", "2024-08-02T00:00", false, []string{"20240801"}, nil},
		{"one month", time.UTC, "2024-02-01T00:00", "2024-03-01T00:00", false, []string{"202402"}, nil},
		{"whole year", time.UTC, "2024-01-01T00:00", "2025-01-01T00:00", false,
			[]string{"202401", "202402", "202403", "202404", "202405", "202406", "202407", "202408", "202409", "202410", "202411", "202412"}, nil},
		{"month edges", time.UTC, "2024-07-31T22:00", "2024-09-01T02:00", false,
			cat(hours("20240731", 22, 24), []string{"202408"}, hours("20240901", 0, 2)), nil},
		{"year edge in hours", time.UTC, "2023-12-31T23:00", "2024-01-01T02:00", false,
			cat(hours("20231231", 23, 24), hours("20240101", 0, 2)), nil},
		{"year edge in days and months", time.UTC, "2023-11-15T00:00", "2024-02-10T00:00", false,
			[]string{"20231115", "20231116", "20231117", "20231118", "20231119", "20231120", "20231121", "20231122",
				"20231123", "20231124", "20231125", "20231126", "20231127", "20231128", "20231129", "20231130",
				"202312", "202401", "20240201", "20240202", "20240203", "20240204", "20240205", "20240206",
				"20240207", "20240208", "20240209"}, nil},
		{"year edge in minutes", time.UTC, "2023-12-31T23:58", "2024-01-01T00:02", true,
			[]string{"202312312358", "202312312359", "202401010000", "202401010001"}, nil},
		{"leap day", time.UTC, "2024-02-28T12:00", "2024-03-01T12:00", false,
			cat(hours("20240228", 12, 24), []string{"20240229"}, hours("20240301", 0, 12)), nil},
		{"berlin local days", berlin, "2024-08-01T00:00", "2024-08-03T00:00", false, []string{"20240801", "20240802"}, nil},
		{"berlin fall-back day", berlin, "2024-10-27T00:00", "2024-10-28T00:00", false, []string{"20241027"}, nil},
		{"berlin fall-back hours", berlin, "2024-10-27T01:00", "2024-10-27T04:00", false,
			[]string{"2024102701", "2024102702", "2024102702+0100", "2024102703"}, nil},
		{"berlin spring-forward hours", berlin, "2024-03-31T01:00", "2024-03-31T04:00", false,
			[]string{"2024033101", "2024033103"}, nil},
		{"berlin month of fall-back", berlin, "2024-10-01T00:00", "2024-11-01T00:00", false, []string{"202410"}, nil},
		{"kolkata local hours", kolkata, "2024-08-01T22:00", "2024-08-02T01:00", false,
			[]string{"2024080122", "2024080123", "2024080200"}, nil},
		{"lord howe fall-back", lordHowe, "2024-04-07T01:00", "2024-04-07T03:30", false,
			[]string{"2024040701", "2024040701+1030", "2024040702"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start, end := parseLocal(t, tc.start, tc.loc), parseLocal(t, tc.end, tc.loc)
			units, err := redis.Cover(start, end, tc.loc, tc.minutes)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("Cover = %v, %v; want error %v", units, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Cover: %v", err)
			}
			if got := redis.Parts(units); !slices.Equal(got, tc.want) {
				t.Errorf("Cover parts =\n%s\nwant\n%s", strings.Join(got, " "), strings.Join(tc.want, " "))
			}
			checkExact(t, units, start, end)
		})
	}
}

func TestCoverErrors(t *testing.T) {
	at := time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC)
	if _, err := redis.Cover(at, at, time.UTC, false); err == nil {
		t.Error("Cover of an empty window: no error")
	}
	if _, err := redis.Cover(at, at.AddDate(20, 0, 0), time.UTC, false); err == nil {
		t.Error("Cover of 20 years: no error")
	}
	_, err := redis.Cover(at, at.Add(90*time.Minute), time.UTC, false)
	if !errors.Is(err, redis.ErrUnaligned) || !strings.Contains(err.Error(), "end 2024-08-01T01:30:00Z") {
		t.Errorf("Cover to 01:30 = %v, want ErrUnaligned naming the end", err)
	}
}

func parseLocal(t *testing.T, s string, loc *time.Location) time.Time {
	t.Helper()
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05"} {
		if v, err := time.ParseInLocation(layout, s, loc); err == nil {
			return v
		}
	}
	t.Fatalf("bad time %q", s)
	return time.Time{}
}

func twoDigits(n int) string { return string([]byte{byte('0' + n/10), byte('0' + n%10)}) }

// checkExact checks that units tile [start, end) in order.
func checkExact(t *testing.T, units []redis.Unit, start, end time.Time) {
	t.Helper()
	at := start
	for _, u := range units {
		if !u.Start.Equal(at) || !u.End.After(u.Start) {
			t.Fatalf("unit %v starts at %s, want %s", u, u.Start, at)
		}
		at = u.End
	}
	if !at.Equal(end) {
		t.Fatalf("units end at %s, want %s", at, end)
	}
}

// TestCoverMinimal compares the greedy cover with the fewest units any exact
// cover by calendar periods needs (a shortest path over all the periods in
// the window), for random windows in zones with clock changes.
func TestCoverMinimal(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	locs := []*time.Location{time.UTC, mustLoad(t, "Europe/Berlin"), mustLoad(t, "Australia/Lord_Howe"),
		mustLoad(t, "Antarctica/Troll"), mustLoad(t, "Asia/Kathmandu")}
	n := 300
	if testing.Short() {
		n = 50
	}
	for i := 0; i < n; i++ {
		loc := locs[i%len(locs)]
		minutes := i%2 == 0
		base := time.Date(2023, 12, 20, 0, 0, 0, 0, loc) // around a year edge
		if i%3 == 1 {
			base = time.Date(2024, 10, 20, 0, 0, 0, 0, loc) // around fall-backs
		}
		if i%3 == 2 {
			base = time.Date(2024, 3, 25, 0, 0, 0, 0, loc) // around spring-forwards
		}
		maxSpan := 70 * 24 * time.Hour
		step := time.Hour
		if minutes {
			maxSpan, step = 5*24*time.Hour, time.Minute
		}
		start := base.Add(time.Duration(r.Int64N(int64(10*24*time.Hour/step))) * step)
		end := start.Add(time.Duration(1+r.Int64N(int64(maxSpan/step))) * step)
		units, err := redis.Cover(start, end, loc, minutes)
		if errors.Is(err, redis.ErrUnaligned) {
			continue // an hour of a zone whose hours start at :30 or :45
		}
		if err != nil {
			t.Fatalf("Cover(%s, %s, %s): %v", start, end, loc, err)
		}
		checkExact(t, units, start, end)
		if best := fewest(start, end, loc, minutes); len(units) != best {
			t.Errorf("Cover(%s, %s, %s, minutes %v): %d units, but %d suffice", start, end, loc, minutes, len(units), best)
		}
	}
}

// fewest returns the smallest number of calendar periods inside [start, end)
// that tile it: a breadth-first search from start over period edges.
func fewest(start, end time.Time, loc *time.Location, minutes bool) int {
	cal := mapreduce.NewCalendar(start, end, loc)
	next := map[int64][]int64{} // period start -> period ends
	add := func(s, e time.Time) {
		if !s.Before(start) && !e.After(end) {
			next[s.UnixNano()] = append(next[s.UnixNano()], e.UnixNano())
		}
	}
	for _, spans := range [][]mapreduce.Span{cal.Months, cal.Days, cal.Hours} {
		for _, s := range spans {
			add(s.Start, s.End)
		}
	}
	if minutes {
		for _, h := range cal.Hours {
			for m := h.Start; m.Before(h.End); m = m.Add(time.Minute) {
				add(m, earlier(m.Add(time.Minute), h.End))
			}
		}
	}
	dist := map[int64]int{start.UnixNano(): 0}
	queue := []int64{start.UnixNano()}
	for len(queue) > 0 {
		at := queue[0]
		queue = queue[1:]
		if at == end.UnixNano() {
			return dist[at]
		}
		for _, e := range next[at] {
			if _, ok := dist[e]; !ok {
				dist[e] = dist[at] + 1
				queue = append(queue, e)
			}
		}
	}
	return -1
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
