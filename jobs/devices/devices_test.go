package devices_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/jobs/devices"
	"github.com/pvjobs/pvjobs/jobs/urls"
	"github.com/pvjobs/pvjobs/mapreduce"
)

const (
	uaIPhone    = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1"
	uaWindows   = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
	uaGooglebot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
)

func ExampleClassify() {
	for _, ua := range []string{
		uaIPhone,
		"Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-X200) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Safari/537.36",
		uaWindows,
		uaGooglebot,
		"curl/8.5.0",
	} {
		a := devices.Classify(ua)
		fmt.Printf("%s | %s | %s | bot=%t\n", a.Class, a.Browser, a.OS, a.Bot)
	}
	// Output:
	// mobile | Safari | iOS | bot=false
	// tablet | Samsung Internet | Android | bot=false
	// desktop | Chrome | Windows | bot=false
	// bot | Googlebot | Other | bot=true
	// bot | curl | Other | bot=true
}

func TestEnricher(t *testing.T) {
	newWorker := devices.NewEnricher(0)
	w1, w2 := newWorker(), newWorker()
	pv := &mapreduce.PageView{UserAgent: []byte(uaIPhone)}
	w1(pv)
	first := pv.Agent
	if first == nil || first.Class != devices.Mobile || first.Browser != "Safari" || first.OS != "iOS" {
		t.Fatalf("Agent = %+v, want mobile Safari iOS", first)
	}
	// The user agent's buffer is reused by the decoder: the cache must have
	// copied it.
	buf := []byte(uaGooglebot)
	pv.UserAgent = buf
	w1(pv)
	if !pv.Agent.Bot || pv.Agent.Browser != "Googlebot" {
		t.Fatalf("Agent = %+v, want Googlebot", pv.Agent)
	}
	copy(buf, strings.Repeat("x", len(buf)))
	pv.UserAgent = []byte(uaIPhone)
	w1(pv)
	if pv.Agent != first {
		t.Errorf("second lookup of the same user agent gave %p, want the cached %p", pv.Agent, first)
	}
	w2(pv)
	if pv.Agent == first {
		t.Error("two workers share an Agent: each must have its own cache")
	}
	if *pv.Agent != *first {
		t.Errorf("worker 2 classified %+v, worker 1 %+v", *pv.Agent, *first)
	}
}

func TestEnricherBounded(t *testing.T) {
	for _, size := range []int{1, 2, 7, 64} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			enrich := devices.NewEnricher(size)()
			pv := &mapreduce.PageView{}
			for i := range 500 {
				ua := fmt.Sprintf("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.0.0 Safari/537.36", i)
				pv.UserAgent = []byte(ua)
				enrich(pv)
				if pv.Agent.Class != devices.Desktop || pv.Agent.Browser != "Chrome" {
					t.Fatalf("%s: %+v", ua, pv.Agent)
				}
				// A user agent looked up again right away is still right.
				enrich(pv)
				if pv.Agent.Class != devices.Desktop {
					t.Fatalf("%s again: %+v", ua, pv.Agent)
				}
			}
		})
	}
}

func TestEnricherHitDoesNotAllocate(t *testing.T) {
	enrich := devices.NewEnricher(100)()
	pv := &mapreduce.PageView{UserAgent: []byte(uaWindows)}
	enrich(pv)
	if n := testing.AllocsPerRun(1000, func() { enrich(pv) }); n != 0 {
		t.Errorf("a cache hit allocates %v times, want 0", n)
	}
}

// testPlan is two accounts over two UTC days.
func testPlan(t testing.TB) *mapreduce.Plan {
	t.Helper()
	start := time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC)
	plan, err := mapreduce.NewPlan(mapreduce.PlanSpec{Accounts: []string{"blog", "shop"}, Start: start, End: start.AddDate(0, 0, 2)})
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

// rowsOf renders a report's rows as "account period day class/browser/os=n",
// sorted.
func rowsOf(rep mapreduce.Report) []string {
	var out []string
	for _, r := range rep.Rows {
		out = append(out, fmt.Sprintf("%s %s %s %s=%d", r.Account, r.Period, r.Start.Format("0102"), strings.Join(r.Keys, "/"), int64(r.Primary())))
	}
	slices.Sort(out)
	return out
}

func TestJob(t *testing.T) {
	plan := testPlan(t)
	job := &devices.Job{}
	enrich := devices.NewEnricher(0)()
	tests := []struct {
		name   string
		enrich bool
	}{
		{"agents from the enricher", true},
		{"no enricher: the job classifies", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p1, p2 := job.NewPartial(plan), job.NewPartial(plan)
			add := func(p *devices.Partial, account, day int, ua string, n int) {
				for range n {
					pv := &mapreduce.PageView{UserAgent: []byte(ua), Account: account, Bucket: mapreduce.Bucket{Day: int32(day)}}
					if tt.enrich {
						enrich(pv)
					}
					job.Map(p, pv)
				}
			}
			add(p1, 0, 0, uaIPhone, 3)
			add(p2, 0, 0, uaIPhone, 2)
			add(p1, 0, 1, uaGooglebot, 1)
			add(p2, 1, 1, uaWindows, 4)
			add(p2, 1, 1, "", 1)
			job.Merge(p1, p2)
			reps := job.Reports(p1, plan)
			if len(reps) != 1 {
				t.Fatalf("%d reports, want 1", len(reps))
			}
			rep := reps[0]
			if rep.Name != "devices" || !slices.Equal(rep.Keys, []string{"class", "browser", "os"}) || rep.Measures[0].Name != "pageviews" {
				t.Errorf("report %q keys %q measure %q", rep.Name, rep.Keys, rep.Measures)
			}
			want := []string{
				"blog day 0801 mobile/Safari/iOS=5",
				"blog day 0802 bot/Googlebot/Other=1",
				"blog range 0801 bot/Googlebot/Other=1",
				"blog range 0801 mobile/Safari/iOS=5",
				"shop day 0802 bot/Empty/Other=1",
				"shop day 0802 desktop/Chrome/Windows=4",
				"shop range 0801 bot/Empty/Other=1",
				"shop range 0801 desktop/Chrome/Windows=4",
			}
			if got := rowsOf(rep); !slices.Equal(got, want) {
				t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

func TestJobKeysHaveNoTabs(t *testing.T) {
	plan := testPlan(t)
	job := &devices.Job{}
	p := job.NewPartial(plan)
	job.Map(p, &mapreduce.PageView{Agent: &mapreduce.Agent{Class: "desktop", Browser: "Odd\tName\n", OS: ""}})
	rows := job.Reports(p, plan)[0].Rows
	if len(rows) != 2 {
		t.Fatalf("%d rows, want 2", len(rows))
	}
	if got := rows[0].Keys; !slices.Equal(got, []string{"desktop", "Odd Name ", "Other"}) {
		t.Errorf("keys %q", got)
	}
}

// uaSource is an in-memory mapreduce.Source whose row values are user agents.
type uaSource struct{ shards map[string][]mapreduce.Row }

func (s *uaSource) Split() mapreduce.Split { return mapreduce.SplitShards }

func (s *uaSource) Read(ctx context.Context, item mapreduce.WorkItem, fn func(*mapreduce.Row) error) error {
	rows, ok := s.shards[item.Shard.String()]
	if !ok {
		return fmt.Errorf("%w: %s", mapreduce.ErrNoShard, item.Shard)
	}
	for i := range rows {
		if err := fn(&rows[i]); err != nil {
			return err
		}
	}
	return nil
}

// uaDecoder decodes a row value as a user agent on the page "/".
type uaDecoder struct{}

func (uaDecoder) Decode(v []byte, pv *mapreduce.PageView) error {
	pv.UserAgent, pv.URL = v, []byte("/")
	return nil
}

// TestJobInRun runs the job with the urls job through the engine: bots are
// counted in devices, and left out of urls unless the run includes bots.
func TestJobInRun(t *testing.T) {
	plan := testPlan(t)
	src := &uaSource{shards: map[string][]mapreduce.Row{}}
	day := plan.Shards[0].Day
	for i, ua := range []string{uaIPhone, uaGooglebot, uaWindows, uaGooglebot, uaIPhone} {
		key := mapreduce.ShardKey{Day: day, Account: "blog"}.String()
		ts := mapreduce.TimeUUID(day.Add(time.Duration(i)*time.Hour), uint16(i), 1)
		src.shards[key] = append(src.shards[key], mapreduce.Row{TS: ts, Value: []byte(ua), Index: int64(i), Offset: -1})
	}
	tests := []struct {
		name        string
		includeBots bool
		wantURLs    int64
	}{
		{"bots left out of other jobs", false, 3},
		{"--include-bots", true, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := mapreduce.Run(context.Background(), plan, src,
				[]mapreduce.Task{devices.New(devices.Options{}), urls.New(urls.Options{})},
				mapreduce.Options{
					Workers:     2,
					NewDecoder:  func() mapreduce.Decoder { return uaDecoder{} },
					NewEnricher: devices.NewEnricher(0),
					IncludeBots: tt.includeBots,
				})
			if err != nil {
				t.Fatal(err)
			}
			var devs, pages int64
			for _, rep := range res.Reports {
				for _, r := range rep.Rows {
					if r.Period != mapreduce.PeriodRange {
						continue
					}
					switch rep.Name {
					case "devices":
						devs += int64(r.Primary())
						if r.Keys[0] == devices.Bot && int64(r.Primary()) != 2 {
							t.Errorf("devices counts %d bot page views, want 2", int64(r.Primary()))
						}
					case "urls":
						pages += int64(r.Primary())
					}
				}
			}
			if devs != 5 || pages != tt.wantURLs {
				t.Errorf("devices counted %d page views, urls %d; want 5 and %d", devs, pages, tt.wantURLs)
			}
		})
	}
}

func BenchmarkEnricherHit(b *testing.B) {
	cases := loadAgents(b)
	enrich := devices.NewEnricher(0)()
	pvs := make([]mapreduce.PageView, len(cases))
	for i, c := range cases {
		pvs[i].UserAgent = []byte(c.ua)
		enrich(&pvs[i])
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		enrich(&pvs[i%len(pvs)])
		i++
	}
}

// BenchmarkJobMap is the job's per-row cost: with the Agent set by the
// enricher, and classifying through the job's own cache.
func BenchmarkJobMap(b *testing.B) {
	plan := testPlan(b)
	cases := loadAgents(b)
	for _, withAgent := range []bool{true, false} {
		b.Run(fmt.Sprintf("agent=%t", withAgent), func(b *testing.B) {
			job := &devices.Job{}
			p := job.NewPartial(plan)
			enrich := devices.NewEnricher(0)()
			pvs := make([]mapreduce.PageView, len(cases))
			for i, c := range cases {
				pvs[i] = mapreduce.PageView{UserAgent: []byte(c.ua), Account: i % 2, Bucket: mapreduce.Bucket{Day: int32(i % 2)}}
				if withAgent {
					enrich(&pvs[i])
				}
				job.Map(p, &pvs[i])
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				job.Map(p, &pvs[i%len(pvs)])
				i++
			}
		})
	}
}
