package redis_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/reports/redis"
	"github.com/pvjobs/pvjobs/reports/redis/redistest"
)

// TestLivePartsMatchCalendar: for every minute of days with and without a
// daylight-saving change, the keys Live adds to are the keys of the
// calendar periods the batch run puts that minute in.
func TestLivePartsMatchCalendar(t *testing.T) {
	for _, tc := range []struct{ zone, day string }{
		{"UTC", "2024-08-01"}, {"Europe/Berlin", "2024-10-27"}, {"Europe/Berlin", "2024-03-31"},
		{"Asia/Kolkata", "2024-08-01"}, {"America/Santiago", "2024-09-08"}, {"Australia/Lord_Howe", "2024-04-07"},
	} {
		t.Run(tc.zone+" "+tc.day, func(t *testing.T) {
			loc, err := time.LoadLocation(tc.zone)
			if err != nil {
				t.Fatal(err)
			}
			d, _ := mapreduce.ParseDate(tc.day)
			start, end := d.In(loc), d.AddDays(1).In(loc)
			cal := mapreduce.NewCalendar(start, end, loc)
			var hint int32
			for at := start; at.Before(end); at = at.Add(time.Minute + 7*time.Second) {
				b, ok := cal.Locate(at.UnixNano(), &hint)
				if !ok {
					t.Fatalf("%v outside the calendar", at)
				}
				h := cal.Hours[b.Hour]
				minuteStart := h.Start.Add(at.Sub(h.Start).Truncate(time.Minute))
				wantMin := redis.TimePart(mapreduce.PeriodMinute, minuteStart, time.Time{})
				wantHour := redis.TimePart(mapreduce.PeriodHour, h.Start, h.End)
				wantDay := redis.TimePart(mapreduce.PeriodDay, cal.Days[b.Day].Start, cal.Days[b.Day].End)
				wantMonth := redis.TimePart(mapreduce.PeriodMonth, cal.Months[b.Month].Start, cal.Months[b.Month].End)
				m, hr, dy, mo := redis.LiveParts(at.UTC(), loc)
				if m != wantMin || hr != wantHour || dy != wantDay || mo != wantMonth {
					t.Fatalf("%v: LiveParts = %s %s %s %s, want %s %s %s %s", at, m, hr, dy, mo, wantMin, wantHour, wantDay, wantMonth)
				}
			}
		})
	}
}

// TestLiveAdd counts page views live and reads them back the way the batch
// keys are read: PFCOUNT over the cover of a window (pvjobs uniques) and the
// day's urls sorted set.
func TestLiveAdd(t *testing.T) {
	c := redistest.Client(t)
	prefix := redistest.Prefix(t, c, "pvlive")
	ctx := context.Background()
	loc, _ := time.LoadLocation("Europe/Berlin")
	live := redis.NewLive(c, redis.LiveOptions{Prefix: prefix, Loc: loc, Minutes: true, TTL: time.Hour})
	day := time.Date(2024, 8, 1, 0, 0, 0, 0, loc)
	var hits []redis.LiveHit
	visitorsByHour := map[int]map[string]bool{}
	for i := range 3000 {
		at := day.Add(time.Duration(i) * 28 * time.Second) // 23h20m of the day
		v := fmt.Sprintf("10.0.0.%d\nua", i%700)
		hits = append(hits, redis.LiveHit{Account: "blog", Time: at.UTC(), Visitor: []byte(v), URL: []byte(fmt.Sprintf("https://b.example/%d", i%3))})
		h := at.Hour()
		if visitorsByHour[h] == nil {
			visitorsByHour[h] = map[string]bool{}
		}
		visitorsByHour[h][v] = true
	}
	hits = append(hits, redis.LiveHit{Account: "blog", Time: day.Add(time.Hour).UTC(), URL: []byte("https://b.example/bot")}) // no visitor: a bot
	for i := 0; i < len(hits); i += 500 {
		if err := live.Add(ctx, hits[i:min(i+500, len(hits))]); err != nil {
			t.Fatal(err)
		}
	}
	keys := redis.Keys{Prefix: prefix}
	n, used, err := redis.Count(ctx, c, keys, "blog", day, day.AddDate(0, 0, 1), loc, false)
	if err != nil {
		t.Fatal(err)
	}
	if n < 686 || n > 714 || len(used) != 1 || used[0] != prefix+":{blog}:uv:20240801" {
		t.Errorf("day: PFCOUNT %d over %v, want 700 ± 2%% over the day key", n, used)
	}
	n, _, err = redis.Count(ctx, c, keys, "blog", day.Add(5*time.Hour), day.Add(6*time.Hour+30*time.Minute), loc, true)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for i := range 3000 {
		at := day.Add(time.Duration(i) * 28 * time.Second)
		if !at.Before(day.Add(5*time.Hour)) && at.Before(day.Add(6*time.Hour+30*time.Minute)) {
			want[fmt.Sprintf("10.0.0.%d\nua", i%700)] = true
		}
	}
	if diff := float64(n) - float64(len(want)); diff*diff > float64(len(want)*len(want))/400 {
		t.Errorf("05:00-06:30 (an hour and 30 minute keys): %d visitors, want %d ± 5%%", n, len(want))
	}
	for u, want := range map[string]float64{"https://b.example/0": 1000, "https://b.example/1": 1000, "https://b.example/2": 1000, "https://b.example/bot": 1} {
		got, err := c.ZScore(ctx, prefix+":{blog}:urls:20240801", u).Result()
		if err != nil || got != want {
			t.Errorf("ZSCORE urls %s = %v (%v), want %v", u, got, err, want)
		}
	}
	if ttl := c.PTTL(ctx, prefix+":{blog}:uv:2024080105").Val(); ttl <= 0 || ttl > time.Hour {
		t.Errorf("TTL of an hour key %v, want up to 1h", ttl)
	}
	if c.Exists(ctx, prefix+":{blog}:uv:202408").Val() != 1 || c.Exists(ctx, prefix+":{blog}:uv:202408010512").Val() != 1 {
		t.Error("month or minute key missing")
	}
}
