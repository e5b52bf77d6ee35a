package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/file"
)

// Regression tests of issue 10 for shard files: nothing is lost silently,
// bad input is refused (exit 2) before any data is read, and a failed run
// says which shards it did not read.

// shardRow is one row of a shard file.
type shardRow struct {
	TS    [16]byte
	Value []byte
}

// readShard returns the rows of the shard file at path, in file order.
func readShard(t *testing.T, path string) []shardRow {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sc := file.NewScanner(bytes.NewReader(b))
	var rows []shardRow
	for sc.Next() {
		r := sc.Row()
		rows = append(rows, shardRow{r.TS, bytes.Clone(r.Value)})
	}
	if sc.Err() != nil {
		t.Fatal(sc.Err())
	}
	return rows
}

// rewriteShard writes rows, in the order given, as the shard key of dir.
func rewriteShard(t *testing.T, dir, key string, gz bool, rows []shardRow) {
	t.Helper()
	k, err := mapreduce.ParseShardKey(key)
	if err != nil {
		t.Fatal(err)
	}
	w, err := file.Create(dir, k, gz)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if err := w.Write(r.TS, r.Value); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

var summaryRows = regexp.MustCompile(`· rows ([0-9,]+) \(([0-9,]+) bad(?:, ([0-9,]+) outside the range)?[^)]*\)`)

// summaryCounts returns the rows, bad rows and rows outside the range of the
// summary line in out.
func summaryCounts(t *testing.T, out string) (rows, bad, outside int64) {
	t.Helper()
	m := summaryRows.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no summary line in\n%s", out)
	}
	n := func(s string) int64 {
		v, _ := strconv.ParseInt(strings.ReplaceAll(s, ",", ""), 10, 64)
		return v
	}
	return n(m[1]), n(m[2]), n(m[3])
}

// copyDir copies the shard files of src into a new temporary directory.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	for _, name := range dirNames(t, src) {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// TestRunRowsOutOfPlace: one misplaced row costs at most itself, counted and
// named, never the rest of its shard (issue 10, item 1).
func TestRunRowsOutOfPlace(t *testing.T) {
	orig := t.TempDir()
	mustPvjobs(t, "gen", "--to-dir", orig, "--accounts", "blog", "--from", "2024-07-31", "--to", "2024-08-02", "--rows-per-day", "400")
	utcDay := []string{"--accounts", "blog", "--from", "2024-08-01", "--to", "2024-08-01", "--jobs", "urls", "--include-bots", "--top", "0", "--max-bad-rows", "1"}
	berlinDay := append(slices.Clone(utcDay), "--tz", "Europe/Berlin")
	base := func(args []string) (rows, outside int64) {
		out := mustPvjobs(t, slices.Concat([]string{"run", "--source", orig, "--out", "csv:" + t.TempDir()}, args)...)
		rows, bad, outside := summaryCounts(t, out)
		if bad != 0 {
			t.Fatalf("generated shards have %d bad rows", bad)
		}
		return rows, outside
	}
	utcRows, _ := base(utcDay)
	berlinRows, berlinOutside := base(berlinDay)
	if berlinOutside == 0 {
		t.Errorf("a Berlin day reads no rows outside its range")
	}
	rows := readShard(t, filepath.Join(orig, "20240801.blog.mpk"))
	mid := len(rows) / 2
	// A random (version-4) uuid: its "time" bits say the 25th century.
	v4 := [16]byte{0xf4, 0x7a, 0xc1, 0x0b, 0x58, 0xcc, 0x43, 0x72, 0xa5, 0x67, 0x0e, 0x02, 0xb2, 0xc3, 0xd4, 0x79}
	for _, tc := range []struct {
		name  string
		args  []string
		edit  func([]shardRow) []shardRow
		rows  int64 // rows read, bad ones included
		bad   int64
		where string // what the bad row's log line says
	}{
		{"a row of another day in the middle", utcDay, func(r []shardRow) []shardRow {
			r[mid].TS = mapreduce.TimeUUID(time.Date(2024, 8, 5, 10, 0, 0, 0, time.UTC), 1, 1)
			return r
		}, utcRows, 1, "row=" + strconv.Itoa(mid)},
		{"a version-4 uuid in the middle", utcDay, func(r []shardRow) []shardRow {
			r[mid].TS = v4
			return r
		}, utcRows, 1, "version-1 timeuuid"},
		{"a garbage time first", utcDay, func(r []shardRow) []shardRow {
			return append([]shardRow{{mapreduce.TimeUUID(time.Unix(0, 0), 1, 1), r[0].Value}}, r...)
		}, utcRows + 1, 1, "1970-01-01T00:00:00Z is not on 2024-08-01"},
		{"the day's last row in the middle (Berlin)", berlinDay, func(r []shardRow) []shardRow {
			last := r[len(r)-1]
			r = slices.Insert(r[:len(r)-1], mid, last)
			return r
		}, berlinRows, 0, ""},
		{"rows in reverse order (Berlin)", berlinDay, func(r []shardRow) []shardRow {
			slices.Reverse(r)
			return r
		}, berlinRows, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyDir(t, orig)
			rewriteShard(t, dir, "20240801.blog", false, tc.edit(slices.Clone(rows)))
			out := t.TempDir()
			code, stdout, stderr := pvjobs(t, context.Background(), slices.Concat([]string{"run", "--source", dir, "--out", "csv:" + out}, tc.args)...)
			if code != 0 {
				t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
			}
			got, bad, _ := summaryCounts(t, stdout)
			if got != tc.rows || bad != tc.bad {
				t.Errorf("rows %d (%d bad), want %d (%d bad)\n%s", got, bad, tc.rows, tc.bad, stdout)
			}
			if tc.bad > 0 && (!strings.Contains(stderr, "bad row skipped") || !strings.Contains(stderr, "shard=20240801.blog") || !strings.Contains(stderr, tc.where)) {
				t.Errorf("the bad row is not named (want %q):\n%s", tc.where, stderr)
			}
		})
	}
	// Over the budget, the run fails and writes nothing.
	dir := copyDir(t, orig)
	r := slices.Clone(rows)
	r[mid].TS = mapreduce.TimeUUID(time.Date(2024, 8, 5, 10, 0, 0, 0, time.UTC), 1, 1)
	rewriteShard(t, dir, "20240801.blog", false, r)
	out := filepath.Join(t.TempDir(), "out")
	code, _, stderr := pvjobs(t, context.Background(), slices.Concat([]string{"run", "--source", dir, "--out", "csv:" + out}, utcDay, []string{"--max-bad-rows", "0"})...)
	if code != 1 || !strings.Contains(stderr, "too many bad rows") || !strings.Contains(stderr, "20240801.blog row "+strconv.Itoa(mid)) {
		t.Errorf("over budget: exit %d\n%s", code, stderr)
	}
	if names := dirNames(t, out); len(names) != 0 {
		t.Errorf("a failed run wrote %v", names)
	}
}

// TestRunShardFileNames: two files of one shard and files that are not
// regular files are refused by name, exit 2, before anything is read or
// written; a dry run shows the file each shard is read from (items 2, 5).
func TestRunShardFileNames(t *testing.T) {
	orig := t.TempDir()
	mustPvjobs(t, "gen", "--to-dir", orig, "--accounts", "blog,shop", "--from", "2024-08-01", "--to", "2024-08-02", "--rows-per-day", "50")
	gzipCopy := func(dir, key string) {
		b, err := os.ReadFile(filepath.Join(dir, key+".mpk"))
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(b)
		zw.Close()
		if err := os.WriteFile(filepath.Join(dir, key+".mpk.gz"), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	twoFiles := copyDir(t, orig)
	gzipCopy(twoFiles, "20240801.blog")
	fifo := copyDir(t, orig)
	if err := os.Remove(filepath.Join(fifo, "20240802.shop.mpk")); err != nil {
		t.Fatal(err)
	}
	// A FIFO nobody writes to: opening it would block for ever.
	if err := syscall.Mkfifo(filepath.Join(fifo, "20240802.shop.mpk"), 0o644); err != nil {
		t.Fatal(err)
	}
	dirShard := copyDir(t, orig)
	if err := os.Mkdir(filepath.Join(dirShard, "20240803.blog.mpk.gz"), 0o755); err != nil {
		t.Fatal(err)
	}
	dates := []string{"--from", "2024-08-01", "--to", "2024-08-02"}
	for _, tc := range []struct {
		name string
		dir  string
		args []string
		msg  []string
	}{
		{"two files", twoFiles, dates, []string{"two files for one shard", filepath.Join(twoFiles, "20240801.blog.mpk") + " and " + filepath.Join(twoFiles, "20240801.blog.mpk.gz")}},
		{"two files; every account and day", twoFiles, nil, []string{"two files for one shard", "20240801.blog.mpk.gz"}},
		{"two files; dry run", twoFiles, []string{"--dry-run"}, []string{"two files for one shard"}},
		{"a FIFO", fifo, dates, []string{filepath.Join(fifo, "20240802.shop.mpk") + " is a named pipe (FIFO)", "not a regular file"}},
		{"a FIFO; every account and day", fifo, nil, []string{"named pipe (FIFO)"}},
		{"a directory", dirShard, []string{"--from", "2024-08-03", "--to", "2024-08-03", "--accounts", "blog"}, []string{"20240803.blog.mpk.gz is a directory"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			done := make(chan struct{})
			var code int
			var stdout, stderr string
			go func() {
				defer close(done)
				code, stdout, stderr = pvjobs(t, context.Background(), slices.Concat([]string{"run", "--source", tc.dir, "--jobs", "urls", "--out", "csv:" + out}, tc.args)...)
			}()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				t.Fatal("pvjobs run did not return within 20s")
			}
			if code != 2 {
				t.Fatalf("exit %d, want 2\nstdout: %s\nstderr: %s", code, stdout, stderr)
			}
			for _, w := range tc.msg {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, stderr)
				}
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("a refused run wrote output")
			}
		})
	}
	// load refuses them too, before connecting to Cassandra.
	code, _, stderr := pvjobs(t, context.Background(), "load", "--source", twoFiles, "--cassandra", "cassandra://127.0.0.1:1/nope")
	if code != 2 || !strings.Contains(stderr, "two files for one shard") {
		t.Errorf("load: exit %d\n%s", code, stderr)
	}
	// gen (like export) writing a shard in one form removes its other form.
	re := t.TempDir()
	for _, gz := range []string{"--gzip=false", "--gzip"} {
		mustPvjobs(t, "gen", "--to-dir", re, "--accounts", "blog", "--from", "2024-08-01", "--to", "2024-08-01", "--rows-per-day", "20", gz)
	}
	if names := dirNames(t, re); !slices.Equal(names, []string{"20240801.blog.mpk.gz"}) {
		t.Errorf("after gen and gen --gzip: %v", names)
	}
	// A dry run names the file each shard is read from.
	gz := copyDir(t, orig)
	gzipCopy(gz, "20240801.blog")
	os.Remove(filepath.Join(gz, "20240801.blog.mpk"))
	os.Remove(filepath.Join(gz, "20240802.shop.mpk"))
	plan := mustPvjobs(t, "run", "--dry-run", "--source", gz, "--jobs", "urls", "--accounts", "blog,shop", "--from", "2024-08-01", "--to", "2024-08-02")
	for _, w := range []*regexp.Regexp{
		regexp.MustCompile(`20240801\.blog +\[00:00, 24:00\) UTC +20240801\.blog\.mpk\.gz\n`),
		regexp.MustCompile(`20240801\.shop +\[00:00, 24:00\) UTC +20240801\.shop\.mpk\n`),
		regexp.MustCompile(`20240802\.shop +\[00:00, 24:00\) UTC +\(no file\)\n`),
	} {
		if !w.MatchString(plan) {
			t.Errorf("plan does not match %s:\n%s", w, plan)
		}
	}
}

// TestRunRowSize: a row over --max-row-size is a bad row, the rows after it
// are read; a row header claiming 4 GiB fails the run as a truncated file
// (exit 1, not a crash) without allocating anything like it (item 4).
func TestRunRowSize(t *testing.T) {
	dir := t.TempDir()
	mustPvjobs(t, "gen", "--to-dir", dir, "--accounts", "blog", "--from", "2024-08-01", "--to", "2024-08-01", "--rows-per-day", "100")
	rows := readShard(t, filepath.Join(dir, "20240801.blog.mpk"))
	big := slices.Concat(rows[50].Value[:len(rows[50].Value)-1], bytes.Repeat([]byte{' '}, 2<<20))
	rows[50].Value = big // not a valid page view either, but never decoded
	rewriteShard(t, dir, "20240801.blog", true, rows)
	args := []string{"run", "--source", dir, "--jobs", "urls", "--include-bots", "--top", "0", "--max-bad-rows", "1"}
	stdout, _ := mustPvjobs2(t, slices.Concat(args, []string{"--out", "csv:" + t.TempDir()})...)
	if got, bad, _ := summaryCounts(t, stdout); got != int64(len(rows)) || bad != 1 {
		t.Errorf("rows %d (%d bad), want %d (1 bad)", got, bad, len(rows))
	}
	code, _, stderr := pvjobs(t, context.Background(), slices.Concat(args, []string{"--max-bad-rows", "0", "--out", "csv:" + t.TempDir()})...)
	if code != 1 || !strings.Contains(stderr, "row over the size limit") || !strings.Contains(stderr, "of the decompressed data") {
		t.Errorf("no budget: exit %d\n%s", code, stderr)
	}
	if code, _, stderr := pvjobs(t, context.Background(), slices.Concat(args, []string{"--max-bad-rows", "0", "--max-row-size", "4194304", "--out", "csv:" + t.TempDir()})...); code != 1 ||
		!strings.Contains(stderr, "page view") || strings.Contains(stderr, "size limit") {
		// Within the limit, the value is read and refused by the decoder.
		t.Errorf("--max-row-size 4194304: exit %d\n%s", code, stderr)
	}
	if code, _, stderr := pvjobs(t, context.Background(), "run", "--source", dir, "--jobs", "urls", "--max-row-size", "-1"); code != 2 || !strings.Contains(stderr, "--max-row-size") {
		t.Errorf("--max-row-size -1: exit %d\n%s", code, stderr)
	}

	// The header of issue 10: \x92\xc4\x10<16 bytes>\xc6\xff\xff\xff\xff.
	huge := t.TempDir()
	var data []byte
	data = append(data, 0x92, 0xc4, 0x10)
	data = append(data, rows[0].TS[:]...)
	data = append(data, 0xc6, 0xff, 0xff, 0xff, 0xff)
	if err := os.WriteFile(filepath.Join(huge, "20240801.blog.mpk"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	code, _, stderr = pvjobs(t, context.Background(), "run", "--source", huge, "--jobs", "urls", "--out", "csv:"+t.TempDir())
	runtime.ReadMemStats(&after)
	if code != 1 || !strings.Contains(stderr, "truncated") || !strings.Contains(stderr, "20240801.blog.mpk: byte 0 (row 0)") {
		t.Errorf("4 GiB header: exit %d\n%s", code, stderr)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 256<<20 {
		t.Errorf("the run allocated %d MB for a 26-byte shard", n>>20)
	}
}

// mustPvjobs2 is mustPvjobs that also returns stderr.
func mustPvjobs2(t *testing.T, args ...string) (stdout, stderr string) {
	t.Helper()
	code, out, errOut := pvjobs(t, context.Background(), args...)
	if code != 0 {
		t.Fatalf("pvjobs %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errOut)
	}
	return out, errOut
}

// TestRunFailedUnread: a run that fails part way counts the shards it did
// not finish as unread, not missing, on stderr and in the metrics; missing
// is kept for shards that are not there (item 15).
func TestRunFailedUnread(t *testing.T) {
	dir := t.TempDir()
	mustPvjobs(t, "gen", "--to-dir", dir, "--accounts", "blog", "--from", "2024-08-01", "--to", "2024-08-04", "--rows-per-day", "100")
	os.Remove(filepath.Join(dir, "20240801.blog.mpk"))
	path := filepath.Join(dir, "20240802.blog.mpk")
	b, _ := os.ReadFile(path)
	os.WriteFile(path, b[:len(b)/2], 0o644)
	metrics := filepath.Join(t.TempDir(), "m.prom")
	code, _, stderr := pvjobs(t, context.Background(), "run", "--source", dir, "--workers", "1", "--jobs", "urls",
		"--accounts", "blog", "--from", "2024-08-01", "--to", "2024-08-04", "--out", "csv:"+t.TempDir(), "--metrics-file", metrics)
	if code != 1 || !strings.Contains(stderr, "shards 0 read, 1 missing, 3 unread") {
		t.Errorf("exit %d\n%s", code, stderr)
	}
	m, _ := os.ReadFile(metrics)
	for _, w := range []string{`pvjobs_last_run_shards{job="run",state="missing"} 1`, `pvjobs_last_run_shards{job="run",state="unread"} 3`} {
		if !strings.Contains(string(m), w+"\n") {
			t.Errorf("metrics lack %s:\n%s", w, m)
		}
	}
	// A run out of time before it read anything says so, and claims no
	// shard missing.
	code, _, stderr = pvjobs(t, context.Background(), "run", "--source", dir, "--jobs", "urls", "--timeout", "1ns", "--out", "csv:"+t.TempDir())
	if code != 1 || !strings.Contains(stderr, "timeout 1ns") || regexp.MustCompile(`[1-9][0-9]* missing`).MatchString(stderr) {
		t.Errorf("timeout: exit %d\n%s", code, stderr)
	}
}

// TestRunMessages: an account with a non-ASCII character is named by that
// character; a .gz file that is not gzip says so once (item 19).
func TestRunMessages(t *testing.T) {
	code, _, stderr := pvjobs(t, context.Background(), "run", "--accounts", "bl\u00f6g", "--jobs", "urls", "--out", "csv:"+t.TempDir())
	if code != 2 || !strings.Contains(stderr, `character 'ö' at position 3`) {
		t.Errorf("exit %d\n%s", code, stderr)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "20240801.blog.mpk.gz"), []byte("not gzip at all"), 0o644)
	code, _, stderr = pvjobs(t, context.Background(), "run", "--source", dir, "--jobs", "urls", "--out", "csv:"+t.TempDir())
	if code != 1 || !strings.Contains(stderr, "20240801.blog.mpk.gz: gzip: invalid header") || strings.Contains(stderr, "gzip: gzip:") {
		t.Errorf("exit %d\n%s", code, stderr)
	}
}
