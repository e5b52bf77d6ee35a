package synth_test

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/file"
	"github.com/pvjobs/pvjobs/readers/pageview"
	"github.com/pvjobs/pvjobs/readers/synth"
)

func cfg(seed uint64) synth.Config {
	return synth.Config{
		Accounts:   []string{"blog", "my_shop"},
		From:       mapreduce.Date{Year: 2024, Month: 8, Day: 2},
		To:         mapreduce.Date{Year: 2024, Month: 8, Day: 4},
		RowsPerDay: 400,
		Seed:       seed,
	}
}

func TestGeneratorDeterministic(t *testing.T) {
	a, err := synth.New(cfg(1))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := synth.New(cfg(1))
	c, _ := synth.New(cfg(2))
	if !reflect.DeepEqual(a.Shards(), b.Shards()) {
		t.Fatal("shards differ")
	}
	var names []string
	for _, k := range a.Shards() {
		names = append(names, k.String())
		if !reflect.DeepEqual(a.Rows(k), b.Rows(k)) {
			t.Errorf("shard %s differs between two generators of the same seed", k)
		}
		if reflect.DeepEqual(a.Rows(k), c.Rows(k)) {
			t.Errorf("shard %s is the same for seeds 1 and 2", k)
		}
	}
	want := "20240802.blog 20240802.my_shop 20240803.blog 20240803.my_shop 20240804.blog 20240804.my_shop"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("Shards = %s, want %s", got, want)
	}
}

func TestGeneratorRows(t *testing.T) {
	g, _ := synth.New(cfg(3))
	dec := pageview.NewDecoder()
	for _, k := range g.Shards() {
		rows := g.Rows(k)
		if len(rows) < 100 || len(rows) > 800 {
			t.Errorf("shard %s: %d rows for a mean of 400", k, len(rows))
		}
		var last int64
		for i, r := range rows {
			if !mapreduce.IsTimeUUID(r.TS) {
				t.Fatalf("shard %s row %d: not a version-1 uuid", k, i)
			}
			ns := mapreduce.UUIDTime(r.TS)
			if ns < k.Start().UnixNano() || ns >= k.End().UnixNano() {
				t.Fatalf("shard %s row %d: time %s outside the day", k, i, mapreduce.UnixTime(ns))
			}
			if i > 0 && ns <= last {
				t.Fatalf("shard %s row %d: time not increasing", k, i)
			}
			last = ns
			var pv mapreduce.PageView
			if err := dec.Decode(r.Value, &pv); err != nil {
				t.Fatalf("shard %s row %d: %v", k, i, err)
			}
			host := "://" + strings.ReplaceAll(k.Account, "_", "-") + ".example.com/"
			if !bytes.Contains(pv.URL, []byte(host)) || len(pv.IP) == 0 || len(pv.Title) == 0 {
				t.Fatalf("shard %s row %d: unrealistic page view %q %q %q", k, i, pv.URL, pv.UserAgent, pv.IP)
			}
		}
	}
}

func TestNewErrors(t *testing.T) {
	for name, mod := range map[string]func(*synth.Config){
		"no accounts": func(c *synth.Config) { c.Accounts = nil },
		"bad account": func(c *synth.Config) { c.Accounts = []string{"a.b"} },
		"to < from":   func(c *synth.Config) { c.To = mapreduce.Date{Year: 2024, Month: 8, Day: 1} },
		"no rows":     func(c *synth.Config) { c.RowsPerDay = 0 },
		"bots > 0.9":  func(c *synth.Config) { c.BotShare = 0.95 },
	} {
		t.Run(name, func(t *testing.T) {
			c := cfg(1)
			mod(&c)
			if _, err := synth.New(c); err == nil {
				t.Error("New accepted it")
			}
		})
	}
}

func TestMemSource(t *testing.T) {
	g, _ := synth.New(cfg(4))
	m := g.Memory(mapreduce.SplitSlices)
	if m.Split() != mapreduce.SplitSlices {
		t.Error("Split")
	}
	var total int64
	for _, k := range g.Shards() {
		total += int64(len(g.Rows(k)))
	}
	if m.Rows() != total {
		t.Errorf("Rows() = %d, want %d", m.Rows(), total)
	}
	k := g.Shards()[0]
	rows := g.Rows(k)
	lo, hi := k.Day.Add(9*time.Hour), k.Day.Add(17*time.Hour)
	var want []int64
	for i, r := range rows {
		if ns := mapreduce.UUIDTime(r.TS); ns >= lo.UnixNano() && ns < hi.UnixNano() {
			want = append(want, int64(i))
		}
	}
	var got []int64
	err := m.Read(context.Background(), mapreduce.WorkItem{Shard: k, Start: lo, End: hi}, func(r *mapreduce.Row) error {
		if r.TS != rows[r.Index].TS || !bytes.Equal(r.Value, rows[r.Index].Value) || r.Offset != -1 {
			t.Fatalf("row %d differs", r.Index)
		}
		got = append(got, r.Index)
		return nil
	})
	if err != nil || !reflect.DeepEqual(got, want) || len(got) == 0 {
		t.Errorf("Read [09:00,17:00) = %d rows (%v), want %d", len(got), err, len(want))
	}
	missing := mapreduce.ShardKey{Day: k.Day, Account: "nobody"}
	if err := m.Read(context.Background(), mapreduce.WorkItem{Shard: missing, Start: lo, End: hi}, nil); !errors.Is(err, mapreduce.ErrNoShard) {
		t.Errorf("missing shard: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := m.Read(ctx, mapreduce.WorkItem{Shard: k, Start: k.Start(), End: k.End()}, func(*mapreduce.Row) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestWriteDir(t *testing.T) {
	g, _ := synth.New(cfg(5))
	for _, gz := range []bool{false, true} {
		dir := t.TempDir()
		n, err := g.WriteDir(context.Background(), dir, gz)
		if err != nil {
			t.Fatal(err)
		}
		src, err := file.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		keys, _ := src.Shards()
		if !reflect.DeepEqual(keys, g.Shards()) {
			t.Fatalf("files hold shards %v", keys)
		}
		var read int64
		for _, k := range keys {
			rows := g.Rows(k)
			i := 0
			err := src.Read(context.Background(), mapreduce.WorkItem{Shard: k, Start: k.Start(), End: k.End()}, func(r *mapreduce.Row) error {
				if r.TS != rows[i].TS || !bytes.Equal(r.Value, rows[i].Value) {
					t.Fatalf("gzip=%v shard %s row %d differs", gz, k, i)
				}
				i++
				return nil
			})
			if err != nil || i != len(rows) {
				t.Fatalf("gzip=%v shard %s: read %d of %d rows: %v", gz, k, i, len(rows), err)
			}
			read += int64(i)
		}
		if read != n {
			t.Errorf("WriteDir said %d rows, files hold %d", n, read)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := g.WriteDir(ctx, t.TempDir(), false); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled WriteDir: %v", err)
	}
}

// isBot tells the generator's bots by their user agents.
var isBot = regexp.MustCompile(`(?i)bot|crawl|spider|curl|python|go-http|headless|externalhit|uptime|^$`)

// TestMix checks the generated traffic looks like real traffic: the shares
// the package documentation promises, measured with a plain sessionizer.
func TestMix(t *testing.T) {
	c := cfg(9)
	c.RowsPerDay = 8000
	c.To = mapreduce.Date{Year: 2024, Month: 8, Day: 6}
	g, err := synth.New(c)
	if err != nil {
		t.Fatal(err)
	}
	dec := pageview.NewDecoder()
	type visitState struct {
		last  int64
		count int
	}
	var rows, bots, internal, search, terms, campaigns, v6, visits, bounces, pvInVisits int
	agents, langs, urls := map[string]bool{}, map[string]bool{}, map[string]bool{}
	days := map[string]map[string]bool{}
	for _, k := range g.Shards() {
		open := map[string]*visitState{}
		end := func(v *visitState) {
			visits++
			pvInVisits += v.count
			if v.count == 1 {
				bounces++
			}
		}
		for _, r := range g.Rows(k) {
			var pv mapreduce.PageView
			if err := dec.Decode(r.Value, &pv); err != nil {
				t.Fatal(err)
			}
			rows++
			ip, err := netip.ParseAddr(string(pv.IP))
			if err != nil || ip.IsPrivate() || ip.IsLoopback() || ip.IsMulticast() || ip.IsUnspecified() {
				t.Fatalf("row %d of %s: ip %q is not a public address", rows, k, pv.IP)
			}
			agents[string(pv.UserAgent)] = true
			if isBot.Match(pv.UserAgent) {
				bots++
				continue
			}
			if ip.Is6() {
				v6++
			}
			langs[string(pv.Language)] = true
			urls[string(pv.URL)] = true
			ref := string(pv.Referrer)
			switch {
			case strings.Contains(ref, ".example.com/"):
				internal++
			case strings.Contains(ref, "google.") || strings.Contains(ref, "bing.") || strings.Contains(ref, "duckduckgo"):
				search++
				if strings.Contains(ref, "q=") {
					terms++
				}
			}
			if bytes.Contains(pv.URL, []byte("utm_")) || bytes.Contains(pv.URL, []byte("clid=")) {
				campaigns++
			}
			key := string(pv.VisitorID)
			if key == "" {
				key = string(pv.IP) + "\n" + string(pv.UserAgent)
			}
			if days[key] == nil {
				days[key] = map[string]bool{}
			}
			days[key][k.Day.String()] = true
			ns := mapreduce.UUIDTime(r.TS)
			v := open[key]
			if v != nil && ns-v.last > int64(30*time.Minute) {
				end(v)
				v = nil
			}
			if v == nil {
				v = &visitState{}
				open[key] = v
			}
			v.last = ns
			v.count++
		}
		for _, v := range open {
			end(v)
		}
	}
	humans := rows - bots
	returning := 0
	for _, d := range days {
		if len(d) > 1 {
			returning++
		}
	}
	share := func(n, of int) float64 { return float64(n) / float64(of) }
	for _, c := range []struct {
		name     string
		got      float64
		min, max float64
	}{
		{"bot share of page views", share(bots, rows), 0.05, 0.15},
		{"bounce rate", share(bounces, visits), 0.35, 0.65},
		{"page views per visit", share(pvInVisits, visits), 2, 5},
		{"internal referrers", share(internal, humans), 0.4, 0.8},
		{"search referrers", share(search, humans), 0.05, 0.3},
		{"search referrers with a term", share(terms, search), 0.02, 0.5},
		{"landing URLs with campaign parameters", share(campaigns, humans), 0.01, 0.1},
		{"IPv6 page views", share(v6, humans), 0.08, 0.25},
		{"visitors on several days", share(returning, len(days)), 0.03, 0.5},
		{"distinct user agents", float64(len(agents)), 1500, 1e9},
		{"distinct languages", float64(len(langs)), 30, 1e9},
		{"distinct URLs", float64(len(urls)), 3000, 1e9},
	} {
		if c.got < c.min || c.got > c.max {
			t.Errorf("%s = %.3f, want %g to %g", c.name, c.got, c.min, c.max)
		} else {
			t.Logf("%s = %.3f", c.name, c.got)
		}
	}
}

func TestNetworks(t *testing.T) {
	c := cfg(10)
	nets := []netip.Prefix{netip.MustParsePrefix("81.2.69.0/24"), netip.MustParsePrefix("2001:480::/48")}
	c.Networks = nets
	g, _ := synth.New(c)
	dec := pageview.NewDecoder()
	in := 0
	for _, k := range g.Shards() {
		for _, r := range g.Rows(k) {
			var pv mapreduce.PageView
			if err := dec.Decode(r.Value, &pv); err != nil {
				t.Fatal(err)
			}
			ip := netip.MustParseAddr(string(pv.IP))
			if isBot.Match(pv.UserAgent) {
				continue // crawlers come from their own networks
			}
			if !nets[0].Contains(ip) && !nets[1].Contains(ip) {
				t.Fatalf("%s is in none of %v", ip, nets)
			}
			in++
		}
	}
	if in == 0 {
		t.Fatal("no human page views")
	}
}

// TestAccessLog checks the access log holds the page views of the shards,
// in their order, as combined-log lines.
func TestAccessLog(t *testing.T) {
	g, _ := synth.New(cfg(11))
	var b bytes.Buffer
	n, err := g.WriteAccessLog(context.Background(), &b)
	if err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(`^(\S+) - - \[(\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d \+0000)\] "GET (/\S*) HTTP/1\.1" 200 \d+ "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)"$`)
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if int64(len(lines)) != n {
		t.Fatalf("WriteAccessLog said %d lines, wrote %d", n, len(lines))
	}
	dec := pageview.NewDecoder()
	i := 0
	for _, k := range g.Shards() {
		for _, r := range g.Rows(k) {
			var pv mapreduce.PageView
			if err := dec.Decode(r.Value, &pv); err != nil {
				t.Fatal(err)
			}
			m := line.FindStringSubmatch(lines[i])
			if m == nil {
				t.Fatalf("line %d is not a combined-log line: %q", i+1, lines[i])
			}
			when := mapreduce.UnixTime(mapreduce.UUIDTime(r.TS)).Format("02/Jan/2006:15:04:05 -0700")
			ref, ua := string(pv.Referrer), string(pv.UserAgent)
			if ref == "" {
				ref = "-"
			}
			if ua == "" {
				ua = "-"
			}
			path, _, _ := strings.Cut(strings.TrimPrefix(string(pv.URL), "https://"+strings.ReplaceAll(k.Account, "_", "-")+".example.com"), "#")
			if want := []string{string(pv.IP), when, path, ref, ua}; !reflect.DeepEqual(m[1:], want) {
				t.Fatalf("line %d = %q, want the fields %q", i+1, m[1:], want)
			}
			i++
		}
	}
	if i != len(lines) {
		t.Errorf("%d rows, %d lines", i, len(lines))
	}
}
