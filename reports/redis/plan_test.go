package redis_test

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/mapreduce/hll"
	"github.com/pvjobs/pvjobs/reports/redis"
)

// The tests in this file need no server: PlanKeys only computes.

// planOf returns the plan of accounts over [from, to) given as local times
// "2006-01-02T15:04" in loc.
func planOf(t *testing.T, loc *time.Location, from, to string, accounts ...string) *mapreduce.Plan {
	t.Helper()
	p, err := mapreduce.NewPlan(mapreduce.PlanSpec{Accounts: accounts, Start: parseLocal(t, from, loc), End: parseLocal(t, to, loc), Loc: loc})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func sketch(visitors ...string) *hll.Sketch {
	s := hll.New()
	for _, v := range visitors {
		s.AddString(v)
	}
	return s
}

// uvRow returns a uniques row of the period that starts at the local time
// at ("2006-01-02T15:04") of p's zone.
func uvRow(t *testing.T, p *mapreduce.Plan, account string, per mapreduce.Period, at string, s *hll.Sketch) mapreduce.ReportRow {
	t.Helper()
	return mapreduce.ReportRow{Account: account, Period: per, Start: parseLocal(t, at, p.Loc), Sketch: s, Values: []float64{float64(s.Count())}}
}

// urlRow returns a urls row of the day or range that starts at the local
// date at.
func urlRow(t *testing.T, p *mapreduce.Plan, account string, per mapreduce.Period, at, url string, n int64) mapreduce.ReportRow {
	t.Helper()
	return mapreduce.ReportRow{Account: account, Period: per, Start: parseLocal(t, at+"T00:00", p.Loc), Keys: []string{url}, Values: []float64{float64(n)}}
}

// render lists the ops of kp, one "kind key" line each, with "(n)" members
// for sorted sets and "ttl" when the op sets one; Deletes of keys matching
// hide (a regexp-free substring) are counted, not listed.
func render(kp *redis.KeyPlan, hide string) []string {
	var out []string
	hidden := map[string]int{}
	for _, a := range kp.Accounts {
		for _, o := range a.Ops {
			if o.Kind == redis.Delete && hide != "" && strings.Contains(o.Key, hide) {
				hidden[a.Account]++
				continue
			}
			s := o.Kind.String() + " " + o.Key
			if len(o.Members) > 0 {
				s += fmt.Sprintf(" (%d)", len(o.Members))
			}
			if len(o.Fields) > 0 {
				var fs []string
				for _, f := range o.Fields {
					fs = append(fs, fmt.Sprintf("%s=%d", f.Name, f.Value))
				}
				s += " {" + strings.Join(fs, " ") + "}"
			}
			if o.TTL > 0 {
				s += " ttl=" + o.TTL.String()
			}
			out = append(out, s)
		}
	}
	for a, n := range hidden {
		out = append(out, fmt.Sprintf("%d deletes of %s in %s", n, hide, a))
	}
	slices.Sort(out)
	return out
}

func TestPlanKeys(t *testing.T) {
	berlin := mustLoad(t, "Europe/Berlin")
	utc := time.UTC
	type tc struct {
		name string
		plan *mapreduce.Plan
		reps func(p *mapreduce.Plan) []mapreduce.Report
		opt  redis.Options
		hide string // deletes of keys containing it are counted
		want []string
		// skipped is KeyPlan.SkippedPartial.
		skipped int
		// has lists ops that must be there, hidden or not.
		has []string
	}
	urls := func(rows ...mapreduce.ReportRow) mapreduce.Report {
		return mapreduce.Report{Name: "urls", Keys: []string{"url"}, Rows: rows}
	}
	uniques := func(rows ...mapreduce.ReportRow) mapreduce.Report {
		return mapreduce.Report{Name: "uniques", Rows: rows}
	}
	twoDays := planOf(t, utc, "2024-08-01T00:00", "2024-08-03T00:00", "shop", "blog")
	night := planOf(t, utc, "2024-08-01T18:00", "2024-08-02T06:30", "blog")
	oneDay := planOf(t, utc, "2024-08-01T00:00", "2024-08-02T00:00", "blog")
	august := planOf(t, utc, "2024-08-01T00:00", "2024-09-01T00:00", "blog")
	fallBack := planOf(t, berlin, "2024-10-27T00:00", "2024-10-28T00:00", "blog")
	springForward := planOf(t, berlin, "2024-03-31T00:00", "2024-04-01T00:00", "blog")
	s1 := sketch("a", "b")
	for _, c := range []tc{
		{
			name: "whole days: rows replace, days without rows delete, ranges ignored",
			plan: twoDays,
			reps: func(p *mapreduce.Plan) []mapreduce.Report {
				return []mapreduce.Report{urls(
					urlRow(t, p, "blog", mapreduce.PeriodDay, "2024-08-01", "/a", 3),
					urlRow(t, p, "blog", mapreduce.PeriodDay, "2024-08-01", "/b", 1),
					urlRow(t, p, "blog", mapreduce.PeriodRange, "2024-08-01", "/a", 3),
				)}
			},
			want: []string{
				"delete pv:{blog}:urls:20240802",
				"delete pv:{shop}:urls:20240801",
				"delete pv:{shop}:urls:20240802",
				"replace pv:{blog}:urls:20240801 (2)",
			},
		},
		{
			name: "range keys",
			plan: twoDays,
			opt:  redis.Options{Range: true, Prefix: "stats"},
			reps: func(p *mapreduce.Plan) []mapreduce.Report {
				return []mapreduce.Report{urls(
					urlRow(t, p, "blog", mapreduce.PeriodDay, "2024-08-02", "/a", 3),
					urlRow(t, p, "blog", mapreduce.PeriodRange, "2024-08-01", "/a", 3),
				)}
			},
			want: []string{
				"delete stats:{blog}:urls:20240801",
				"delete stats:{shop}:urls:20240801",
				"delete stats:{shop}:urls:20240801-20240802",
				"delete stats:{shop}:urls:20240802",
				"replace stats:{blog}:urls:20240801-20240802 (1)",
				"replace stats:{blog}:urls:20240802 (1)",
			},
		},
		{
			name: "partial days of counting reports are skipped; a range to the minute",
			plan: night,
			opt:  redis.Options{Range: true},
			reps: func(p *mapreduce.Plan) []mapreduce.Report {
				return []mapreduce.Report{urls(
					urlRow(t, p, "blog", mapreduce.PeriodDay, "2024-08-01", "/a", 3),
					urlRow(t, p, "blog", mapreduce.PeriodDay, "2024-08-02", "/a", 1),
					urlRow(t, p, "blog", mapreduce.PeriodDay, "2024-08-02", "/b", 1),
					mapreduce.ReportRow{Account: "blog", Period: mapreduce.PeriodRange, Start: p.Start, Keys: []string{"/a"}, Values: []float64{4}},
				)}
			},
			want:    []string{"replace pv:{blog}:urls:202408011800-202408020630 (1)"},
			skipped: 3,
		},
		{
			name: "a whole day of visitors: hours replace or delete, the month is unioned",
			plan: oneDay,
			opt:  redis.Options{Range: true},
			hide: ":uv:202408012",
			reps: func(p *mapreduce.Plan) []mapreduce.Report {
				return []mapreduce.Report{uniques(
					uvRow(t, p, "blog", mapreduce.PeriodHour, "2024-08-01T00:00", s1),
					uvRow(t, p, "blog", mapreduce.PeriodHour, "2024-08-01T05:00", s1),
					uvRow(t, p, "blog", mapreduce.PeriodDay, "2024-08-01T00:00", s1),
					uvRow(t, p, "blog", mapreduce.PeriodMonth, "2024-08-01T00:00", s1),
					uvRow(t, p, "blog", mapreduce.PeriodRange, "2024-08-01T00:00", s1),
				)}
			},
			want: []string{
				"4 deletes of :uv:202408012 in blog", // 20 to 23
				"delete pv:{blog}:uv:2024080101", "delete pv:{blog}:uv:2024080102", "delete pv:{blog}:uv:2024080103",
				"delete pv:{blog}:uv:2024080104", "delete pv:{blog}:uv:2024080106", "delete pv:{blog}:uv:2024080107",
				"delete pv:{blog}:uv:2024080108", "delete pv:{blog}:uv:2024080109", "delete pv:{blog}:uv:2024080110",
				"delete pv:{blog}:uv:2024080111", "delete pv:{blog}:uv:2024080112", "delete pv:{blog}:uv:2024080113",
				"delete pv:{blog}:uv:2024080114", "delete pv:{blog}:uv:2024080115", "delete pv:{blog}:uv:2024080116",
				"delete pv:{blog}:uv:2024080117", "delete pv:{blog}:uv:2024080118", "delete pv:{blog}:uv:2024080119",
				"replace pv:{blog}:uv:20240801",
				"replace pv:{blog}:uv:20240801-20240801",
				"replace pv:{blog}:uv:2024080100",
				"replace pv:{blog}:uv:2024080105",
				"union pv:{blog}:uv:202408",
			},
		},
		{
			name: "a whole month replaces the month key; a day without visitors deletes its key",
			plan: august,
			hide: ":uv:",
			reps: func(p *mapreduce.Plan) []mapreduce.Report {
				return []mapreduce.Report{uniques(
					uvRow(t, p, "blog", mapreduce.PeriodDay, "2024-08-31T00:00", s1),
					uvRow(t, p, "blog", mapreduce.PeriodMonth, "2024-08-01T00:00", s1),
				)}
			},
			want: []string{
				fmt.Sprintf("%d deletes of :uv: in blog", 31*24+30), // every hour, the other days
				"replace pv:{blog}:uv:202408",
				"replace pv:{blog}:uv:20240831",
			},
		},
		{
			name: "a night of visitors: edges are unioned, whole hours and minutes replace or delete",
			plan: night,
			opt:  redis.Options{Minutes: true},
			hide: ":uv:2024080",
			reps: func(p *mapreduce.Plan) []mapreduce.Report {
				return []mapreduce.Report{uniques(
					uvRow(t, p, "blog", mapreduce.PeriodMinute, "2024-08-01T18:59", s1),
					uvRow(t, p, "blog", mapreduce.PeriodMinute, "2024-08-02T06:29", s1),
					uvRow(t, p, "blog", mapreduce.PeriodHour, "2024-08-01T18:00", s1),
					uvRow(t, p, "blog", mapreduce.PeriodHour, "2024-08-02T06:00", s1),
					uvRow(t, p, "blog", mapreduce.PeriodDay, "2024-08-01T00:00", s1),
					uvRow(t, p, "blog", mapreduce.PeriodDay, "2024-08-02T00:00", s1),
					uvRow(t, p, "blog", mapreduce.PeriodMonth, "2024-08-01T00:00", s1),
				)}
			},
			want: []string{
				fmt.Sprintf("%d deletes of :uv:2024080 in blog", 11+12*60-1), // whole hours 19 to 05 and their minutes, 18's other minutes
				"replace pv:{blog}:uv:2024080118",
				"replace pv:{blog}:uv:202408011859",
				"replace pv:{blog}:uv:202408020629",
				"union pv:{blog}:uv:202408",
				"union pv:{blog}:uv:20240801",
				"union pv:{blog}:uv:20240802",
				"union pv:{blog}:uv:2024080206",
			},
		},
		{
			name: "a row marked partial is unioned even in a whole period",
			plan: oneDay,
			hide: ":uv:2024080",
			reps: func(p *mapreduce.Plan) []mapreduce.Report {
				r := uvRow(t, p, "blog", mapreduce.PeriodDay, "2024-08-01T00:00", s1)
				r.Partial = true
				c := urlRow(t, p, "blog", mapreduce.PeriodDay, "2024-08-01", "/a", 1)
				c.Partial = true
				return []mapreduce.Report{uniques(r), urls(c)}
			},
			want: []string{
				"24 deletes of :uv:2024080 in blog",
				"delete pv:{blog}:urls:20240801",
				"union pv:{blog}:uv:20240801",
			},
			skipped: 1,
		},
		{
			name: "the repeated hour of the fall-back has a key of its own, and so have its minutes",
			plan: fallBack,
			opt:  redis.Options{Minutes: true},
			hide: ":uv:2024102",
			reps: func(p *mapreduce.Plan) []mapreduce.Report {
				first, second := p.Calendar.Hours[2], p.Calendar.Hours[3] // 02:00 CEST, 02:00 CET
				return []mapreduce.Report{uniques(
					mapreduce.ReportRow{Account: "blog", Period: mapreduce.PeriodHour, Start: first.Start, Sketch: s1},
					mapreduce.ReportRow{Account: "blog", Period: mapreduce.PeriodHour, Start: second.Start, Sketch: s1},
					mapreduce.ReportRow{Account: "blog", Period: mapreduce.PeriodMinute, Start: second.Start.Add(5 * time.Minute), Sketch: s1},
					uvRow(t, p, "blog", mapreduce.PeriodDay, "2024-10-27T00:00", s1),
				)}
			},
			want: []string{
				// 25 hours and their minutes, but for those with visitors
				fmt.Sprintf("%d deletes of :uv:2024102 in blog", 25-2+25*60-1),
				"replace pv:{blog}:uv:20241027",
				"replace pv:{blog}:uv:2024102702",
				"replace pv:{blog}:uv:2024102702+0100",
				"replace pv:{blog}:uv:202410270205+0100",
			},
			has: []string{
				"delete pv:{blog}:uv:202410270205",
				"delete pv:{blog}:uv:202410270259+0100",
				"delete pv:{blog}:uv:2024102723",
			},
		},
		{
			name: "the spring-forward day has 23 hours and no 02",
			plan: springForward,
			hide: ":uv:20240331",
			reps: func(p *mapreduce.Plan) []mapreduce.Report {
				return []mapreduce.Report{uniques(uvRow(t, p, "blog", mapreduce.PeriodHour, "2024-03-31T03:00", s1))}
			},
			want: []string{
				"23 deletes of :uv:20240331 in blog", // 22 hours and the day
				"replace pv:{blog}:uv:2024033103",
			},
		},
		{
			name: "uv-merge merges every sketch and deletes no unique-visitor key",
			plan: oneDay,
			opt:  redis.Options{UVMerge: true, TTL: time.Hour},
			reps: func(p *mapreduce.Plan) []mapreduce.Report {
				return []mapreduce.Report{uniques(
					uvRow(t, p, "blog", mapreduce.PeriodHour, "2024-08-01T05:00", s1),
					uvRow(t, p, "blog", mapreduce.PeriodDay, "2024-08-01T00:00", s1),
					uvRow(t, p, "blog", mapreduce.PeriodMonth, "2024-08-01T00:00", s1),
				), urls()}
			},
			want: []string{
				"delete pv:{blog}:urls:20240801",
				"merge pv:{blog}:uv:202408 ttl=1h0m0s",
				"merge pv:{blog}:uv:20240801 ttl=1h0m0s",
				"merge pv:{blog}:uv:2024080105 ttl=1h0m0s",
			},
		},
		{
			name: "a TTL on every key written, none on deletes",
			plan: twoDays,
			opt:  redis.Options{TTL: 90 * 24 * time.Hour},
			reps: func(p *mapreduce.Plan) []mapreduce.Report {
				return []mapreduce.Report{urls(urlRow(t, p, "shop", mapreduce.PeriodDay, "2024-08-02", "/a", 3))}
			},
			want: []string{
				"delete pv:{blog}:urls:20240801",
				"delete pv:{blog}:urls:20240802",
				"delete pv:{shop}:urls:20240801",
				"replace pv:{shop}:urls:20240802 (1) ttl=2160h0m0s",
			},
		},
		{
			name: "the (other) row of a report that keeps its top rows is no member",
			plan: oneDay,
			reps: func(p *mapreduce.Plan) []mapreduce.Report {
				other := urlRow(t, p, "blog", mapreduce.PeriodDay, "2024-08-01", mapreduce.Other, 40)
				other.Other = true
				return []mapreduce.Report{urls(urlRow(t, p, "blog", mapreduce.PeriodDay, "2024-08-01", "/a", 3), other)}
			},
			want: []string{"replace pv:{blog}:urls:20240801 (1)"},
		},
		{
			name: "a report of totals is a hash per period; rows of the previous period are not written",
			plan: oneDay,
			hide: ":visits:2024080",
			reps: func(p *mapreduce.Plan) []mapreduce.Report {
				prev := urlRow(t, p, "blog", mapreduce.PeriodPrevious, "2024-07-31", "/a", 5)
				return []mapreduce.Report{
					{Name: "visits", Measures: mapreduce.Counts("visits"), Rows: []mapreduce.ReportRow{
						{Account: "blog", Period: mapreduce.PeriodDay, Start: p.Start, Values: []float64{12}}}},
					urls(urlRow(t, p, "blog", mapreduce.PeriodDay, "2024-08-01", "/a", 3), prev),
				}
			},
			want: []string{
				"24 deletes of :visits:2024080 in blog", // the hours; the month is not whole
				"replace pv:{blog}:urls:20240801 (1)",
				"replace pv:{blog}:visits:20240801 {visits=12}",
			},
		},
		{
			name: "an account outside the plan gets its rows but no deletes",
			plan: oneDay,
			reps: func(p *mapreduce.Plan) []mapreduce.Report {
				return []mapreduce.Report{urls(urlRow(t, p, "news", mapreduce.PeriodDay, "2024-08-01", "/a", 3))}
			},
			want: []string{
				"delete pv:{blog}:urls:20240801",
				"replace pv:{news}:urls:20240801 (1)",
			},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			kp, err := redis.PlanKeys(c.reps(c.plan), c.plan, c.opt)
			if err != nil {
				t.Fatal(err)
			}
			if got := render(kp, c.hide); !slices.Equal(got, c.want) {
				t.Errorf("ops:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
			all := render(kp, "")
			for _, h := range c.has {
				if !slices.Contains(all, h) {
					t.Errorf("no op %q", h)
				}
			}
			if kp.SkippedPartial != c.skipped {
				t.Errorf("SkippedPartial %d, want %d", kp.SkippedPartial, c.skipped)
			}
			// Accounts in order, ops in key order, every key its account's.
			for i, a := range kp.Accounts {
				if i > 0 && kp.Accounts[i-1].Account >= a.Account {
					t.Errorf("accounts out of order: %s then %s", kp.Accounts[i-1].Account, a.Account)
				}
				for j, o := range a.Ops {
					if j > 0 && a.Ops[j-1].Key >= o.Key {
						t.Errorf("ops out of order: %s then %s", a.Ops[j-1].Key, o.Key)
					}
					prefix := c.opt.Prefix
					if prefix == "" {
						prefix = redis.DefaultPrefix
					}
					if want := (redis.Keys{Prefix: prefix}).Key(a.Account, o.Name, o.Part); o.Key != want {
						t.Errorf("key %s, but Key(%s, %s, %s) = %s", o.Key, a.Account, o.Name, o.Part, want)
					}
				}
			}
		})
	}
}

// TestPlanKeysValues checks the values: a HyperLogLog is the sketch's Redis
// encoding, a sorted set's members are the row's keys joined by tabs scored
// by its count.
func TestPlanKeysValues(t *testing.T) {
	p := planOf(t, time.UTC, "2024-08-01T00:00", "2024-08-02T00:00", "blog")
	s := sketch("v1", "v2", "v3")
	reps := []mapreduce.Report{
		{Name: "uniques", Rows: []mapreduce.ReportRow{uvRow(t, p, "blog", mapreduce.PeriodDay, "2024-08-01T00:00", s)}},
		{Name: "searchterms", Keys: []string{"engine", "term"}, Rows: []mapreduce.ReportRow{
			{Account: "blog", Period: mapreduce.PeriodDay, Start: p.Start, Keys: []string{"google", "pvjobs redis"}, Values: []float64{7}},
			{Account: "blog", Period: mapreduce.PeriodDay, Start: p.Start, Keys: []string{"bing", "x"}, Values: []float64{2}},
		}},
	}
	kp, err := redis.PlanKeys(reps, p, redis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ops := map[string]*redis.KeyOp{}
	for _, o := range kp.Accounts[0].Ops {
		ops[o.Key] = o
	}
	uv := ops["pv:{blog}:uv:20240801"]
	if uv == nil || !uv.HLL || !bytes.Equal(uv.Value, s.AppendRedis(nil)) {
		t.Errorf("uv day op %+v: want the sketch's Redis value", uv)
	}
	st := ops["pv:{blog}:searchterms:20240801"]
	want := []goredis.Z{{Score: 7, Member: "google\tpvjobs redis"}, {Score: 2, Member: "bing\tx"}}
	if st == nil || st.HLL || !slices.Equal(st.Members, want) {
		t.Errorf("searchterms op %+v, want members %v", st, want)
	}
	if kp.Members != 2 || kp.Trimmed != 0 {
		t.Errorf("Members %d, Trimmed %d", kp.Members, kp.Trimmed)
	}
}

// TestPlanKeysTop keeps the members ZREVRANGE lists first: score
// descending, ties by member descending.
func TestPlanKeysTop(t *testing.T) {
	p := planOf(t, time.UTC, "2024-08-01T00:00", "2024-08-02T00:00", "blog")
	row := func(url string, n int64) mapreduce.ReportRow {
		return mapreduce.ReportRow{Account: "blog", Period: mapreduce.PeriodDay, Start: p.Start, Keys: []string{url}, Values: []float64{float64(n)}}
	}
	rows := []mapreduce.ReportRow{row("/a", 5), row("/b", 9), row("/c", 5), row("/d", 1), row("/e", 5)}
	f := func(top int, want ...string) {
		t.Helper()
		kp, err := redis.PlanKeys([]mapreduce.Report{{Name: "urls", Keys: []string{"url"}, Rows: slices.Clone(rows)}}, p, redis.Options{Top: top})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, z := range kp.Accounts[0].Ops[0].Members {
			got = append(got, fmt.Sprintf("%s=%g", z.Member, z.Score))
		}
		if !slices.Equal(got, want) {
			t.Errorf("top %d: %v, want %v", top, got, want)
		}
		if kp.Members != len(want) || kp.Trimmed != len(rows)-len(want) {
			t.Errorf("top %d: Members %d Trimmed %d", top, kp.Members, kp.Trimmed)
		}
	}
	f(0, "/a=5", "/b=9", "/c=5", "/d=1", "/e=5") // all, as they came
	f(5, "/a=5", "/b=9", "/c=5", "/d=1", "/e=5")
	f(3, "/b=9", "/e=5", "/c=5")
	f(1, "/b=9")
}

func TestPlanKeysErrors(t *testing.T) {
	p := planOf(t, time.UTC, "2024-08-01T00:00", "2024-08-02T00:00", "blog")
	day := mapreduce.ReportRow{Account: "blog", Period: mapreduce.PeriodDay, Start: p.Start, Values: []float64{3}}
	withSketch := day
	withSketch.Sketch = sketch("x")
	for _, tc := range []struct {
		name string
		rep  mapreduce.Report
		want string
		is   error
	}{
		{"uniques without a sketch", mapreduce.Report{Name: "uniques", Rows: []mapreduce.ReportRow{day}}, "report uniques, account blog, day 20240801", redis.ErrNoSketch},
		{"two rows of one key", mapreduce.Report{Name: "uniques", Rows: []mapreduce.ReportRow{withSketch, withSketch}}, "two rows for key pv:{blog}:uv:20240801", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := redis.PlanKeys([]mapreduce.Report{tc.rep}, p, redis.Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) || tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("PlanKeys = %v, want %q", err, tc.want)
			}
		})
	}
}
