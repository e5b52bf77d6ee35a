package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/cassandra"
	"github.com/pvjobs/pvjobs/readers/cassandra/cassandratest"
	"github.com/pvjobs/pvjobs/readers/pageview"
	"github.com/pvjobs/pvjobs/reports/redis"
)

// The load test of pvjobs collect (make collect-load). It is not part of
// go test ./... : it needs a Cassandra of its own that it may stop and
// start (the shared test server is never touched), and it runs for minutes.
//
//	PVJOBS_COLLECT_LOAD=1                 run it
//	PVJOBS_LOAD_CASSANDRA_PORT=19042      the CQL port of its own Cassandra,
//	PVJOBS_LOAD_CASSANDRA_STORAGE_PORT=17000, PVJOBS_LOAD_CASSANDRA_STATE=DIR
//	                                      started and stopped with testdata/cassandra/cassandra.sh
//	PVJOBS_LOAD_DURATION=60s              how long the load lasts
//	PVJOBS_LOAD_CONNS=32                  concurrent keep-alive connections
//	PVJOBS_LOAD_RATE=0                    beacons per second offered (open
//	                                      loop); 0: closed loop, as fast as
//	                                      the collector answers
//	PVJOBS_LOAD_RESTART=1                 stop Cassandra and start it again,
//	PVJOBS_LOAD_STOP_AT=15s               that long into the load (default: a quarter of it)
//	PVJOBS_LOAD_LIVE=redis://host:port/0  count live in Redis too
//	PVJOBS_LOAD_PROCS=1                   GOMAXPROCS of the collector (cores)
//	PVJOBS_LOAD_FSYNC=1s                  the collector's --fsync
//
// The collector runs as a process of its own with GOMAXPROCS cores; the
// load comes from this process over loopback: beacons with distinct URLs
// and client addresses (X-Forwarded-For from a trusted 127.0.0.1). In a
// closed loop each connection sends its next beacon when the last is
// answered, so the latency grows with the number of connections (a queue
// of them at the collector); with a rate, each connection sends on a fixed
// schedule, and a beacon's latency counts from when it was due, so a stall
// of the collector counts for every beacon it delayed. At the end every page view answered 2xx must be in Cassandra
// exactly once (its URL once, and as many distinct timeuuids as rows).

// loadEnv reads a setting of the load test.
func loadEnv(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// loadClient sends beacons over one keep-alive connection, as a browser
// would send them through a proxy (X-Forwarded-For): the request is built
// in a reused buffer and written straight to the connection, and the
// response read from it, so a request costs the generator a few
// microseconds, not the tens of net/http's client and its transport.
type loadClient struct {
	addr string
	rnd  *rand.Rand
	conn net.Conn
	r    *bufio.Reader
	req  []byte
	body []byte
}

const loadUA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"

func (lc *loadClient) close() {
	if lc.conn != nil {
		lc.conn.Close()
		lc.conn = nil
	}
}

// beacon posts the beacon seq of connection c and returns the status.
func (lc *loadClient) beacon(c, seq int) (int, error) {
	b := append(lc.body[:0], `{"id":"load","url":"https://load.example/c`...)
	b = strconv.AppendInt(b, int64(c), 10)
	b = append(b, "/s"...)
	b = strconv.AppendInt(b, int64(seq), 10)
	b = append(b, `?utm_source=x","ref":"https://www.google.com/","title":"Page `...)
	b = strconv.AppendInt(b, int64(seq%50), 10)
	lc.body = append(b, `"}`...)
	q := append(lc.req[:0], "POST /e HTTP/1.1\r\nHost: "...)
	q = append(q, lc.addr...)
	q = append(q, "\r\nContent-Type: text/plain;charset=UTF-8\r\nUser-Agent: "+loadUA+"\r\nAccept-Language: en-US,en;q=0.9\r\nX-Forwarded-For: 10."...)
	q = strconv.AppendInt(q, int64(lc.rnd.IntN(256)), 10)
	q = append(q, '.')
	q = strconv.AppendInt(q, int64(lc.rnd.IntN(256)), 10)
	q = append(q, '.')
	q = strconv.AppendInt(q, int64(lc.rnd.IntN(256)), 10)
	q = append(q, "\r\nContent-Length: "...)
	q = strconv.AppendInt(q, int64(len(lc.body)), 10)
	q = append(q, "\r\n\r\n"...)
	lc.req = append(q, lc.body...)
	status, err := lc.roundTrip()
	if err != nil {
		lc.close() // the next beacon dials again
	}
	return status, err
}

// roundTrip writes lc.req and reads the response (http.ReadResponse, on
// the connection's own reader: no transport goroutines in between).
func (lc *loadClient) roundTrip() (int, error) {
	if lc.conn == nil {
		conn, err := net.DialTimeout("tcp", lc.addr, 5*time.Second)
		if err != nil {
			return 0, err
		}
		lc.conn, lc.r = conn, bufio.NewReader(conn)
	}
	lc.conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := lc.conn.Write(lc.req); err != nil {
		return 0, err
	}
	res, err := http.ReadResponse(lc.r, nil)
	if err != nil {
		return 0, err
	}
	_, err = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if err != nil {
		return 0, err
	}
	if res.Close {
		lc.close()
	}
	return res.StatusCode, nil
}

// loadConn is one connection's record: its latencies and outcomes.
type loadConn struct {
	sent   int      // beacons sent: seq 0..sent-1
	failed []int    // seqs not answered 2xx
	lat    []uint32 // µs per 2xx request
}

func TestCollectLoad(t *testing.T) {
	if os.Getenv("PVJOBS_COLLECT_LOAD") == "" {
		t.Skip("the load test runs with make collect-load (PVJOBS_COLLECT_LOAD=1)")
	}
	dur, err := time.ParseDuration(loadEnv("PVJOBS_LOAD_DURATION", "60s"))
	if err != nil {
		t.Fatal(err)
	}
	conns, _ := strconv.Atoi(loadEnv("PVJOBS_LOAD_CONNS", "32"))
	restart := loadEnv("PVJOBS_LOAD_RESTART", "1") == "1"
	rate, err := strconv.ParseFloat(loadEnv("PVJOBS_LOAD_RATE", "0"), 64)
	if err != nil || rate < 0 {
		t.Fatalf("PVJOBS_LOAD_RATE=%q: want beacons per second", os.Getenv("PVJOBS_LOAD_RATE"))
	}
	live := os.Getenv("PVJOBS_LOAD_LIVE")
	procs := loadEnv("PVJOBS_LOAD_PROCS", "1")
	port := loadEnv("PVJOBS_LOAD_CASSANDRA_PORT", "19042")
	script, _ := filepath.Abs("../../testdata/cassandra/cassandra.sh")
	cassEnv := append(os.Environ(), "PVJOBS_CASSANDRA_PORT="+port,
		"PVJOBS_CASSANDRA_STORAGE_PORT="+loadEnv("PVJOBS_LOAD_CASSANDRA_STORAGE_PORT", "17000"),
		"PVJOBS_CASSANDRA_STATE="+loadEnv("PVJOBS_LOAD_CASSANDRA_STATE", filepath.Join(os.Getenv("HOME"), ".cache/pvjobs/cassandra-collect-load")))
	cass := func(cmd string) error {
		c := exec.Command("bash", script, cmd)
		c.Env = cassEnv
		out, err := c.CombinedOutput()
		if err != nil {
			return fmt.Errorf("cassandra.sh %s: %v\n%s", cmd, err, out)
		}
		t.Logf("cassandra.sh %s: %s", cmd, strings.TrimSpace(lastLine(string(out))))
		return nil
	}
	if err := cass("up"); err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + port
	ctx := context.Background()
	sctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	ks, err := cassandratest.NewKeyspace(sctx, addr)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Drop()

	spool := filepath.Join(t.TempDir(), "spool")
	col := freeAddr(t)
	exe, _ := os.Executable()
	args := []string{"collect", "--listen", col, "--cassandra", ks.URL() + "?connect-timeout=2s",
		"--accounts", "load", "--spool", spool, "--rate-limit", "0", "--trusted-proxies", "127.0.0.1/32", "--drain-timeout", "60s",
		"--fsync", loadEnv("PVJOBS_LOAD_FSYNC", "1s")}
	prefix := fmt.Sprintf("pvload%d", os.Getpid())
	if live != "" {
		args = append(args, "--live", live, "--redis-prefix", prefix)
		defer func() { // the shared Redis keeps nothing of ours
			tg, err := redis.ParseURL(live)
			if err != nil {
				t.Error(err)
				return
			}
			c := tg.NewClient()
			defer c.Close()
			keys, _ := c.Keys(ctx, prefix+":*").Result()
			day, _ := c.ZCard(ctx, prefix+":{load}:urls:"+time.Now().UTC().Format("20060102")).Result()
			uv, _ := c.PFCount(ctx, prefix+":{load}:uv:"+time.Now().UTC().Format("20060102")).Result()
			t.Logf("live counters: %d keys; today's urls sorted set has %d members, today's visitors key counts %d", len(keys), day, uv)
			if len(keys) > 0 {
				c.Del(ctx, keys...)
			}
		}()
	}
	child := exec.Command(exe, "-test.run=^TestCollectChild$")
	child.Env = append(os.Environ(), "GOMAXPROCS="+procs, "PVJOBS_COLLECT_CHILD="+strings.Join(args, "\n"))
	var stderr syncBuffer
	child.Stderr = &stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer child.Process.Kill()
	waitHTTP(t, col, &stderr)

	// The load: closed loop (or open, at PVJOBS_LOAD_RATE), one goroutine
	// per keep-alive connection, each
	// a lean HTTP/1.1 client (loadClient) so that the load generator leaves
	// the CPU of this 2-core machine to the collector and Cassandra.
	records := make([]loadConn, conns)
	var stopLoad atomic.Bool
	var inFlight sync.WaitGroup
	cpu0 := cpuTime(child.Process.Pid)
	start := time.Now()
	for c := range conns {
		inFlight.Add(1)
		go func() {
			defer inFlight.Done()
			rec := &records[c]
			lc := &loadClient{addr: col, rnd: rand.New(rand.NewPCG(uint64(c), 7))}
			defer lc.close()
			// Open loop: connection c's beacon k is due at start +
			// (k*conns+c)/rate.
			every := time.Duration(float64(conns) / rate * float64(time.Second))
			due := start.Add(time.Duration(float64(c) / rate * float64(time.Second)))
			for !stopLoad.Load() {
				seq := rec.sent
				rec.sent++
				t0 := time.Now()
				if rate > 0 {
					if wait := time.Until(due); wait > 0 {
						time.Sleep(wait) // pacing the load, not waiting for an event
					}
					t0, due = due, due.Add(every)
				}
				if status, err := lc.beacon(c, seq); err != nil || status/100 != 2 {
					rec.failed = append(rec.failed, seq)
					continue
				}
				rec.lat = append(rec.lat, uint32(time.Since(t0).Microseconds()))
			}
		}()
	}
	// Cassandra stops a quarter into the load (PVJOBS_LOAD_STOP_AT) and
	// starts again.
	var stopped, restarted time.Duration
	var restartErr error
	restartDone := make(chan struct{})
	if restart {
		go func() {
			defer close(restartDone)
			stopAt := dur / 4
			if v := os.Getenv("PVJOBS_LOAD_STOP_AT"); v != "" {
				if d, err := time.ParseDuration(v); err == nil {
					stopAt = d
				}
			}
			time.Sleep(stopAt)
			stopped = time.Since(start)
			if restartErr = cass("down"); restartErr != nil {
				return
			}
			restartErr = cass("up")
			restarted = time.Since(start)
		}()
	} else {
		close(restartDone)
	}
	var peakQueued, peakSegments int64
	for time.Since(start) < dur {
		h := health(t, col)
		peakQueued = max(peakQueued, h.Queued)
		peakSegments = max(peakSegments, h.SpoolSegments)
		time.Sleep(500 * time.Millisecond)
	}
	stopLoad.Store(true)
	inFlight.Wait()
	elapsed := time.Since(start)
	cpuLoad := cpuTime(child.Process.Pid) - cpu0
	<-restartDone
	if restartErr != nil {
		t.Fatal(restartErr)
	}
	// Everything accepted reaches Cassandra: wait for the spool to drain.
	drainStart := time.Now()
	for {
		h := health(t, col)
		if h.Queued == 0 && h.SpoolSegments == 0 {
			break
		}
		if time.Since(drainStart) > 10*time.Minute {
			t.Fatalf("the spool did not drain: %+v", h)
		}
		time.Sleep(200 * time.Millisecond)
	}
	drained := time.Since(drainStart)
	metrics := scrape(t, col)
	rss := peakRSS(child.Process.Pid)
	child.Process.Signal(syscall.SIGTERM)
	if err := child.Wait(); err != nil {
		t.Fatalf("collector after SIGTERM: %v\n%s", err, stderr.String())
	}

	// Count: every 2xx page view once, nothing else.
	var ok, failed int
	var lat []uint32
	for _, r := range records {
		ok += r.sent - len(r.failed)
		failed += len(r.failed)
		lat = append(lat, r.lat...)
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return time.Duration(lat[int(p*float64(len(lat)-1))]) * time.Microsecond
	}
	tbl, err := cassandra.Open(ctx, ks.Config())
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Close()
	seen := make([]map[int]int, conns)
	for i := range seen {
		seen[i] = map[int]int{}
	}
	rows, tsSeen := 0, map[[16]byte]bool{}
	now := time.Now().UTC()
	for _, d := range []time.Time{now.AddDate(0, 0, -1), now} {
		key := mapreduce.ShardKey{Day: time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC), Account: "load"}
		dec := pageview.NewDecoder()
		err := tbl.ReadPartition(ctx, key, func(r *mapreduce.Row) error {
			var pv mapreduce.PageView
			if err := dec.Decode(r.Value, &pv); err != nil {
				return err
			}
			var c, s int
			if _, err := fmt.Sscanf(string(pv.URL), "https://load.example/c%d/s%d", &c, &s); err != nil || c >= conns {
				return fmt.Errorf("unexpected url %q", pv.URL)
			}
			seen[c][s]++
			rows++
			tsSeen[r.TS] = true
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	missing, twice, unanswered := 0, 0, 0
	for c, r := range records {
		bad := map[int]bool{}
		for _, s := range r.failed {
			bad[s] = true
		}
		for s := 0; s < r.sent; s++ {
			n := seen[c][s]
			switch {
			case n > 1:
				twice++
			case n == 0 && !bad[s]:
				missing++
			case n == 1 && bad[s]:
				unanswered++ // stored, but the client saw no 2xx (a timeout): allowed
			}
		}
	}
	mode := "closed loop"
	if rate > 0 {
		mode = fmt.Sprintf("open loop at %.0f/s offered", rate)
	}
	t.Logf("load: %d connections, %s, %s, collector GOMAXPROCS=%s, --fsync %s, live=%v, Cassandra restart=%v (stopped at %s, back at %s)",
		conns, mode, elapsed.Round(time.Millisecond), procs, loadEnv("PVJOBS_LOAD_FSYNC", "1s"), live != "", restart, stopped.Round(time.Second), restarted.Round(time.Second))
	t.Logf("answered 2xx: %d (%.0f/s), not 2xx: %d; latency of 2xx p50 %s, p99 %s, max %s",
		ok, float64(ok)/elapsed.Seconds(), failed, pct(0.50), pct(0.99), pct(1))
	t.Logf("collector CPU during the load: %s (%.2f cores): %.0f page views per CPU-second",
		cpuLoad.Round(time.Millisecond), cpuLoad.Seconds()/elapsed.Seconds(), float64(ok)/cpuLoad.Seconds())
	t.Logf("collector: written from the queue %s, spooled %s, replayed %s, write errors %s; peak queue %d, peak spool segments %d; drained %s after the load; peak RSS %d MiB",
		metrics["pvjobs_collect_written_total"], metrics["pvjobs_collect_spooled_total"], metrics["pvjobs_collect_replayed_total"],
		metrics["pvjobs_collect_write_errors_total"], peakQueued, peakSegments, drained.Round(time.Millisecond), rss>>20)
	if live != "" {
		t.Logf("live: added %s, dropped %s, errors %s", metrics["pvjobs_collect_live_added_total"], metrics["pvjobs_collect_live_dropped_total"], metrics["pvjobs_collect_live_errors_total"])
	}
	t.Logf("Cassandra: %d rows, %d distinct timeuuids; missing %d, stored twice %d, stored without a 2xx %d", rows, len(tsSeen), missing, twice, unanswered)
	if missing > 0 || twice > 0 || rows != len(tsSeen) || rows != ok+unanswered {
		t.Errorf("not exactly once: %d missing, %d twice, %d rows for %d distinct timeuuids and %d answered 2xx", missing, twice, rows, len(tsSeen), ok)
	}
	if restart && metrics["pvjobs_collect_replayed_total"] == "0" {
		t.Errorf("Cassandra was stopped but nothing was replayed from the spool")
	}
}

func lastLine(s string) string {
	ls := strings.Split(strings.TrimSpace(s), "\n")
	return ls[len(ls)-1]
}

func waitHTTP(t *testing.T, addr string, stderr *syncBuffer) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			res.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the collector did not start:\n%s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type healthz struct {
	Queued        int64 `json:"queued"`
	SpoolSegments int64 `json:"spool_segments"`
	Cassandra     string
}

func health(t *testing.T, addr string) healthz {
	t.Helper()
	res, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var h healthz
	if err := json.NewDecoder(res.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	return h
}

// scrape reads /metrics into series → value.
func scrape(t *testing.T, addr string) map[string]string {
	t.Helper()
	res, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	m := map[string]string{}
	for _, l := range strings.Split(string(body), "\n") {
		if k, v, ok := strings.Cut(l, " "); ok && !strings.HasPrefix(l, "#") {
			m[k] = v
		}
	}
	return m
}

// cpuTime reads the user and system CPU time a process used so far.
func cpuTime(pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces) in parentheses.
	s := string(data)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / 100 // USER_HZ is 100 on Linux
}

// peakRSS reads a process's peak resident set (VmHWM) in bytes.
func peakRSS(pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			var kb int64
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kb)
			return kb << 10
		}
	}
	return 0
}
