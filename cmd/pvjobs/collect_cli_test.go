package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/cassandra"
	"github.com/pvjobs/pvjobs/readers/cassandra/cassandratest"
	"github.com/pvjobs/pvjobs/readers/collector"
	"github.com/pvjobs/pvjobs/readers/pageview"
)

// TestCollectChild is `pvjobs collect` in a process of its own, for the
// tests that kill it: the arguments come from PVJOBS_COLLECT_CHILD, one per
// line.
func TestCollectChild(t *testing.T) {
	args := os.Getenv("PVJOBS_COLLECT_CHILD")
	if args == "" {
		t.Skip("run by TestCollectKill")
	}
	// As main: SIGINT and SIGTERM cancel the run.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, append([]string{"pvjobs"}, strings.Split(args, "\n")...), os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// postBeacons sends n beacons with URLs https://b.example/<prefix>/<i> and
// returns those answered 204.
func postBeacons(t *testing.T, addr, prefix string, n int) map[string]bool {
	t.Helper()
	ok := map[string]bool{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				u := fmt.Sprintf("https://b.example/%s/%d", prefix, i)
				res, err := http.Post("http://"+addr+"/e", "text/plain", strings.NewReader(`{"id":"blog","url":"`+u+`"}`))
				if err != nil {
					continue
				}
				res.Body.Close()
				if res.StatusCode == 204 {
					mu.Lock()
					ok[u] = true
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return ok
}

// storedURLs returns how often each URL is stored in today's shard of blog.
func storedURLs(t *testing.T, ks *cassandratest.Keyspace) map[string]int {
	t.Helper()
	tbl, err := cassandra.Open(context.Background(), ks.Config())
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Close()
	now := time.Now().UTC()
	seen := map[string]int{}
	for _, d := range []time.Time{now.AddDate(0, 0, -1), now} {
		key := mapreduce.ShardKey{Day: time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC), Account: "blog"}
		err := tbl.ReadPartition(context.Background(), key, func(r *mapreduce.Row) error {
			var pv mapreduce.PageView
			if err := pageview.NewDecoder().Decode(r.Value, &pv); err != nil {
				return err
			}
			seen[string(pv.URL)]++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return seen
}

// TestCollectKill: a collector whose Cassandra is down answers page views
// into its spool; it is killed with SIGKILL. pvjobs load --keep-spool loads
// the spool, and a new collector on the same spool replays it: every page
// view answered 204 is in Cassandra exactly once.
func TestCollectKill(t *testing.T) {
	addr := cassandratest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ks, err := cassandratest.NewKeyspace(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Drop()
	spool := filepath.Join(t.TempDir(), "spool")
	nowhere := freeAddr(t) // no Cassandra answers there
	col := freeAddr(t)
	child, stderr := startChildCollector(t, col, "--cassandra", "cassandra://"+nowhere+"/"+ks.Name+"?connect-timeout=1s",
		"--accounts", "blog", "--spool", spool, "--rate-limit", "0")
	ok := postBeacons(t, col, "killed", 500)
	if len(ok) != 500 {
		t.Fatalf("%d of 500 answered 204 with Cassandra down:\n%s", len(ok), stderr.String())
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	child.Wait()

	// pvjobs load takes the spool as it is; --keep-spool leaves it for the
	// replay below (TestLoadSpool: without it, the loaded files go).
	out := mustPvjobs(t, "load", "--source", spool, "--cassandra", ks.URL(), "--quiet", "--keep-spool")
	if !strings.Contains(out, "loaded 500 page views") {
		t.Errorf("pvjobs load: %s", out)
	}
	if segs, _ := collector.SpoolSegments(spool); len(segs) == 0 {
		t.Fatal("pvjobs load --keep-spool emptied the spool")
	}
	check := func(what string) {
		t.Helper()
		seen := storedURLs(t, ks)
		for u := range ok {
			if seen[u] != 1 {
				t.Errorf("%s: %s stored %d times, want once", what, u, seen[u])
			}
		}
		if len(seen) != len(ok) {
			t.Errorf("%s: %d URLs stored, %d answered 204", what, len(seen), len(ok))
		}
	}
	check("after pvjobs load")

	// A collector started on the spool replays it: the same cells again.
	stop := startCollect(t, freeAddr(t), "--cassandra", ks.URL(), "--accounts", "blog", "--spool", spool)
	deadline := time.Now().Add(30 * time.Second)
	for {
		segs, _ := collector.SpoolSegments(spool)
		if len(segs) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the spool was not replayed: %v", segs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code, errOut := stop(); code != 0 {
		t.Fatalf("pvjobs collect: exit %d\n%s", code, errOut)
	}
	check("after the replay")
}

// TestCollectUsage: mistakes are refused with exit 2 before anything runs.
func TestCollectUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"collect", "--cassandra", "cassandra://h/ks"}, "name the accounts"},
		{[]string{"collect", "--cassandra", "cassandra://h/ks", "--accounts", "bad id"}, "--accounts"},
		{[]string{"collect", "--cassandra", "cassandra://h/ks", "--accounts", "all"}, "--accounts: all: the collector accepts only the accounts it is told"},
		{[]string{"collect", "--cassandra", "cassandra://h/ks", "--accounts", "a", "--accounts-file", "f"}, "not both"},
		{[]string{"collect", "--cassandra", "cassandra://h/ks", "--accounts", "a", "--trusted-proxies", "10.0.0.0/99"}, "--trusted-proxies"},
		{[]string{"collect", "--cassandra", "cassandra://h/ks", "--accounts", "a", "--fsync", "sometimes"}, "--fsync"},
		{[]string{"collect", "--cassandra", "nope://h/ks", "--accounts", "a"}, "cassandra"},
		{[]string{"collect", "--cassandra", "cassandra://h/ks", "--accounts", "a", "--live", "http://x"}, "redis"},
		{[]string{"collect", "--cassandra", "cassandra://h/ks", "--accounts", "a", "--live", "redis://x:1/0", "--tz", "Mars/Base"}, "--tz"},
		{[]string{"collect", "--cassandra", "cassandra://h/ks", "--accounts", "a", "--max-body", "10"}, "--max-body"},
		{[]string{"collect", "--cassandra", "cassandra://h/ks", "--accounts", "a", "--listen", "256.1.1.1:99999"}, "--listen"},
	} {
		code, _, errOut := pvjobs(t, context.Background(), tc.args...)
		if code != exitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("pvjobs %s: exit %d, stderr %q; want 2 and %q", strings.Join(tc.args, " "), code, errOut, tc.want)
		}
	}
}

// TestCollectTerm: SIGTERM drains: the collector stops taking requests,
// writes what it holds and exits 0 with every page view answered 204 in
// Cassandra and an empty spool.
func TestCollectTerm(t *testing.T) {
	addr := cassandratest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ks, err := cassandratest.NewKeyspace(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Drop()
	spool := filepath.Join(t.TempDir(), "spool")
	col := freeAddr(t)
	child, stderr := startChildCollector(t, col, "--cassandra", ks.URL(), "--accounts", "blog", "--spool", spool, "--rate-limit", "0")
	ok := postBeacons(t, col, "term", 1000)
	if err := child.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := child.Wait(); err != nil {
		t.Fatalf("after SIGTERM: %v\n%s", err, stderr.String())
	}
	segs, _ := collector.SpoolSegments(spool)
	if len(segs) != 0 {
		t.Errorf("spool segments left after a drain with Cassandra up: %v", segs)
	}
	seen := storedURLs(t, ks)
	for u := range ok {
		if seen[u] != 1 {
			t.Errorf("%s stored %d times, want once", u, seen[u])
		}
	}
	if len(ok) != 1000 || len(seen) != len(ok) {
		t.Errorf("%d answered 204, %d stored; want 1000 and 1000", len(ok), len(seen))
	}
}

// startChildCollector starts pvjobs collect --listen col args... in a child
// process (TestCollectChild), killed when the test ends, and waits until it
// answers /healthz. It returns the child and its stderr.
func startChildCollector(t *testing.T, col string, args ...string) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	child := exec.Command(exe, "-test.run=^TestCollectChild$")
	child.Env = append(os.Environ(), "PVJOBS_COLLECT_CHILD="+strings.Join(append([]string{"collect", "--listen", col}, args...), "\n"))
	stderr := &syncBuffer{}
	child.Stderr = stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { child.Process.Kill() })
	waitHTTP(t, col, stderr)
	return child, stderr
}
