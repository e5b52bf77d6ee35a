package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pvjobs/pvjobs/reports/metrics"
)

// defaultMetricsJob is the job label of a run that is not a config job.
const defaultMetricsJob = "run"

// metricsFileMu serialises the read-modify-write of metrics files within the
// process (scheduled jobs may share one file).
var metricsFileMu sync.Mutex

// executeOps runs p as execute does, within p.Timeout, and records the run's
// metrics in reg (when not nil) and in p.MetricsFile (when set). A dry run
// and a run interrupted by a signal record nothing.
func executeOps(ctx context.Context, p *runParams, stdout, stderr io.Writer, reg *metrics.Registry) error {
	if p.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.Timeout)
		defer cancel()
	}
	start := time.Now()
	err := execute(ctx, p, stdout, stderr)
	if err != nil && p.Timeout > 0 && errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("%w (timeout %s)", err, p.Timeout)
	}
	if p.DryRun || errors.Is(err, context.Canceled) {
		return err
	}
	run := runMetrics(p, err == nil, start)
	if reg != nil {
		reg.Record(run)
	}
	if p.MetricsFile != "" {
		if werr := recordFile(p.MetricsFile, run); werr != nil {
			if err == nil {
				return werr
			}
			slog.Error("cannot write the metrics file", "err", werr)
		}
	}
	return err
}

// runMetrics describes the finished run p.
func runMetrics(p *runParams, ok bool, start time.Time) metrics.Run {
	job := p.Job
	if job == "" {
		job = defaultMetricsJob
	}
	run := metrics.Run{Job: job, Finished: time.Now(), Success: ok, Duration: time.Since(start)}
	if res := p.result; res != nil {
		s := &res.Summary
		run.Rows, run.BadRows, run.Spam, run.OutsideRows = s.Rows, s.BadRows, s.Spam, s.Skipped
		run.ShardsFound, run.ShardsMissing, run.ShardsUnread = s.ShardsFound, s.ShardsMissing, s.ShardsUnread
		if ok {
			run.ReportRows = map[string]int64{}
			for _, r := range res.Reports {
				run.ReportRows[r.Name] += int64(len(r.Rows))
			}
		}
	}
	return run
}

// recordFile adds run to the metrics file at path, atomically.
func recordFile(path string, run metrics.Run) error {
	metricsFileMu.Lock()
	defer metricsFileMu.Unlock()
	reg, err := metrics.ReadFile(path)
	if err != nil {
		slog.Warn("the metrics file is unreadable; starting it afresh", "err", err)
		reg = &metrics.Registry{}
	}
	reg.Record(run)
	return reg.WriteFile(path)
}

// logRun logs the summary of a scheduled run: rows, shards, reports, rates.
// The scheduler itself logs that a run failed and why.
func logRun(p *runParams, err error) {
	res := p.result
	if res == nil {
		return
	}
	s := &res.Summary
	attrs := []any{"job", p.Job, "shards_read", s.ShardsFound, "shards_missing", s.ShardsMissing, "shards_unread", s.ShardsUnread,
		"rows", s.Rows, "bad_rows", s.BadRows, "outside_rows", s.Skipped, "spam", s.Spam, "duration", s.Duration.Round(time.Millisecond).String(),
		"rows_per_s", int64(s.RowsPerSecond())}
	if err != nil {
		slog.Warn("run summary (failed)", attrs...)
		return
	}
	var reps []string
	for _, r := range res.Reports {
		reps = append(reps, fmt.Sprintf("%s=%d", r.Name, len(r.Rows)))
	}
	sort.Strings(reps)
	slog.Info("run summary", append(attrs, "report_rows", strings.Join(reps, " "))...)
}
