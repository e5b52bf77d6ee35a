package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/scheduler"
	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/reports/redis/redistest"
)

// syncBuffer is a bytes.Buffer safe for the scheduler's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// scheduler runs 'pvjobs schedule args...' on clock until the returned stop
// function is called, which returns its exit code.
func startScheduler(t *testing.T, clock scheduler.Clock, args ...string) (stderr *syncBuffer, metricsAddr <-chan string, stop func() int) {
	t.Helper()
	prevClock, prevListen := scheduleClock, onMetricsListen
	addr := make(chan string, 1)
	scheduleClock, onMetricsListen = clock, func(a string) { addr <- a }
	t.Cleanup(func() { scheduleClock, onMetricsListen = prevClock, prevListen })
	ctx, cancel := context.WithCancel(context.Background())
	stderr = &syncBuffer{}
	done := make(chan int, 1)
	go func() { done <- run(ctx, append([]string{"pvjobs", "schedule"}, args...), io.Discard, stderr) }()
	var once sync.Once
	code := -1
	stop = func() int {
		once.Do(func() {
			cancel()
			select {
			case code = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("the scheduler did not stop")
			}
		})
		return code
	}
	t.Cleanup(func() { stop() })
	return stderr, addr, stop
}

// nextSlot waits until the scheduler waits for want (RFC 3339) and moves the
// clock there.
func nextSlot(t *testing.T, clock *scheduler.FakeClock, want string, stderr *syncBuffer) {
	t.Helper()
	clock.Set(waitingFor(t, clock, want, stderr))
}

// waitingFor waits until the scheduler waits for want (RFC 3339), without
// moving the clock, and returns that time.
func waitingFor(t *testing.T, clock *scheduler.FakeClock, want string, stderr *syncBuffer) time.Time {
	t.Helper()
	if !clock.BlockUntil(1, 10*time.Second) {
		t.Fatalf("the scheduler is not waiting for %s:\n%s", want, stderr)
	}
	at, _ := clock.Next()
	if got := at.Format(time.RFC3339); got != want {
		t.Fatalf("the scheduler waits for %s; want %s", got, want)
	}
	return at
}

// TestScheduleCommand runs the scheduler on a fake clock over the embedded
// sample: a nightly Berlin job fires at 02:30, reports yesterday, writes its
// CSV files, its metrics file, the scheduler state and /metrics, and stops
// cleanly.
func TestScheduleCommand(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, fmt.Sprintf(`
defaults:
  tz: Europe/Berlin
  top: 0
scheduler:
  state: %[1]s/state.json
  metrics_addr: 127.0.0.1:0
jobs:
  nightly:
    reports: [urls, uniques]
    out: csv:%[1]s/out
    csv_pattern: "{report}-{from}.csv"
    schedule: "30 2 * * *"
    metrics_file: %[1]s/nightly.prom
  manual:
    reports: [urls]
`, dir))
	berlin, _ := time.LoadLocation("Europe/Berlin")
	clock := scheduler.NewFakeClock(time.Date(2024, 8, 6, 12, 0, 0, 0, berlin))
	stderr, addrc, stop := startScheduler(t, clock, "--config", cfg)
	var addr string
	select {
	case addr = <-addrc:
	case <-time.After(10 * time.Second):
		t.Fatalf("/metrics is not served:\n%s", stderr)
	}
	nextSlot(t, clock, "2024-08-07T02:30:00+02:00", stderr)
	// The run happens; then the job waits for the next night (the clock stays,
	// so no second run starts while the test looks at the first).
	waitingFor(t, clock, "2024-08-08T02:30:00+02:00", stderr)
	for _, f := range []string{"out/urls-2024-08-06.csv", "out/uniques-2024-08-06.csv", "nightly.prom", "state.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%v\n%s", err, stderr)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "state.json")); !strings.Contains(string(b), `"nightly": "2024-08-07T02:30:00+02:00"`) {
		t.Errorf("state %s", b)
	}
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, w := range []string{`pvjobs_runs_total{job="nightly"} 1`, `pvjobs_last_run_success{job="nightly"} 1`, `pvjobs_last_run_shards{job="nightly",state="found"} 4`} {
		if !strings.Contains(string(body), w+"\n") {
			t.Errorf("/metrics lacks %s:\n%s", w, body)
		}
	}
	if code := stop(); code != exitOK {
		t.Errorf("exit %d after SIGTERM; want 0\n%s", code, stderr)
	}
	logs := stderr.String()
	for _, w := range []string{`msg="job not scheduled: it has no schedule" job=manual`, `msg="scheduler started"`,
		`msg="run started" job=nightly slot=2024-08-07T02:30:00+02:00 from=2024-08-06T00:00:00+02:00 to=2024-08-07T00:00:00+02:00`,
		`msg="run summary" job=nightly shards_read=4 shards_missing=0`, `report_rows="uniques=`, `msg="run succeeded" job=nightly`, `msg="scheduler stopped"`} {
		if !strings.Contains(logs, w) {
			t.Errorf("logs lack %s:\n%s", w, logs)
		}
	}
}

// TestScheduleCatchUp restarts a scheduler after three nights of downtime:
// with catch_up 3d, the scheduler state from the last run makes it run the
// missed nights at once, oldest first.
func TestScheduleCatchUp(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state.json")
	os.WriteFile(state, []byte(`{"done": {"nightly": "2024-08-03T02:30:00Z"}}`), 0o644)
	cfg := writeConfig(t, fmt.Sprintf(`
scheduler:
  metrics_addr: 127.0.0.1:0
jobs:
  nightly:
    reports: [urls]
    top: 0
    out: csv:%[1]s/out
    csv_pattern: "{report}-{from}.csv"
    schedule: "30 2 * * *"
    catch_up: 3d
`, dir))
	clock := scheduler.NewFakeClock(time.Date(2024, 8, 7, 12, 0, 0, 0, time.UTC))
	stderr, addrc, stop := startScheduler(t, clock, "--config", cfg, "--state", state)
	addr := <-addrc
	nextSlot(t, clock, "2024-08-08T02:30:00Z", stderr)
	nextSlot(t, clock, "2024-08-09T02:30:00Z", stderr)
	// The slot of 2024-08-04 02:30 (reporting 08-03) is older than
	// catch_up: dropped, logged and counted.
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `pvjobs_slots_dropped_total{job="nightly"} 1`+"\n") {
		t.Errorf("/metrics does not count the dropped slot:\n%s", body)
	}
	if !strings.Contains(stderr.String(), `msg="slot missed, dropped" job=nightly slot=2024-08-04T02:30:00Z`) {
		t.Errorf("the dropped slot is not logged:\n%s", stderr)
	}
	stop()
	for _, day := range []string{"2024-08-04", "2024-08-05", "2024-08-06", "2024-08-07"} {
		if _, err := os.Stat(filepath.Join(dir, "out", "urls-"+day+".csv")); err != nil {
			t.Errorf("%s not reported: %v", day, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "urls-2024-08-03.csv")); err == nil {
		t.Error("2024-08-03 was reported again")
	}
	logs := stderr.String()
	i4, i5, i6 := strings.Index(logs, "from=2024-08-04T"), strings.Index(logs, "from=2024-08-05T"), strings.Index(logs, "from=2024-08-06T")
	if i4 < 0 || i4 > i5 || i5 > i6 {
		t.Errorf("catch-up runs not in order:\n%s", logs)
	}
}

// blockingSink is a Redis sink that waits, in Prepare, until the run is
// cancelled.
type blockingSink struct{ writing chan struct{} }

func (blockingSink) String() string { return "blocking sink" }
func (blockingSink) Check(context.Context, []string, *mapreduce.Plan, bool) error {
	return nil
}
func (s blockingSink) Prepare(ctx context.Context, _ []mapreduce.Report, _ *mapreduce.Plan) (prepared, error) {
	close(s.writing)
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestScheduleStopDuringRun stops the scheduler (SIGTERM) while a run
// writes: exit 130 naming the run, nothing recorded, the slot stays due.
func TestScheduleStopDuringRun(t *testing.T) {
	dir := t.TempDir()
	writing := make(chan struct{})
	prev := openRedisSink
	openRedisSink = func(string, *runParams) (sink, error) { return blockingSink{writing}, nil }
	t.Cleanup(func() { openRedisSink = prev })
	state := filepath.Join(dir, "state.json")
	cfg := writeConfig(t, fmt.Sprintf(`
scheduler:
  state: %[1]s
jobs:
  nightly:
    reports: [urls]
    out: redis://127.0.0.1:1/0
    schedule: "30 2 * * *"
`, state))
	clock := scheduler.NewFakeClock(time.Date(2024, 8, 7, 12, 0, 0, 0, time.UTC))
	stderr, _, stop := startScheduler(t, clock, "--config", cfg)
	nextSlot(t, clock, "2024-08-08T02:30:00Z", stderr)
	select {
	case <-writing:
	case <-time.After(30 * time.Second):
		t.Fatalf("the run did not get to its outputs:\n%s", stderr)
	}
	if code := stop(); code != exitInterrupted {
		t.Errorf("exit %d; want %d\n%s", code, exitInterrupted, stderr)
	}
	if !strings.Contains(stderr.String(), "pvjobs: interrupted: the scheduler stopped during a run (nightly 2024-08-08T02:30:00Z)") {
		t.Errorf("stderr does not name the stopped run:\n%s", stderr)
	}
	if b, err := os.ReadFile(state); err == nil && strings.Contains(string(b), "nightly") {
		t.Errorf("the cancelled slot is recorded as done: %s", b)
	}
}

func TestScheduleUsage(t *testing.T) {
	none := writeConfig(t, "jobs:\n  a: {}\n")
	one := writeConfig(t, "jobs:\n  a: {schedule: '@daily'}\n  b: {}\n")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no config", []string{"schedule"}, "--config FILE is required"},
		{"no schedules", []string{"schedule", "--config", none}, "no job in " + none + " has a schedule"},
		{"unknown job", []string{"schedule", "--config", one, "--job", "c"}, `no job "c"`},
		{"job without schedule", []string{"schedule", "--config", one, "--job", "b"}, "--job b: the job has no schedule"},
		{"bad lock", []string{"schedule", "--config", one, "--lock", "http://x"}, "--lock"},
		{"bad lock ttl", []string{"schedule", "--config", one, "--lock-ttl", "5ms"}, "--lock-ttl"},
		{"bad tz", []string{"schedule", "--config", one, "--tz", "Mars/Base"}, "Mars/Base"},
		{"an argument", []string{"schedule", "--config", one, "now"}, "unexpected argument"},
		{"run-only flag", []string{"schedule", "--config", one, "--yesterday"}, "yesterday"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := opsCLI(t, context.Background(), tc.args...)
			if code != exitUsage || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d; want %d and %q in\n%s", code, exitUsage, tc.want, stderr)
			}
		})
	}
}

// TestScheduleRedisLock runs two schedulers (two machines) sharing a Redis
// lock on one fake clock: the night runs once.
func TestScheduleRedisLock(t *testing.T) {
	addr := redistest.Addr(t)
	dir := t.TempDir()
	// A job name of its own keeps the test's Redis keys apart.
	job := fmt.Sprintf("t%d_%d", os.Getpid(), time.Now().UnixNano())
	cfg := writeConfig(t, fmt.Sprintf(`
scheduler:
  lock: redis://%s/0
  lock_ttl: 2s
jobs:
  %s:
    reports: [urls]
    top: 0
    out: csv:%s/out
    schedule: "0 3 * * *"
`, addr, job, dir))
	clock := scheduler.NewFakeClock(time.Date(2024, 8, 7, 12, 0, 0, 0, time.UTC))
	// One after the other: urfave/cli's flag parsing is not safe for two
	// apps at once (one process runs one). Both log to the second's stderr
	// from then on.
	a, _, stopA := startScheduler(t, clock, "--config", cfg)
	if !clock.BlockUntil(1, 10*time.Second) {
		t.Fatalf("the first scheduler is not waiting:\n%s", a)
	}
	b, _, stopB := startScheduler(t, clock, "--config", cfg)
	if !clock.BlockUntil(2, 10*time.Second) {
		t.Fatalf("the schedulers are not waiting:\n%s\n%s", a, b)
	}
	clock.Set(time.Date(2024, 8, 8, 3, 0, 0, 0, time.UTC))
	// One runs the slot; the other waits for the lock (a timer 10s on),
	// tries again when the clock gets there, finds the slot done, and both
	// go on to wait for the next night.
	deadline := time.Now().Add(30 * time.Second)
	for {
		next, ok := clock.Next()
		if ok && clock.Waiters() == 2 && next.Day() == 9 {
			break
		}
		if ok && clock.Waiters() == 2 && next.Day() == 8 {
			clock.Set(next) // the waiting scheduler's next try
		}
		if time.Now().After(deadline) {
			t.Fatalf("the schedulers did not go on:\n%s\n%s", a, b)
		}
		clock.BlockUntil(3, 10*time.Millisecond) // wakes when the timers change
	}
	if code := stopA(); code != exitOK {
		t.Errorf("exit %d of an idle scheduler; want 0", code)
	}
	stopB()
	logs := a.String() + b.String()
	if n := strings.Count(logs, `msg="run started"`); n != 1 {
		t.Errorf("%d runs; want 1:\n%s", n, logs)
	}
	if !strings.Contains(logs, "slot waits: the job is running elsewhere") || !strings.Contains(logs, "slot skipped: already done") {
		t.Errorf("no scheduler waited for the lock and then skipped the slot:\n%s", logs)
	}
	if !strings.Contains(logs, `lock="redis `+addr+` db 0"`) {
		t.Errorf("the lock is not described by its target:\n%s", logs)
	}
}

// TestScheduleLockSettings: the lock's connection is made like the Redis
// sink's, with the --redis-* settings, and its URL's password never shows.
func TestScheduleLockSettings(t *testing.T) {
	cfg := writeConfig(t, "jobs:\n  a: {schedule: '@daily'}\n")
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"bad option", []string{"--lock", "redis://u:hunter2@127.0.0.1:1/0?colour=blue"}, exitUsage, `invalid Redis URL "redis://u:xxxxx@127.0.0.1:1/0?colour=blue"`},
		{"TLS files without rediss", []string{"--lock", "redis://u:hunter2@127.0.0.1:1/0", "--redis-ca", "ca.pem"}, exitUsage, "TLS options need a rediss:// URL"},
		{"missing CA", []string{"--lock", "rediss://u:hunter2@127.0.0.1:1/0", "--redis-ca", "/nonexistent/ca.pem"}, exitUsage, "/nonexistent/ca.pem"},
		{"down", []string{"--lock", "redis://u:hunter2@127.0.0.1:1/0?max_retries=0", "--redis-timeout", "1s"}, exitFailed, "redis 127.0.0.1:1 db 0: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := opsCLI(t, context.Background(), append([]string{"schedule", "--config", cfg}, tc.args...)...)
			if code != tc.code || !strings.Contains(stderr, tc.want) || strings.Contains(stderr, "hunter2") {
				t.Errorf("exit %d; want %d and %q without the password in\n%s", code, tc.code, tc.want, stderr)
			}
		})
	}
}

// TestScheduleFence: a scheduled run whose Redis lock expired while it ran
// (another scheduler holds it now) commits nothing: its outputs were
// prepared, the fence before the commit finds the lock gone, and they are
// dropped.
func TestScheduleFence(t *testing.T) {
	addr := redistest.Addr(t)
	rc := goredis.NewClient(&goredis.Options{Addr: addr, DisableIdentity: true})
	defer rc.Close()
	dir := t.TempDir()
	job := fmt.Sprintf("fence%d_%d", os.Getpid(), time.Now().UnixNano())
	lockKey := scheduler.DefaultPrefix + "lock:" + job
	t.Cleanup(func() { rc.Del(context.Background(), lockKey, scheduler.DefaultPrefix+"done:"+job) })
	cfg := writeConfig(t, fmt.Sprintf(`
scheduler:
  lock: redis://%s/0
  lock_ttl: 30s
jobs:
  %s:
    reports: [urls]
    top: 0
    out: csv:%s/out
    schedule: "0 3 * * *"
`, addr, job, dir))
	// Once the outputs are prepared, the lock is another holder's: this
	// run's expired (a stall longer than lock_ttl) and another scheduler
	// took the slot.
	hook(t, func(string) {
		if err := rc.Set(context.Background(), lockKey, "other-host:1:abc", 30*time.Second).Err(); err != nil {
			t.Error(err)
		}
	})
	clock := scheduler.NewFakeClock(time.Date(2024, 8, 7, 12, 0, 0, 0, time.UTC))
	stderr, _, stop := startScheduler(t, clock, "--config", cfg)
	nextSlot(t, clock, "2024-08-08T03:00:00Z", stderr)
	waitingFor(t, clock, "2024-08-09T03:00:00Z", stderr)
	stop()
	logs := stderr.String()
	if !strings.Contains(logs, `msg="run failed: the job's lock was lost; its new holder runs the slot"`) ||
		!strings.Contains(logs, "before the commit, no output was changed") {
		t.Errorf("the run did not fail at its fence:\n%s", logs)
	}
	if names := dirNames(t, filepath.Join(dir, "out")); len(names) > 0 {
		t.Errorf("a run that lost its lock wrote %v", names)
	}
	if v := rc.Get(context.Background(), lockKey).Val(); v != "other-host:1:abc" {
		t.Errorf("the other holder's lock is %q now", v)
	}
}
