package file_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/file"
	"github.com/pvjobs/pvjobs/readers/pageview"
	"github.com/vmihailenco/msgpack/v5"
)

var day = time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC)

func shardKey(t testing.TB, s string) mapreduce.ShardKey {
	t.Helper()
	k, err := mapreduce.ParseShardKey(s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

type testRow struct {
	TS    [16]byte
	Value []byte
}

// makeRows returns n rows spread evenly over the day, with values of about
// size bytes.
func makeRows(t testing.TB, n, size int) []testRow {
	t.Helper()
	rows := make([]testRow, n)
	for i := range rows {
		ts := day.Add(time.Duration(i) * (24 * time.Hour / time.Duration(n)))
		v, err := msgpack.Marshal(map[string]string{
			"url":  fmt.Sprintf("https://example.com/page/%d", i),
			"ip":   "192.0.2.1",
			"tail": strings.Repeat("x", max(0, size-50)),
		})
		if err != nil {
			t.Fatal(err)
		}
		rows[i] = testRow{TS: mapreduce.TimeUUID(ts, uint16(i), 0xabcdef), Value: v}
	}
	return rows
}

// writeShard writes rows with the Writer and returns the file's path.
func writeShard(t testing.TB, dir, key string, gz bool, rows []testRow) string {
	t.Helper()
	w, err := file.Create(dir, shardKey(t, key), gz)
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
	name := key + file.Ext
	if gz {
		name = key + file.ExtGz
	}
	return filepath.Join(dir, name)
}

// encodeRows encodes rows the way the file format says, independently of the
// Writer: [bin ts, bin value] arrays, and returns each row's byte offset.
func encodeRows(t testing.TB, rows []testRow) ([]byte, []int64) {
	t.Helper()
	var buf bytes.Buffer
	var offs []int64
	for _, r := range rows {
		offs = append(offs, int64(buf.Len()))
		b, err := msgpack.Marshal([]any{r.TS[:], r.Value})
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(b)
	}
	return buf.Bytes(), offs
}

type gotRow struct {
	TS     [16]byte
	Value  []byte
	Index  int64
	Offset int64
}

func readAll(t testing.TB, src *file.Source, key string, start, end time.Time) ([]gotRow, error) {
	t.Helper()
	it := mapreduce.WorkItem{Shard: shardKey(t, key), Start: start, End: end}
	var got []gotRow
	err := src.Read(context.Background(), it, func(r *mapreduce.Row) error {
		got = append(got, gotRow{r.TS, bytes.Clone(r.Value), r.Index, r.Offset})
		return nil
	})
	return got, err
}

func wholeDay(t testing.TB, src *file.Source, key string) ([]gotRow, error) {
	k := shardKey(t, key)
	return readAll(t, src, key, k.Start(), k.End())
}

func sameRows(t *testing.T, got []gotRow, want []testRow, offs []int64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("read %d rows, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i].TS != want[i].TS || !bytes.Equal(got[i].Value, want[i].Value) {
			t.Fatalf("row %d differs", i)
		}
		if got[i].Index != int64(i) {
			t.Fatalf("row %d has Index %d", i, got[i].Index)
		}
		if offs != nil && got[i].Offset != offs[i] {
			t.Fatalf("row %d has Offset %d, want %d", i, got[i].Offset, offs[i])
		}
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestWriterRoundTrip(t *testing.T) {
	rows := makeRows(t, 300, 120)
	want, offs := encodeRows(t, rows)
	for _, gz := range []bool{false, true} {
		t.Run(fmt.Sprintf("gzip=%v", gz), func(t *testing.T) {
			dir := t.TempDir()
			path := writeShard(t, dir, "20240801.blog", gz, rows)
			if names := dirNames(t, dir); len(names) != 1 || names[0] != filepath.Base(path) {
				t.Fatalf("directory holds %v, want only %s", names, filepath.Base(path))
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if gz {
				zr, err := gzip.NewReader(bytes.NewReader(data))
				if err != nil {
					t.Fatal(err)
				}
				var buf bytes.Buffer
				if _, err := buf.ReadFrom(zr); err != nil {
					t.Fatal(err)
				}
				data = buf.Bytes()
			}
			if !bytes.Equal(data, want) {
				t.Errorf("file bytes differ from the format's [bin ts, bin value] encoding")
			}
			src, err := file.Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			got, err := wholeDay(t, src, "20240801.blog")
			if err != nil {
				t.Fatal(err)
			}
			sameRows(t, got, rows, offs)
		})
	}
}

func TestWriterAbort(t *testing.T) {
	dir := t.TempDir()
	w, err := file.Create(dir, shardKey(t, "20240801.blog"), true)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range makeRows(t, 50, 100) {
		if err := w.Write(r.TS, r.Value); err != nil {
			t.Fatal(err)
		}
	}
	if len(dirNames(t, dir)) != 1 {
		t.Errorf("no temporary file while writing: %v", dirNames(t, dir))
	}
	w.Abort()
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("Abort left %v", names)
	}
	if err := w.Close(); err != nil {
		t.Errorf("Close after Abort: %v", err)
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("Close after Abort wrote %v", names)
	}
	// Close twice is harmless; Abort after Close keeps the file.
	path := writeShard(t, dir, "20240802.blog", false, makeRows(t, 3, 10))
	w, _ = file.Create(dir, shardKey(t, "20240803.blog"), false)
	_ = w.Close()
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	w.Abort()
	if _, err := os.Stat(path); err != nil {
		t.Error(err)
	}
	if names := dirNames(t, dir); !slices.Equal(names, []string{"20240802.blog.mpk", "20240803.blog.mpk"}) {
		t.Errorf("directory holds %v", names)
	}
	if _, err := file.Create(filepath.Join(dir, "missing"), shardKey(t, "20240801.blog"), false); err == nil {
		t.Error("Create in a missing directory succeeded")
	}
}

// timesJob collects the times of the page views it sees.
type timesJob struct{}

func (timesJob) NewPartial(*mapreduce.Plan) *[]int64    { return new([]int64) }
func (timesJob) Map(p *[]int64, pv *mapreduce.PageView) { *p = append(*p, pv.Time) }
func (timesJob) Merge(dst, src *[]int64)                { *dst = append(*dst, *src...) }
func (timesJob) Reports(p *[]int64, _ *mapreduce.Plan) []mapreduce.Report {
	rows := make([]mapreduce.ReportRow, len(*p))
	for i, t := range *p {
		rows[i].Keys, rows[i].Values = []string{strconv.FormatInt(t, 10)}, []float64{1}
	}
	return []mapreduce.Report{{Name: "times", Keys: []string{"time"}, Measures: mapreduce.Counts("pageviews"), Rows: rows}}
}

// runRange runs the engine over account's shards of src for [start, end) in
// UTC and returns the times of the page views kept, sorted, and the summary.
func runRange(t *testing.T, src *file.Source, account string, start, end time.Time) ([]int64, mapreduce.Summary) {
	t.Helper()
	plan, err := mapreduce.NewPlan(mapreduce.PlanSpec{Accounts: []string{account}, Start: start, End: end})
	if err != nil {
		t.Fatal(err)
	}
	res, err := mapreduce.Run(context.Background(), plan, src, []mapreduce.Task{mapreduce.NewTask("times", timesJob{})},
		mapreduce.Options{NewDecoder: pageview.NewMapreduceDecoder, MaxBad: mapreduce.Budget{Percent: 100, IsPercent: true}})
	if err != nil {
		t.Fatal(err)
	}
	var times []int64
	for _, r := range res.Reports[0].Rows {
		tm, err := strconv.ParseInt(r.Keys[0], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		times = append(times, tm)
	}
	slices.Sort(times)
	return times, res.Summary
}

// TestReadRange: Read hands over every row of the shard whatever the item's
// range; through the engine, the rows of the range are kept and the others
// of the day skipped and counted.
func TestReadRange(t *testing.T) {
	dir := t.TempDir()
	rows := makeRows(t, 240, 60) // one every 6 minutes
	writeShard(t, dir, "20240801.blog", false, rows)
	src, err := file.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		start, end time.Time
		first, n   int
	}{
		{"whole day", day, day.Add(24 * time.Hour), 0, 240},
		{"10:00 to 12:00", day.Add(10 * time.Hour), day.Add(12 * time.Hour), 100, 20},
		{"start inclusive, end exclusive", day.Add(6 * time.Minute), day.Add(12 * time.Minute), 1, 1},
		{"between two rows", day.Add(7 * time.Minute), day.Add(8 * time.Minute), 0, 0},
		{"last row", day.Add(24*time.Hour - 6*time.Minute), day.Add(24 * time.Hour), 239, 1},
		{"one nanosecond", day, day.Add(1), 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readAll(t, src, "20240801.blog", tc.start, tc.end)
			if err != nil {
				t.Fatal(err)
			}
			sameRows(t, got, rows, nil)
			times, sum := runRange(t, src, "blog", tc.start, tc.end)
			if len(times) != tc.n || sum.Rows != int64(tc.n) || sum.Skipped != int64(240-tc.n) {
				t.Fatalf("kept %d rows (summary: %d rows, %d skipped), want %d", len(times), sum.Rows, sum.Skipped, tc.n)
			}
			for i, tm := range times {
				if want := mapreduce.UUIDTime(rows[tc.first+i].TS); tm != want {
					t.Errorf("row %d at %d, want file row %d at %d", i, tm, tc.first+i, want)
				}
			}
		})
	}
}

// TestReadLarge reads files much bigger than the reader's 256 KiB buffer,
// with values that straddle buffer boundaries and one value bigger than the
// buffer, and checks that memory use does not grow with the file.
func TestReadLarge(t *testing.T) {
	n := 4000
	if testing.Short() {
		n = 1000
	}
	rows := makeRows(t, n, 700) // ~3 MB
	big := bytes.Repeat([]byte{0xa5}, 600<<10)
	rows[n/2].Value, _ = msgpack.Marshal(map[string][]byte{"url": big})
	_, offs := encodeRows(t, rows)
	for _, gz := range []bool{false, true} {
		t.Run(fmt.Sprintf("gzip=%v", gz), func(t *testing.T) {
			dir := t.TempDir()
			path := writeShard(t, dir, "20240801.blog", gz, rows)
			if st, _ := os.Stat(path); !gz && st.Size() < 4*256<<10 {
				t.Fatalf("file is only %d bytes", st.Size())
			}
			src, _ := file.Open(dir)
			got, err := wholeDay(t, src, "20240801.blog")
			if err != nil {
				t.Fatal(err)
			}
			sameRows(t, got, rows, offs)
		})
	}
	t.Run("memory", func(t *testing.T) {
		if testing.Short() {
			t.Skip("short")
		}
		// Bytes allocated to read a file of k rows, values not kept.
		alloc := func(k int) uint64 {
			dir := t.TempDir()
			writeShard(t, dir, "20240801.blog", false, makeRows(t, k, 700))
			src, _ := file.Open(dir)
			it := mapreduce.WorkItem{Shard: shardKey(t, "20240801.blog"), Start: day, End: day.Add(24 * time.Hour)}
			var sum int
			var ms0, ms1 runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms0)
			err := src.Read(context.Background(), it, func(r *mapreduce.Row) error { sum += len(r.Value); return nil })
			runtime.ReadMemStats(&ms1)
			if err != nil {
				t.Fatal(err)
			}
			return ms1.TotalAlloc - ms0.TotalAlloc
		}
		small, large := alloc(1000), alloc(10000) // 0.7 MB and 7 MB
		t.Logf("allocated %d bytes for 1000 rows, %d for 10000", small, large)
		if large > small+64<<10 || large > 1<<20 {
			t.Errorf("reading 10x the rows allocated %d bytes, against %d: the reader buffers the file", large, small)
		}
	})
}

func TestReadMissingShard(t *testing.T) {
	dir := t.TempDir()
	writeShard(t, dir, "20240801.blog", false, makeRows(t, 3, 10))
	src, _ := file.Open(dir)
	_, err := wholeDay(t, src, "20240801.shop")
	if !errors.Is(err, mapreduce.ErrNoShard) || !strings.Contains(err.Error(), "20240801.shop") {
		t.Errorf("err = %v, want ErrNoShard naming the shard", err)
	}
}

// TestReadTruncated cuts a file at every byte: at a row boundary it is a
// clean, shorter file; anywhere else the reader returns the rows before the
// cut and a *CorruptError naming the file and the offset of the broken row.
func TestReadTruncated(t *testing.T) {
	rows := makeRows(t, 3, 40)
	data, offs := encodeRows(t, rows)
	offs = append(offs, int64(len(data)))
	dir := t.TempDir()
	src, _ := file.Open(dir)
	path := filepath.Join(dir, "20240801.blog.mpk")
	for cut := 1; cut < len(data); cut++ {
		if err := os.WriteFile(path, data[:cut], 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := wholeDay(t, src, "20240801.blog")
		// The row the cut falls in.
		row := 0
		for offs[row+1] <= int64(cut) {
			row++
		}
		if offs[row] == int64(cut) {
			if err != nil || len(got) != row {
				t.Fatalf("cut at row boundary %d: %d rows, %v", cut, len(got), err)
			}
			continue
		}
		var ce *file.CorruptError
		if !errors.As(err, &ce) {
			t.Fatalf("cut at %d: err = %v, want *CorruptError", cut, err)
		}
		if ce.File != path || ce.Offset != offs[row] || ce.Row != int64(row) || !errors.Is(err, file.ErrTruncated) {
			t.Fatalf("cut at %d: %+v, want file %s offset %d row %d, ErrTruncated", cut, ce, path, offs[row], row)
		}
		if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), fmt.Sprintf("byte %d", offs[row])) {
			t.Fatalf("cut at %d: message %q names neither file nor offset", cut, err)
		}
		if len(got) != row {
			t.Fatalf("cut at %d: %d rows before the error, want %d", cut, len(got), row)
		}
	}
}

func TestReadTruncatedGzip(t *testing.T) {
	rows := makeRows(t, 50, 200)
	dir := t.TempDir()
	path := writeShard(t, dir, "20240801.blog", true, rows)
	whole, _ := os.ReadFile(path)
	src, _ := file.Open(dir)
	for _, cut := range []int{1, 5, 10, 20, len(whole) / 3, len(whole) / 2, len(whole) - 9, len(whole) - 1} {
		if err := os.WriteFile(path, whole[:cut], 0o644); err != nil {
			t.Fatal(err)
		}
		// Rows before the cut may be read (a cut in the gzip trailer loses
		// none), but the read must fail.
		_, err := wholeDay(t, src, "20240801.blog")
		var ce *file.CorruptError
		if !errors.As(err, &ce) || ce.File != path {
			t.Fatalf("gzip cut at %d of %d: err = %v, want *CorruptError for %s", cut, len(whole), err, path)
		}
	}
}

func TestReadMalformedRows(t *testing.T) {
	good := makeRows(t, 1, 30)
	first, _ := encodeRows(t, good)
	ts := good[0].TS
	enc := func(v any) []byte {
		b, err := msgpack.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name string
		row  []byte
		msg  string
	}{
		{"three elements", enc([]any{ts[:], []byte("v"), 1}), "want a 2-element array"},
		{"one element", enc([]any{ts[:]}), "want a 2-element array"},
		{"a map", enc(map[string]any{"ts": ts[:]}), "want a 2-element array"},
		{"a bare bin", enc(ts[:]), "want a 2-element array"},
		{"array16 header", append([]byte{0xdc, 0, 2}, enc(ts[:])...), "want a 2-element array"},
		{"timeuuid is an int", enc([]any{12345, []byte("v")}), "timeuuid"},
		{"timeuuid of 15 bytes", enc([]any{ts[:15], []byte("v")}), "timeuuid is 15 bytes"},
		{"timeuuid of 17 bytes", enc([]any{append(ts[:], 0), []byte("v")}), "timeuuid is 17 bytes"},
		{"value is an int", enc([]any{ts[:], 7}), "value"},
		{"value is nil", enc([]any{ts[:], nil}), "value"},
		{"value is a map", enc([]any{ts[:], map[string]string{"url": "/"}}), "value"},
		{"never-used code", []byte{0xc1}, "want a 2-element array"},
	}
	dir := t.TempDir()
	src, _ := file.Open(dir)
	path := filepath.Join(dir, "20240801.blog.mpk")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A good row, the bad one, then a good one that must not be read.
			data := slices.Concat(first, tt.row, first)
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := wholeDay(t, src, "20240801.blog")
			var ce *file.CorruptError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want *CorruptError", err)
			}
			if ce.File != path || ce.Offset != int64(len(first)) || ce.Row != 1 {
				t.Errorf("CorruptError %+v, want file %s offset %d row 1", ce, path, len(first))
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not say %q", err, tt.msg)
			}
			if len(got) != 1 {
				t.Errorf("read %d rows, want the 1 before the bad one", len(got))
			}
		})
	}
	// Legacy encoders wrote bytes as raw strings: str headers are accepted.
	legacy := slices.Concat([]byte{0x92, 0xb0}, ts[:], []byte{0xd9, 3}, []byte("abc"))
	if err := os.WriteFile(path, legacy, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := wholeDay(t, src, "20240801.blog")
	if err != nil || len(got) != 1 || got[0].TS != ts || string(got[0].Value) != "abc" {
		t.Errorf("row with str headers: %v, %v", got, err)
	}
}

func TestReadCallbackAndContext(t *testing.T) {
	dir := t.TempDir()
	writeShard(t, dir, "20240801.blog", false, makeRows(t, 3000, 30))
	src, _ := file.Open(dir)
	it := mapreduce.WorkItem{Shard: shardKey(t, "20240801.blog"), Start: day, End: day.Add(24 * time.Hour)}
	stop := errors.New("stop here")
	n := 0
	err := src.Read(context.Background(), it, func(*mapreduce.Row) error {
		if n++; n == 10 {
			return stop
		}
		return nil
	})
	if err != stop || n != 10 {
		t.Errorf("fn's error: got %v after %d rows, want it unchanged after 10", err, n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n = 0
	err = src.Read(ctx, it, func(*mapreduce.Row) error {
		if n++; n == 5 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || n > 1024+5 {
		t.Errorf("cancelled read: %v after %d rows", err, n)
	}
}

func TestShardsAndOpen(t *testing.T) {
	dir := t.TempDir()
	writeShard(t, dir, "20240801.blog", false, makeRows(t, 1, 10))
	writeShard(t, dir, "20240731.shop", true, makeRows(t, 1, 10))
	writeShard(t, dir, "20240731.Blog", false, makeRows(t, 1, 10))
	for _, name := range []string{"README", "20240801.bad.name.mpk", "2024.blog.mpk", "20240801.blog.mpk.bak", "20240802.blog.json"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "20240803.blog.mpk"), 0o755); err != nil {
		t.Fatal(err)
	}
	src, err := file.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if src.String() != dir || src.Split() != mapreduce.SplitShards {
		t.Errorf("String %q Split %v", src, src.Split())
	}
	keys, err := src.Shards()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, k := range keys {
		names = append(names, k.String())
	}
	if want := []string{"20240731.Blog", "20240731.shop", "20240801.blog"}; !slices.Equal(names, want) {
		t.Errorf("Shards = %v, want %v", names, want)
	}
	if _, err := file.Open(filepath.Join(dir, "missing")); err == nil {
		t.Error("Open of a missing directory succeeded")
	}
	if _, err := file.Open(filepath.Join(dir, "README")); err == nil {
		t.Error("Open of a file succeeded")
	}
}

// TestWriterReplacesOtherForm: writing a shard as .mpk.gz removes its .mpk
// and the other way round, so that a re-export in the other form leaves one
// file per shard.
func TestWriterReplacesOtherForm(t *testing.T) {
	dir := t.TempDir()
	writeShard(t, dir, "20240801.blog", false, makeRows(t, 1, 10))
	writeShard(t, dir, "20240801.blog", true, makeRows(t, 2, 10))
	if names := dirNames(t, dir); !slices.Equal(names, []string{"20240801.blog.mpk.gz"}) {
		t.Fatalf("after a gzip re-export: %v", names)
	}
	src, _ := file.Open(dir)
	if got, err := wholeDay(t, src, "20240801.blog"); err != nil || len(got) != 2 {
		t.Errorf("read %d rows (%v), want the new file's 2", len(got), err)
	}
	writeShard(t, dir, "20240801.blog", false, makeRows(t, 3, 10))
	if names := dirNames(t, dir); !slices.Equal(names, []string{"20240801.blog.mpk"}) {
		t.Fatalf("after a plain re-export: %v", names)
	}
}

// TestFiles: a shard is one regular file. Two files of one shard, and files
// that are not regular (a FIFO, a directory), are refused by name, by Files
// before any reading and by Read, without opening them.
func TestFiles(t *testing.T) {
	dir := t.TempDir()
	data, _ := encodeRows(t, makeRows(t, 2, 10))
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(data)
	zw.Close()
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("20240801.blog.mpk", data) // and a stale export in the other form:
	write("20240801.blog.mpk.gz", gz.Bytes())
	write("20240802.blog.mpk", data)
	write("20240803.blog.mpk.gz", gz.Bytes())
	if err := syscall.Mkfifo(filepath.Join(dir, "20240804.blog.mpk"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "20240805.blog.mpk.gz"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("20240802.blog.mpk", filepath.Join(dir, "20240806.blog.mpk")); err != nil {
		t.Fatal(err)
	}
	src, _ := file.Open(dir)
	keys := func(days ...int) []mapreduce.ShardKey {
		var ks []mapreduce.ShardKey
		for _, d := range days {
			ks = append(ks, shardKey(t, fmt.Sprintf("202408%02d.blog", d)))
		}
		return ks
	}
	ctx := context.Background()
	names, err := src.Files(ctx, keys(2, 3, 6, 7))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"20240802.blog.mpk", "20240803.blog.mpk.gz", "20240806.blog.mpk", ""}; !slices.Equal(names, want) {
		t.Errorf("Files = %q, want %q", names, want)
	}
	_, err = src.Files(ctx, keys(1, 2, 4, 5, 7))
	if !errors.Is(err, file.ErrTwoFiles) || !errors.Is(err, file.ErrNotRegular) {
		t.Fatalf("Files: %v, want ErrTwoFiles and ErrNotRegular", err)
	}
	for _, w := range []string{
		filepath.Join(dir, "20240801.blog.mpk") + " and " + filepath.Join(dir, "20240801.blog.mpk.gz"),
		filepath.Join(dir, "20240804.blog.mpk") + " is a named pipe (FIFO)",
		filepath.Join(dir, "20240805.blog.mpk.gz") + " is a directory",
	} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("Files: %q does not say %q", err, w)
		}
	}
	for _, tc := range []struct {
		key  string
		want error
	}{
		{"20240801.blog", file.ErrTwoFiles},
		{"20240804.blog", file.ErrNotRegular},
		{"20240805.blog", file.ErrNotRegular},
		{"20240807.blog", mapreduce.ErrNoShard},
	} {
		got, err := wholeDay(t, src, tc.key)
		if !errors.Is(err, tc.want) || len(got) != 0 {
			t.Errorf("Read %s: %d rows, %v; want %v", tc.key, len(got), err, tc.want)
		}
	}
	// The FIFO is listed, so that a run over every account refuses it; the
	// directory is not.
	ks, err := src.Shards()
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, k := range ks {
		listed = append(listed, k.String())
	}
	if want := []string{"20240801.blog", "20240802.blog", "20240803.blog", "20240804.blog", "20240806.blog"}; !slices.Equal(listed, want) {
		t.Errorf("Shards = %v, want %v", listed, want)
	}
}

func TestNewFS(t *testing.T) {
	rows := makeRows(t, 5, 20)
	data, offs := encodeRows(t, rows)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(data)
	zw.Close()
	fsys := fstest.MapFS{
		"20240801.a.mpk":    {Data: data},
		"20240801.b.mpk.gz": {Data: gz.Bytes()},
		"20240801.c.mpk.gz": {Data: []byte("not gzip at all")},
	}
	src := file.NewFS(fsys, "mapfs")
	for _, k := range []string{"20240801.a", "20240801.b"} {
		got, err := wholeDay(t, src, k)
		if err != nil {
			t.Fatal(err)
		}
		sameRows(t, got, rows, offs)
	}
	_, err := wholeDay(t, src, "20240801.c")
	var ce *file.CorruptError
	if !errors.As(err, &ce) || ce.File != "mapfs/20240801.c.mpk.gz" || !errors.Is(err, gzip.ErrHeader) {
		t.Errorf("bad gzip: %v", err)
	}
	if want := "shard file mapfs/20240801.c.mpk.gz: gzip: invalid header"; err == nil || err.Error() != want {
		t.Errorf("bad gzip: %q, want %q", err, want)
	}
}

func TestScanner(t *testing.T) {
	rows := makeRows(t, 4, 20)
	data, offs := encodeRows(t, rows)
	sc := file.NewScanner(bytes.NewReader(data))
	i := 0
	for sc.Next() {
		r := sc.Row()
		if r.TS != rows[i].TS || !bytes.Equal(r.Value, rows[i].Value) || r.Index != int64(i) || r.Offset != offs[i] {
			t.Errorf("row %d: %+v", i, r)
		}
		if r.Time() != mapreduce.UUIDTime(rows[i].TS) {
			t.Errorf("row %d: Time %d", i, r.Time())
		}
		i++
	}
	if sc.Err() != nil || i != 4 {
		t.Errorf("scanned %d rows, err %v", i, sc.Err())
	}
	if sc.Next() {
		t.Error("Next after the end returned true")
	}
	empty := file.NewScanner(bytes.NewReader(nil))
	if empty.Next() || empty.Err() != nil {
		t.Errorf("empty stream: %v", empty.Err())
	}
}

// allocated returns the bytes allocated while f runs.
func allocated(f func()) uint64 {
	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	f()
	runtime.ReadMemStats(&ms1)
	return ms1.TotalAlloc - ms0.TotalAlloc
}

// TestReadHugeHeader: a 5-byte header claiming a 4 GiB value, with no bytes
// behind it, is a truncated file; nothing near the claimed size is
// allocated, plain or gzip.
func TestReadHugeHeader(t *testing.T) {
	ts := makeRows(t, 1, 10)[0].TS
	good, _ := encodeRows(t, makeRows(t, 1, 10))
	for _, claim := range []struct {
		name string
		hdr  []byte
	}{
		{"bin32 4 GiB", []byte{0xc6, 0xff, 0xff, 0xff, 0xff}},
		{"str32 2 GiB", []byte{0xdb, 0x80, 0, 0, 0}},
		{"bin32 under the limit", []byte{0xc6, 0, 0x0f, 0xff, 0xff}}, // 1 MiB - 1: allocated only as bytes arrive
		{"bin16 64 KiB", []byte{0xc5, 0xff, 0xff}},
	} {
		data := slices.Concat(good, []byte{0x92, 0xc4, 0x10}, ts[:], claim.hdr, []byte("a few bytes"))
		for _, gz := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/gzip=%v", claim.name, gz), func(t *testing.T) {
				dir := t.TempDir()
				name := "20240801.blog" + file.Ext
				b := data
				if gz {
					name = "20240801.blog" + file.ExtGz
					var buf bytes.Buffer
					zw := gzip.NewWriter(&buf)
					zw.Write(data)
					zw.Close()
					b = buf.Bytes()
				}
				if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
					t.Fatal(err)
				}
				src, _ := file.Open(dir)
				var got []gotRow
				var err error
				n := allocated(func() { got, err = wholeDay(t, src, "20240801.blog") })
				var ce *file.CorruptError
				if !errors.As(err, &ce) || !errors.Is(err, file.ErrTruncated) || ce.Row != 1 || ce.Offset != int64(len(good)) {
					t.Errorf("err = %v, want a truncated row 1 at byte %d", err, len(good))
				}
				if len(got) != 1 {
					t.Errorf("read %d rows, want the good one", len(got))
				}
				if ce != nil && ce.Decompressed != gz {
					t.Errorf("CorruptError.Decompressed = %v for gzip=%v", ce.Decompressed, gz)
				}
				if gz && !strings.Contains(err.Error(), "of the decompressed data") {
					t.Errorf("%q does not say its offset is in the decompressed data", err)
				}
				t.Logf("allocated %d bytes", n)
				if n > 2<<20 {
					t.Errorf("allocated %d bytes for a %d-byte file", n, len(b))
				}
			})
		}
	}
}

// TestReadRowTooLarge: a row over the size limit is read past without being
// kept and handed over as a bad row (Err, no Value); the rows after it are
// read. Within the limit it is read whole.
func TestReadRowTooLarge(t *testing.T) {
	rows := makeRows(t, 5, 40)
	big := bytes.Repeat([]byte{'x'}, 3<<20)
	rows[2].Value = big
	data, offs := encodeRows(t, rows)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "20240801.blog.mpk"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		max  int
		keep bool
	}{
		{0, false}, // DefaultMaxRowSize: 1 MiB
		{3<<20 - 1, false},
		{3 << 20, true},
	} {
		t.Run(fmt.Sprint(tc.max), func(t *testing.T) {
			src, _ := file.Open(dir)
			src.MaxRowSize = tc.max
			k := shardKey(t, "20240801.blog")
			var errs []error
			var vals [][]byte
			var idx, at []int64
			n := allocated(func() {
				err := src.Read(context.Background(), mapreduce.WorkItem{Shard: k, Start: k.Start(), End: k.End()}, func(r *mapreduce.Row) error {
					errs = append(errs, r.Err)
					vals = append(vals, bytes.Clone(r.Value))
					idx, at = append(idx, r.Index), append(at, r.Offset)
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
			})
			if !slices.Equal(idx, []int64{0, 1, 2, 3, 4}) || !slices.Equal(at, offs) {
				t.Fatalf("rows %v at %v, want 0-4 at %v", idx, at, offs)
			}
			for i := range rows {
				if i == 2 && !tc.keep {
					if !errors.Is(errs[i], file.ErrRowTooLarge) || vals[i] != nil || !strings.Contains(errs[i].Error(), "3145728 bytes") {
						t.Errorf("the big row: err %v, %d bytes of value", errs[i], len(vals[i]))
					}
					continue
				}
				if errs[i] != nil || !bytes.Equal(vals[i], rows[i].Value) {
					t.Errorf("row %d: err %v, value of %d bytes", i, errs[i], len(vals[i]))
				}
			}
			if !tc.keep && n > 1<<20 {
				t.Errorf("allocated %d bytes to skip a 3 MiB row", n)
			}
		})
	}
	// Through the engine the big row is a bad row, named and budgeted.
	src, _ := file.Open(dir)
	plan, _ := mapreduce.NewPlan(mapreduce.PlanSpec{Accounts: []string{"blog"}, Start: day, End: day.Add(24 * time.Hour)})
	res, err := mapreduce.Run(context.Background(), plan, src, []mapreduce.Task{mapreduce.NewTask("count", countJob{})},
		mapreduce.Options{NewDecoder: pageview.NewMapreduceDecoder, MaxBad: mapreduce.Budget{Count: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if s := res.Summary; s.Rows != 5 || s.BadRows != 1 || !errors.Is(s.BadSamples[0], file.ErrRowTooLarge) ||
		!strings.Contains(s.BadSamples[0].Error(), fmt.Sprintf("shard 20240801.blog row 2 (byte %d)", offs[2])) {
		t.Errorf("summary %+v, samples %v", s, s.BadSamples)
	}
}

// TestReadOutlierReleased: the buffer of a value longer than the read buffer
// is not kept once the scan has moved on.
func TestReadOutlierReleased(t *testing.T) {
	rows := makeRows(t, 20, 40)
	rows[5].Value = bytes.Repeat([]byte{'y'}, 900<<10)
	data, _ := encodeRows(t, rows)
	sc := file.NewScanner(bytes.NewReader(data))
	heap := func() uint64 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	var before, during, after uint64
	for sc.Next() {
		switch sc.Row().Index {
		case 4:
			before = heap()
		case 5:
			during = heap()
		case 10:
			after = heap()
		}
	}
	if sc.Err() != nil {
		t.Fatal(sc.Err())
	}
	t.Logf("heap before the outlier %d, with it %d, after %d", before, during, after)
	if during < before+800<<10 {
		t.Fatalf("the outlier is not on the heap while read (%d, %d): the test measures nothing", before, during)
	}
	if after > before+400<<10 {
		t.Errorf("heap after the outlier %d, before %d: its buffer is kept", after, before)
	}
}
