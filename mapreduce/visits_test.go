package mapreduce_test

import (
	"context"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/pageview"
)

// visitsJob records every visit the engine hands it, as text.
type visitsJob struct{ plan *mapreduce.Plan }

type visitsPartial struct{ visits []string }

func (j *visitsJob) NewPartial(plan *mapreduce.Plan) *visitsPartial { return &visitsPartial{} }
func (j *visitsJob) Map(p *visitsPartial, pv *mapreduce.PageView)   {}
func (j *visitsJob) MapVisit(p *visitsPartial, v *mapreduce.Visit) {
	p.visits = append(p.visits, visitText(j.plan.Accounts[v.Account], string(v.Entry.VisitorID),
		v.Start, v.End, v.PageViews, string(v.Entry.URL), string(v.Exit.URL), j.plan.Calendar.Hours[v.Bucket.Hour].Start))
}
func (j *visitsJob) Merge(dst, src *visitsPartial) { dst.visits = append(dst.visits, src.visits...) }
func (j *visitsJob) Reports(p *visitsPartial, plan *mapreduce.Plan) []mapreduce.Report {
	rep := mapreduce.Report{Name: "visits", Keys: []string{"visit"}, Measures: mapreduce.Counts("n")}
	for _, v := range p.visits {
		rep.Rows = append(rep.Rows, mapreduce.ReportRow{Account: "x", Keys: []string{v}, Values: []float64{1}})
	}
	return []mapreduce.Report{rep}
}

func visitText(account, visitor string, start, end int64, n int, entry, exit string, hour time.Time) string {
	return fmt.Sprintf("%s %s %s..%s n=%d %s -> %s hour %s", account, visitor,
		mapreduce.UnixTime(start).Format("01-02T15:04:05"), mapreduce.UnixTime(end).Format("01-02T15:04:05"),
		n, entry, exit, hour.UTC().Format("01-02T15:04"))
}

// originEnricher sets each page view's Origin from its referrer: "" brings
// no source, "src:X" the source X.
func originEnricher() func(*mapreduce.PageView) {
	var o mapreduce.Origin
	return func(pv *mapreduce.PageView) {
		pv.Origin = nil
		if name, ok := strings.CutPrefix(string(pv.Referrer), "src:"); ok {
			h := fnv.New64a()
			h.Write([]byte(name))
			o = mapreduce.Origin{Medium: "referral", Name: name, Key: h.Sum64() | 4}
			pv.Origin = &o
		}
	}
}

type genPV struct {
	account, visitor, url, ref string
	t                          time.Time
}

// genVisits makes page views of visitors (per account) whose gaps sit on
// and around the timeout (29:59, 30:00, 30:01), around midnight, UTC and
// local, and on slice edges, with sources that come and change.
func genVisits(seed uint64, first time.Time, days, visitors int) []genPV {
	rng := rand.New(rand.NewPCG(seed, 7))
	gaps := []time.Duration{time.Second, 40 * time.Second, 5 * time.Minute, 29*time.Minute + 59*time.Second,
		30 * time.Minute, 30*time.Minute + time.Second, 31 * time.Minute, 2 * time.Hour, 0}
	var out []genPV
	for _, account := range []string{"blog", "shop"} {
		for v := range visitors {
			visitor := fmt.Sprintf("v%d", v)
			t := first.Add(time.Duration(rng.Int64N(int64(time.Duration(days) * 24 * time.Hour))))
			if v%10 == 0 { // start just before a UTC midnight or an hour's edge
				t = first.Add(time.Duration(rng.IntN(days))*24*time.Hour - time.Duration(rng.IntN(40))*time.Minute)
			}
			for range 2 + rng.IntN(25) {
				ref := ""
				switch rng.IntN(12) {
				case 0:
					ref = "src:google"
				case 1:
					ref = "src:news"
				}
				out = append(out, genPV{account, visitor, fmt.Sprintf("/p%d", rng.IntN(9)), ref, t})
				t = t.Add(gaps[rng.IntN(len(gaps))])
			}
		}
	}
	return out
}

// referenceVisits finds the visits of pvs the plain way: each visitor's page
// views in time order, a new visit at a gap over timeout, a new local day,
// or a source other than the visit's.
func referenceVisits(pvs []genPV, plan *mapreduce.Plan, timeout time.Duration) []string {
	var in []genPV
	for _, p := range pvs {
		if !p.t.Before(plan.Start) && p.t.Before(plan.End) && slices.Contains(plan.Accounts, p.account) {
			in = append(in, p)
		}
	}
	slices.SortStableFunc(in, func(a, b genPV) int {
		if c := strings.Compare(a.account+" "+a.visitor, b.account+" "+b.visitor); c != 0 {
			return c
		}
		return a.t.Compare(b.t)
	})
	var out []string
	var cur []genPV
	src := ""
	flush := func() {
		if len(cur) > 0 {
			f, l := cur[0], cur[len(cur)-1]
			lt := f.t.In(plan.Loc)
			hour := time.Date(lt.Year(), lt.Month(), lt.Day(), lt.Hour(), 0, 0, 0, plan.Loc)
			// Hours are elapsed hours from local midnight: find the
			// calendar's hour that holds the first page view.
			for _, h := range plan.Calendar.Hours {
				if !f.t.Before(h.Start) && f.t.Before(h.End) {
					hour = h.Start
				}
			}
			out = append(out, visitText(f.account, f.visitor, f.t.UnixNano(), l.t.UnixNano(), len(cur), f.url, l.url, hour))
		}
		cur = nil
	}
	for _, p := range in {
		if len(cur) > 0 {
			prev := cur[len(cur)-1]
			same := prev.account == p.account && prev.visitor == p.visitor &&
				p.t.Sub(prev.t) <= timeout &&
				mapreduce.DateOf(p.t.In(plan.Loc)) == mapreduce.DateOf(prev.t.In(plan.Loc)) &&
				(p.ref == "" || strings.TrimPrefix(p.ref, "src:") == src)
			if !same {
				flush()
			}
		}
		if len(cur) == 0 {
			src = strings.TrimPrefix(p.ref, "src:")
		}
		cur = append(cur, p)
	}
	flush()
	slices.Sort(out)
	return out
}

func visitSource(t testing.TB, pvs []genPV) *memSource {
	src := &memSource{shards: map[string][]mapreduce.Row{}}
	slices.SortStableFunc(pvs, func(a, b genPV) int { return a.t.Compare(b.t) })
	for i, p := range pvs {
		key := mapreduce.ShardKey{Day: p.t.UTC().Truncate(24 * time.Hour), Account: p.account}.String()
		v := encodePV(t, map[string]string{"url": p.url, "referrer": p.ref, "visitor_id": p.visitor})
		rows := src.shards[key]
		src.shards[key] = append(rows, mapreduce.Row{TS: mapreduce.TimeUUID(p.t, uint16(i), uint64(i)), Value: v, Index: int64(len(rows)), Offset: -1})
	}
	return src
}

// TestVisitsExactWhateverTheSplit compares the engine's visits with a plain
// sessionizer's, for every way of cutting the run into work items and
// workers, in zones whose midnight falls inside UTC slices or repeats an
// hour.
func TestVisitsExactWhateverTheSplit(t *testing.T) {
	for _, zone := range []string{"UTC", "Europe/Berlin", "Asia/Kolkata", "America/Santiago"} {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			t.Fatal(err)
		}
		// Europe/Berlin falls back on 2024-10-27; Santiago springs forward
		// at midnight on 2024-09-08.
		first := time.Date(2024, 10, 26, 0, 0, 0, 0, time.UTC)
		from, to := mapreduce.Date{Year: 2024, Month: 10, Day: 26}, mapreduce.Date{Year: 2024, Month: 10, Day: 28}
		if zone == "America/Santiago" {
			first = time.Date(2024, 9, 7, 0, 0, 0, 0, time.UTC)
			from, to = mapreduce.Date{Year: 2024, Month: 9, Day: 7}, mapreduce.Date{Year: 2024, Month: 9, Day: 9}
		}
		pvs := genVisits(uint64(len(zone)), first.Add(-12*time.Hour), 4, 150)
		src := visitSource(t, pvs)
		var want []string
		for _, slices_ := range []int{1, 7, 24, 96, 1440} {
			start, end, err := mapreduce.DayRange(from, to, loc)
			if err != nil {
				t.Fatal(err)
			}
			plan, err := mapreduce.NewPlan(mapreduce.PlanSpec{Accounts: []string{"blog", "shop"}, Start: start, End: end, Loc: loc, Slices: slices_})
			if err != nil {
				t.Fatal(err)
			}
			if want == nil {
				want = referenceVisits(pvs, plan, 30*time.Minute)
			}
			for _, split := range []mapreduce.Split{mapreduce.SplitSlices, mapreduce.SplitShards, mapreduce.SplitShardParts} {
				if split != mapreduce.SplitSlices && slices_ != 24 {
					continue // the same items whatever the slices
				}
				for _, workers := range []int{1, 2, 5, 13, 40} {
					if split != mapreduce.SplitShardParts && workers > 5 {
						continue
					}
					name := fmt.Sprintf("%s/slices%d/split%d/workers%d", zone, slices_, split, workers)
					checkVisits(t, name, plan, src, split, workers, want)
				}
			}
		}
		if len(want) < 500 {
			t.Errorf("%s: only %d visits generated", zone, len(want))
		}
	}
}

// checkVisits runs the visits of src split as split with workers and
// compares them with want, the reference sessionizer's.
func checkVisits(t *testing.T, name string, plan *mapreduce.Plan, src *memSource, split mapreduce.Split, workers int, want []string) {
	t.Helper()
	src.split = split
	res, err := mapreduce.Run(context.Background(), plan, src,
		[]mapreduce.Task{mapreduce.NewTask("visits", &visitsJob{plan: plan})},
		mapreduce.Options{Workers: workers, NewDecoder: pageview.NewMapreduceDecoder, NewEnricher: originEnricher})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var got []string
	for _, r := range res.Reports[0].Rows {
		got = append(got, r.Keys[0])
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("%s: %d visits, want %d; first differences:\n%s", name, len(got), len(want), diffLines(got, want, 8))
	}
}

// TestVisitTimeoutEdges checks the definitions on hand-made visits: a gap
// of exactly the timeout continues a visit, a second more starts a new one,
// local midnight cuts, and a page view bringing another source starts a new
// visit while one bringing the visit's own source does not.
func TestVisitTimeoutEdges(t *testing.T) {
	day := time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC)
	at := func(h, m, s int) time.Time {
		return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second)
	}
	pvs := []genPV{
		// a: 29:59 and 30:00 continue, 30:01 starts a new visit.
		{"blog", "a", "/1", "", at(10, 0, 0)},
		{"blog", "a", "/2", "", at(10, 29, 59)},
		{"blog", "a", "/3", "", at(10, 59, 59)},
		{"blog", "a", "/4", "", at(11, 30, 0)},
		// b: across midnight UTC (the day ends) within the timeout.
		{"blog", "b", "/1", "", at(23, 50, 0)},
		{"blog", "b", "/2", "", at(24, 5, 0)},
		// c: google, then internal, google again (same visit), then news.
		{"blog", "c", "/1", "src:google", at(12, 0, 0)},
		{"blog", "c", "/2", "", at(12, 1, 0)},
		{"blog", "c", "/3", "src:google", at(12, 2, 0)},
		{"blog", "c", "/4", "src:news", at(12, 3, 0)},
		// d: direct, then a source: a new visit.
		{"blog", "d", "/1", "", at(13, 0, 0)},
		{"blog", "d", "/2", "src:google", at(13, 0, 1)},
	}
	start, end := day, day.AddDate(0, 0, 2)
	plan, err := mapreduce.NewPlan(mapreduce.PlanSpec{Accounts: []string{"blog"}, Start: start, End: end, Slices: 24})
	if err != nil {
		t.Fatal(err)
	}
	src := visitSource(t, pvs)
	res, err := mapreduce.Run(context.Background(), plan, src,
		[]mapreduce.Task{mapreduce.NewTask("visits", &visitsJob{plan: plan})},
		mapreduce.Options{Workers: 3, NewDecoder: pageview.NewMapreduceDecoder, NewEnricher: originEnricher})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range res.Reports[0].Rows {
		got = append(got, r.Keys[0])
	}
	slices.Sort(got)
	want := []string{
		"blog a 08-01T10:00:00..08-01T10:59:59 n=3 /1 -> /3 hour 08-01T10:00",
		"blog a 08-01T11:30:00..08-01T11:30:00 n=1 /4 -> /4 hour 08-01T11:00",
		"blog b 08-01T23:50:00..08-01T23:50:00 n=1 /1 -> /1 hour 08-01T23:00",
		"blog b 08-02T00:05:00..08-02T00:05:00 n=1 /2 -> /2 hour 08-02T00:00",
		"blog c 08-01T12:00:00..08-01T12:02:00 n=3 /1 -> /3 hour 08-01T12:00",
		"blog c 08-01T12:03:00..08-01T12:03:00 n=1 /4 -> /4 hour 08-01T12:00",
		"blog d 08-01T13:00:00..08-01T13:00:00 n=1 /1 -> /1 hour 08-01T13:00",
		"blog d 08-01T13:00:01..08-01T13:00:01 n=1 /2 -> /2 hour 08-01T13:00",
	}
	if !slices.Equal(got, want) {
		t.Errorf("visits:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if ref := referenceVisits(pvs, plan, 30*time.Minute); !slices.Equal(ref, want) {
		t.Errorf("the reference disagrees with the definitions:\n%s", strings.Join(ref, "\n"))
	}
}

func diffLines(got, want []string, n int) string {
	var b strings.Builder
	gi, wi := 0, 0
	for (gi < len(got) || wi < len(want)) && n > 0 {
		switch {
		case gi < len(got) && wi < len(want) && got[gi] == want[wi]:
			gi++
			wi++
			continue
		case wi >= len(want) || (gi < len(got) && got[gi] < want[wi]):
			fmt.Fprintf(&b, "  extra:   %s\n", got[gi])
			gi++
		default:
			fmt.Fprintf(&b, "  missing: %s\n", want[wi])
			wi++
		}
		n--
	}
	return b.String()
}

// TestKeeper: a Keeper reads back what it kept, and neither a zeroed slot nor
// another Keeper's value in a shared slot reads as kept.
func TestKeeper(t *testing.T) {
	ks := make([]mapreduce.Keeper, mapreduce.KeepSlots+1) // two of them share a slot
	for i := range ks {
		ks[i] = mapreduce.NewKeeper()
	}
	var pv mapreduce.PageView
	for _, k := range ks {
		if _, ok := k.Get(&pv); ok {
			t.Fatal("a zeroed page view reads as kept")
		}
	}
	for i, k := range ks[:mapreduce.KeepSlots] {
		k.Set(&pv, uint32(i))
	}
	for i, k := range ks[:mapreduce.KeepSlots] {
		if v, ok := k.Get(&pv); !ok || v != uint32(i) {
			t.Errorf("keeper %d reads %d, %v; want %d", i, v, ok, i)
		}
	}
	last := ks[mapreduce.KeepSlots]
	if _, ok := last.Get(&pv); ok {
		t.Error("a Keeper reads another's value in its slot as its own")
	}
	last.Set(&pv, 0)
	if v, ok := last.Get(&pv); !ok || v != 0 {
		t.Errorf("kept 0, read %d, %v", v, ok)
	}
	// Keepers made one after another (no test here runs in parallel) take
	// the slots in turn: ks[0] and
	// last share one, and last's value hides ks[0]'s.
	if _, ok := ks[0].Get(&pv); ok {
		t.Error("the Keeper that shares last's slot still reads its own value")
	}
}

// earlierJob checks PageView.Earlier: every page view's value is the id of
// its ip and user agent, and what Earlier gives must be the same id.
type earlierJob struct{ keep mapreduce.Keeper }

type earlierPartial struct {
	ids                 map[string]uint32
	uses, wrong, withID int
	agentWrong          int
}

func (j *earlierJob) NewPartial(plan *mapreduce.Plan) *earlierPartial {
	return &earlierPartial{ids: map[string]uint32{}}
}

func (j *earlierJob) Map(p *earlierPartial, pv *mapreduce.PageView) {
	k := string(pv.IP) + "\n" + string(pv.UserAgent)
	id, ok := p.ids[k]
	if !ok {
		id = uint32(len(p.ids) + 1)
		p.ids[k] = id
	}
	if e, ok := j.keep.Earlier(pv); ok {
		p.uses++
		if e != id {
			p.wrong++
		}
		if len(pv.VisitorID) > 0 {
			p.withID++
		}
	}
	if pv.Agent == nil || pv.Agent.Class != string(pv.UserAgent) {
		p.agentWrong++
	}
	j.keep.Set(pv, id)
}
func (j *earlierJob) MapVisit(p *earlierPartial, v *mapreduce.Visit) {}
func (j *earlierJob) Merge(dst, src *earlierPartial) {
	dst.uses += src.uses
	dst.wrong += src.wrong
	dst.withID += src.withID
	dst.agentWrong += src.agentWrong
}
func (j *earlierJob) Reports(p *earlierPartial, plan *mapreduce.Plan) []mapreduce.Report {
	rep := mapreduce.Report{Name: "earlier", Keys: []string{"what"}, Measures: mapreduce.Counts("n")}
	for _, r := range []struct {
		k string
		n int
	}{{"uses", p.uses}, {"wrong", p.wrong}, {"withID", p.withID}, {"agentWrong", p.agentWrong}} {
		rep.Rows = append(rep.Rows, mapreduce.ReportRow{Account: "x", Keys: []string{r.k}, Values: []float64{float64(r.n)}})
	}
	return []mapreduce.Report{rep}
}

// TestEarlier checks that a page view's Earlier and preset Agent come from
// a page view with the same ip and user agent, that page views with a
// visitor_id get none, and that most page views of a visit get them.
func TestEarlier(t *testing.T) {
	day := time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC)
	pvs := genVisits(3, day, 2, 150)
	slices.SortStableFunc(pvs, func(a, b genPV) int { return a.t.Compare(b.t) })
	src := &memSource{shards: map[string][]mapreduce.Row{}}
	for i, p := range pvs {
		n, _ := strconv.Atoi(strings.TrimPrefix(p.visitor, "v"))
		fields := map[string]string{"url": p.url, "referrer": p.ref,
			"ip": fmt.Sprintf("203.0.113.%d", n%40), "user_agent": fmt.Sprintf("UA %d", n%7)}
		if n%5 == 0 {
			fields["visitor_id"] = p.visitor
		}
		key := mapreduce.ShardKey{Day: p.t.UTC().Truncate(24 * time.Hour), Account: p.account}.String()
		rows := src.shards[key]
		src.shards[key] = append(rows, mapreduce.Row{TS: mapreduce.TimeUUID(p.t, uint16(i), uint64(i)), Value: encodePV(t, fields), Index: int64(len(rows)), Offset: -1})
	}
	plan, err := mapreduce.NewPlan(mapreduce.PlanSpec{Accounts: []string{"blog", "shop"}, Start: day, End: day.AddDate(0, 0, 2), Slices: 24})
	if err != nil {
		t.Fatal(err)
	}
	enrich := func() func(*mapreduce.PageView) {
		origins := originEnricher()
		return func(pv *mapreduce.PageView) {
			if pv.Agent == nil {
				pv.Agent = &mapreduce.Agent{Class: string(pv.UserAgent)}
			}
			origins(pv)
		}
	}
	for _, workers := range []int{1, 3} {
		res, err := mapreduce.Run(context.Background(), plan, src,
			[]mapreduce.Task{mapreduce.NewTask("earlier", &earlierJob{keep: mapreduce.NewKeeper()})},
			mapreduce.Options{Workers: workers, NewDecoder: pageview.NewMapreduceDecoder, NewEnricher: enrich})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]float64{}
		for _, r := range res.Reports[0].Rows {
			got[r.Keys[0]] = r.Values[0]
		}
		if got["wrong"] != 0 || got["withID"] != 0 || got["agentWrong"] != 0 {
			t.Errorf("workers %d: %v: Earlier or Agent from another visitor's page view", workers, got)
		}
		if got["uses"] < float64(len(pvs))/3 {
			t.Errorf("workers %d: Earlier given %v times for %d page views", workers, got["uses"], len(pvs))
		}
	}
}

// orderJob records the order of the engine's calls.
type orderJob struct {
	mu     *sync.Mutex
	events *[]string
}

func (j orderJob) log(e string) {
	j.mu.Lock()
	*j.events = append(*j.events, e)
	j.mu.Unlock()
}
func (j orderJob) NewPartial(*mapreduce.Plan) *struct{} { return &struct{}{} }
func (j orderJob) Map(*struct{}, *mapreduce.PageView)   { j.log("map") }
func (j orderJob) MapVisit(*struct{}, *mapreduce.Visit) { j.log("visit") }
func (j orderJob) Merge(_, _ *struct{})                 { j.log("merge") }
func (j orderJob) Reports(*struct{}, *mapreduce.Plan) []mapreduce.Report {
	j.log("reports")
	return []mapreduce.Report{{Name: "order", Keys: []string{"x"}, Measures: mapreduce.Counts("n")}}
}

// TestOnMapped checks that Options.OnMapped is called once, after every
// page view and visit was mapped and before any partial is merged.
func TestOnMapped(t *testing.T) {
	day := time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC)
	src := visitSource(t, genVisits(5, day, 2, 150))
	plan, err := mapreduce.NewPlan(mapreduce.PlanSpec{Accounts: []string{"blog", "shop"}, Start: day, End: day.AddDate(0, 0, 2), Slices: 24})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var events []string
	job := orderJob{&mu, &events}
	_, err = mapreduce.Run(context.Background(), plan, src, []mapreduce.Task{mapreduce.NewTask("order", job)},
		mapreduce.Options{Workers: 3, NewDecoder: pageview.NewMapreduceDecoder, NewEnricher: originEnricher,
			OnMapped: func() { job.log("mapped") }})
	if err != nil {
		t.Fatal(err)
	}
	at := slices.Index(events, "mapped")
	if at < 0 || slices.Contains(events[at+1:], "mapped") {
		t.Fatalf("OnMapped called %d times", strings.Count(strings.Join(events, " "), "mapped"))
	}
	if slices.Contains(events[at:], "map") || slices.Contains(events[at:], "visit") {
		t.Error("a page view or visit was mapped after OnMapped")
	}
	if slices.Contains(events[:at], "merge") || slices.Contains(events[:at], "reports") {
		t.Error("partials were merged before OnMapped")
	}
	if !slices.Contains(events[:at], "visit") || !slices.Contains(events[at:], "merge") {
		t.Errorf("no visit before OnMapped, or no merge after it: %d events", len(events))
	}
}
