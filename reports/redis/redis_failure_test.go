package redis_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/mapreduce/hll"
	"github.com/pvjobs/pvjobs/reports/redis"
	"github.com/pvjobs/pvjobs/reports/redis/redistest"
)

// monthReports returns uniques and urls reports of account over p, with
// visitors and counts derived from seed.
func monthReports(p *mapreduce.Plan, account string, perDay int, seed uint64) []mapreduce.Report {
	hours := map[int]*hll.Sketch{}
	for h := range p.Calendar.Hours {
		hours[h] = sketchOf(fmt.Sprintf("s%d-h%d-", seed, h), 20+h%7)
	}
	return []mapreduce.Report{
		{Name: "uniques", Rows: uvRows(p, account, hours)},
		{Name: "urls", Keys: []string{"url"}, Rows: countRows(p, account, perDay, seed)},
	}
}

// TestSinkRefusesWrites writes as an ACL user that may only read: a clear
// error, and the previous reports untouched.
func TestSinkRefusesWrites(t *testing.T) {
	c, prefix := testRedis(t)
	ctx := context.Background()
	p := plan(t, time.UTC, "2024-08-01", 2, "blog")
	write(t, c, redis.Options{Prefix: prefix}, monthReports(p, "blog", 20, 1), p)
	before := dumpAll(t, c, prefix)
	user := prefix + "-reader"
	if err := c.Do(ctx, "ACL", "SETUSER", user, "on", ">secret", "~*", "&*", "+@read", "+@connection").Err(); err != nil {
		t.Fatalf("ACL SETUSER: %v", err)
	}
	t.Cleanup(func() { c.Do(context.Background(), "ACL", "DELUSER", user) })
	tg, err := redis.ParseURL("redis://" + user + ":secret@" + redisAddr(t) + "/0")
	if err != nil {
		t.Fatal(err)
	}
	rc := tg.NewClient()
	defer rc.Close()
	if err := redis.Check(ctx, rc, redis.Keys{Prefix: prefix}); err == nil || !strings.Contains(err.Error(), "NOPERM") {
		t.Errorf("Check as a reader = %v, want a NOPERM error", err)
	}
	_, err = redis.NewWriter(rc, redis.Options{Prefix: prefix}).Write(ctx, monthReports(p, "blog", 20, 2), p)
	if err == nil || !strings.Contains(err.Error(), "NOPERM") {
		t.Fatalf("Write as a reader = %v, want a NOPERM error", err)
	}
	t.Logf("error: %v", err)
	sameDumps(t, "refused write", dumpAll(t, c, prefix), before)
}

// TestSinkRedisDown writes to a port nobody listens on: a refused
// connection is retried for the retry budget, then reported.
func TestSinkRedisDown(t *testing.T) {
	_, prefix := testRedis(t)
	tg, err := redis.ParseURL("redis://127.0.0.1:1/0?max_retries=1&dial_timeout=1s&retry_budget=300ms")
	if err != nil {
		t.Fatal(err)
	}
	rc := tg.NewClient()
	defer rc.Close()
	p := plan(t, time.UTC, "2024-08-01", 1, "blog")
	retries := 0
	defer redis.SetRetryHookForTest(func(string, error) { retries++ })()
	_, err = redis.NewWriter(rc, redis.Options{Prefix: prefix, RetryBudget: tg.RetryBudget}).Write(context.Background(), monthReports(p, "blog", 5, 1), p)
	if err == nil || !strings.Contains(err.Error(), "connection refused") || !strings.Contains(err.Error(), "retry budget") {
		t.Fatalf("Write to a closed port = %v, want connection refused after the retry budget", err)
	}
	if retries == 0 {
		t.Errorf("no retry")
	}
	t.Logf("error after %d retries: %v", retries, err)
}

// TestSinkTempExpired lets the temporary keys expire before the swap.
func TestSinkTempExpired(t *testing.T) {
	c, prefix := testRedis(t)
	p := plan(t, time.UTC, "2024-08-01", 2, "blog")
	write(t, c, redis.Options{Prefix: prefix}, monthReports(p, "blog", 20, 1), p)
	before := dumpAll(t, c, prefix)
	defer redis.SetFlushHookForTest(func(n int) {
		if n == 3 { // what the first two round trips wrote expires
			redistest.WaitFor(t, 10*time.Second, "the temporary keys to expire", func() bool {
				return len(scan(t, c, prefix+":*:tmp:*")) == 0
			})
		}
	})()
	_, err := redis.NewWriter(c, redis.Options{Prefix: prefix, Pipeline: 20, TempTTL: 100 * time.Millisecond}).
		Write(context.Background(), monthReports(p, "blog", 20, 2), p)
	if !errors.Is(err, redis.ErrTempExpired) {
		t.Fatalf("Write = %v, want ErrTempExpired", err)
	}
	sameDumps(t, "expired temporary keys", dumpAll(t, c, prefix), before)
}

// TestSinkMergeIntoNonHLL finds a list where a month's HyperLogLog goes.
func TestSinkMergeIntoNonHLL(t *testing.T) {
	for _, merge := range []bool{false, true} {
		t.Run(fmt.Sprintf("uv-merge=%v", merge), func(t *testing.T) {
			c, prefix := testRedis(t)
			ctx := context.Background()
			p := plan(t, time.UTC, "2024-08-01", 1, "blog")
			opt := redis.Options{Prefix: prefix, UVMerge: merge}
			write(t, c, opt, monthReports(p, "blog", 5, 1), p)
			month := redis.Keys{Prefix: prefix}.Key("blog", "uv", "202408")
			c.Del(ctx, month)
			c.RPush(ctx, month, "not", "a", "hll")
			before := dumpAll(t, c, prefix)
			_, err := redis.NewWriter(c, opt).Write(ctx, monthReports(p, "blog", 5, 2), p)
			if err == nil || !strings.Contains(err.Error(), "not a HyperLogLog") {
				t.Fatalf("Write = %v, want an error naming the key that is not a HyperLogLog", err)
			}
			t.Logf("error: %v", err)
			sameDumps(t, "failed merge", dumpAll(t, c, prefix), before)
		})
	}
}

// TestSinkCancelled cancels the context during the writes.
func TestSinkCancelled(t *testing.T) {
	c, prefix := testRedis(t)
	p := plan(t, time.UTC, "2024-08-01", 2, "blog")
	write(t, c, redis.Options{Prefix: prefix}, monthReports(p, "blog", 20, 1), p)
	before := dumpAll(t, c, prefix)
	ctx, cancel := context.WithCancel(context.Background())
	defer redis.SetFlushHookForTest(func(n int) {
		if n == 2 {
			cancel()
		}
	})()
	_, err := redis.NewWriter(c, redis.Options{Prefix: prefix, Pipeline: 10}).Write(ctx, monthReports(p, "blog", 20, 2), p)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Write = %v, want context.Canceled", err)
	}
	sameDumps(t, "cancelled write", dumpAll(t, c, prefix), before)
}

const killHelperEnv = "PVJOBS_TEST_KILLED_WRITER_PREFIX"

// TestSinkKilled SIGKILLs a process in the middle of its writes: the
// previous reports are intact, and the temporary keys it left expire.
func TestSinkKilled(t *testing.T) {
	if os.Getenv(killHelperEnv) != "" {
		killedWriterHelper(t)
		return
	}
	c, prefix := testRedis(t)
	p := plan(t, time.UTC, "2024-08-01", 31, "blog")
	write(t, c, redis.Options{Prefix: prefix}, monthReports(p, "blog", 50, 1), p)
	before := dumpAll(t, c, prefix)

	cmd := exec.Command(os.Args[0], "-test.run=^TestSinkKilled$", "-test.v")
	cmd.Env = append(os.Environ(), killHelperEnv+"="+prefix)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	midway := false
	for sc.Scan() {
		if strings.Contains(sc.Text(), "MIDWAY") {
			midway = true
			break
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if !midway {
		t.Fatal("the writer process never reached the middle of its writes")
	}
	after := dumpAll(t, c, prefix)
	var tmps []string
	for k := range after {
		if strings.Contains(k, ":tmp:") {
			tmps = append(tmps, k)
			delete(after, k)
		}
	}
	sameDumps(t, "killed run", after, before)
	if len(tmps) == 0 {
		t.Errorf("the killed run left no temporary keys: was it killed after its writes?")
	}
	for _, k := range tmps {
		if ttl := c.PTTL(context.Background(), k).Val(); ttl <= 0 || ttl > 10*time.Minute {
			t.Errorf("temporary key %s: TTL %v, want at most the 10m safety TTL", k, ttl)
		}
	}
	t.Logf("the killed run left %d temporary keys, each expiring within 10m", len(tmps))
}

// killedWriterHelper runs in the child of TestSinkKilled: it writes new
// reports and stops in the middle, to be killed.
func killedWriterHelper(t *testing.T) {
	prefix := os.Getenv(killHelperEnv)
	c := goredis.NewClient(&goredis.Options{Addr: redisAddr(t), DisableIdentity: true})
	p := plan(t, time.UTC, "2024-08-01", 31, "blog")
	redis.SetFlushHookForTest(func(n int) {
		if n == 5 {
			killed := make(chan os.Signal, 1)
			signal.Notify(killed, syscall.SIGTERM)
			fmt.Println("MIDWAY")
			<-killed // SIGKILL comes first
		}
	})
	_, err := redis.NewWriter(c, redis.Options{Prefix: prefix, Pipeline: 20, TempTTL: 10 * time.Minute}).
		Write(context.Background(), monthReports(p, "blog", 50, 2), p)
	t.Fatalf("the helper was not killed: Write returned %v", err)
}
