package redis_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/reports/redis"
	"github.com/pvjobs/pvjobs/reports/redis/redistest"
)

// The tests in this file restart, kill or watch a redis-server of their own.

// restartReports returns the reports of three accounts over p, from seed.
func restartReports(p *mapreduce.Plan, seed uint64) []mapreduce.Report {
	var uv, urls mapreduce.Report
	for i, a := range p.Accounts {
		for _, r := range monthReports(p, a, 40, seed+uint64(i)) {
			if r.Name == "uniques" {
				uv.Name = r.Name
				uv.Rows = append(uv.Rows, r.Rows...)
			} else {
				urls.Name, urls.Keys = r.Name, r.Keys
				urls.Rows = append(urls.Rows, r.Rows...)
			}
		}
	}
	return []mapreduce.Report{uv, urls}
}

// retryLog records the retries of a Write (the test hook) and announces the
// first one on first.
type retryLog struct {
	mu    sync.Mutex
	errs  []string
	first chan struct{}
	once  sync.Once
}

func newRetryLog(t *testing.T) *retryLog {
	l := &retryLog{first: make(chan struct{})}
	t.Cleanup(redis.SetRetryHookForTest(func(what string, err error) {
		l.mu.Lock()
		l.errs = append(l.errs, what+": "+err.Error())
		l.mu.Unlock()
		l.once.Do(func() { close(l.first) })
	}))
	return l
}

func (l *retryLog) saw(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.errs {
		if strings.Contains(e, s) {
			return true
		}
	}
	return false
}

// TestSinkSurvivesRestart restarts the server in the middle of a Write:
// while the temporary keys are written, and just before an account is
// swapped in; by a crash (SIGKILL, with an append-only file fsynced on every
// write) and by a shutdown whose restart loads the data slowly (SIGTERM,
// an RDB snapshot, 1 ms per key), so that the server answers LOADING for a
// while. The Write goes on through the retries and leaves the keys a Write
// without restart leaves, byte for byte.
func TestSinkSurvivesRestart(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		sigkill bool
		// at is the round trip of temporary writes at which the server
		// goes down, or 0 to bring it down before the swap of "news".
		at      int
		loading bool
	}{
		{"SIGKILL during the temporary writes", []string{"--appendonly", "yes", "--appendfsync", "always"}, true, 4, false},
		{"SIGKILL before a swap", []string{"--appendonly", "yes", "--appendfsync", "always"}, true, 0, false},
		{"SIGTERM and slow loading during the temporary writes", []string{"--save", "3600 1", "--appendonly", "no",
			"--key-load-delay", "1000", "--loading-process-events-interval-bytes", "1024"}, false, 4, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := redistest.Start(t, redistest.Options{Args: tc.args})
			c := srv.Client()
			ctx := context.Background()
			p := plan(t, time.UTC, "2024-08-01", 31, "blog", "news", "shop")
			before, after := restartReports(p, 1), restartReports(p, 2)
			opt := redis.Options{Pipeline: 20, Range: true}

			// What a Write without restart leaves.
			opt.Prefix = "ref"
			write(t, c, opt, before, p)
			write(t, c, opt, after, p)
			want := snapshot(t, c, "ref")

			opt.Prefix = "pv"
			write(t, c, opt, before, p)
			var mu sync.Mutex
			var down time.Time
			stop := func() {
				mu.Lock()
				defer mu.Unlock()
				if !down.IsZero() {
					return
				}
				if tc.sigkill {
					srv.Kill()
				} else {
					srv.Stop()
				}
				down = time.Now()
			}
			if tc.at > 0 {
				defer redis.SetFlushHookForTest(func(n int) {
					if n == tc.at {
						stop()
					}
				})()
			} else {
				defer redis.SetSwapHookForTest(func(account string) {
					if account == "news" {
						stop()
					}
				})()
			}
			retries := newRetryLog(t)
			wc := goredis.NewClient(&goredis.Options{Addr: srv.Addr, DisableIdentity: true})
			defer wc.Close()
			done := make(chan error, 1)
			var st redis.Stats
			go func() {
				var err error
				st, err = redis.NewWriter(wc, opt).Write(ctx, after, p)
				done <- err
			}()
			// Restart as soon as the writer has seen the server gone.
			select {
			case <-retries.first:
			case err := <-done:
				t.Fatalf("Write ended (%v) without a retry: the server was not brought down in its middle", err)
			}
			srv.Run()
			if err := <-done; err != nil {
				t.Fatalf("Write across a restart: %v\nretries: %q", err, retries.errs)
			}
			outage := time.Since(down)
			srv.WaitReady()
			if got := snapshot(t, c, "pv"); got != want {
				t.Errorf("the keys differ from those of a Write without restart:\n%s", diffLines(got, want))
			}
			if tmps := scan(t, c, "pv:*:tmp:*"); len(tmps) > 0 {
				t.Errorf("%d temporary keys left, as %s", len(tmps), tmps[0])
			}
			if tc.loading && !retries.saw("LOADING") {
				t.Errorf("the server never answered LOADING: %q", retries.errs)
			}
			t.Logf("the Write finished %s after the server went down, after %d retries: %q", outage.Round(time.Millisecond), st.Retries, retries.errs)
		})
	}
}

// diffLines returns the first lines where got and want differ.
func diffLines(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	var b strings.Builder
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
			fmt.Fprintf(&b, "line %d:\n got  %s\n want %s\n", i+1, gl, wl)
			n++
		}
	}
	return b.String()
}

// loseExec is a go-redis hook that fails the first transaction that renames
// a key (a swap) with io.EOF, as a connection lost around EXEC: after the
// server ran it (ran true) or before it was sent (ran false).
type loseExec struct {
	ran  bool
	lost atomic.Bool
}

func (h *loseExec) DialHook(next goredis.DialHook) goredis.DialHook          { return next }
func (h *loseExec) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook { return next }
func (h *loseExec) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		swap := false
		for _, c := range cmds { // not the one of Check
			swap = swap || c.Name() == "rename" && !strings.Contains(fmt.Sprint(c.Args()[1]), ":check:")
		}
		if !swap || h.lost.Load() {
			return next(ctx, cmds)
		}
		h.lost.Store(true)
		if h.ran {
			if err := next(ctx, cmds); err != nil {
				return err
			}
		}
		for _, c := range cmds {
			c.SetErr(io.EOF)
		}
		return io.EOF
	}
}

// TestSinkLostExecReply loses the connection around the EXEC of a swap:
// when the server ran it, the writer sees its temporary keys gone and does
// not run it again; when it did not, the writer runs it again. Either way
// the keys are those of an undisturbed Write.
func TestSinkLostExecReply(t *testing.T) {
	c, prefix := testRedis(t)
	p := plan(t, time.UTC, "2024-08-01", 3, "blog", "shop")
	before, after := restartReports(p, 1), restartReports(p, 2)
	ref := prefix + "-ref"
	opt := redis.Options{Prefix: ref}
	write(t, c, opt, before, p)
	wantStats := write(t, c, opt, after, p)
	want := snapshot(t, c, ref)
	for _, ran := range []bool{true, false} {
		t.Run(fmt.Sprintf("ran=%v", ran), func(t *testing.T) {
			pre := fmt.Sprintf("%s-%v", prefix, ran)
			t.Cleanup(func() {
				if keys := scan(t, c, pre+":*"); len(keys) > 0 {
					c.Del(context.Background(), keys...)
				}
			})
			opt := redis.Options{Prefix: pre}
			write(t, c, opt, before, p)
			wc := goredis.NewClient(&goredis.Options{Addr: redisAddr(t), DisableIdentity: true})
			defer wc.Close()
			h := &loseExec{ran: ran}
			wc.AddHook(h)
			retries := newRetryLog(t)
			st, err := redis.NewWriter(wc, opt).Write(context.Background(), after, p)
			if err != nil {
				t.Fatal(err)
			}
			if !h.lost.Load() || !retries.saw("swap: EOF") {
				t.Fatalf("no EXEC was lost: %q", retries.errs)
			}
			if got := snapshot(t, c, pre); got != want {
				t.Errorf("the keys differ from an undisturbed Write:\n%s", diffLines(got, want))
			}
			if st.Replaced != wantStats.Replaced || st.Deleted != wantStats.Deleted || st.Merged != wantStats.Merged || st.Retries != 1 {
				t.Errorf("stats %+v, want those of an undisturbed Write %+v and one retry", st, wantStats)
			}
		})
	}
}

// TestTempKeysAlwaysExpire watches the command stream (MONITOR) of Writes
// with pipelines from 1 to 100 commands and batches of 7 members, of
// sorted sets, HyperLogLogs and hashes: every transaction that creates or
// adds to a temporary key (ZADD, HSET) sets its expiry after its last write, SET writes it with its expiry, and nothing writes one
// outside a transaction. So no temporary key exists without an expiry at
// any moment, and a SIGKILL anywhere leaves only keys that expire.
func TestTempKeysAlwaysExpire(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	c := srv.Client()
	ctx := context.Background()
	p := plan(t, time.UTC, "2024-08-01", 3, "blog", "shop")
	reps := append(restartReports(p, 3), measureReports(p, "", 9, 3, true, "").reps...)

	// MONITOR on a connection of its own: a "+OK", then a simple string per
	// command, until the GET of end-of-test.
	conn, err := net.Dial("tcp", srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("MONITOR\r\n")); err != nil {
		t.Fatal(err)
	}
	rd := bufio.NewReaderSize(conn, 1<<20)
	if l, err := rd.ReadString('\n'); err != nil || l != "+OK\r\n" {
		t.Fatalf("MONITOR: %q, %v", l, err)
	}
	var lines []string
	collected := make(chan error, 1)
	go func() {
		for {
			l, err := rd.ReadString('\n')
			if err != nil {
				collected <- err
				return
			}
			lines = append(lines, strings.TrimSuffix(l, "\r\n"))
			if strings.Contains(l, "end-of-test") {
				collected <- nil
				return
			}
		}
	}()
	for _, pipeline := range []int{1, 2, 3, 7, 100} {
		write(t, c, redis.Options{Prefix: fmt.Sprintf("p%d", pipeline), Pipeline: pipeline, Batch: 7, TTL: time.Hour}, reps, p)
	}
	c.Get(ctx, "end-of-test")
	if err := <-collected; err != nil {
		t.Fatalf("reading MONITOR: %v", err)
	}

	type tx struct {
		cmds [][]string
	}
	open := map[string]*tx{} // by client address
	tmpWrites, txs, hsets := 0, 0, 0
	check := func(cmds [][]string) {
		last := map[string]int{}    // temporary key -> index of its last ZADD or HSET
		expired := map[string]int{} // temporary key -> index of its last PEXPIRE
		for i, c := range cmds {
			if len(c) < 2 || !strings.Contains(c[1], ":tmp:") {
				continue
			}
			switch strings.ToLower(c[0]) {
			case "zadd", "hset":
				last[c[1]] = i
				tmpWrites++
				hsets += strings.Count(strings.ToLower(c[0]), "hset")
			case "pexpire":
				expired[c[1]] = i
			case "set":
				tmpWrites++
				if !strings.Contains(c[1], ":check:") && len(c) < 5 {
					t.Errorf("SET %s without an expiry", c[1])
				}
			}
		}
		for k, i := range last {
			if j, ok := expired[k]; !ok || j < i {
				t.Errorf("a transaction ZADDs or HSETs to %s without a PEXPIRE after it: %q", k, cmds)
			}
		}
	}
	for _, l := range lines {
		args, client, ok := parseMonitor(l)
		if !ok {
			continue
		}
		name := strings.ToLower(args[0])
		if o := open[client]; o != nil {
			switch name {
			case "exec":
				check(o.cmds)
				txs++
				delete(open, client)
			case "discard":
				delete(open, client)
			default:
				o.cmds = append(o.cmds, args)
			}
			continue
		}
		switch name {
		case "multi":
			open[client] = &tx{}
		case "zadd", "hset", "pexpire", "persist":
			if len(args) > 1 && strings.Contains(args[1], ":tmp:") {
				t.Errorf("%s of a temporary key outside a transaction: %q", name, args)
			}
		case "set": // alone, with its expiry
			if len(args) > 1 && strings.Contains(args[1], ":tmp:") && len(args) < 5 {
				t.Errorf("SET of a temporary key without an expiry: %q", args)
			}
		}
	}
	if tmpWrites < 100 || txs < 100 || hsets < 100 {
		t.Fatalf("saw %d writes of temporary keys (%d HSETs) in %d transactions: MONITOR missed the writes", tmpWrites, hsets, txs)
	}
	t.Logf("%d writes of temporary keys (%d HSETs) in %d transactions, each with its expiry", tmpWrites, hsets, txs)
}

// parseMonitor splits a MONITOR line, `1700000000.123456 [0 127.0.0.1:5555]
// "ZADD" "key" "1" "m"`, into the command's arguments and the client.
func parseMonitor(l string) (args []string, client string, ok bool) {
	open := strings.IndexByte(l, '[')
	end := strings.IndexByte(l, ']')
	if open < 0 || end < open {
		return nil, "", false
	}
	client = l[open+1 : end]
	rest := l[end+1:]
	for {
		i := strings.IndexByte(rest, '"')
		if i < 0 {
			break
		}
		j := i + 1
		for j < len(rest) && rest[j] != '"' {
			if rest[j] == '\\' {
				j++
			}
			j++
		}
		if j >= len(rest) {
			return nil, "", false
		}
		args = append(args, rest[i+1:j])
		rest = rest[j+1:]
	}
	return args, client, len(args) > 0
}

// TestCommitFailsAndResumes brings the server down in the middle of the
// swaps, for longer than the retry budget: Commit fails with a CommitError
// that says which accounts were swapped in, which were not, and which one
// may or may not have been (its EXEC ran, the reply was lost, the server
// could not be asked again); once the server is back, Commit swaps in the
// rest, settling the unknown one by its temporary keys, and the keys are
// those of an undisturbed Write.
func TestCommitFailsAndResumes(t *testing.T) {
	for _, tc := range []struct {
		name        string
		lostReply   bool
		wantPending []string
		wantUnknown string
	}{
		{"down before a swap", false, []string{"news", "shop"}, ""},
		{"down after an EXEC ran", true, []string{"shop"}, "news"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := redistest.Start(t, redistest.Options{Args: []string{"--appendonly", "yes", "--appendfsync", "always"}})
			c := srv.Client()
			ctx := context.Background()
			p := plan(t, time.UTC, "2024-08-01", 3, "blog", "news", "shop")
			before, after := restartReports(p, 1), restartReports(p, 2)
			opt := redis.Options{Prefix: "ref"}
			write(t, c, opt, before, p)
			write(t, c, opt, after, p)
			want := snapshot(t, c, "ref")
			opt.Prefix = "pv"
			write(t, c, opt, before, p)

			wc := goredis.NewClient(&goredis.Options{Addr: srv.Addr, DisableIdentity: true})
			defer wc.Close()
			opt.RetryBudget = 300 * time.Millisecond
			if tc.lostReply {
				wc.AddHook(&killAfterExec{srv: srv, account: "{news}"})
			} else {
				var once sync.Once
				defer redis.SetSwapHookForTest(func(account string) {
					if account == "news" {
						once.Do(srv.Kill)
					}
				})()
			}
			w := redis.NewWriter(wc, opt)
			prep, err := w.Prepare(ctx, after, p)
			if err != nil {
				t.Fatal(err)
			}
			_, err = prep.Commit(ctx)
			var ce *redis.CommitError
			if !errors.As(err, &ce) {
				t.Fatalf("Commit = %v, want a CommitError", err)
			}
			if !slices.Equal(ce.Committed, []string{"blog"}) || !slices.Equal(ce.Pending, tc.wantPending) || ce.Unknown != tc.wantUnknown {
				t.Errorf("CommitError: committed %v, pending %v, unknown %q; want [blog], %v, %q", ce.Committed, ce.Pending, ce.Unknown, tc.wantPending, tc.wantUnknown)
			}
			t.Logf("Commit: %v", err)
			srv.Run()
			srv.WaitReady()
			if _, err := prep.Commit(ctx); err != nil {
				t.Fatalf("Commit again: %v", err)
			}
			if got := snapshot(t, c, "pv"); got != want {
				t.Errorf("the keys differ from those of an undisturbed Write:\n%s", diffLines(got, want))
			}
			if tmps := scan(t, c, "pv:*:tmp:*"); len(tmps) > 0 {
				t.Errorf("%d temporary keys left, as %s", len(tmps), tmps[0])
			}
		})
	}
}

// killAfterExec is a go-redis hook that kills the server right after the
// EXEC of the swap of an account ran, before the reply reaches the writer.
type killAfterExec struct {
	srv     *redistest.Server
	account string // its hash tag
	done    atomic.Bool
}

func (h *killAfterExec) DialHook(next goredis.DialHook) goredis.DialHook          { return next }
func (h *killAfterExec) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook { return next }
func (h *killAfterExec) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		swap := false
		for _, c := range cmds {
			if c.Name() == "rename" {
				k := fmt.Sprint(c.Args()[1])
				swap = swap || strings.Contains(k, h.account) && !strings.Contains(k, ":check:")
			}
		}
		if !swap || h.done.Swap(true) {
			return next(ctx, cmds)
		}
		if err := next(ctx, cmds); err != nil {
			return err
		}
		h.srv.Kill()
		for _, c := range cmds {
			c.SetErr(io.EOF)
		}
		return io.EOF
	}
}
