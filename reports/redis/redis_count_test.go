package redis_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/mapreduce/hll"
	"github.com/pvjobs/pvjobs/reports/redis"
)

type visit struct {
	at      time.Time
	visitor string
}

// uvMinuteRows returns the uniques rows of visits over p, minute rows
// included, as the uniques job makes them with minutes on.
func uvMinuteRows(p *mapreduce.Plan, account string, visits []visit) []mapreduce.ReportRow {
	cal := p.Calendar
	hours := map[int]*hll.Sketch{}
	minutes := map[[2]int]*hll.Sketch{}
	hint := int32(0)
	for _, v := range visits {
		b, ok := cal.Locate(v.at.UnixNano(), &hint)
		if !ok {
			continue
		}
		h := int(b.Hour)
		if hours[h] == nil {
			hours[h] = hll.New()
		}
		hours[h].AddString(v.visitor)
		m := [2]int{h, int(v.at.Sub(cal.Hours[h].Start) / time.Minute)}
		if minutes[m] == nil {
			minutes[m] = hll.New()
		}
		minutes[m].AddString(v.visitor)
	}
	rows := uvRows(p, account, hours)
	for m, s := range minutes {
		start := cal.Hours[m[0]].Start.Add(time.Duration(m[1]) * time.Minute)
		rows = append(rows, mapreduce.ReportRow{Account: account, Period: mapreduce.PeriodMinute, Start: start,
			Sketch: s, Values: []float64{float64(int64(s.Count()))}})
	}
	return rows
}

// TestCount writes three days of visitors with minute keys, then counts
// windows across hour, day, month and year edges with one PFCOUNT over the
// cover, and compares with the sketch of the visits in the window.
func TestCount(t *testing.T) {
	c, prefix := testRedis(t)
	berlin := mustLoad(t, "Europe/Berlin")
	p := plan(t, berlin, "2023-12-30", 4, "blog")
	r := rand.New(rand.NewPCG(3, 4))
	var visits []visit
	span := p.End.Sub(p.Start)
	for i := 0; i < 50_000; i++ {
		at := p.Start.Add(time.Duration(r.Int64N(int64(span))))
		visits = append(visits, visit{at, fmt.Sprintf("visitor-%d", r.IntN(20_000))})
	}
	rows := uvMinuteRows(p, "blog", visits)
	write(t, c, redis.Options{Prefix: prefix, Minutes: true}, []mapreduce.Report{{Name: "uniques", Rows: rows}}, p)
	keys := redis.Keys{Prefix: prefix}
	at := func(s string) time.Time { return parseLocal(t, s, berlin) }
	for _, tc := range []struct {
		from, to string
		minutes  bool
		keys     int
	}{
		{"2023-12-31T18:00", "2024-01-02T06:30", true, 6 + 1 + 6 + 30},
		{"2023-12-31T23:00", "2024-01-01T01:00", false, 2},
		{"2023-12-31T23:59", "2024-01-01T00:01", true, 2},
		{"2023-12-30T00:00", "2024-01-03T00:00", false, 2 + 2},
		{"2023-12-01T00:00", "2024-02-01T00:00", false, 2},
		{"2024-01-01T00:00", "2024-01-02T00:00", false, 1},
		{"2023-12-30T07:15", "2023-12-30T07:16", true, 1},
	} {
		t.Run(tc.from+"_"+tc.to, func(t *testing.T) {
			start, end := at(tc.from), at(tc.to)
			n, used, err := redis.Count(context.Background(), c, keys, "blog", start, end, berlin, tc.minutes)
			if err != nil {
				t.Fatal(err)
			}
			if len(used) != tc.keys {
				t.Errorf("%d keys, want %d: %v", len(used), tc.keys, used)
			}
			local := hll.New()
			for _, v := range visits {
				if !v.at.Before(start) && v.at.Before(end) {
					local.AddString(v.visitor)
				}
			}
			if n != local.Count() {
				t.Errorf("PFCOUNT over the cover %d, local sketch of the window %d", n, local.Count())
			}
		})
	}
}
