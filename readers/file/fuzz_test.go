package file_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"io/fs"
	"slices"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/file"
	"github.com/pvjobs/pvjobs/readers/sample"
	"github.com/vmihailenco/msgpack/v5"
)

// scanned is what a scan of a shard file stream gave: its rows and how it
// ended.
type scanned struct {
	rows []gotRow
	errs []error // Row.Err of each row
	err  error
}

func scanBytes(data []byte, max int) scanned {
	sc := file.NewScanner(bytes.NewReader(data))
	sc.MaxRowSize = max
	var s scanned
	for sc.Next() {
		r := sc.Row()
		s.rows = append(s.rows, gotRow{r.TS, bytes.Clone(r.Value), r.Index, r.Offset})
		s.errs = append(s.errs, r.Err)
	}
	s.err = sc.Err()
	return s
}

// sampleShards returns the decompressed sample shards.
func sampleShards(f *testing.F) [][]byte {
	var out [][]byte
	err := fs.WalkDir(sample.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fh, err := sample.FS().Open(p)
		if err != nil {
			return err
		}
		defer fh.Close()
		zr, err := gzip.NewReader(fh)
		if err != nil {
			return err
		}
		b, err := io.ReadAll(zr)
		if err != nil {
			return err
		}
		out = append(out, b)
		return nil
	})
	if err != nil || len(out) == 0 {
		f.Fatalf("sample shards: %d, %v", len(out), err)
	}
	return out
}

// FuzzScanner feeds arbitrary bytes to the shard-file reader, as a plain
// file, a gzip file and through the Scanner. It must never panic nor
// allocate for lengths it has not read (a 4 GiB claim would crash the
// fuzzer), must number and place rows consistently, keep every value within
// the size limit, read the same through every path, and read back what it
// accepted after a re-encoding.
//
//	go test -run '^$' -fuzz FuzzScanner -fuzzminimizetime 100x ./readers/file
//
// (the default minimisation, 60 s per new input, stalls the counters.)
func FuzzScanner(f *testing.F) {
	// The first rows of real shards (whole ones, 80 KB each, make the
	// fuzzer's minimisation crawl).
	for i, s := range sampleShards(f) {
		f.Add(s[:min(len(s), 1500+100*i)], uint16(0))
		if i%4 == 0 {
			f.Add(s[:min(len(s), 700)], uint16(200))
		}
	}
	ts := mapreduce.TimeUUID(day.Add(time.Hour), 1, 1)
	row := func(ts [16]byte, v []byte) []byte {
		b, _ := msgpack.Marshal([]any{ts[:], v})
		return b
	}
	v4 := ts
	v4[6] = v4[6]&0x0f | 0x40
	late := mapreduce.TimeUUID(day.AddDate(0, 0, 4), 1, 1)
	for _, seed := range [][]byte{
		nil,
		{0x92},
		slices.Concat([]byte{0x92, 0xc4, 0x10}, ts[:], []byte{0xc6, 0xff, 0xff, 0xff, 0xff}),                   // issue 10: 4 GiB claimed
		slices.Concat(row(ts, []byte("\x81\xa3url\xa1/")), row(late, []byte("\x80")), row(ts, []byte("\x80"))), // out of order
		row(v4, []byte("\x80")), // a version-4 uuid
		slices.Concat([]byte{0x92, 0xb0}, ts[:], []byte{0xd9, 3}, []byte("abc")), // legacy str headers
		slices.Concat([]byte{0x92, 0xc4, 0x10}, ts[:], []byte{0xc5, 0x01, 0x00}, make([]byte, 256)),
		[]byte("not a shard file at all"),
	} {
		f.Add(seed, uint16(0))
		f.Add(seed, uint16(2))
	}
	f.Fuzz(fuzzScanner)
}

func fuzzScanner(t *testing.T, data []byte, limit uint16) {
	row := func(ts [16]byte, v []byte) []byte {
		b, _ := msgpack.Marshal([]any{ts[:], v})
		return b
	}
	{
		max := int(limit)
		if max == 0 {
			max = file.DefaultMaxRowSize
		}
		s := scanBytes(data, int(limit))
		var prev int64 = -1
		for i, r := range s.rows {
			if r.Index != int64(i) || r.Offset <= prev || r.Offset >= int64(len(data)) || (i == 0 && r.Offset != 0) {
				t.Fatalf("row %d: index %d offset %d after %d", i, r.Index, r.Offset, prev)
			}
			prev = r.Offset
			if err := s.errs[i]; err != nil {
				if !errors.Is(err, file.ErrRowTooLarge) || r.Value != nil {
					t.Fatalf("row %d: Err %v with %d bytes of value", i, err, len(r.Value))
				}
			} else if len(r.Value) > max {
				t.Fatalf("row %d: %d bytes, over the limit %d", i, len(r.Value), max)
			}
		}
		if s.err != nil {
			var ce *file.CorruptError
			if !errors.As(s.err, &ce) || ce.Row != int64(len(s.rows)) || ce.Offset <= prev || ce.Offset > int64(len(data)) {
				t.Fatalf("scan error %v (%+v) after %d rows, last at %d", s.err, ce, len(s.rows), prev)
			}
		}

		// The same through Source.Read, plain and gzip.
		var gz bytes.Buffer
		zw := gzipWriters.Get().(*gzip.Writer)
		zw.Reset(&gz)
		zw.Write(data)
		zw.Close()
		gzipWriters.Put(zw)
		fsys := fstest.MapFS{"20240801.a.mpk": {Data: data}, "20240801.b.mpk.gz": {Data: gz.Bytes()}}
		src := file.NewFS(fsys, "fuzz")
		src.MaxRowSize = int(limit)
		for _, key := range []string{"20240801.a", "20240801.b"} {
			k, _ := mapreduce.ParseShardKey(key)
			var got scanned
			got.err = src.Read(context.Background(), mapreduce.WorkItem{Shard: k, Start: k.Start(), End: k.End()}, func(r *mapreduce.Row) error {
				got.rows = append(got.rows, gotRow{r.TS, bytes.Clone(r.Value), r.Index, r.Offset})
				got.errs = append(got.errs, r.Err)
				return nil
			})
			if !sameScan(got, s) {
				t.Fatalf("%s: Read gave %d rows, %v; the Scanner %d rows, %v", key, len(got.rows), got.err, len(s.rows), s.err)
			}
		}

		// What was read, re-encoded, reads back the same.
		var re bytes.Buffer
		var want scanned
		for i, r := range s.rows {
			if s.errs[i] != nil {
				continue
			}
			re.Write(row(r.TS, r.Value))
			want.rows = append(want.rows, gotRow{r.TS, r.Value, int64(len(want.rows)), 0})
			want.errs = append(want.errs, nil)
		}
		back := scanBytes(re.Bytes(), int(limit))
		if back.err != nil || len(back.rows) != len(want.rows) {
			t.Fatalf("re-encoded: %d rows, %v; want %d", len(back.rows), back.err, len(want.rows))
		}
		for i := range back.rows {
			if back.rows[i].TS != want.rows[i].TS || !bytes.Equal(back.rows[i].Value, want.rows[i].Value) {
				t.Fatalf("re-encoded row %d differs", i)
			}
		}
	}
}

// gzipWriters keeps the fuzz target from allocating a compressor (about a
// megabyte) per input.
var gzipWriters = sync.Pool{New: func() any { zw, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed); return zw }}

// sameScan reports whether a and b read the same rows at the same places,
// and ended the same way: cleanly, or with a CorruptError at the same row
// and offset.
func sameScan(a, b scanned) bool {
	if len(a.rows) != len(b.rows) {
		return false
	}
	for i := range a.rows {
		x, y := a.rows[i], b.rows[i]
		if x.TS != y.TS || !bytes.Equal(x.Value, y.Value) || x.Index != y.Index || x.Offset != y.Offset ||
			(a.errs[i] == nil) != (b.errs[i] == nil) {
			return false
		}
	}
	if (a.err == nil) != (b.err == nil) {
		return false
	}
	if a.err != nil {
		var ca, cb *file.CorruptError
		if !errors.As(a.err, &ca) || !errors.As(b.err, &cb) || ca.Row != cb.Row || ca.Offset != cb.Offset {
			return false
		}
	}
	return true
}
