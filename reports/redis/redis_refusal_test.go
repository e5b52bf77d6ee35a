package redis_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/pvjobs/pvjobs/reports/redis"
	"github.com/pvjobs/pvjobs/reports/redis/redistest"
)

// The tests in this file meet servers that refuse writes: an ACL user
// without a permission, a full memory, a replica. Each error names the
// refused command and the server's reason, Check refuses before any data is
// read, and the reports in Redis stay as they were.

// wantRefusal checks that err is a *CommandError for command with a reply
// that starts with reason, and that the error's text names both.
func wantRefusal(t *testing.T, what string, err error, command, reason string) {
	t.Helper()
	var ce *redis.CommandError
	if !errors.As(err, &ce) || ce.Command != command || !goredis.HasErrorPrefix(err, reason) {
		t.Fatalf("%s = %v, want %s refused with %s", what, err, command, reason)
	}
	if s := err.Error(); !strings.Contains(s, command) || !strings.Contains(s, reason) || strings.Contains(s, "EXECABORT") {
		t.Errorf("%s: the message %q should name %s and %s, not EXECABORT", what, s, command, reason)
	}
	t.Logf("%s: %v", what, err)
}

// TestSinkNoPermission writes as ACL users that lack one thing a write
// needs: Check names the command (or the key) refused, and so does Write,
// which changes nothing.
func TestSinkNoPermission(t *testing.T) {
	c, prefix := testRedis(t)
	ctx := context.Background()
	p := plan(t, time.UTC, "2024-08-01", 2, "blog")
	write(t, c, redis.Options{Prefix: prefix}, monthReports(p, "blog", 20, 1), p)
	before := dumpAll(t, c, prefix)
	for _, tc := range []struct {
		name    string
		rules   []string
		command string
	}{
		{"without +@transaction", []string{"+@all", "-@transaction"}, "MULTI/EXEC"},
		{"without RENAME", []string{"+@all", "-rename"}, "RENAME"},
		{"without PFMERGE", []string{"+@all", "-pfmerge"}, "PFMERGE"},
		{"without PEXPIRE", []string{"+@all", "-pexpire"}, "PEXPIRE"},
		{"without WATCH", []string{"+@all", "-watch"}, "WATCH"},
		{"read-only", []string{"+@read", "+@connection"}, "SET"},
		{"keys of another prefix", []string{"+@all", "resetkeys", "~other:*"}, "SET"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			user := prefix + "-" + strings.ReplaceAll(tc.name, " ", "-")
			args := []any{"ACL", "SETUSER", user, "reset", "on", ">secret", "~" + prefix + ":*", "&*"}
			for _, r := range tc.rules {
				args = append(args, r)
			}
			if err := c.Do(ctx, args...).Err(); err != nil {
				t.Fatalf("ACL SETUSER: %v", err)
			}
			t.Cleanup(func() { c.Do(context.Background(), "ACL", "DELUSER", user) })
			tg, err := redis.ParseURL("redis://" + user + ":secret@" + redisAddr(t) + "/0")
			if err != nil {
				t.Fatal(err)
			}
			rc := tg.NewClient()
			defer rc.Close()
			wantRefusal(t, "Check", redis.Check(ctx, rc, redis.Keys{Prefix: prefix}, "blog"), tc.command, "NOPERM")
			_, err = redis.NewWriter(rc, redis.Options{Prefix: prefix}).Write(ctx, monthReports(p, "blog", 20, 2), p)
			wantRefusal(t, "Write", err, tc.command, "NOPERM")
			sameDumps(t, "refused write", dumpAll(t, c, prefix), before)
		})
	}
}

// usedMemory returns INFO memory's used_memory.
func usedMemory(t *testing.T, c *goredis.Client) int64 {
	t.Helper()
	info, err := c.Info(context.Background(), "memory").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(l, "used_memory:"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("no used_memory in INFO memory")
	return 0
}

// TestSinkOutOfMemory writes to a server whose memory is full (maxmemory,
// noeviction): Check refuses with OOM when it is full from the start; when
// it fills up during the temporary writes, Write fails naming the refused
// command and OOM (not EXECABORT), deletes its temporary keys and leaves
// the reports as they were.
func TestSinkOutOfMemory(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{Args: []string{"--maxmemory-policy", "noeviction"}})
	c := srv.Client()
	ctx := context.Background()
	p := plan(t, time.UTC, "2024-08-01", 31, "blog")
	write(t, c, redis.Options{}, monthReports(p, "blog", 20, 1), p)
	before := dumpAll(t, c, "pv")
	used := usedMemory(t, c)

	t.Run("full", func(t *testing.T) {
		if err := c.ConfigSet(ctx, "maxmemory", strconv.FormatInt(used/2, 10)).Err(); err != nil {
			t.Fatal(err)
		}
		wantRefusal(t, "Check", redis.Check(ctx, c, redis.Keys{}), "SET", "OOM")
	})
	t.Run("filling up", func(t *testing.T) {
		// Room for a few hundred kilobytes of temporary keys, not for a
		// month of 3000 URLs a day.
		if err := c.ConfigSet(ctx, "maxmemory", strconv.FormatInt(used+512<<10, 10)).Err(); err != nil {
			t.Fatal(err)
		}
		_, err := redis.NewWriter(c, redis.Options{}).Write(ctx, monthReports(p, "blog", 3000, 2), p)
		if err == nil {
			t.Fatal("Write into a full memory succeeded")
		}
		var ce *redis.CommandError
		if !errors.As(err, &ce) || !goredis.IsOOMError(ce.Err) || strings.Contains(err.Error(), "EXECABORT") {
			t.Fatalf("Write = %v, want the refused command and OOM", err)
		}
		t.Logf("Write: %v", err)
		if tmps := scan(t, c, "pv:*:tmp:*"); len(tmps) > 0 {
			t.Errorf("%d temporary keys left", len(tmps))
		}
		sameDumps(t, "write into a full memory", dumpAll(t, c, "pv"), before)
	})
}

// TestSinkReadOnly writes to a replica: Check refuses with READONLY at once.
// A Write also fails with READONLY, after its retry budget: READONLY is
// retried because a master that turns replica during a run is a failover
// in progress. The failover case: the master is demoted in the middle of
// the temporary writes and promoted again, and the Write completes.
func TestSinkReadOnly(t *testing.T) {
	master := redistest.Start(t, redistest.Options{})
	mc := master.Client()
	replica := redistest.Start(t, redistest.Options{})
	rc := replica.Client()
	ctx := context.Background()
	replicaOf := func(c *goredis.Client, of *redistest.Server) {
		t.Helper()
		host, port := "no", "one"
		if of != nil {
			host, port, _ = strings.Cut(of.Addr, ":")
		}
		if err := c.ReplicaOf(ctx, host, port).Err(); err != nil {
			t.Fatalf("REPLICAOF %s %s: %v", host, port, err)
		}
	}
	// inSync waits until c replicates its master up to the master's offset.
	inSync := func(c, m *goredis.Client) {
		t.Helper()
		redistest.WaitFor(t, 20*time.Second, "the replica to catch up", func() bool {
			ri, err1 := c.Info(ctx, "replication").Result()
			mi, err2 := m.Info(ctx, "replication").Result()
			return err1 == nil && err2 == nil && strings.Contains(ri, "master_link_status:up") &&
				infoField(ri, "slave_repl_offset") == infoField(mi, "master_repl_offset")
		})
	}
	replicaOf(rc, master)
	inSync(rc, mc)
	p := plan(t, time.UTC, "2024-08-01", 31, "blog")
	write(t, mc, redis.Options{}, monthReports(p, "blog", 20, 1), p)
	inSync(rc, mc)
	before := dumpAll(t, mc, "pv")

	wantRefusal(t, "Check", redis.Check(ctx, rc, redis.Keys{}), "SET", "READONLY")
	_, err := redis.NewWriter(rc, redis.Options{RetryBudget: 300 * time.Millisecond}).Write(ctx, monthReports(p, "blog", 20, 2), p)
	wantRefusal(t, "Write", err, "SET", "READONLY")
	sameDumps(t, "write to a replica", dumpAll(t, mc, "pv"), before)

	t.Run("failover and back", func(t *testing.T) {
		ref := redistest.Start(t, redistest.Options{}).Client()
		write(t, ref, redis.Options{}, monthReports(p, "blog", 20, 1), p)
		write(t, ref, redis.Options{}, monthReports(p, "blog", 20, 3), p)
		want := snapshot(t, ref, "pv")

		retries := newRetryLog(t)
		midway, failedOver := make(chan struct{}), make(chan struct{})
		defer redis.SetFlushHookForTest(func(n int) {
			if n == 3 {
				close(midway)
				<-failedOver
			}
		})()
		wc := goredis.NewClient(&goredis.Options{Addr: master.Addr, DisableIdentity: true})
		defer wc.Close()
		done := make(chan error, 1)
		go func() {
			_, err := redis.NewWriter(wc, redis.Options{Pipeline: 20}).Write(ctx, monthReports(p, "blog", 20, 3), p)
			done <- err
		}()
		select {
		case <-midway:
		case err := <-done:
			t.Fatalf("Write ended (%v) before its third round trip", err)
		}
		// Fail over to the replica: the master turns replica.
		inSync(rc, mc)
		replicaOf(rc, nil)
		replicaOf(mc, replica)
		close(failedOver)
		select {
		case <-retries.first:
		case err := <-done:
			t.Fatalf("Write ended (%v) without a retry", err)
		}
		// And back, once the writer met READONLY.
		inSync(mc, rc)
		replicaOf(mc, nil)
		replicaOf(rc, master)
		if err := <-done; err != nil {
			t.Fatalf("Write across a failover and back: %v", err)
		}
		if !retries.saw("READONLY") {
			t.Errorf("the writer never met READONLY: %q", retries.errs)
		}
		if got := snapshot(t, mc, "pv"); got != want {
			t.Errorf("the keys differ from a Write without failover:\n%s", diffLines(got, want))
		}
		t.Logf("retries: %q", retries.errs)
	})
}

// infoField returns the value of field in an INFO section.
func infoField(info, field string) string {
	for _, l := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			return v
		}
	}
	return ""
}
