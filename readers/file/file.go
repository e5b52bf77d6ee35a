// Package file reads and writes shard files: the exported form of one Cassandra
// partition, used by the embedded sample, tests, demos and offline runs.
//
// A shard file is named "<shard key>.mpk" (or ".mpk.gz", gzip-compressed), for
// example "20240801.blog.mpk", and holds a plain concatenation of 2-element
// msgpack arrays [ts, value]: ts is the 16 raw bytes of the row's version-1
// timeuuid as msgpack bin, value is msgpack bin holding the page-view map bytes
// exactly as stored in Cassandra's blob column. Rows are in timeuuid order.
// A directory (or any fs.FS) of shard files is a source.
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

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// Extensions of shard files, in the order a source looks for them.
const (
	Ext   = ".mpk"
	ExtGz = ".mpk.gz"
)

// Source reads shard files from a file system. It reads each shard
// sequentially, once per run (mapreduce.SplitShards), and streams it: memory use
// does not grow with the shard's size.
type Source struct {
	fsys fs.FS
	name string
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

// Split implements mapreduce.Source: one work item per shard.
func (s *Source) Split() mapreduce.Split { return mapreduce.SplitShards }

// Shards lists the shard keys of the files in the source, sorted. Files whose
// names are not shard keys are ignored.
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

// CorruptError says where a shard file stops making sense.
type CorruptError struct {
	File   string
	Offset int64
	Row    int64
	Err    error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("shard file %s: byte %d (row %d): %v", e.File, e.Offset, e.Row, e.Err)
}

func (e *CorruptError) Unwrap() error { return e.Err }

// ErrTruncated is wrapped by the error for a file that ends inside a row.
var ErrTruncated = errors.New("file ends inside a row (truncated)")

// Read implements mapreduce.Source.
func (s *Source) Read(ctx context.Context, item mapreduce.WorkItem, fn func(*mapreduce.Row) error) error {
	name := item.Shard.String()
	f, fname, err := s.open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(fname, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return &CorruptError{File: s.path(fname), Err: fmt.Errorf("gzip: %w", err)}
		}
		defer zr.Close()
		r = zr
	}
	sc := NewScanner(r)
	lo, hi := item.Start.UnixNano(), item.End.UnixNano()
	for sc.Next() {
		row := sc.Row()
		if row.Index&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		t := row.Time()
		if t < lo {
			continue
		}
		if t >= hi {
			break // rows are in time order
		}
		if err := fn(row); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		var ce *CorruptError
		if errors.As(err, &ce) {
			ce.File = s.path(fname)
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

func (s *Source) open(name string) (fs.File, string, error) {
	for _, ext := range []string{Ext, ExtGz} {
		f, err := s.fsys.Open(name + ext)
		if err == nil {
			return f, name + ext, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, "", fmt.Errorf("opening shard %s: %w", name, err)
		}
	}
	return nil, "", fmt.Errorf("%w: %s", mapreduce.ErrNoShard, name)
}

// Scanner reads the rows of one shard file stream.
type Scanner struct {
	dec    *msgpack.Decoder
	row    mapreduce.Row
	buf    []byte
	offset int64
	err    error
}

// NewScanner returns a Scanner reading r (buffered internally).
func NewScanner(r io.Reader) *Scanner {
	sc := &Scanner{}
	sc.dec = msgpack.NewDecoder(bufio.NewReaderSize(r, 256<<10))
	sc.row.Index = -1
	return sc
}

// Next advances to the next row; it returns false at the end or on error.
func (sc *Scanner) Next() bool {
	if sc.err != nil {
		return false
	}
	start := sc.offset
	sc.row.Index++
	c, err := sc.dec.PeekCode()
	if err == io.EOF {
		return false
	}
	if err != nil {
		return sc.fail(start, err)
	}
	if c != msgpcode.FixedArrayLow|2 {
		return sc.fail(start, fmt.Errorf("row is msgpack type 0x%02x, want a 2-element array [ts, value]", c))
	}
	_, _ = sc.dec.DecodeArrayLen()
	sc.offset++
	n, err := sc.bin()
	if err != nil {
		return sc.fail(start, fmt.Errorf("timeuuid: %w", err))
	}
	if n != 16 {
		return sc.fail(start, fmt.Errorf("timeuuid is %d bytes, want 16", n))
	}
	if err := sc.dec.ReadFull(sc.row.TS[:]); err != nil {
		return sc.fail(start, err)
	}
	sc.offset += 16
	n, err = sc.bin()
	if err != nil {
		return sc.fail(start, fmt.Errorf("value: %w", err))
	}
	if cap(sc.buf) < n {
		sc.buf = make([]byte, n, n+n/2)
	}
	sc.buf = sc.buf[:n]
	if err := sc.dec.ReadFull(sc.buf); err != nil {
		return sc.fail(start, err)
	}
	sc.offset += int64(n)
	sc.row.Value = sc.buf
	sc.row.Offset = start
	return true
}

// bin reads a bin (or str) header and returns its length, advancing offset
// over the header.
func (sc *Scanner) bin() (int, error) {
	c, err := sc.dec.PeekCode()
	if err != nil {
		return 0, err
	}
	hdr := 0
	switch {
	case msgpcode.IsFixedString(c):
		hdr = 1
	case c == msgpcode.Bin8 || c == msgpcode.Str8:
		hdr = 2
	case c == msgpcode.Bin16 || c == msgpcode.Str16:
		hdr = 3
	case c == msgpcode.Bin32 || c == msgpcode.Str32:
		hdr = 5
	default:
		return 0, fmt.Errorf("msgpack type 0x%02x, want bin", c)
	}
	n, err := sc.dec.DecodeBytesLen()
	if err != nil {
		return 0, err
	}
	sc.offset += int64(hdr)
	return n, nil
}

func (sc *Scanner) fail(start int64, err error) bool {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		err = ErrTruncated
	}
	sc.err = &CorruptError{Offset: start, Row: sc.row.Index, Err: err}
	return false
}

// Row returns the current row, valid until the next call to Next.
func (sc *Scanner) Row() *mapreduce.Row { return &sc.row }

// Err returns the error that stopped the scan, or nil at a clean end.
func (sc *Scanner) Err() error { return sc.err }
