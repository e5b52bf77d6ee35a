package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/reports/partials"
)

// benchShards is a week of generated page views of four accounts, about a
// million, as shard files, made once per benchmark run.
var benchShards = sync.OnceValues(func() (benchData, error) {
	dir, err := os.MkdirTemp("", "pvjobs-bench-shards-")
	if err != nil {
		return benchData{}, err
	}
	benchShardsDir = dir
	var out, errOut strings.Builder
	if code := run(context.Background(), []string{"pvjobs", "gen", "--to-dir", dir, "--accounts", "blog,shop,news,docs",
		"--from", "2024-08-01", "--to", "2024-08-07", "--rows-per-day", "36000"}, &out, &errOut); code != 0 {
		return benchData{}, fmt.Errorf("gen: exit %d: %s", code, errOut.String())
	}
	var rows int64
	if _, err := fmt.Sscanf(out.String(), "wrote %d page views", &rows); err != nil {
		return benchData{}, fmt.Errorf("gen printed %q", out.String())
	}
	return benchData{dir, rows}, nil
})

// benchData is the benchmark's shard files and their number of page views.
type benchData struct {
	dir  string
	rows int64
}

// benchShardsDir is removed at the end, like shardBinDir.
var benchShardsDir string

// BenchmarkShards times one run of every job over a million page views as
// 1 process, as 4 processes cut by account (run at once, as an Indexed Job
// with parallelism 4 would), and as 4 processes cut by day followed by
// pvjobs merge; it reports page views per second of wall time, the merge's
// share, and the size of the partial-result files per million page views.
// The processes share the machine's cores: on a small machine 4 shards
// gain only what one process leaves idle (building and writing its reports
// alone, reading one shard file per work item); across machines the gain
// is the number of machines.
func BenchmarkShards(b *testing.B) {
	bin := shardBinB(b)
	data, err := benchShards()
	if err != nil {
		b.Fatal(err)
	}
	rows := float64(data.rows)
	args := []string{"run", "--source", data.dir, "--jobs", "all", "--geoip", filepath.Join("..", "..", "jobs", "geo", "testdb", "test-city.mmdb"),
		"--quiet", "--tz", "Europe/Berlin", "--csv-pattern", "{report}-{account}.csv"}
	report := func(b *testing.B, elapsed time.Duration) {
		b.ReportMetric(rows*float64(b.N)/elapsed.Seconds(), "pageviews/s")
		b.ReportMetric(0, "ns/op")
	}
	b.Run("1 process", func(b *testing.B) {
		var elapsed time.Duration
		for b.Loop() {
			t0 := time.Now()
			mustProcsB(b, bin, with(args, "--out", "csv:"+b.TempDir()))
			elapsed += time.Since(t0)
		}
		report(b, elapsed)
	})
	b.Run("4 processes by account", func(b *testing.B) {
		var elapsed time.Duration
		for b.Loop() {
			out := b.TempDir()
			var lists [][]string
			for i := range 4 {
				lists = append(lists, with(args, "--out", "csv:"+out, "--shard", fmt.Sprintf("%d/4", i)))
			}
			t0 := time.Now()
			mustProcsB(b, bin, lists...)
			elapsed += time.Since(t0)
		}
		report(b, elapsed)
	})
	b.Run("4 processes by day + merge", func(b *testing.B) {
		var elapsed, merging time.Duration
		var size int64
		for b.Loop() {
			parts, out := b.TempDir(), b.TempDir()
			var lists [][]string
			for i := range 4 {
				lists = append(lists, with(args, "--shard", fmt.Sprintf("%d/4", i), "--shard-by", "day", "--partials", parts))
			}
			t0 := time.Now()
			mustProcsB(b, bin, lists...)
			t1 := time.Now()
			mustProcsB(b, bin, []string{"merge", "--partials", parts, "--out", "csv:" + out, "--csv-pattern", "{report}-{account}.csv", "--quiet"})
			elapsed += time.Since(t0)
			merging += time.Since(t1)
			files, _ := partials.List([]string{parts})
			size = 0
			for _, f := range files {
				st, _ := os.Stat(f)
				size += st.Size()
			}
		}
		report(b, elapsed)
		b.ReportMetric(merging.Seconds()/float64(b.N), "merge-s")
		b.ReportMetric(float64(size)/rows*1e6/1e6, "partial-MB/Mpv")
	})
}

func shardBinB(b *testing.B) string {
	b.Helper()
	bin, err := shardBinOnce()
	if err != nil {
		b.Fatal(err)
	}
	return bin
}

// mustProcsB runs pvjobs processes at once and fails unless each exits 0.
func mustProcsB(b *testing.B, bin string, argLists ...[]string) {
	b.Helper()
	for i, r := range runProcs(b, bin, argLists) {
		if r.code != 0 {
			b.Fatalf("pvjobs %s: exit %d\n%s", strings.Join(argLists[i], " "), r.code, r.stderr)
		}
	}
}
