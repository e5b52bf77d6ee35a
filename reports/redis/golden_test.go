package redis_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/mapreduce/hll"
	"github.com/pvjobs/pvjobs/reports/redis"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// goldenPrefix stands for the test's own key prefix in the golden file.
const goldenPrefix = "PREFIX"

// snapshot renders every key of prefix canonically, one line per key in key
// order: name, type, whether it expires, and the SHA-256 of its content (the
// value of a string, "member\tscore\n" of each member of a sorted set in
// ZRANGE order, "field\tvalue\n" of each field of a hash in Redis's
// order). Unlike DUMP it does not depend on the server's version.
func snapshot(t *testing.T, c *goredis.Client, prefix string) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	for _, k := range scan(t, c, prefix+":*") {
		typ := c.Type(ctx, k).Val()
		h := sha256.New()
		n := 0
		switch typ {
		case "string":
			v, err := c.Get(ctx, k).Bytes()
			if err != nil {
				t.Fatalf("GET %s: %v", k, err)
			}
			h.Write(v)
			n = len(v)
		case "zset":
			zs, err := c.ZRangeWithScores(ctx, k, 0, -1).Result()
			if err != nil {
				t.Fatalf("ZRANGE %s: %v", k, err)
			}
			for _, z := range zs {
				fmt.Fprintf(h, "%s\t%s\n", z.Member, strconv.FormatFloat(z.Score, 'g', -1, 64))
			}
			n = len(zs)
		case "hash":
			var v string
			v, n = hashSnapshot(t, c, k)
			h.Write([]byte(v))
		default:
			t.Fatalf("key %s: unexpected type %s", k, typ)
		}
		ttl := "persist"
		if d := c.PTTL(ctx, k).Val(); d > 0 {
			ttl = "expires"
		}
		fmt.Fprintf(&b, "%s %s %d %s %s\n", goldenPrefix+strings.TrimPrefix(k, prefix), typ, n, ttl, hex.EncodeToString(h.Sum(nil))[:16])
	}
	return b.String()
}

// TestGoldenKeys writes a fixed sequence of runs (whole days across the
// Europe/Berlin fall-back with minute keys and the range; a partial night
// unioned into its days, hours and month; a re-run with --redis-top and a
// TTL; --uv-merge into keys a live producer wrote; a re-run with fewer rows)
// and compares the keys after each with testdata/golden-keys.txt: the key
// layout and every value stay byte for byte what they were. Refresh the file
// with -update only for an intended change of layout or values.
func TestGoldenKeys(t *testing.T) {
	c, prefix := testRedis(t)
	berlin := mustLoad(t, "Europe/Berlin")
	p := plan(t, berlin, "2024-10-26", 3, "blog", "shop")
	var got strings.Builder
	step := func(name string, opt redis.Options, reps []mapreduce.Report, p *mapreduce.Plan) {
		t.Helper()
		opt.Prefix = prefix
		st := write(t, c, opt, reps, p)
		fmt.Fprintf(&got, "## %s\n# replaced %d merged %d deleted %d unchanged %d members %d trimmed %d skipped %d\n%s",
			name, st.Replaced, st.Merged, st.Deleted, st.Unchanged, st.Members, st.Trimmed, st.SkippedPartial, snapshot(t, c, prefix))
	}
	whole := func(seed uint64, urlsPerDay int) []mapreduce.Report {
		var reps []mapreduce.Report
		uv := mapreduce.Report{Name: "uniques"}
		urls := mapreduce.Report{Name: "urls", Keys: []string{"url"}}
		terms := mapreduce.Report{Name: "searchterms", Keys: []string{"engine", "term"}}
		for ai, a := range p.Accounts {
			var visits []visit
			for h := range p.Calendar.Hours {
				if (h+ai)%4 == 3 {
					continue // hours without visitors lose their keys
				}
				for i := 0; i < 1+h%3; i++ {
					at := p.Calendar.Hours[h].Start.Add(time.Duration(i*7+h) * time.Minute % time.Hour)
					visits = append(visits, visit{at, fmt.Sprintf("s%d-%s-%d", seed, a, (h*31+i)%97)})
				}
			}
			uv.Rows = append(uv.Rows, uvMinuteRows(p, a, visits)...)
			urls.Rows = append(urls.Rows, countRows(p, a, urlsPerDay, seed+uint64(ai))...)
			for d := range p.Calendar.Days {
				if d == ai { // a day without search terms
					continue
				}
				for i := 0; i < 4; i++ {
					terms.Rows = append(terms.Rows, mapreduce.ReportRow{Account: a, Period: mapreduce.PeriodDay, Start: p.Calendar.Days[d].Start,
						Keys: []string{"google", "term " + strconv.Itoa(i)}, Values: []float64{float64(1 + (i*3+d)%3)}})
				}
			}
		}
		return append(reps, uv, urls, terms)
	}
	step("whole days, minutes, range", redis.Options{Range: true, Minutes: true}, whole(1, 12), p)
	step("same again", redis.Options{Range: true, Minutes: true}, whole(1, 12), p)

	// A night from 18:00 to 06:30: its days, edge hours and month are partial.
	start := parseLocal(t, "2024-10-27T18:00", berlin)
	night, err := mapreduce.NewPlan(mapreduce.PlanSpec{Accounts: []string{"blog", "shop"}, Start: start, End: parseLocal(t, "2024-10-28T06:30", berlin), Loc: berlin})
	if err != nil {
		t.Fatal(err)
	}
	nightHours := map[int]*hll.Sketch{}
	for h, s := range night.Calendar.Hours {
		if s.End.After(night.Start) && s.Start.Before(night.End) {
			nightHours[h] = sketchOf(fmt.Sprintf("night-%d-", h), 3+h%5)
		}
	}
	nightUV := uvRows(night, "blog", nightHours)
	step("a partial night", redis.Options{}, []mapreduce.Report{{Name: "uniques", Rows: nightUV}, {Name: "urls", Keys: []string{"url"}, Rows: countRows(night, "blog", 3, 9)}}, night)
	step("the night again", redis.Options{}, []mapreduce.Report{{Name: "uniques", Rows: nightUV}}, night)

	step("top 3 and a TTL", redis.Options{Top: 3, TTL: 48 * time.Hour}, whole(2, 12)[1:], p)

	// A live producer PFADDs to an hour; --uv-merge merges into it.
	keys := redis.Keys{Prefix: prefix}
	pfadd(t, c, keys.Key("blog", "uv", "2024102710"), "live-", 0, 50)
	step("uv-merge", redis.Options{UVMerge: true, TTL: time.Hour}, whole(3, 2)[:1], p)

	step("fewer rows", redis.Options{Minutes: true}, whole(4, 5), plan(t, berlin, "2024-10-27", 1, "blog"))

	compareGolden(t, "golden-keys.txt", got.String())
}

// compareGolden compares got with the file testdata/name, or writes it
// there with -update.
func compareGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		g, w := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		n := 0
		for i := 0; i < max(len(g), len(w)) && n < 10; i++ {
			var gl, wl string
			if i < len(g) {
				gl = g[i]
			}
			if i < len(w) {
				wl = w[i]
			}
			if gl != wl {
				t.Errorf("%s line %d:\n got  %s\n want %s", name, i+1, gl, wl)
				n++
			}
		}
	}
}

// TestGoldenMeasureKeys writes a fixed sequence of runs of reports with
// several measures (sources, urls, entrypages, exitpages and visits: whole
// days across the Europe/Berlin fall-back with the range; the same again;
// a partial night; a re-run with --redis-top and a TTL; a re-run without a
// day) and compares the keys after each with
// testdata/golden-measure-keys.txt. The keys of each report's first
// measure are also compared with those a run of the same reports cut down
// to their first measure writes: the same lines, so that the new keys
// change nothing of the old ones.
func TestGoldenMeasureKeys(t *testing.T) {
	c, prefix := testRedis(t)
	berlin := mustLoad(t, "Europe/Berlin")
	p := plan(t, berlin, "2024-10-26", 3, "blog", "shop")
	var got strings.Builder
	step := func(name string, opt redis.Options, reps []mapreduce.Report, p *mapreduce.Plan) {
		t.Helper()
		opt.Prefix = prefix
		st := write(t, c, opt, reps, p)
		fmt.Fprintf(&got, "## %s\n# replaced %d deleted %d members %d fields %d trimmed %d skipped %d\n%s",
			name, st.Replaced, st.Deleted, st.Members, st.Fields, st.Trimmed, st.SkippedPartial, snapshot(t, c, prefix))
	}
	whole := measureReports(p, prefix, 6, 1, true, "")
	step("whole days, range", redis.Options{Range: true}, whole.reps, p)

	// The first measures alone, under a prefix of their own: the keys of
	// the first measures are the same.
	firstPrefix := prefix + "first"
	var firsts []mapreduce.Report
	for _, rep := range whole.reps {
		if len(rep.Keys) == 0 {
			continue // the visits report had no keys before
		}
		f := mapreduce.Report{Name: rep.Name, Keys: rep.Keys, Labels: rep.Labels, Measures: rep.Measures[:1]}
		for _, r := range rep.Rows {
			r.Values = r.Values[:1]
			f.Rows = append(f.Rows, r)
		}
		firsts = append(firsts, f)
	}
	write(t, c, redis.Options{Prefix: firstPrefix, Range: true}, firsts, p)
	var all, old []string
	for _, l := range strings.Split(snapshot(t, c, prefix), "\n") {
		if name := strings.Split(l, ":"); len(name) > 2 && !strings.Contains(name[2], ".") && !strings.HasPrefix(name[2], "visits") {
			all = append(all, l)
		}
	}
	for _, l := range strings.Split(snapshot(t, c, firstPrefix), "\n") {
		if l != "" {
			old = append(old, l)
		}
	}
	if len(old) == 0 || !slices.Equal(all, old) {
		t.Errorf("the keys of the first measures differ from a run of the first measures alone:\n%s\nand\n%s", strings.Join(all, "\n"), strings.Join(old, "\n"))
	}
	for _, k := range scan(t, c, firstPrefix+":*") {
		c.Del(context.Background(), k)
	}

	step("same again", redis.Options{Range: true}, whole.reps, p)
	start := parseLocal(t, "2024-10-27T18:00", berlin)
	night, err := mapreduce.NewPlan(mapreduce.PlanSpec{Accounts: []string{"blog", "shop"}, Start: start, End: parseLocal(t, "2024-10-28T06:30", berlin), Loc: berlin})
	if err != nil {
		t.Fatal(err)
	}
	step("a partial night", redis.Options{}, measureReports(night, prefix, 4, 2, false, "").reps, night)
	step("top 3 and a TTL", redis.Options{Top: 3, TTL: 48 * time.Hour}, measureReports(p, prefix, 6, 3, false, "").reps, p)
	step("without blog's 27th", redis.Options{}, measureReports(p, prefix, 6, 4, false, "20241027").reps, p)
	compareGolden(t, "golden-measure-keys.txt", got.String())
}
