package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMetricsFile runs a config job twice, once failing: the textfile keeps
// the counters and the last success.
func TestMetricsFile(t *testing.T) {
	dir := t.TempDir()
	prom := filepath.Join(dir, "textfile", "pvjobs.prom")
	cfg := writeConfig(t, `
jobs:
  nightly:
    reports: [urls]
    top: 0
    metrics_file: `+prom+`
    out: csv:`+filepath.Join(dir, "out")+`
`)
	opsMust(t, "run", "--config", cfg, "--from", "2024-08-01", "--to", "2024-08-02")
	first, _ := os.ReadFile(prom)
	// Fails: no such account, so no page views at all.
	if code, _, stderr := opsCLI(t, context.Background(), "run", "--config", cfg, "--accounts", "nobody"); code != exitFailed {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	second, _ := os.ReadFile(prom)
	for _, w := range []string{
		`pvjobs_runs_total{job="nightly"} 1`, `pvjobs_failures_total{job="nightly"} 0`, `pvjobs_last_run_success{job="nightly"} 1`,
		`pvjobs_last_run_rows{job="nightly"} 928`, `pvjobs_last_run_shards{job="nightly",state="found"} 4`,
		`pvjobs_last_run_report_rows{job="nightly",report="urls"}`,
	} {
		if !strings.Contains(string(first), w) {
			t.Errorf("after the first run, the metrics lack %s:\n%s", w, first)
		}
	}
	lastSuccess := func(b []byte) string {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "pvjobs_last_success_timestamp_seconds") {
				return l
			}
		}
		return ""
	}
	for _, w := range []string{`pvjobs_runs_total{job="nightly"} 2`, `pvjobs_failures_total{job="nightly"} 1`, `pvjobs_last_run_success{job="nightly"} 0`} {
		if !strings.Contains(string(second), w) {
			t.Errorf("after the failed run, the metrics lack %s:\n%s", w, second)
		}
	}
	if l := lastSuccess(second); l == "" || l != lastSuccess(first) {
		t.Errorf("last success changed by a failed run: %q, was %q", l, lastSuccess(first))
	}
	// A dry run records nothing.
	opsMust(t, "run", "--config", cfg, "--dry-run")
	if third, _ := os.ReadFile(prom); string(third) != string(second) {
		t.Error("a dry run changed the metrics")
	}
}

func TestMetricsFileWithoutJob(t *testing.T) {
	prom := filepath.Join(t.TempDir(), "run.prom")
	opsMust(t, "run", "--jobs", "urls", "--top", "0", "--out", "csv:"+t.TempDir(), "--metrics-file", prom)
	b, err := os.ReadFile(prom)
	if err != nil || !strings.Contains(string(b), `pvjobs_runs_total{job="run"} 1`) {
		t.Errorf("metrics %s, %v", b, err)
	}
}

func TestTimeout(t *testing.T) {
	prom := filepath.Join(t.TempDir(), "run.prom")
	out := t.TempDir()
	code, _, stderr := opsCLI(t, context.Background(), "run", "--jobs", "urls", "--out", "csv:"+out, "--timeout", "1ns", "--metrics-file", prom)
	if code != exitFailed || !strings.Contains(stderr, "timeout 1ns") {
		t.Errorf("exit %d; want %d and the timeout named:\n%s", code, exitFailed, stderr)
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("a timed-out run wrote %v", entries)
	}
	if b, _ := os.ReadFile(prom); !strings.Contains(string(b), `pvjobs_failures_total{job="run"} 1`) {
		t.Errorf("the timeout is not a failure in the metrics:\n%s", b)
	}
}
