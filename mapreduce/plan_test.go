package mapreduce_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
)

func date(y int, m time.Month, d int) mapreduce.Date {
	return mapreduce.Date{Year: y, Month: m, Day: d}
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		in   string
		want mapreduce.Date
		ok   bool
	}{
		{"2024-08-01", date(2024, 8, 1), true},
		{"20240801", date(2024, 8, 1), true},
		{"2024-02-29", date(2024, 2, 29), true},
		{"2023-12-31", date(2023, 12, 31), true},
		{"2024-02-30", mapreduce.Date{}, false},
		{"2023-02-29", mapreduce.Date{}, false},
		{"2024-13-01", mapreduce.Date{}, false},
		{"2024-00-10", mapreduce.Date{}, false},
		{"2024-8-1", mapreduce.Date{}, false},
		{"yesterday", mapreduce.Date{}, false},
		{"", mapreduce.Date{}, false},
		{"2024-08-01T00:00:00Z", mapreduce.Date{}, false},
		{" 2024-08-01", mapreduce.Date{}, false},
		{"2024080", mapreduce.Date{}, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.in), func(t *testing.T) {
			got, err := mapreduce.ParseDate(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("ParseDate(%q) error = %v, want ok=%v", tt.in, err, tt.ok)
			}
			if err != nil {
				if !strings.Contains(err.Error(), "YYYY-MM-DD") {
					t.Errorf("error %q does not say the expected form", err)
				}
				return
			}
			if got != tt.want {
				t.Errorf("ParseDate(%q) = %v, want %v", tt.in, got, tt.want)
			}
			if got.String() != tt.want.In(time.UTC).Format("2006-01-02") {
				t.Errorf("String() = %s", got)
			}
		})
	}
}

func TestDate(t *testing.T) {
	d := date(2024, 2, 28)
	if got := d.AddDays(1); got != date(2024, 2, 29) {
		t.Errorf("AddDays(1) = %v", got)
	}
	if got := d.AddDays(2); got != date(2024, 3, 1) {
		t.Errorf("AddDays(2) = %v", got)
	}
	if got := date(2023, 12, 31).AddDays(1); got != date(2024, 1, 1) {
		t.Errorf("year end AddDays(1) = %v", got)
	}
	if !date(2023, 12, 31).Before(date(2024, 1, 1)) || date(2024, 1, 1).Before(date(2024, 1, 1)) {
		t.Error("Before is wrong")
	}
	if !(mapreduce.Date{}).IsZero() || d.IsZero() {
		t.Error("IsZero is wrong")
	}
	berlin := mustLoc(t, "Europe/Berlin")
	if got := date(2024, 8, 1).In(berlin).UTC(); !got.Equal(utc("2024-07-31T22:00:00Z")) {
		t.Errorf("In(Berlin) = %s", got)
	}
	if got := mapreduce.DateOf(time.Date(2024, 8, 1, 23, 30, 0, 0, berlin)); got != date(2024, 8, 1) {
		t.Errorf("DateOf = %v, want the local date", got)
	}
}

func TestDayRange(t *testing.T) {
	berlin := mustLoc(t, "Europe/Berlin")
	start, end, err := mapreduce.DayRange(date(2024, 8, 1), date(2024, 8, 1), nil)
	if err != nil || !start.Equal(utc("2024-08-01T00:00:00Z")) || !end.Equal(utc("2024-08-02T00:00:00Z")) {
		t.Errorf("UTC single day = %s, %s, %v", start, end, err)
	}
	start, end, err = mapreduce.DayRange(date(2024, 3, 31), date(2024, 3, 31), berlin)
	if err != nil || !start.Equal(utc("2024-03-30T23:00:00Z")) || !end.Equal(utc("2024-03-31T22:00:00Z")) {
		t.Errorf("Berlin DST day = %s, %s, %v", start, end, err)
	}
	_, _, err = mapreduce.DayRange(date(2024, 8, 2), date(2024, 8, 1), nil)
	if !errors.Is(err, mapreduce.ErrBadRange) || !strings.Contains(err.Error(), "2024-08-02") || !strings.Contains(err.Error(), "after") {
		t.Errorf("from > to: error %v, want ErrBadRange naming the dates", err)
	}
	if err != nil && strings.Contains(err.Error(), "--") {
		t.Errorf("from > to: error %q names a command-line flag; the engine knows none", err)
	}
}

func TestValidateAccount(t *testing.T) {
	tests := []struct {
		name string
		id   string
		ok   bool
	}{
		{"simple", "blog", true},
		{"all allowed characters", "Az09_-", true},
		{"64 characters", strings.Repeat("a", 64), true},
		{"one character", "x", true},
		{"empty", "", false},
		{"65 characters", strings.Repeat("a", 65), false},
		{"dot", "a.b", false},
		{"space", "a b", false},
		{"slash", "a/b", false},
		{"tab", "a\tb", false},
		{"umlaut", "bl\u00f6g", false},
		{"japanese", "\u65e5\u672c", false},
		{"nul", "a\x00", false},
		{"comma", "a,b", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := mapreduce.ValidateAccount(tt.id)
			if (err == nil) != tt.ok {
				t.Fatalf("ValidateAccount(%q) = %v, want ok=%v", tt.id, err, tt.ok)
			}
			if err != nil && !errors.Is(err, mapreduce.ErrBadAccount) {
				t.Errorf("error %v does not wrap ErrBadAccount", err)
			}
		})
	}
}

// TestValidateAccountMessage: the error names the first bad character as a
// character, not as one byte of its UTF-8 encoding, and where it is.
func TestValidateAccountMessage(t *testing.T) {
	for _, tc := range []struct{ id, msg string }{
		{"bl\u00f6g", `character 'ö' at position 3`},
		{"\u65e5\u672c", `character '日' at position 1`},
		{"ab\U0001F600", `character '😀' at position 3`},
		{"a.b", `character '.' at position 2`},
		{"a\tb", `character '\t' at position 2`},
		{"ab\xffc", `byte 0xff (not UTF-8) at position 3`},
		{strings.Repeat("\u00e4", 40), `character 'ä' at position 1`},
		{strings.Repeat("a", 70) + "!", `character '!' at position 71`},
		{strings.Repeat("a", 65), "65 characters, at most 64"},
	} {
		err := mapreduce.ValidateAccount(tc.id)
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("ValidateAccount(%.30q) = %v, want it to say %s", tc.id, err, tc.msg)
		}
		if err != nil && strings.Contains(err.Error(), "Ã") {
			t.Errorf("ValidateAccount(%.30q) = %v: shows a byte of UTF-8 as a character", tc.id, err)
		}
	}
}

func TestShardKey(t *testing.T) {
	k, err := mapreduce.ParseShardKey("20240229.blog")
	if err != nil {
		t.Fatal(err)
	}
	if !k.Day.Equal(utc("2024-02-29T00:00:00Z")) || k.Account != "blog" || k.String() != "20240229.blog" {
		t.Errorf("ParseShardKey = %+v", k)
	}
	if !k.Start().Equal(k.Day) || !k.End().Equal(utc("2024-03-01T00:00:00Z")) {
		t.Errorf("Start/End = %s %s", k.Start(), k.End())
	}
	for _, bad := range []string{"", "20240229", "2024029.blog", "20240230.blog", "20240801.", "20240801.a.b", "2024-08-01.blog", "20240801.bl og"} {
		if _, err := mapreduce.ParseShardKey(bad); err == nil {
			t.Errorf("ParseShardKey(%q) accepted", bad)
		}
	}
}

func shardNames(p *mapreduce.Plan) []string {
	var s []string
	for _, k := range p.Shards {
		s = append(s, k.String())
	}
	return s
}

func TestNewPlanShards(t *testing.T) {
	berlin := mustLoc(t, "Europe/Berlin")
	kolkata := mustLoc(t, "Asia/Kolkata")
	tests := []struct {
		name     string
		accounts []string
		from, to mapreduce.Date
		loc      *time.Location
		shards   []string
		// days is the number of local days in the calendar.
		days int
	}{
		{"single day", []string{"blog"}, date(2024, 8, 1), date(2024, 8, 1), nil,
			[]string{"20240801.blog"}, 1},
		{"year boundary", []string{"blog"}, date(2023, 12, 31), date(2024, 1, 1), nil,
			[]string{"20231231.blog", "20240101.blog"}, 2},
		{"leap day", []string{"blog"}, date(2024, 2, 28), date(2024, 3, 1), nil,
			[]string{"20240228.blog", "20240229.blog", "20240301.blog"}, 3},
		{"month boundary", []string{"blog"}, date(2024, 4, 30), date(2024, 5, 1), nil,
			[]string{"20240430.blog", "20240501.blog"}, 2},
		{"accounts sorted and deduplicated", []string{"shop", "blog", "shop", "Blog"}, date(2024, 8, 1), date(2024, 8, 2), nil,
			[]string{"20240801.Blog", "20240801.blog", "20240801.shop", "20240802.Blog", "20240802.blog", "20240802.shop"}, 2},
		{"berlin day covers two UTC days", []string{"blog"}, date(2024, 8, 1), date(2024, 8, 1), berlin,
			[]string{"20240731.blog", "20240801.blog"}, 1},
		{"kolkata day", []string{"blog"}, date(2024, 8, 1), date(2024, 8, 1), kolkata,
			[]string{"20240731.blog", "20240801.blog"}, 1},
		{"berlin new year", []string{"a"}, date(2024, 1, 1), date(2024, 1, 1), berlin,
			[]string{"20231231.a", "20240101.a"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start, end, err := mapreduce.DayRange(tt.from, tt.to, tt.loc)
			if err != nil {
				t.Fatal(err)
			}
			p, err := mapreduce.NewPlan(mapreduce.PlanSpec{Accounts: tt.accounts, Start: start, End: end, Loc: tt.loc})
			if err != nil {
				t.Fatal(err)
			}
			if got := shardNames(p); !slices.Equal(got, tt.shards) {
				t.Errorf("shards %v, want %v", got, tt.shards)
			}
			if len(p.Calendar.Days) != tt.days {
				t.Errorf("%d calendar days, want %d", len(p.Calendar.Days), tt.days)
			}
			if !slices.IsSorted(p.Accounts) || len(slices.Compact(slices.Clone(p.Accounts))) != len(p.Accounts) {
				t.Errorf("accounts %v not sorted and unique", p.Accounts)
			}
			for i, k := range p.Shards {
				if p.Accounts[p.ShardAccount[i]] != k.Account {
					t.Errorf("ShardAccount[%d] = %s, shard is %s", i, p.Accounts[p.ShardAccount[i]], k)
				}
			}
			if p.Start.Location() != time.UTC || p.End.Location() != time.UTC {
				t.Errorf("plan bounds not in UTC: %s %s", p.Start, p.End)
			}
			if p.Slices != mapreduce.DefaultSlices {
				t.Errorf("Slices = %d, want the default %d", p.Slices, mapreduce.DefaultSlices)
			}
		})
	}
}

func TestNewPlanErrors(t *testing.T) {
	start, end := utc("2024-08-01T00:00:00Z"), utc("2024-08-02T00:00:00Z")
	tests := []struct {
		name string
		spec mapreduce.PlanSpec
		is   error
		msg  string
	}{
		{"no accounts", mapreduce.PlanSpec{Start: start, End: end}, mapreduce.ErrEmptyPlan, "no accounts"},
		{"empty account", mapreduce.PlanSpec{Accounts: []string{"blog", ""}, Start: start, End: end}, mapreduce.ErrBadAccount, "empty"},
		{"long account", mapreduce.PlanSpec{Accounts: []string{strings.Repeat("x", 65)}, Start: start, End: end}, mapreduce.ErrBadAccount, "65 characters"},
		{"dotted account", mapreduce.PlanSpec{Accounts: []string{"a.b"}, Start: start, End: end}, mapreduce.ErrBadAccount, "a.b"},
		{"unicode account", mapreduce.PlanSpec{Accounts: []string{"caf\u00e9"}, Start: start, End: end}, mapreduce.ErrBadAccount, "caf"},
		{"start equals end", mapreduce.PlanSpec{Accounts: []string{"a"}, Start: start, End: start}, mapreduce.ErrEmptyPlan, "not before"},
		{"start after end", mapreduce.PlanSpec{Accounts: []string{"a"}, Start: end, End: start}, mapreduce.ErrEmptyPlan, "not before"},
		{"too long", mapreduce.PlanSpec{Accounts: []string{"a"}, Start: start, End: start.AddDate(11, 0, 0)}, nil, "longer than"},
		{"negative slices", mapreduce.PlanSpec{Accounts: []string{"a"}, Start: start, End: end, Slices: -1}, nil, "slices"},
		{"too many slices", mapreduce.PlanSpec{Accounts: []string{"a"}, Start: start, End: end, Slices: 86401}, nil, "slices"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := mapreduce.NewPlan(tt.spec)
			if err == nil {
				t.Fatalf("NewPlan accepted it: %v", shardNames(p))
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v does not wrap %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not mention %q", err, tt.msg)
			}
		})
	}
	// The longest allowed range is accepted.
	if _, err := mapreduce.NewPlan(mapreduce.PlanSpec{Accounts: []string{"a"}, Start: start, End: start.Add(mapreduce.MaxDays * 24 * time.Hour)}); err != nil {
		t.Errorf("MaxDays range refused: %v", err)
	}
}

func itemNames(items []mapreduce.WorkItem) []string {
	var s []string
	for _, it := range items {
		s = append(s, fmt.Sprintf("%s#%d", it, it.Slice))
	}
	return s
}

func TestItems(t *testing.T) {
	berlin := mustLoc(t, "Europe/Berlin")
	start, end, _ := mapreduce.DayRange(date(2024, 8, 1), date(2024, 8, 1), berlin)
	p, err := mapreduce.NewPlan(mapreduce.PlanSpec{Accounts: []string{"blog"}, Start: start, End: end, Loc: berlin, Slices: 4})
	if err != nil {
		t.Fatal(err)
	}
	shards := p.Items(mapreduce.SplitShards)
	want := []string{"20240731.blog [22:00:00,24:00:00)#0", "20240801.blog [00:00:00,22:00:00)#0"}
	if got := itemNames(shards); !slices.Equal(got, want) {
		t.Errorf("SplitShards items %v, want %v", got, want)
	}
	slicesItems := p.Items(mapreduce.SplitSlices)
	// 4 slices of 6 hours: the last of Jul 31 clipped to 22-24, Aug 1's
	// first three whole and the last clipped to 18-22.
	want = []string{
		"20240731.blog [22:00:00,24:00:00)#3",
		"20240801.blog [00:00:00,06:00:00)#0",
		"20240801.blog [06:00:00,12:00:00)#1",
		"20240801.blog [12:00:00,18:00:00)#2",
		"20240801.blog [18:00:00,22:00:00)#3",
	}
	if got := itemNames(slicesItems); !slices.Equal(got, want) {
		t.Errorf("SplitSlices items %v, want %v", got, want)
	}
	for _, it := range append(shards, slicesItems...) {
		if p.Shards[it.ShardIndex] != it.Shard {
			t.Errorf("item %s has shard index %d (%s)", it, it.ShardIndex, p.Shards[it.ShardIndex])
		}
	}
}

// TestSlicesPartitionDays checks that the time slices of every shard cover
// its part of the range exactly: contiguous, no gap or overlap, from the first
// to the last instant.
func TestSlicesPartitionDays(t *testing.T) {
	kolkata := mustLoc(t, "Asia/Kolkata")
	for _, n := range []int{1, 2, 3, 7, 24, 96, 1440, 86400} {
		for _, tc := range []struct {
			name string
			loc  *time.Location
			to   mapreduce.Date
		}{
			{"utc", time.UTC, date(2024, 2, 29)},
			{"kolkata", kolkata, date(2024, 3, 1)},
		} {
			t.Run(fmt.Sprintf("%s/%d", tc.name, n), func(t *testing.T) {
				if n == 86400 && tc.name != "utc" && testing.Short() {
					t.Skip("short")
				}
				// SliceBounds itself: n+1 strictly increasing instants.
				day := utc("2024-02-29T00:00:00Z")
				b := mapreduce.SliceBounds(day, n)
				if len(b) != n+1 || !b[0].Equal(day) || !b[n].Equal(day.Add(24*time.Hour)) {
					t.Fatalf("SliceBounds: %d bounds from %s to %s", len(b), b[0], b[len(b)-1])
				}
				for i := 1; i <= n; i++ {
					if !b[i-1].Before(b[i]) {
						t.Fatalf("SliceBounds not increasing at %d", i)
					}
				}
				start, end, _ := mapreduce.DayRange(date(2024, 2, 28), tc.to, tc.loc)
				p, err := mapreduce.NewPlan(mapreduce.PlanSpec{Accounts: []string{"a", "b"}, Start: start, End: end, Loc: tc.loc, Slices: n})
				if err != nil {
					t.Fatal(err)
				}
				items := p.Items(mapreduce.SplitSlices)
				byShard := map[int][]mapreduce.WorkItem{}
				for _, it := range items {
					byShard[it.ShardIndex] = append(byShard[it.ShardIndex], it)
				}
				if len(byShard) != len(p.Shards) {
					t.Fatalf("items cover %d of %d shards", len(byShard), len(p.Shards))
				}
				for si, its := range byShard {
					sk := p.Shards[si]
					sb := mapreduce.SliceBounds(sk.Day, n)
					lo, hi := sk.Start(), sk.End()
					if lo.Before(p.Start) {
						lo = p.Start
					}
					if hi.After(p.End) {
						hi = p.End
					}
					if !its[0].Start.Equal(lo) || !its[len(its)-1].End.Equal(hi) {
						t.Fatalf("shard %s: slices cover %s..%s, want %s..%s", sk, its[0].Start, its[len(its)-1].End, lo, hi)
					}
					for i, it := range its {
						if !it.Start.Before(it.End) {
							t.Fatalf("shard %s: empty slice %s", sk, it)
						}
						if i > 0 {
							if !its[i-1].End.Equal(it.Start) {
								t.Fatalf("shard %s: gap or overlap between %s and %s", sk, its[i-1], it)
							}
							if its[i-1].Slice >= it.Slice {
								t.Fatalf("shard %s: slice numbers not increasing", sk)
							}
						}
						if it.Slice < 0 || it.Slice >= n {
							t.Fatalf("slice number %d out of 0..%d", it.Slice, n-1)
						}
						// Each item lies within its slice's bounds.
						if it.Start.Before(sb[it.Slice]) || it.End.After(sb[it.Slice+1]) {
							t.Fatalf("item %s outside slice %d", it, it.Slice)
						}
					}
					if tc.loc == time.UTC && len(its) != n {
						t.Fatalf("shard %s: %d slices, want %d", sk, len(its), n)
					}
				}
			})
		}
	}
}

func TestWorkItemString(t *testing.T) {
	k, _ := mapreduce.ParseShardKey("20240801.blog")
	it := mapreduce.WorkItem{Shard: k, Start: utc("2024-08-01T10:00:00Z"), End: utc("2024-08-01T11:00:00Z")}
	if got := it.String(); got != "20240801.blog [10:00:00,11:00:00)" {
		t.Errorf("String() = %q", got)
	}
	it.End = k.End()
	if got := it.String(); got != "20240801.blog [10:00:00,24:00:00)" {
		t.Errorf("String() = %q", got)
	}
}

func TestBudget(t *testing.T) {
	parse := []struct {
		in   string
		want mapreduce.Budget
		ok   bool
	}{
		{"0", mapreduce.Budget{}, true},
		{"100", mapreduce.Budget{Count: 100}, true},
		{" 7 ", mapreduce.Budget{Count: 7}, true},
		{"0.5%", mapreduce.Budget{Percent: 0.5, IsPercent: true}, true},
		{"0%", mapreduce.Budget{IsPercent: true}, true},
		{"100%", mapreduce.Budget{Percent: 100, IsPercent: true}, true},
		{"1 %", mapreduce.Budget{Percent: 1, IsPercent: true}, true},
		{"", mapreduce.Budget{}, false},
		{"-1", mapreduce.Budget{}, false},
		{"1.5", mapreduce.Budget{}, false},
		{"abc", mapreduce.Budget{}, false},
		{"101%", mapreduce.Budget{}, false},
		{"-0.1%", mapreduce.Budget{}, false},
		{"%", mapreduce.Budget{}, false},
		{"NaN%", mapreduce.Budget{}, false},
	}
	for _, tt := range parse {
		t.Run(fmt.Sprintf("parse %q", tt.in), func(t *testing.T) {
			got, err := mapreduce.ParseBudget(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("ParseBudget(%q) = %v, %v; want ok=%v", tt.in, got, err, tt.ok)
			}
			if err != nil {
				return
			}
			if got != tt.want {
				t.Errorf("ParseBudget(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			back, err := mapreduce.ParseBudget(got.String())
			if err != nil || back != got {
				t.Errorf("String() %q does not parse back: %+v %v", got.String(), back, err)
			}
		})
	}
	exceeded := []struct {
		budget    string
		bad, rows int64
		want      bool
	}{
		{"0", 0, 1000, false},
		{"0", 1, 1000, true},
		{"5", 4, 1000, false},
		{"5", 5, 1000, false},
		{"5", 6, 1000, true},
		{"1%", 9, 1000, false},
		{"1%", 10, 1000, false},
		{"1%", 11, 1000, true},
		{"0.7%", 7, 1000, false}, // 0.7/100*1000 is 6.999999999999999 in floating point
		{"0.7%", 8, 1000, true},
		{"0.35%", 7, 2000, false},
		{"4.6%", 69, 1500, false},
		{"4.6%", 70, 1500, true},
		{"0.1%", 0, 0, false},
		{"0%", 1, 1000, true},
		{"100%", 1000, 1000, false},
	}
	for _, tt := range exceeded {
		t.Run(fmt.Sprintf("%s of %d: %d bad", tt.budget, tt.rows, tt.bad), func(t *testing.T) {
			b, err := mapreduce.ParseBudget(tt.budget)
			if err != nil {
				t.Fatal(err)
			}
			if got := b.Exceeded(tt.bad, tt.rows); got != tt.want {
				t.Errorf("Exceeded(%d, %d) = %v, want %v", tt.bad, tt.rows, got, tt.want)
			}
		})
	}
}
