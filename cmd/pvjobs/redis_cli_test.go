package main

import (
	"context"
	"maps"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/options"
	"github.com/pvjobs/pvjobs/jobs/uniques"
	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/reports/redis"
	"github.com/pvjobs/pvjobs/reports/redis/redistest"
)

// redisCLIClient returns a client of the test Redis (see package
// reports/redis/redistest), its address and a key prefix of the test's own,
// whose keys are deleted at the end.
func redisCLIClient(t *testing.T) (*goredis.Client, string, string) {
	t.Helper()
	c := redistest.Client(t)
	return c, redistest.Addr(t), redistest.Prefix(t, c, "pvcli")
}

func redisKeys(t *testing.T, c *goredis.Client, pattern string) []string {
	t.Helper()
	return redistest.Keys(t, c, pattern)
}

func redisDumps(t *testing.T, c *goredis.Client, prefix string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, k := range redisKeys(t, c, prefix+":*") {
		out[k] = c.Dump(context.Background(), k).Val()
	}
	return out
}

func sameRedisDumps(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	n := 0
	for k, v := range want {
		if got[k] != v {
			n++
			if n <= 5 {
				t.Errorf("%s: key %s changed or is gone", what, k)
			}
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			n++
			if n <= 5 {
				t.Errorf("%s: new key %s", what, k)
			}
		}
	}
	if n > 5 {
		t.Errorf("%s: %d keys differ in all", what, n)
	}
}

func TestRedisUsageErrors(t *testing.T) {
	shards := genShards(t)
	base := []string{"run", "--source", shards, "--jobs", "urls,uniques", "--quiet", "--dry-run"}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no host", []string{"--out", "redis:///0"}, "no host"},
		{"bad db", []string{"--out", "redis://localhost:6379/x"}, "database number"},
		{"unknown option", []string{"--out", "redis://localhost:6379/0?colour=blue"}, "colour"},
		{"bad prefix in URL", []string{"--out", "redis://localhost:6379/0?prefix=a{b}"}, "prefix"},
		{"bad prefix flag", []string{"--out", "redis://localhost:6379/0", "--redis-prefix", "has space"}, "--redis-prefix"},
		{"bad batch", []string{"--out", "redis://localhost:6379/0?batch=0"}, "batch"},
		{"bad ttl", []string{"--out", "redis://localhost:6379/0", "--ttl", "soon"}, "--redis-ttl"},
		{"negative top", []string{"--out", "redis://localhost:6379/0", "--redis-top", "-1"}, "--redis-top"},
		{"cluster db", []string{"--out", "redis://localhost:6379/3?cluster=true"}, "database 0 only"},
		{"TLS files without rediss", []string{"--out", "redis://localhost:6379/0", "--redis-ca", "ca.pem"}, "rediss://"},
		{"bad timeout", []string{"--out", "redis://localhost:6379/0", "--redis-timeout", "-1s"}, "--redis-timeout"},
		{"bad granularity", []string{"--uv-granularity", "second"}, "--uv-granularity"},
		{"exact uniques", []string{"--out", "redis://localhost:6379/0", "--exact-uniques"}, "--exact-uniques"},
		{"password redacted", []string{"--out", "redis://u:hunter2@localhost:6379/0?colour=blue"}, "xxxxx"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := pvjobs(t, context.Background(), slices.Concat(base, tc.args)...)
			if code != exitUsage || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q, want exit 2 and %q (stdout %q)", code, errOut, tc.want, out)
			}
			if strings.Contains(errOut, "hunter2") {
				t.Errorf("the password shows: %q", errOut)
			}
		})
	}
	t.Run("redis down", func(t *testing.T) {
		out := t.TempDir()
		code, _, errOut := pvjobs(t, context.Background(), "run", "--source", shards, "--jobs", "urls", "--quiet",
			"--out", "csv:"+out, "--out", "redis://127.0.0.1:1/0?max_retries=0&dial_timeout=2s")
		if code != exitFailed || !strings.Contains(errOut, "redis 127.0.0.1:1 db 0") || !strings.Contains(errOut, "connection refused") {
			t.Errorf("exit %d, stderr %q: want exit 1 naming the server and the refusal", code, errOut)
		}
		if names := dirNames(t, out); len(names) > 0 {
			t.Errorf("a run whose Redis is down wrote %v", names)
		}
	})
}

// TestRedisPreflight runs pvjobs as ACL users that lack a command the
// commit needs: the run stops before any data is read, naming the command
// and the server's reason, and writes no output.
func TestRedisPreflight(t *testing.T) {
	c, addr, prefix := redisCLIClient(t)
	ctx := context.Background()
	shards := genShards(t)
	for _, tc := range []struct {
		name, rule, want string
	}{
		{"without RENAME", "-rename", "RENAME"},
		{"without +@transaction", "-@transaction", "MULTI/EXEC"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			user := prefix + strings.ReplaceAll(tc.rule, "@", "")
			if err := c.Do(ctx, "ACL", "SETUSER", user, "reset", "on", ">secret", "~"+prefix+":*", "+@all", tc.rule).Err(); err != nil {
				t.Fatalf("ACL SETUSER: %v", err)
			}
			t.Cleanup(func() { c.Do(context.Background(), "ACL", "DELUSER", user) })
			out := t.TempDir()
			code, stdout, stderr := pvjobs(t, ctx, "run", "--source", shards, "--jobs", "urls,uniques", "--quiet",
				"--out", "csv:"+out, "--out", "redis://"+user+":secret@"+addr+"/0?prefix="+prefix)
			if code != exitFailed || !strings.Contains(stderr, "pre-flight check") || !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, "NOPERM") {
				t.Errorf("exit %d, stderr %q: want exit 1 naming %s and NOPERM", code, stderr, tc.want)
			}
			if strings.Contains(stderr, "secret") {
				t.Errorf("the password shows: %q", stderr)
			}
			if names := dirNames(t, out); len(names) > 0 || stdout != "" {
				t.Errorf("a run refused by the pre-flight check wrote %v, stdout %q", names, stdout)
			}
			if keys := redisKeys(t, c, prefix+":*"); len(keys) > 0 {
				t.Errorf("keys written: %v", keys)
			}
		})
	}
}

// TestRedisPreparedThenAborted interrupts a run after its Redis output was
// prepared (its temporary keys written) and before the CSV output was: the
// run commits nothing, the temporary keys are deleted, and the keys of the
// run before are untouched.
func TestRedisPreparedThenAborted(t *testing.T) {
	c, addr, prefix := redisCLIClient(t)
	shards := genShards(t)
	args := []string{"run", "--source", shards, "--jobs", "urls,uniques", "--quiet", "--out", "redis://" + addr + "/0?prefix=" + prefix}
	mustPvjobs(t, args...)
	before := redisDumps(t, c, prefix)
	csvDir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tmps := 0
	hook(t, func(out string) {
		if strings.HasPrefix(out, "redis ") {
			tmps = len(redisKeys(t, c, prefix+":*:tmp:*"))
			cancel()
		}
	})
	code, _, stderr := pvjobs(t, ctx, append(args, "--out", "csv:"+csvDir)...)
	if code == 0 {
		t.Fatalf("an interrupted run exited 0: %s", stderr)
	}
	if tmps == 0 {
		t.Errorf("no temporary keys after the Redis output was prepared")
	}
	sameRedisDumps(t, "aborted run", redisDumps(t, c, prefix), before)
	if names := dirNames(t, csvDir); len(names) > 0 {
		t.Errorf("CSV files written: %v", names)
	}
	t.Logf("exit %d after %d temporary keys were written and deleted: %s", code, tmps, strings.TrimSpace(stderr))
}

// visitorsJob collects the visitor keys of each account and hour, as the
// uniques job adds them to its sketches.
type visitorsJob struct{ got *visitorsPartial }

type visitorsPartial struct {
	accounts int
	keys     map[[2]int]map[string]bool // (account, hour) -> visitor keys
}

func (j *visitorsJob) NewPartial(plan *mapreduce.Plan) *visitorsPartial {
	return &visitorsPartial{accounts: len(plan.Accounts), keys: map[[2]int]map[string]bool{}}
}

func (j *visitorsJob) Map(p *visitorsPartial, pv *mapreduce.PageView) {
	k := [2]int{pv.Shard % p.accounts, int(pv.Bucket.Hour)}
	if p.keys[k] == nil {
		p.keys[k] = map[string]bool{}
	}
	p.keys[k][string(uniques.VisitorKey(nil, pv))] = true
}

func (j *visitorsJob) Merge(dst, src *visitorsPartial) {
	for k, m := range src.keys {
		if dst.keys[k] == nil {
			dst.keys[k] = map[string]bool{}
		}
		for v := range m {
			dst.keys[k][v] = true
		}
	}
}

func (j *visitorsJob) Reports(p *visitorsPartial, plan *mapreduce.Plan) []mapreduce.Report {
	j.got = p
	return nil
}

// TestRedisRun runs every job into CSV and Redis at once and checks the keys:
// hour keys against keys PFADDed with the visitors read back from the shards,
// the sorted sets of every measure and the visits hashes against the CSV, a
// re-run leaving every key byte-identical.
func TestRedisRun(t *testing.T) {
	c, addr, prefix := redisCLIClient(t)
	ctx := context.Background()
	shards := genShards(t)
	csvDir := t.TempDir()
	args := []string{"run", "--source", shards, "--from", "2024-08-01", "--to", "2024-08-03", "--tz", "Europe/Berlin",
		"--geoip", filepath.Join("..", "..", "jobs", "geo", "testdb", "test-city.mmdb"), "--quiet",
		"--out", "csv:" + csvDir, "--out", "redis://" + addr + "/0?prefix=" + prefix, "--redis-range", "--uv-granularity", "minute"}
	mustPvjobs(t, args...)
	first := redisDumps(t, c, prefix)
	if len(first) == 0 {
		t.Fatal("no keys written")
	}

	// Every CSV row of a whole day or of the range is a member of the
	// sorted set of each measure, and the rates and averages a reader
	// computes from them are the CSV's; the visits rows are hashes.
	checkRedisMeasures(t, c, prefix, csvDir, mustLoc(t, "Europe/Berlin"), "20240801-20240803")

	// Hour keys hold what PFADD of the visitors makes.
	p := runParams{Values: options.Values{Source: shards, Accounts: []string{"all"}, TZ: "Europe/Berlin", Jobs: []string{"uniques"},
		MaxBadRows: mapreduce.Budget{Percent: 0.1, IsPercent: true}, Progress: "none"}}
	setRange(&p, time.Date(2024, 8, 1, 0, 0, 0, 0, mustLoc(t, "Europe/Berlin")), time.Date(2024, 8, 4, 0, 0, 0, 0, mustLoc(t, "Europe/Berlin")))
	s, err := setupRun(ctx, &p)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	vj := &visitorsJob{}
	if _, err := mapreduce.Run(ctx, s.plan, s.src, []mapreduce.Task{mapreduce.NewTask("visitors", vj)}, s.opts); err != nil {
		t.Fatal(err)
	}
	checked := 0
	for k, visitors := range vj.got.keys {
		account, hour := s.plan.Accounts[k[0]], s.plan.Calendar.Hours[k[1]].Start
		key := prefix + ":{" + account + "}:uv:" + hour.Format("2006010215")
		ref := prefix + ":ref:" + strconv.Itoa(k[0]) + ":" + strconv.Itoa(k[1])
		var elems []any
		for v := range visitors {
			elems = append(elems, v)
		}
		if err := c.PFAdd(ctx, ref, elems...).Err(); err != nil {
			t.Fatal(err)
		}
		got, _ := c.Get(ctx, key).Result()
		want, _ := c.Get(ctx, ref).Result()
		if got != want {
			// Equal registers are what counts; the package documents the
			// rare sparse values that differ in bytes.
			a, b := c.PFCount(ctx, key).Val(), c.PFCount(ctx, ref).Val()
			t.Errorf("%s: the sink's value differs from PFADD's (PFCOUNT %d and %d)", key, a, b)
		}
		checked++
	}
	if checked < 100 {
		t.Errorf("only %d hour keys checked", checked)
	}

	// The same run again changes no byte.
	mustPvjobs(t, args...)
	after := redisDumps(t, c, prefix)
	for k := range after {
		if strings.Contains(k, ":ref:") {
			delete(after, k)
		}
	}
	sameRedisDumps(t, "re-run", after, first)
}

// TestRedisEmptyRun: a run over an empty source leaves every key of the
// reports before it (issue 10: it deleted them).
func TestRedisEmptyRun(t *testing.T) {
	c, addr, prefix := redisCLIClient(t)
	shards := genShards(t)
	args := func(src string, extra ...string) []string {
		return slices.Concat([]string{"run", "--source", src, "--accounts", "blog,shop", "--from", "2024-08-01", "--to", "2024-08-03",
			"--jobs", "urls,uniques", "--quiet", "--out", "redis://" + addr + "/0?prefix=" + prefix}, extra)
	}
	mustPvjobs(t, args(shards)...)
	before := redisDumps(t, c, prefix)
	code, _, stderr := pvjobs(t, context.Background(), args(t.TempDir())...)
	if code != exitFailed || !strings.Contains(stderr, "no page views") {
		t.Errorf("exit %d; want %d and no page views:\n%s", code, exitFailed, stderr)
	}
	sameRedisDumps(t, "empty run", redisDumps(t, c, prefix), before)
}

// redisLabels counts the label columns of the keyed reports (after the key
// columns, before the measures); redisMeasureNames are the measure columns.
var (
	redisLabels       = map[string]int{"urls": 1, "languages": 1}
	redisMeasureNames = []string{"pageviews", "visitors", "visits", "bounces", "bounce_rate", "avg_visit_duration_s",
		"entries", "exits", "exit_rate", "pageviews_per_visit"}
)

// checkRedisMeasures compares the keys of prefix with the CSV files in
// csvDir of a run in loc over whole days, whose range part is rangePart:
//
//   - each keyed report: per account and day (and the range), the sorted set
//     of the first measure and one of each other count, all with the CSV's
//     rows but (other) as members, scored by the CSV's counts; the duration
//     sums and the counts give the CSV's average visit duration and its
//     rates to the digit;
//   - visits: a hash per account and hour, day and range with the CSV's
//     counts, giving its rates and averages, its visitors PFCOUNT of the
//     period's uv key (the run must include the uniques job); no month
//     hash (the run covers August in part).
func checkRedisMeasures(t *testing.T, c *goredis.Client, prefix, csvDir string, loc *time.Location, rangePart string) {
	t.Helper()
	ctx := context.Background()
	format := func(kind mapreduce.MeasureKind, n, d float64) string {
		if d == 0 {
			return ""
		}
		return mapreduce.Measure{Kind: kind}.Format(n / d)
	}
	keyed := []string{"urls", "entrypages", "exitpages", "sources", "searchterms", "campaigns", "titles", "languages", "hours", "devices", "geo"}
	for _, rep := range keyed {
		rows := readCSV(t, filepath.Join(csvDir, rep+".csv"))
		header := rows[0]
		first := slices.IndexFunc(header, func(h string) bool { return slices.Contains(redisMeasureNames, h) })
		if first < 0 {
			t.Fatalf("%s.csv: no measure in %v", rep, header)
		}
		measures := header[first:]
		nkeys := first - 3 - redisLabels[rep]
		cards := map[string]int64{} // sorted set -> members the CSV says it has
		checked, bad := 0, 0
		for _, r := range rows[1:] {
			account, period := r[0], r[1]
			part := strings.ReplaceAll(r[2], "-", "")
			if period == "range" {
				part = rangePart
			}
			keys := r[3 : 3+nkeys]
			if keys[0] == mapreduce.Other {
				continue
			}
			member := strings.Join(keys, "\t")
			key := func(measure string) string {
				name := rep
				if measure != measures[0] {
					name = redis.MeasureName(rep, measure)
				}
				return redis.Keys{Prefix: prefix}.Key(account, name, part)
			}
			score := func(measure string) float64 {
				v, err := c.ZScore(ctx, key(measure), member).Result()
				if err != nil {
					t.Errorf("%s: ZSCORE %s %q: %v", rep, key(measure), member, err)
				}
				return v
			}
			for i, m := range measures {
				cell := r[first+i]
				var got string
				switch m {
				case "bounce_rate":
					over := "visits"
					if rep == "entrypages" {
						over = "entries"
					}
					got = format(mapreduce.Rate, score("bounces"), score(over))
				case "exit_rate":
					got = format(mapreduce.Rate, score("exits"), score("pageviews"))
				case "avg_visit_duration_s":
					over := "visits"
					if rep == "entrypages" {
						over = "entries"
					}
					got = format(mapreduce.Seconds, score("duration_ms")/1000, score(over))
					cards[key("duration_ms")]++
				default:
					got = strconv.FormatFloat(score(m), 'f', -1, 64)
					cards[key(m)]++
				}
				if got != cell {
					if bad++; bad <= 5 {
						t.Errorf("%s %s %s %q: %s %s from Redis, %s in the CSV", rep, account, part, member, m, got, cell)
					}
				}
			}
			checked++
		}
		if checked == 0 {
			t.Errorf("%s: no row checked", rep)
		}
		t.Logf("%s: %d rows in %d sorted sets of %d measures", rep, checked, len(cards), len(measures))
		for k, n := range cards {
			if got := c.ZCard(ctx, k).Val(); got != n {
				t.Errorf("%s: %d members, the CSV has %d rows", k, got, n)
			}
		}
		// No other key: the sorted sets of the report are those of its rows.
		got := append(redisKeys(t, c, prefix+":*}:"+rep+":*"), redisKeys(t, c, prefix+":*}:"+rep+".*")...)
		if want := slices.Sorted(maps.Keys(cards)); !slices.Equal(slices.Sorted(slices.Values(got)), want) {
			t.Errorf("%s: keys\n%s\nwant\n%s", rep, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}

	rows := readCSV(t, filepath.Join(csvDir, "visits.csv"))
	header := rows[0]
	col := func(name string) int { return column(t, header, name) }
	hashes := 0
	for _, r := range rows[1:] {
		account, period := r[0], r[1]
		var part string
		switch period {
		case "hour":
			at, err := time.Parse("2006-01-02T15:04Z07:00", r[2])
			if err != nil {
				t.Fatal(err)
			}
			part = redis.TimePart(mapreduce.PeriodHour, at.In(loc), time.Time{})
		case "day":
			part = strings.ReplaceAll(r[2], "-", "")
		case "month":
			part = strings.ReplaceAll(r[2], "-", "")[:6]
		case "range":
			part = rangePart
		default:
			continue
		}
		key := redis.Keys{Prefix: prefix}.Key(account, "visits", part)
		if period == "month" {
			if c.Exists(ctx, key).Val() != 0 {
				t.Errorf("%s: a month the run covers in part has a hash", key)
			}
			continue
		}
		fields := c.HGetAll(ctx, key).Val()
		num := func(f string) float64 {
			v, err := strconv.ParseFloat(fields[f], 64)
			if err != nil {
				t.Errorf("%s: field %s = %q", key, f, fields[f])
			}
			return v
		}
		if len(fields) != 5 {
			t.Errorf("%s: fields %v, want visitors, visits, pageviews, bounces, duration_ms", key, fields)
			continue
		}
		// Visitors are the count of the period's uv key (the same sketch):
		// what a reader unions over several periods. PFCOUNT of a copy:
		// PFCOUNT caches the count in the key's value.
		cp := prefix + ":copy"
		if err := c.Copy(ctx, redis.Keys{Prefix: prefix}.Key(account, redis.UVName, part), cp, 0, true).Err(); err != nil {
			t.Fatal(err)
		}
		if uv := c.PFCount(ctx, cp).Val(); strconv.FormatInt(uv, 10) != fields["visitors"] {
			t.Errorf("%s: visitors %s, PFCOUNT of the uv key %d", key, fields["visitors"], uv)
		}
		c.Del(ctx, cp)
		for _, f := range []string{"visitors", "visits", "pageviews", "bounces"} {
			if fields[f] != r[col(f)] {
				t.Errorf("%s: %s %s, the CSV says %s", key, f, fields[f], r[col(f)])
			}
		}
		for _, d := range []struct {
			name string
			got  string
		}{
			{"bounce_rate", format(mapreduce.Rate, num("bounces"), num("visits"))},
			{"avg_visit_duration_s", format(mapreduce.Seconds, num("duration_ms")/1000, num("visits"))},
			{"pageviews_per_visit", format(mapreduce.Mean, num("pageviews"), num("visits"))},
		} {
			if want := r[col(d.name)]; d.got != want {
				t.Errorf("%s: %s %s from the hash, %s in the CSV", key, d.name, d.got, want)
			}
		}
		hashes++
	}
	t.Logf("visits: %d hashes", hashes)
	if n := len(redisKeys(t, c, prefix+":*:visits:*")); n != hashes || hashes < 100 {
		t.Errorf("%d visits hashes, %d rows of hours, days and the range in the CSV", n, hashes)
	}
}

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("time zone %s: %v", name, err)
	}
	return loc
}

// TestRedisKilledRun SIGKILLs pvjobs while it writes to Redis: the reports
// of the run before are intact, and the temporary keys left expire.
func TestRedisKilledRun(t *testing.T) {
	c, addr, prefix := redisCLIClient(t)
	bin := filepath.Join(buildPvjobs(t), "pvjobs")
	base := t.TempDir()
	args := func(shards string, extra ...string) []string {
		return slices.Concat([]string{"run", "--source", shards, "--from", "2024-08-01", "--to", "2024-08-07", "--jobs", "urls,uniques",
			"--quiet", "--uv-granularity", "minute", "--out", "redis://" + addr + "/0?prefix=" + prefix}, extra)
	}
	for _, seed := range []string{"1", "2"} {
		mustPvjobs(t, "gen", "--to-dir", filepath.Join(base, seed), "--accounts", "blog,shop", "--from", "2024-08-01",
			"--to", "2024-08-07", "--rows-per-day", "3000", "--seed", seed)
	}
	mustPvjobs(t, args(filepath.Join(base, "1"))...)
	before := redisDumps(t, c, prefix)

	// One command per round trip makes the writes last long enough to be
	// caught in the middle.
	cmd := exec.Command(bin, args(filepath.Join(base, "2"), "--redis-pipeline", "1")...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	// Well into its writes: many temporary keys exist.
	redistest.WaitFor(t, 60*time.Second, "pvjobs to write 50 temporary keys", func() bool {
		select {
		case err := <-done:
			t.Fatalf("pvjobs ended (%v) before it was seen well into its writes", err)
		default:
		}
		return len(redisKeys(t, c, prefix+":*:tmp:*")) >= 50
	})
	cmd.Process.Signal(syscall.SIGKILL)
	<-done

	after := redisDumps(t, c, prefix)
	tmps := 0
	for k := range after {
		if strings.Contains(k, ":tmp:") {
			tmps++
			if ttl := c.PTTL(context.Background(), k).Val(); ttl <= 0 || ttl > time.Hour {
				t.Errorf("temporary key %s: TTL %v, want at most an hour", k, ttl)
			}
			delete(after, k)
		}
	}
	sameRedisDumps(t, "killed run", after, before)
	t.Logf("killed pvjobs left %d temporary keys, all expiring", tmps)
}
