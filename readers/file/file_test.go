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
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/file"
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
			if len(got) != tc.n {
				t.Fatalf("read %d rows, want %d", len(got), tc.n)
			}
			for i, g := range got {
				if g.TS != rows[tc.first+i].TS || g.Index != int64(tc.first+i) {
					t.Errorf("row %d is file row %d, want %d", i, g.Index, tc.first+i)
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
	writeShard(t, dir, "20240801.blog", true, makeRows(t, 2, 10))
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
	// With both forms present, the plain file is read.
	got, err := wholeDay(t, src, "20240801.blog")
	if err != nil || len(got) != 1 {
		t.Errorf("with .mpk and .mpk.gz: read %d rows (%v), want the .mpk's 1", len(got), err)
	}
	if _, err := file.Open(filepath.Join(dir, "missing")); err == nil {
		t.Error("Open of a missing directory succeeded")
	}
	if _, err := file.Open(filepath.Join(dir, "README")); err == nil {
		t.Error("Open of a file succeeded")
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
	if !errors.As(err, &ce) || ce.File != "mapfs/20240801.c.mpk.gz" || !strings.Contains(err.Error(), "gzip") {
		t.Errorf("bad gzip: %v", err)
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
