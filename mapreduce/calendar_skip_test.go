package mapreduce_test

import (
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
)

// TestCalendarSkippedMidnight covers zones whose daylight-saving change skips
// midnight: the local day starts at 01:00 and has 23 hours, and the calendar
// neither loops nor loses a day.
func TestCalendarSkippedMidnight(t *testing.T) {
	tests := []struct {
		zone string
		day  mapreduce.Date
	}{
		{"America/Santiago", mapreduce.Date{Year: 2024, Month: time.September, Day: 8}},
		{"America/Havana", mapreduce.Date{Year: 2024, Month: time.March, Day: 10}},
		{"America/Asuncion", mapreduce.Date{Year: 2023, Month: time.October, Day: 1}},
		{"America/Sao_Paulo", mapreduce.Date{Year: 2018, Month: time.November, Day: 4}},
	}
	for _, tt := range tests {
		t.Run(tt.zone, func(t *testing.T) {
			loc, err := time.LoadLocation(tt.zone)
			if err != nil {
				t.Skip(err)
			}
			start := tt.day.In(loc)
			if got := mapreduce.DateOf(start); got != tt.day {
				t.Fatalf("day starts on %s, want %s", got, tt.day)
			}
			if h := start.Hour(); h != 1 {
				t.Errorf("day starts at %s, want 01:00 (midnight is skipped)", start)
			}
			from, to := tt.day.AddDays(-1), tt.day.AddDays(1)
			s, e, err := mapreduce.DayRange(from, to, loc)
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan *mapreduce.Calendar, 1)
			go func() { done <- mapreduce.NewCalendar(s, e, loc) }()
			var c *mapreduce.Calendar
			select {
			case c = <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("NewCalendar does not return")
			}
			if len(c.Days) != 3 {
				t.Fatalf("%d days, want 3", len(c.Days))
			}
			var hours [3]int
			for _, h := range c.Hours {
				hours[h.Parent]++
			}
			if hours != [3]int{24, 23, 24} {
				t.Errorf("hours per day %v, want [24 23 24]", hours)
			}
			for i := 1; i < len(c.Hours); i++ {
				if c.Hours[i].StartNs != c.Hours[i-1].EndNs {
					t.Fatalf("hour %d does not start where hour %d ends", i, i-1)
				}
			}
		})
	}
}
