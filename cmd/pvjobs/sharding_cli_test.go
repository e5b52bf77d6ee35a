package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/sharding"
	"github.com/pvjobs/pvjobs/readers/cassandra/cassandratest"
	"github.com/pvjobs/pvjobs/reports/partials"
)

// Tests of issue 15: a run cut into shards of accounts or of days, run as
// separate pvjobs processes, writes exactly what one run writes.

// shardBin is the pvjobs binary the tests of real processes run, built
// once per test binary (in shardBinDir, removed by TestMain).
var (
	shardBinDir  string
	shardBinOnce = sync.OnceValues(func() (string, error) {
		dir, err := os.MkdirTemp("", "pvjobs-shards-bin-")
		if err != nil {
			return "", err
		}
		shardBinDir = dir
		bin := filepath.Join(dir, "pvjobs")
		if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
			return "", fmt.Errorf("go build: %v\n%s", err, out)
		}
		return bin, nil
	})
)

func TestMain(m *testing.M) {
	code := m.Run()
	for _, d := range []string{shardBinDir, benchShardsDir} {
		if d != "" {
			os.RemoveAll(d)
		}
	}
	os.Exit(code)
}

func shardBin(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the pvjobs binary: skipped with -short")
	}
	bin, err := shardBinOnce()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// procResult is how one pvjobs process ended.
type procResult struct {
	code           int
	stdout, stderr string
}

// runProcs starts one pvjobs process per argument list, all at once, and
// waits for every one: the shards of a run, as a scheduler runs them.
func runProcs(t testing.TB, bin string, argLists [][]string) []procResult {
	t.Helper()
	res := make([]procResult, len(argLists))
	cmds := make([]*exec.Cmd, len(argLists))
	outs := make([][2]bytes.Buffer, len(argLists))
	for i, args := range argLists {
		cmd := exec.Command(bin, args...)
		cmd.Stdout, cmd.Stderr = &outs[i][0], &outs[i][1]
		cmd.Env = append(os.Environ(), "PVJOBS_PROGRESS=none")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds[i] = cmd
	}
	for i, cmd := range cmds {
		err := cmd.Wait()
		res[i] = procResult{code: cmd.ProcessState.ExitCode(), stdout: outs[i][0].String(), stderr: outs[i][1].String()}
		if err != nil && res[i].code < 0 {
			t.Fatalf("pvjobs %s: %v", strings.Join(argLists[i], " "), err)
		}
	}
	return res
}

// mustProcs runs the processes and fails unless every one exits 0.
func mustProcs(t *testing.T, bin string, argLists ...[]string) []procResult {
	t.Helper()
	res := runProcs(t, bin, argLists)
	for i, r := range res {
		if r.code != 0 {
			t.Fatalf("pvjobs %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(argLists[i], " "), r.code, r.stdout, r.stderr)
		}
	}
	return res
}

// with returns a copy of args with more appended.
func with(args []string, more ...string) []string { return append(slices.Clone(args), more...) }

// shardTestRedis returns a client of the test Redis, or nil when there is
// none and the test may go without (it fails when CI or
// PVJOBS_TEST_DISALLOW_SKIP is set).
func shardTestRedis(t *testing.T) (*goredis.Client, string) {
	t.Helper()
	addr := os.Getenv("PVJOBS_REDIS_ADDR")
	if addr == "" {
		if os.Getenv("CI") != "" || os.Getenv("PVJOBS_TEST_DISALLOW_SKIP") != "" {
			t.Fatal("PVJOBS_REDIS_ADDR is empty and CI or PVJOBS_TEST_DISALLOW_SKIP is set: the Redis part of this test may not be skipped")
		}
		t.Log("PVJOBS_REDIS_ADDR is empty: the Redis outputs are not compared")
		return nil, ""
	}
	c := goredis.NewClient(&goredis.Options{Addr: addr, DisableIdentity: true})
	t.Cleanup(func() { c.Close() })
	return c, addr
}

// redisPrefix returns a key prefix of the test's own, whose keys are
// deleted at the end.
func redisPrefix(t *testing.T, c *goredis.Client, name string) string {
	t.Helper()
	var b [4]byte
	rand.Read(b[:])
	prefix := fmt.Sprintf("pvshard%d-%x-%s", os.Getpid(), b, name)
	t.Cleanup(func() {
		if keys := redisKeys(t, c, prefix+":*"); len(keys) > 0 {
			c.Del(context.Background(), keys...)
		}
	})
	return prefix
}

// redisValues returns every key under prefix (the prefix cut off) with its
// value: a sorted set's members and scores in order, a HyperLogLog's bytes
// (its registers, as GET returns them), a hash's fields and values.
func redisValues(t *testing.T, c *goredis.Client, prefix string) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	for _, k := range redisKeys(t, c, prefix+":*") {
		name := strings.TrimPrefix(k, prefix)
		switch typ := c.Type(ctx, k).Val(); typ {
		case "zset":
			var b strings.Builder
			for _, z := range c.ZRangeWithScores(ctx, k, 0, -1).Val() {
				fmt.Fprintf(&b, "%v=%v\n", z.Member, z.Score)
			}
			out[name] = "zset\n" + b.String()
		case "string":
			out[name] = "string " + hex.EncodeToString([]byte(c.Get(ctx, k).Val()))
		case "hash":
			m := c.HGetAll(ctx, k).Val()
			fields := slices.Sorted(maps.Keys(m))
			var b strings.Builder
			for _, f := range fields {
				fmt.Fprintf(&b, "%s=%s\n", f, m[f])
			}
			out[name] = "hash\n" + b.String()
		default:
			out[name] = typ
		}
	}
	return out
}

// sameValues fails unless the two key sets hold the same values.
func sameValues(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	if len(want) == 0 {
		t.Fatalf("%s: the reference wrote no Redis keys", what)
	}
	n := 0
	for k, v := range want {
		if got[k] != v {
			if n++; n <= 5 {
				t.Errorf("%s: key %s differs or is missing", what, k)
			}
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			if n++; n <= 5 {
				t.Errorf("%s: key %s is not the reference's", what, k)
			}
		}
	}
	if n > 5 {
		t.Errorf("%s: %d keys differ in all", what, n)
	}
}

// shardAccounts are the accounts of the sharded runs: more than the
// largest number of shards, some of which get none.
var shardAccounts = []string{"blog", "shop", "news", "docs", "forum", "wiki", "store", "help", "jobs"}

// shardCase is what the process tests share: the data, the arguments of a
// run, and the reference outputs of one unsharded run.
type shardCase struct {
	bin   string
	tmp   string
	args  []string
	redis *goredis.Client
	addr  string
	// ref is the CSV directory and refKeys the Redis keys of the
	// unsharded run.
	ref     string
	refKeys map[string]string
	// prefixes holds each run's Redis key prefix.
	prefixes map[string]string
}

// newShardCase runs the unsharded reference over source.
func newShardCase(t *testing.T, bin, source string) *shardCase {
	t.Helper()
	sc := &shardCase{bin: bin, tmp: t.TempDir()}
	sc.redis, sc.addr = shardTestRedis(t)
	sc.args = []string{"run", "--source", source, "--accounts", strings.Join(shardAccounts, ","),
		"--from", "2024-10-25", "--to", "2024-10-28", "--tz", "Europe/Berlin", "--jobs", "all",
		"--geoip", filepath.Join("..", "..", "jobs", "geo", "testdb", "test-city.mmdb"),
		"--max-rows", "25", "--uv-granularity", "minute", "--quiet"}
	sc.ref = filepath.Join(sc.tmp, "ref")
	mustProcs(t, bin, with(sc.args, sc.outs(t, "ref", sc.ref)...))
	if sc.redis != nil {
		sc.refKeys = redisValues(t, sc.redis, sc.prefix("ref"))
	}
	return sc
}

// outs returns the output flags of a run named name: CSV files in dir and,
// with Redis, keys under the run's own prefix.
func (sc *shardCase) outs(t *testing.T, name, dir string) []string {
	args := []string{"--out", "csv:" + dir, "--csv-pattern", "{report}-{account}.csv", "--out", "html:" + dir + "-html"}
	if sc.redis != nil {
		if sc.prefixes == nil {
			sc.prefixes = map[string]string{}
		}
		if sc.prefixes[name] == "" {
			sc.prefixes[name] = redisPrefix(t, sc.redis, name)
		}
		args = append(args, "--out", "redis://"+sc.addr+"/0?prefix="+sc.prefixes[name], "--redis-range")
	}
	return args
}

func (sc *shardCase) prefix(name string) string { return sc.prefixes[name] }

// same fails unless the run named name wrote into dir what the reference
// wrote: the same CSV files byte for byte, the same Redis values.
func (sc *shardCase) same(t *testing.T, name, dir string) {
	t.Helper()
	cassSameFiles(t, sc.ref, dir)
	if sc.redis != nil {
		sameValues(t, name, redisValues(t, sc.redis, sc.prefix(name)), sc.refKeys)
	}
}

// byAccount runs n shard processes by account and checks their union.
func (sc *shardCase) byAccount(t *testing.T, n int) {
	name := fmt.Sprintf("acct%d", n)
	dir := filepath.Join(sc.tmp, name)
	var argLists [][]string
	for i := range n {
		argLists = append(argLists, with(sc.args, append(sc.outs(t, name, dir), "--shard", fmt.Sprintf("%d/%d", i, n))...))
	}
	res := mustProcs(t, sc.bin, argLists...)
	empty := 0
	for i := range n {
		if len((sharding.Spec{Index: i, Count: n}).Accounts(shardAccounts)) == 0 {
			empty++
			if !strings.Contains(res[i].stderr, "nothing to do") {
				t.Errorf("shard %d of %d has no account and logged %q", i, n, res[i].stderr)
			}
		}
	}
	t.Logf("%d shards by account, %d of them without an account", n, empty)
	sc.same(t, name, dir)
	// Each account's HTML page is written by its shard; each shard with
	// accounts writes the index of its own.
	var want []string
	for _, a := range shardAccounts {
		want = append(want, a+".html")
	}
	for i := range n {
		if len((sharding.Spec{Index: i, Count: n}).Accounts(shardAccounts)) > 0 {
			want = append(want, fmt.Sprintf("index-shard-%04d-of-%04d.html", i, n))
		}
	}
	slices.Sort(want)
	if got := dirNames(t, dir+"-html"); !slices.Equal(got, want) {
		t.Errorf("HTML pages %v, want %v", got, want)
	}
}

// byDay runs n shard processes by day, then pvjobs merge, and checks the
// merged reports.
func (sc *shardCase) byDay(t *testing.T, n int) {
	name := fmt.Sprintf("day%d", n)
	parts := filepath.Join(sc.tmp, name+"-partials")
	var argLists [][]string
	for i := range n {
		argLists = append(argLists, with(sc.args, "--shard", fmt.Sprintf("%d/%d", i, n), "--shard-by", "day", "--partials", parts))
	}
	mustProcs(t, sc.bin, argLists...)
	// A shard without a day (more shards than the range's 4 local days)
	// writes no file.
	want := 0
	for i := range n {
		if first, last := (sharding.Spec{Index: i, Count: n}).Days(4); first < last {
			want++
		}
	}
	files, _ := partials.List([]string{parts})
	if len(files) != want {
		t.Fatalf("%d shards wrote %d partial-result files, want %d: %v", n, len(files), want, files)
	}
	dir := filepath.Join(sc.tmp, name)
	mustProcs(t, sc.bin, append([]string{"merge", "--partials", parts, "--quiet"}, sc.outs(t, name, dir)...))
	sc.same(t, name, dir)
	// The merge writes the HTML report of the whole run: the same pages
	// as the unsharded run (their contents say when and how each was
	// made, so they are compared by name).
	if got, want := dirNames(t, dir+"-html"), dirNames(t, sc.ref+"-html"); !slices.Equal(got, want) || len(got) != len(shardAccounts)+1 {
		t.Errorf("HTML pages %v, want %v", got, want)
	}
}

// TestShardProcesses runs N = 1, 3 and 7 pvjobs processes over shard
// files, cut by account and by day (then merged), and shows that their
// outputs are those of one unsharded run: CSV files byte for byte, Redis
// sorted sets and HyperLogLog registers value for value. The range crosses
// the end of daylight-saving time in Berlin.
func TestShardProcesses(t *testing.T) {
	bin := shardBin(t)
	shards := t.TempDir()
	mustPvjobs(t, "gen", "--to-dir", shards, "--accounts", strings.Join(shardAccounts, ","), "--from", "2024-10-24", "--to", "2024-10-28", "--rows-per-day", "120")
	sc := newShardCase(t, bin, shards)
	for _, n := range []int{1, 3, 7} {
		t.Run(fmt.Sprintf("by account, %d", n), func(t *testing.T) { sc.byAccount(t, n) })
		t.Run(fmt.Sprintf("by day, %d", n), func(t *testing.T) { sc.byDay(t, n) })
	}
}

// TestShardCassandra does the same over the real Cassandra: the shard files
// loaded into a keyspace of the test's own.
func TestShardCassandra(t *testing.T) {
	addr := cassandratest.Require(t)
	bin := shardBin(t)
	var rnd [6]byte
	rand.Read(rnd[:])
	ks := &cassandratest.Keyspace{Addr: addr, Name: "pvjobs_shards_" + hex.EncodeToString(rnd[:])}
	t.Cleanup(func() {
		if err := ks.Drop(); err != nil {
			t.Errorf("dropping %s: %v", ks.Name, err)
		}
	})
	shards := t.TempDir()
	mustPvjobs(t, "gen", "--to-dir", shards, "--accounts", strings.Join(shardAccounts, ","), "--from", "2024-10-24", "--to", "2024-10-28", "--rows-per-day", "120")
	mustPvjobs(t, "schema", "--cassandra", ks.URL(), "--apply")
	mustPvjobs(t, "load", "--source", shards, "--cassandra", ks.URL(), "--quiet")
	sc := newShardCase(t, bin, ks.URL())
	// Cassandra and the shard files give the same reports.
	fromFiles := filepath.Join(sc.tmp, "files")
	mustProcs(t, bin, with(with(sc.args, "--out", "csv:"+fromFiles, "--csv-pattern", "{report}-{account}.csv"), "--source", shards))
	cassSameFiles(t, sc.ref, fromFiles)
	for _, n := range []int{1, 3, 7} {
		t.Run(fmt.Sprintf("by account, %d", n), func(t *testing.T) { sc.byAccount(t, n) })
		t.Run(fmt.Sprintf("by day, %d", n), func(t *testing.T) { sc.byDay(t, n) })
	}
}
