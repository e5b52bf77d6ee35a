package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/options"
	"github.com/pvjobs/pvjobs/mapreduce"
)

// genShards writes a few days of shard files for two accounts.
func genShards(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	opsMust(t, "gen", "--to-dir", dir, "--accounts", "blog,shop", "--from", "2024-08-01", "--to", "2024-08-03", "--rows-per-day", "500")
	return dir
}

func TestProgressBar(t *testing.T) {
	shards := genShards(t)
	p := runParams{Values: options.Values{Source: shards, Accounts: []string{"all"}, TZ: "UTC", Jobs: []string{"urls"}, Out: []string{"csv:" + t.TempDir()},
		CSVPattern: "{report}.csv", Workers: 1}}
	p.Progress = "bar"
	var stdout, stderr bytes.Buffer
	if err := executeOps(context.Background(), &p, &stdout, &stderr, nil); err != nil {
		t.Fatal(err)
	}
	// The bar is drawn at most every 100ms, so a short run shows its start.
	if e := stderr.String(); !strings.Contains(e, "\rshards ") || !strings.Contains(e, "/6 · ") || !strings.Contains(e, "rows/s") || !strings.Contains(e, "% |") {
		t.Errorf("no progress bar on stderr:\n%q", stderr.String())
	}
	if !strings.Contains(stdout.String(), "shards 6 read, 0 missing") {
		t.Errorf("no summary on stdout:\n%s", stdout.String())
	}
}

func TestProgressAutoNotTerminal(t *testing.T) {
	// Not a terminal: no bar, and a run shorter than the log interval logs
	// nothing.
	p := runParams{Values: options.Values{Accounts: []string{"all"}, TZ: "UTC", Jobs: []string{"urls"}, Out: []string{"csv:" + t.TempDir()}, CSVPattern: "{report}.csv", Top: 0}}
	p.Progress = "auto"
	var stdout, stderr bytes.Buffer
	if err := executeOps(context.Background(), &p, &stdout, &stderr, nil); err != nil {
		t.Fatal(err)
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr %q; want nothing", stderr.String())
	}
}

// lineWriter hands each write (one slog record) to lines, dropping those
// nobody waits for.
type lineWriter struct{ lines chan string }

func (w lineWriter) Write(p []byte) (int, error) {
	select {
	case w.lines <- string(p):
	default:
	}
	return len(p), nil
}

// progressLine starts a logged progress run of 14 items, lets feed play the
// engine's part, and returns the first progress line logged after it that
// contains until (a line being written while feed ran may show less).
func progressLine(t *testing.T, until string, feed func(s *runSetup, items []mapreduce.WorkItem)) (string, *runParams) {
	t.Helper()
	logs := lineWriter{make(chan string)}
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(logs, nil)))
	defer slog.SetDefault(prev)
	p := runParams{Values: options.Values{Accounts: []string{"all"}, TZ: "UTC", Jobs: []string{"urls"}, Out: []string{"csv:x"}, CSVPattern: "{report}.csv"}}
	p.Progress, p.ProgressEvery = "log", 2*time.Millisecond
	s, err := setupRun(context.Background(), &p)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	finish := startRun(&p, s, &bytes.Buffer{})
	feed(s, s.plan.Items(s.src.Split()))
	timeout := time.After(10 * time.Second)
	for {
		select {
		case line := <-logs.lines:
			if strings.Contains(line, until) {
				finish(&mapreduce.Result{}, nil)
				return line, &p
			}
		case <-timeout:
			t.Fatalf("no progress line with %s within 10 s", until)
		}
	}
}

func TestProgressLog(t *testing.T) {
	line, p := progressLine(t, "rows=700", func(s *runSetup, items []mapreduce.WorkItem) {
		for _, it := range items[:len(items)/2] {
			s.opts.Read.Add(100) // what the engine's workers do while reading
			s.opts.OnItem(it, 100)
		}
	})
	for _, w := range []string{"msg=progress", "shards=7/14", "items=7/14", "rows=700", "rows_per_s=", "eta="} {
		if !strings.Contains(line, w) {
			t.Errorf("progress line lacks %s: %s", w, line)
		}
	}
	if strings.Contains(line, "eta=unknown") {
		t.Errorf("eta unknown with half the items done: %s", line)
	}
	if p.result == nil {
		t.Error("the result is not kept for the metrics")
	}
}

// TestProgressLogBeforeFirstItem: rows read inside an unfinished item show,
// and the time left is unknown rather than 0s.
func TestProgressLogBeforeFirstItem(t *testing.T) {
	line, _ := progressLine(t, "rows=4096", func(s *runSetup, _ []mapreduce.WorkItem) { s.opts.Read.Add(4096) })
	for _, w := range []string{"items=0/14", "rows=4096", "eta=unknown"} {
		if !strings.Contains(line, w) {
			t.Errorf("progress line lacks %s: %s", w, line)
		}
	}
}

func TestDryRun(t *testing.T) {
	out := filepath.Join(t.TempDir(), "reports")
	stdout, _ := opsMust(t, "run", "--dry-run", "--tz", "Europe/Berlin", "--from", "2024-08-06", "--to", "2024-08-06",
		"--jobs", "urls,uniques", "--out", "csv:"+out, "--csv-pattern", "{report}-{from}.csv", "--metrics-file", filepath.Join(out, "m.prom"))
	for _, w := range []string{
		"dry run: nothing is read or written",
		"range     2024-08-06T00:00:00+02:00 to 2024-08-07T00:00:00+02:00 (Europe/Berlin; 1 local day, 24 hours)",
		"          2024-08-05T22:00:00 to 2024-08-06T22:00:00 UTC",
		"source    embedded sample",
		"accounts  blog, shop",
		"reports   urls, uniques",
		"shards    4 (4 work items",
		"20240805.blog  [22:00, 24:00) UTC",
		"20240806.shop  [00:00, 22:00) UTC",
		"output    CSV files in " + out,
		"files: urls-2024-08-06.csv, uniques-2024-08-06.csv",
		"metrics   " + filepath.Join(out, "m.prom"),
	} {
		if !strings.Contains(stdout, w) {
			t.Errorf("plan lacks %q:\n%s", w, stdout)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a dry run wrote output")
	}
	// A usage error is still an error in a dry run.
	if code, _, _ := opsCLI(t, context.Background(), "run", "--dry-run", "--jobs", "nope"); code != exitUsage {
		t.Errorf("dry run with a bad job: exit %d", code)
	}
}

func TestHumanCount(t *testing.T) {
	for in, want := range map[float64]string{0: "0", 999: "999", 12345: "12k", 1_250_000: "1.2M", 3.4e9: "3.4G"} {
		if got := humanCount(in); got != want {
			t.Errorf("humanCount(%v) = %s; want %s", in, got, want)
		}
	}
}
