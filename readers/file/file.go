// Package file reads and writes shard files: the exported form of one Cassandra
// partition, used by the embedded sample, tests, demos and offline runs.
//
// A shard file is named "<shard key>.mpk" (or ".mpk.gz", gzip-compressed), for
// example "20240801.blog.mpk", and holds a plain concatenation of 2-element
// msgpack arrays [ts, value]: ts is the 16 raw bytes of the row's version-1
// timeuuid as msgpack bin, value is msgpack bin holding the page-view map
// bytes exactly as stored in Cassandra's blob column. Rows are in timeuuid
// order. A directory (or any fs.FS) of shard files is a source.
//
// What the reader trusts, and what it does not:
//
//   - Order. Writers keep rows in timeuuid order, but the reader never relies
//     on it: it reads every shard to its end and hands every row to the
//     engine, which leaves out the rows of the day outside the run's range
//     and counts rows outside the shard's UTC day as bad (see
//     mapreduce.Source). Stopping at the first row past the range would
//     silently drop the rest of a shard with one misplaced row.
//   - Names. A shard is one regular file: a shard with both a .mpk and a
//     .mpk.gz file, or whose file is a FIFO, a device or a directory, is
//     refused by name (Source.Files, before a run reads anything; Read too).
//   - Lengths. A row's value is at most MaxRowSize bytes (DefaultMaxRowSize,
//     1 MiB; page views are a few hundred bytes). A longer one is skipped
//     without being held in memory and reported as a bad row
//     (ErrRowTooLarge); memory is only ever allocated for bytes that have
//     been read, so a header claiming 4 GiB costs nothing.
//   - I/O. A read that blocks (a FIFO, a hung network mount) does not block
//     cancellation: Read returns the context's error at once.
//
// Byte offsets in errors and bad rows are positions in the file, or, for a
// .mpk.gz file, in its decompressed data.
package file

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
)

// Extensions of shard files.
const (
	Ext   = ".mpk"
	ExtGz = ".mpk.gz"
)

// DefaultMaxRowSize is the default bound on the bytes of one row's value: a
// page view is a few hundred bytes, rarely a few KB.
const DefaultMaxRowSize = 1 << 20

// readBuffer is the size of the read buffer: rows up to this size are handed
// over without being copied.
const readBuffer = 256 << 10

// ErrTwoFiles is wrapped by the error for a shard that has both a .mpk and a
// .mpk.gz file: which one is current cannot be known.
var ErrTwoFiles = errors.New("two files for one shard")

// ErrNotRegular is wrapped by the error for a shard whose file is not a
// regular file (a FIFO, a device, a socket, a directory).
var ErrNotRegular = errors.New("not a regular file")

// ErrRowTooLarge is wrapped by the error of a row whose value is longer than
// the source's MaxRowSize. The row is skipped and counted as bad.
var ErrRowTooLarge = errors.New("row over the size limit")

// Source reads shard files from a file system. It reads each shard
// sequentially, once per run (mapreduce.SplitShards), whole, and streams it:
// memory use does not grow with the shard's size. When a run has fewer
// shards than workers, a shard's time is cut into parts read by different
// workers, each reading the whole file (mapreduce.SplitShardParts, Cut).
type Source struct {
	fsys fs.FS
	name string
	// MaxRowSize bounds the bytes of one row's value (0: DefaultMaxRowSize).
	// Set it before the first Read.
	MaxRowSize int
}

// Open returns a Source over the directory dir.
func Open(dir string) (*Source, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("shard directory: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("shard directory %s: not a directory", dir)
	}
	return &Source{fsys: os.DirFS(dir), name: dir}, nil
}

// NewFS returns a Source over fsys (an embedded sample, for example); name is
// used in messages.
func NewFS(fsys fs.FS, name string) *Source { return &Source{fsys: fsys, name: name} }

// String returns the source's name.
func (s *Source) String() string { return s.name }

// Split implements mapreduce.Source: one work item per shard, or, when a run
// has fewer shards than workers, parts of a shard's time read by different
// workers (mapreduce.SplitShardParts): each part reads the whole file and
// skips the other parts' values unread. With any compressed file in the
// source, shards are not cut into parts, as each part would decompress the
// whole file.
func (s *Source) Split() mapreduce.Split {
	ents, err := fs.ReadDir(s.fsys, ".")
	if err != nil {
		return mapreduce.SplitShards // Shards reports the error
	}
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ExtGz) {
			return mapreduce.SplitShards
		}
	}
	return mapreduce.SplitShardParts
}

// Shards lists the shard keys of the files in the source, sorted, each
// once. Files whose names are not shard keys, and directories, are ignored;
// files that are not regular are listed (Files and Read refuse them).
func (s *Source) Shards() ([]mapreduce.ShardKey, error) {
	ents, err := fs.ReadDir(s.fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", s.name, err)
	}
	var keys []mapreduce.ShardKey
	seen := map[string]bool{}
	for _, e := range ents {
		n := e.Name()
		base, ok := strings.CutSuffix(n, ExtGz)
		if !ok {
			base, ok = strings.CutSuffix(n, Ext)
		}
		if !ok || e.IsDir() || seen[base] {
			continue
		}
		k, err := mapreduce.ParseShardKey(base)
		if err != nil {
			continue
		}
		seen[base] = true
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b mapreduce.ShardKey) int {
		if c := a.Day.Compare(b.Day); c != 0 {
			return c
		}
		return strings.Compare(a.Account, b.Account)
	})
	return keys, nil
}

// Files returns the name of the file that holds each shard of keys, "" for
// a shard without a file. It refuses shards with two files (ErrTwoFiles)
// and files that are not regular files (ErrNotRegular), naming every one of
// them. A run calls it before reading anything. It returns ctx's error as
// soon as ctx is done, even when the file system hangs.
func (s *Source) Files(ctx context.Context, keys []mapreduce.ShardKey) ([]string, error) {
	names := make([]string, len(keys))
	var errs []error
	for i, k := range keys {
		name, err := s.file(ctx, k)
		switch {
		case err == nil:
			names[i] = name
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case !errors.Is(err, mapreduce.ErrNoShard):
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return names, nil
}

// file returns the name of the one regular file of shard k, or an error:
// ErrNoShard, ErrTwoFiles, ErrNotRegular, or the file system's.
func (s *Source) file(ctx context.Context, k mapreduce.ShardKey) (string, error) {
	var found []string
	var infos []fs.FileInfo
	for _, ext := range []string{Ext, ExtGz} {
		name := k.String() + ext
		fi, err := statContext(ctx, s.fsys, name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				return "", ctx.Err()
			}
			return "", fmt.Errorf("shard file %s: %w", s.path(name), err)
		}
		found = append(found, name)
		infos = append(infos, fi)
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("%w: %s", mapreduce.ErrNoShard, k)
	case 2:
		return "", fmt.Errorf("shard %s: %w, %s and %s: remove the stale one", k, ErrTwoFiles, s.path(found[0]), s.path(found[1]))
	}
	if !infos[0].Mode().IsRegular() {
		return "", fmt.Errorf("shard file %s is %s: %w", s.path(found[0]), kind(infos[0].Mode()), ErrNotRegular)
	}
	return found[0], nil
}

// kind names the type of a file that is not regular.
func kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0, m&fs.ModeCharDevice != 0:
		return "a device"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	}
	return fmt.Sprintf("of type %v", m.Type())
}

// CorruptError says where a shard file stops making sense.
type CorruptError struct {
	File string
	// Offset is the byte offset of the broken row: in the file, or for a
	// compressed file (Decompressed) in its decompressed data. It is -1
	// for an error about the file as a whole (a gzip header).
	Offset       int64
	Decompressed bool
	// Row is the index of the broken row, -1 with Offset.
	Row int64
	Err error
}

func (e *CorruptError) Error() string {
	switch {
	case e.Offset < 0:
		return fmt.Sprintf("shard file %s: %v", e.File, e.Err)
	case e.Decompressed:
		return fmt.Sprintf("shard file %s: byte %d of the decompressed data (row %d): %v", e.File, e.Offset, e.Row, e.Err)
	}
	return fmt.Sprintf("shard file %s: byte %d (row %d): %v", e.File, e.Offset, e.Row, e.Err)
}

func (e *CorruptError) Unwrap() error { return e.Err }

// ErrTruncated is wrapped by the error for a file that ends inside a row.
var ErrTruncated = errors.New("file ends inside a row (truncated)")

// Read implements mapreduce.Source. It hands fn every row of the shard's
// file, whatever its time, in file order: the engine leaves out the rows
// outside item's range and checks the rest (see mapreduce.Source). For an
// item that is a part of the shard's time, it hands over only the rows the
// item Wants; the others' values are skipped unread. A row
// over MaxRowSize is handed over with Value nil and Err wrapping
// ErrRowTooLarge. Read refuses a shard with two files (ErrTwoFiles) or whose
// file is not a regular file (ErrNotRegular), and returns ctx's error as
// soon as ctx is done, even when a read is stuck in the kernel.
func (s *Source) Read(ctx context.Context, item mapreduce.WorkItem, fn func(*mapreduce.Row) error) error {
	name, err := s.file(ctx, item.Shard)
	if err != nil {
		return err
	}
	f, err := openContext(ctx, s.fsys, name)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("opening shard file %s: %w", s.path(name), err)
	}
	cr := &ctxReader{ctx: ctx, r: f}
	defer func() {
		if cr.stuck {
			go f.Close() // may block as long as the read does
		} else {
			f.Close()
		}
	}()
	// The file may have been replaced since it was looked at.
	if fi, err := await(ctx, f.Stat, nil); err != nil || !fi.Mode().IsRegular() {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			return fmt.Errorf("shard file %s: %w", s.path(name), err)
		}
		return fmt.Errorf("shard file %s is %s: %w", s.path(name), kind(fi.Mode()), ErrNotRegular)
	}
	var r io.Reader = cr
	gz := strings.HasSuffix(name, ".gz")
	if gz {
		// gzip reads byte by byte from an io.ByteReader: a buffer keeps
		// ctxReader's calls few.
		zr, err := gzip.NewReader(bufio.NewReaderSize(cr, 64<<10))
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return &CorruptError{File: s.path(name), Offset: -1, Row: -1, Err: err}
		}
		defer zr.Close()
		r = zr
	}
	sc := NewScanner(r)
	sc.MaxRowSize = s.MaxRowSize
	sc.row.Decompressed = gz
	if item.Parts > 1 {
		sc.want = func(ts *[16]byte) bool {
			if !mapreduce.IsTimeUUID(*ts) {
				return item.Wants(0, false)
			}
			return item.Wants(mapreduce.UUIDTime(*ts), true)
		}
	}
	for sc.Next() {
		row := sc.Row()
		if row.Index&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := fn(row); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var ce *CorruptError
		if errors.As(err, &ce) {
			ce.File = s.path(name)
			ce.Decompressed = gz
		}
		return err
	}
	return nil
}

func (s *Source) path(fname string) string {
	if s.name == "" {
		return fname
	}
	return path.Join(filepathSlash(s.name), fname)
}

func filepathSlash(p string) string { return strings.ReplaceAll(p, string(os.PathSeparator), "/") }

// Scanner reads the rows of one shard file stream. It trusts no length
// before the bytes are there: a row's value up to the read buffer's size
// (256 KiB) is handed over in place, a longer one is copied as its bytes
// arrive, and one over MaxRowSize is read past without being kept.
type Scanner struct {
	// MaxRowSize bounds the bytes of one row's value (0: DefaultMaxRowSize).
	// A longer row is handed over with Value nil and Err wrapping
	// ErrRowTooLarge, and the scan goes on.
	MaxRowSize int

	br     *bufio.Reader
	row    mapreduce.Row
	offset int64
	err    error
	// want, when set, tells the rows to hand over by their timeuuid: the
	// values of the others are skipped unread.
	want func(ts *[16]byte) bool
}

// NewScanner returns a Scanner reading r (buffered internally).
func NewScanner(r io.Reader) *Scanner {
	sc := &Scanner{br: bufio.NewReaderSize(r, readBuffer)}
	sc.row.Index = -1
	return sc
}

// Next advances to the next row; it returns false at the end or on error.
// Rows that want refuses are read past.
func (sc *Scanner) Next() bool {
	for {
		if sc.err != nil {
			return false
		}
		start := sc.offset
		sc.row.Index++
		sc.row.Value, sc.row.Err = nil, nil
		b, err := sc.br.Peek(1)
		if len(b) == 0 {
			if err == io.EOF {
				return false
			}
			return sc.fail(start, err)
		}
		if b[0] != 0x92 { // fixarray of 2
			return sc.fail(start, fmt.Errorf("row is msgpack type 0x%02x, want a 2-element array [ts, value]", b[0]))
		}
		sc.skip(1)
		n, err := sc.binHeader()
		if err != nil {
			return sc.fail(start, fmt.Errorf("timeuuid: %w", err))
		}
		if n != 16 {
			return sc.fail(start, fmt.Errorf("timeuuid is %d bytes, want 16", n))
		}
		if _, err := io.ReadFull(sc.br, sc.row.TS[:]); err != nil {
			return sc.fail(start, err)
		}
		sc.offset += 16
		n, err = sc.binHeader()
		if err != nil {
			return sc.fail(start, fmt.Errorf("value: %w", err))
		}
		if sc.want != nil && !sc.want(&sc.row.TS) {
			k, err := sc.br.Discard(n)
			sc.offset += int64(k)
			if err != nil {
				return sc.fail(start, err)
			}
			continue
		}
		max := sc.MaxRowSize
		if max <= 0 {
			max = DefaultMaxRowSize
		}
		switch {
		case n > max:
			// Read past it: Discard goes through the read buffer, whatever n.
			k, err := sc.br.Discard(n)
			sc.offset += int64(k)
			if err != nil {
				return sc.fail(start, err)
			}
			sc.row.Err = fmt.Errorf("%w: value of %d bytes, limit %d", ErrRowTooLarge, n, max)
		case n <= sc.br.Size():
			// In place: valid until the next read from br.
			v, err := sc.br.Peek(n)
			if err != nil {
				return sc.fail(start, err)
			}
			sc.skip(n)
			sc.row.Value = v[:n:n]
		default:
			// Longer than the read buffer: copy it as its bytes arrive (the
			// copy is dropped with the row: an outlier's buffer is not kept).
			var v []byte
			for len(v) < n {
				chunk, err := sc.br.Peek(min(n-len(v), sc.br.Size()))
				v = append(v, chunk...)
				sc.skip(len(chunk))
				if err != nil {
					return sc.fail(start, err)
				}
			}
			sc.row.Value = v
		}
		sc.row.Offset = start
		return true
	}
}

// skip discards n buffered bytes.
func (sc *Scanner) skip(n int) {
	sc.br.Discard(n)
	sc.offset += int64(n)
}

// binHeader reads a bin (or str) header and returns its length.
func (sc *Scanner) binHeader() (int, error) {
	b, err := sc.br.Peek(1)
	if len(b) == 0 {
		return 0, err
	}
	c := b[0]
	var size int // bytes of the length field
	switch {
	case c >= 0xa0 && c <= 0xbf: // fixstr
		sc.skip(1)
		return int(c & 0x1f), nil
	case c == 0xc4 || c == 0xd9: // bin8, str8
		size = 1
	case c == 0xc5 || c == 0xda: // bin16, str16
		size = 2
	case c == 0xc6 || c == 0xdb: // bin32, str32
		size = 4
	default:
		return 0, fmt.Errorf("msgpack type 0x%02x, want bin", c)
	}
	b, err = sc.br.Peek(1 + size)
	if len(b) < 1+size {
		return 0, err
	}
	n := 0
	for _, x := range b[1:] {
		n = n<<8 | int(x)
	}
	sc.skip(1 + size)
	return n, nil
}

func (sc *Scanner) fail(start int64, err error) bool {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		err = ErrTruncated
	}
	sc.row.Value = nil
	sc.err = &CorruptError{Offset: start, Row: sc.row.Index, Err: err}
	return false
}

// Row returns the current row, valid until the next call to Next.
func (sc *Scanner) Row() *mapreduce.Row { return &sc.row }

// Err returns the error that stopped the scan, or nil at a clean end.
func (sc *Scanner) Err() error { return sc.err }

// Cut implements mapreduce.Cutter: it cuts item at the times of the rows
// found just after k-1 evenly spaced byte offsets of the shard's file, so
// that the parts hold about as many bytes, and so rows (files are written in
// time order; a day's traffic is not spread evenly over its hours). A row is
// recognised by its first bytes: a 2-element array, a 16-byte bin that is a
// version-1 timeuuid within the item's time, and the header of a bin. What
// Cut finds only shares the work out: a wrong guess costs balance, never
// rows, as each part still reads the whole file. It returns nil for a
// compressed file, when it finds no row, and when the file does not answer
// within cutTimeout (a hung mount: Read, under the run's context, then
// fails as it would have).
func (s *Source) Cut(item mapreduce.WorkItem, k int) []time.Time {
	ctx, cancel := context.WithTimeout(context.Background(), cutTimeout)
	defer cancel()
	cuts, _ := await(ctx, func() ([]time.Time, error) { return s.cut(ctx, item, k), nil }, nil)
	return cuts
}

// cutTimeout bounds the time Cut waits for the file system.
const cutTimeout = 10 * time.Second

func (s *Source) cut(ctx context.Context, item mapreduce.WorkItem, k int) []time.Time {
	name, err := s.file(ctx, item.Shard)
	if err != nil || strings.HasSuffix(name, ExtGz) {
		return nil
	}
	f, err := s.fsys.Open(name)
	if err != nil {
		return nil
	}
	defer f.Close()
	ra, ok := f.(io.ReaderAt)
	fi, err := f.Stat()
	if !ok || err != nil || !fi.Mode().IsRegular() {
		return nil
	}
	lo, hi := item.Start.UnixNano(), item.End.UnixNano()
	buf := make([]byte, 64<<10)
	var cuts []time.Time
	for j := 1; j < k; j++ {
		n, _ := ra.ReadAt(buf, fi.Size()*int64(j)/int64(k))
		t, ok := firstRowTime(buf[:n], lo, hi)
		if !ok {
			return nil
		}
		cuts = append(cuts, time.Unix(0, t).UTC())
	}
	return cuts
}

// firstRowTime returns the time of the first row that starts in b and
// whose time is in (lo, hi).
func firstRowTime(b []byte, lo, hi int64) (int64, bool) {
	for p := 0; p+20 <= len(b); p++ {
		if b[p] != 0x92 || b[p+1] != 0xc4 || b[p+2] != 16 {
			continue
		}
		switch b[p+19] {
		case 0xc4, 0xc5, 0xc6:
		default:
			continue
		}
		ts := [16]byte(b[p+3 : p+19])
		if !mapreduce.IsTimeUUID(ts) {
			continue
		}
		if t := mapreduce.UUIDTime(ts); t > lo && t < hi {
			return t, true
		}
	}
	return 0, false
}
