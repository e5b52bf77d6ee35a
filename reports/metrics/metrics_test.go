package metrics_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/reports/metrics"
)

var t0 = time.Date(2024, 8, 8, 0, 30, 12, 500_000_000, time.UTC)

func nightly(ok bool, at time.Time) metrics.Run {
	r := metrics.Run{Job: "nightly", Finished: at, Success: ok, Duration: 1500 * time.Millisecond,
		Rows: 3244, BadRows: 2, OutsideRows: 310, ShardsFound: 13, ShardsMissing: 1}
	if ok {
		r.ReportRows = map[string]int64{"urls": 120, "uniques": 40}
	}
	return r
}

func Example() {
	var r metrics.Registry
	r.Record(metrics.Run{Job: "nightly", Finished: time.Unix(1723077012, 0), Success: true, Duration: 1500 * time.Millisecond,
		Rows: 3000, BadRows: 2, ShardsFound: 13, ShardsMissing: 1, ReportRows: map[string]int64{"urls": 120, "uniques": 40}})
	r.WriteTo(os.Stdout)
	// Output:
	// # HELP pvjobs_runs_total Runs of the job that finished (successfully or not).
	// # TYPE pvjobs_runs_total counter
	// pvjobs_runs_total{job="nightly"} 1
	// # HELP pvjobs_failures_total Runs of the job that failed.
	// # TYPE pvjobs_failures_total counter
	// pvjobs_failures_total{job="nightly"} 0
	// # HELP pvjobs_last_run_timestamp_seconds When the job's last run finished, in Unix seconds.
	// # TYPE pvjobs_last_run_timestamp_seconds gauge
	// pvjobs_last_run_timestamp_seconds{job="nightly"} 1723077012
	// # HELP pvjobs_last_run_success 1 if the job's last run succeeded, else 0.
	// # TYPE pvjobs_last_run_success gauge
	// pvjobs_last_run_success{job="nightly"} 1
	// # HELP pvjobs_last_success_timestamp_seconds When the job's last successful run finished, in Unix seconds (0: never).
	// # TYPE pvjobs_last_success_timestamp_seconds gauge
	// pvjobs_last_success_timestamp_seconds{job="nightly"} 1723077012
	// # HELP pvjobs_last_run_duration_seconds How long the job's last run took.
	// # TYPE pvjobs_last_run_duration_seconds gauge
	// pvjobs_last_run_duration_seconds{job="nightly"} 1.5
	// # HELP pvjobs_last_run_rows Rows (page views) the job's last run read.
	// # TYPE pvjobs_last_run_rows gauge
	// pvjobs_last_run_rows{job="nightly"} 3000
	// # HELP pvjobs_last_run_bad_rows Rows the job's last run skipped as bad.
	// # TYPE pvjobs_last_run_bad_rows gauge
	// pvjobs_last_run_bad_rows{job="nightly"} 2
	// # HELP pvjobs_last_run_spam_pageviews Page views the job's last run left out as referrer spam.
	// # TYPE pvjobs_last_run_spam_pageviews gauge
	// pvjobs_last_run_spam_pageviews{job="nightly"} 0
	// # HELP pvjobs_last_run_outside_rows Rows of the shards the job's last run read that were outside its range, left out.
	// # TYPE pvjobs_last_run_outside_rows gauge
	// pvjobs_last_run_outside_rows{job="nightly"} 0
	// # HELP pvjobs_last_run_rows_per_second Rows per second the job's last run read.
	// # TYPE pvjobs_last_run_rows_per_second gauge
	// pvjobs_last_run_rows_per_second{job="nightly"} 2000
	// # HELP pvjobs_last_run_shards Shards of the job's last run, by state: found (read, with rows), missing (read, no rows) or unread (the run failed first).
	// # TYPE pvjobs_last_run_shards gauge
	// pvjobs_last_run_shards{job="nightly",state="found"} 13
	// pvjobs_last_run_shards{job="nightly",state="missing"} 1
	// pvjobs_last_run_shards{job="nightly",state="unread"} 0
	// # HELP pvjobs_last_run_report_rows Rows of each report of the job's last run.
	// # TYPE pvjobs_last_run_report_rows gauge
	// pvjobs_last_run_report_rows{job="nightly",report="uniques"} 40
	// pvjobs_last_run_report_rows{job="nightly",report="urls"} 120
}

func text(r *metrics.Registry) string {
	var b strings.Builder
	r.WriteTo(&b)
	return b.String()
}

func TestRecord(t *testing.T) {
	var r metrics.Registry
	r.Record(nightly(true, t0))
	r.Record(nightly(false, t0.Add(24*time.Hour)))
	r.Record(metrics.Run{Job: `we"ird\job`, Finished: t0, Success: true})
	got := text(&r)
	for _, want := range []string{
		`pvjobs_runs_total{job="nightly"} 2`,
		`pvjobs_failures_total{job="nightly"} 1`,
		`pvjobs_last_run_success{job="nightly"} 0`,
		// The failed run keeps the success before it.
		`pvjobs_last_success_timestamp_seconds{job="nightly"} 1723077012.5`,
		`pvjobs_last_run_timestamp_seconds{job="nightly"} 1723163412.5`,
		`pvjobs_runs_total{job="we\"ird\\job"} 1`,
	} {
		if !strings.Contains(got, want+"\n") {
			t.Errorf("missing %s in\n%s", want, got)
		}
	}
	if strings.Contains(got, `report_rows{job="nightly"`) {
		t.Errorf("a failed run has report rows:\n%s", got)
	}
	if strings.Count(got, "# TYPE pvjobs_runs_total counter") != 1 {
		t.Errorf("a family's TYPE line is repeated:\n%s", got)
	}
}

// TestDropped: a scheduled job counts its dropped slots from zero, a job run
// by hand has no such counter, and the count survives a file.
func TestDropped(t *testing.T) {
	var r metrics.Registry
	r.Record(nightly(true, t0))
	r.Scheduled("weekly")
	if got := text(&r); strings.Contains(got, `pvjobs_slots_dropped_total{job="nightly"}`) ||
		!strings.Contains(got, `pvjobs_slots_dropped_total{job="weekly"} 0`+"\n") {
		t.Errorf("before any drop:\n%s", got)
	}
	r.Dropped("nightly")
	r.Dropped("nightly")
	path := filepath.Join(t.TempDir(), "m.prom")
	if err := r.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	back, err := metrics.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	back.Dropped("nightly")
	if got := text(back); !strings.Contains(got, `pvjobs_slots_dropped_total{job="nightly"} 3`+"\n") ||
		!strings.Contains(got, `pvjobs_slots_dropped_total{job="weekly"} 0`+"\n") {
		t.Errorf("after a file round trip and one more drop:\n%s", got)
	}
}

func TestEmpty(t *testing.T) {
	if got := text(&metrics.Registry{}); got != "" {
		t.Errorf("an empty registry writes %q", got)
	}
}

// TestFileRoundTrip writes the textfile the way a cron run does: read the
// last file, record the run, write it back.
func TestFileRoundTrip(t *testing.T) {
	defer syscall.Umask(syscall.Umask(0o022)) // the usual umask: files are 0644
	path := filepath.Join(t.TempDir(), "textfile", "pvjobs_nightly.prom")
	record := func(run metrics.Run) {
		t.Helper()
		r, err := metrics.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		r.Record(run)
		if err := r.WriteFile(path); err != nil {
			t.Fatal(err)
		}
	}
	record(nightly(true, t0))
	record(metrics.Run{Job: "weekly", Finished: t0, Success: true, Rows: 7})
	failed := nightly(false, t0.Add(24*time.Hour))
	failed.ShardsFound, failed.ShardsMissing, failed.ShardsUnread = 3, 0, 11
	record(failed)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	for _, want := range []string{
		`pvjobs_runs_total{job="nightly"} 2`,
		`pvjobs_failures_total{job="nightly"} 1`,
		`pvjobs_last_success_timestamp_seconds{job="nightly"} 1723077012.5`,
		`pvjobs_last_run_success{job="nightly"} 0`,
		`pvjobs_runs_total{job="weekly"} 1`,
		`pvjobs_last_run_rows{job="weekly"} 7`,
		`pvjobs_last_run_outside_rows{job="nightly"} 310`,
		// A failed run's unread shards are not missing.
		`pvjobs_last_run_shards{job="nightly",state="found"} 3`,
		`pvjobs_last_run_shards{job="nightly",state="missing"} 0`,
		`pvjobs_last_run_shards{job="nightly",state="unread"} 11`,
	} {
		if !strings.Contains(got, want+"\n") {
			t.Errorf("missing %s in\n%s", want, got)
		}
	}
	// Reading and writing again changes nothing.
	r, err := metrics.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if again := text(r); again != got {
		t.Errorf("round trip changed the file:\n%s\nwant\n%s", again, got)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("files left beside the textfile: %v", entries)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v; the collector must be able to read it", st.Mode())
	}
	// A file made readable to the collector's group only keeps its mode.
	os.Chmod(path, 0o640)
	record(nightly(true, t0.Add(48*time.Hour)))
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v after a rewrite; want the file's 0640 kept", st.Mode())
	}
}

func TestReadFileErrors(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"no job label": "pvjobs_runs_total 3\n",
		"not a number": `pvjobs_runs_total{job="a"} many` + "\n",
		"unterminated": `pvjobs_runs_total{job="a} 1` + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".prom")
			os.WriteFile(path, []byte("# other\nnode_x 1\n"+content), 0o644)
			if _, err := metrics.ReadFile(path); err == nil || !strings.Contains(err.Error(), "line 3") {
				t.Errorf("ReadFile: %v; want an error naming line 3", err)
			}
		})
	}
}

func TestServeHTTP(t *testing.T) {
	var r metrics.Registry
	r.Record(nightly(true, t0))
	srv := httptest.NewServer(&r)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != metrics.ContentType {
		t.Errorf("status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	resp2, err := http.Post(srv.URL+"/metrics", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: status %d", resp2.StatusCode)
	}
}

func FuzzReadFile(f *testing.F) {
	var r metrics.Registry
	r.Record(nightly(true, t0))
	f.Add(text(&r))
	f.Add(`pvjobs_last_run_shards{job="a\nb",state="found"} 1 1723077012000` + "\n")
	f.Fuzz(func(t *testing.T, s string) {
		path := filepath.Join(t.TempDir(), "m.prom")
		os.WriteFile(path, []byte(s), 0o644)
		reg, err := metrics.ReadFile(path)
		if err != nil {
			return
		}
		// What was read writes back and reads again to the same text.
		first := text(reg)
		os.WriteFile(path, []byte(first), 0o644)
		reg2, err := metrics.ReadFile(path)
		if err != nil {
			t.Fatalf("reading our own output: %v\n%s", err, first)
		}
		if second := text(reg2); second != first {
			t.Fatalf("not stable:\n%s\n---\n%s", first, second)
		}
	})
}
