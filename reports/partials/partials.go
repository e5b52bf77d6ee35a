// Package partials writes and reads partial-result files: what one shard of
// a run cut by days (pvjobs run --shard-by day --partials DIR) leaves for
// pvjobs merge, which combines the files of every shard into the run's
// reports.
//
// # Format (version 1)
//
// A file is, in order:
//
//	magic        8 bytes  "\x89PVJPRT\n" (the high byte and the newline catch
//	                      a file mangled as text)
//	version      2 bytes  big-endian format version: 1
//	header size  4 bytes  big-endian length of the header
//	header       JSON     Header: the pvjobs version, the run's parameters
//	                      and their fingerprint, the shard, the local days
//	                      held, when it was written
//	body                  the merged partial results of every job of the run,
//	                      as mapreduce.EncodePartials writes them, compressed
//	                      as the header's "compression" says: "deflate"
//	                      (RFC 1951, what Write writes) or "none"
//	trailer      56 bytes "PVJEND\r\n", the big-endian 8-byte length of
//	                      everything before the trailer, the big-endian
//	                      8-byte length of the body uncompressed, and the
//	                      SHA-256 of everything before it (the file but
//	                      these last 32 bytes)
//
// Open checks the magic, then the version, then the trailer (a file cut
// short has none: ErrTruncated), then the checksum (ErrChecksum), and only
// then parses the header: a file that Open returns is byte for byte the one
// Write wrote. Files are written with package atomicfile (a temporary file,
// synced and renamed): a shard that fails or is killed leaves no file, and
// a shard run again replaces its file whole.
package partials

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/pvjobs/pvjobs/reports/atomicfile"
)

// Ext is the extension of partial-result files.
const Ext = ".pvpart"

// FormatVersion is the version of the format this package writes and
// reads.
const FormatVersion = 2

const (
	magic      = "\x89PVJPRT\n"
	endMagic   = "PVJEND\r\n"
	trailerLen = 8 + 8 + 8 + sha256.Size
	prefixLen  = 8 + 2 + 4
	// MaxHeader bounds the header's JSON.
	MaxHeader = 16 << 20
)

// Errors of Open, each wrapped in a *FileError that names the file.
var (
	// ErrNotPartial: the file does not start with the magic.
	ErrNotPartial = errors.New("not a pvjobs partial-result file")
	// ErrFormatVersion: the file is of another format version (a
	// *VersionError says which).
	ErrFormatVersion = errors.New("partial-result file of another format version")
	// ErrTruncated: the file ends before its trailer: a copy cut short.
	ErrTruncated = errors.New("partial-result file cut short (no complete trailer)")
	// ErrChecksum: the bytes are not those written.
	ErrChecksum = errors.New("partial-result file corrupt (checksum mismatch)")
	// ErrHeader: the header is not valid JSON of a Header.
	ErrHeader = errors.New("partial-result file with an unreadable header")
)

// VersionError is a file of another format version.
type VersionError struct {
	Got, Want int
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("format version %d; this pvjobs reads version %d", e.Got, e.Want)
}

// Unwrap returns ErrFormatVersion.
func (e *VersionError) Unwrap() error { return ErrFormatVersion }

// FileError is an error about one file.
type FileError struct {
	Path string
	Err  error
}

func (e *FileError) Error() string { return e.Path + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *FileError) Unwrap() error { return e.Err }

// Header describes a partial-result file: the run and the shard that wrote
// it.
type Header struct {
	// Pvjobs is the version of pvjobs that wrote the file.
	Pvjobs string `json:"pvjobs"`
	// Fingerprint names the run's parameters that affect its results
	// (Params): files of one run have the same.
	Fingerprint string `json:"fingerprint"`
	// Params are the run's parameters, as the writer encoded them.
	Params json.RawMessage `json:"params"`
	// Shard and Shards say which shard of how many wrote the file.
	Shard  int `json:"shard"`
	Shards int `json:"shards"`
	// Days lists the local dates (YYYY-MM-DD) whose partial results the
	// file holds.
	Days []string `json:"days"`
	// Rows is the number of rows the shard read.
	Rows int64 `json:"rows"`
	// Read counts what else the shard read, for the merge's summary.
	Read Counts `json:"read"`
	// Created is when the file was written.
	Created time.Time `json:"created"`
	// Compression says how the body is compressed: "deflate" or "none".
	Compression string `json:"compression"`
}

// Counts are a shard's counts of what it read (see mapreduce.Summary).
type Counts struct {
	BadRows       int64 `json:"bad_rows"`
	Spam          int64 `json:"spam"`
	Skipped       int64 `json:"skipped"`
	ShardsFound   int   `json:"shards_found"`
	ShardsMissing int   `json:"shards_missing"`
}

// The compressions of the body.
const (
	Deflate = "deflate"
	None    = "none"
)

// Name returns the file name of shard i of n: shard-0003-of-0008.pvpart.
func Name(i, n int) string { return fmt.Sprintf("shard-%04d-of-%04d%s", i, n, Ext) }

// Write writes a partial-result file at path atomically: h, then what body
// writes, then the trailer. It returns the file's size. When ctx is done or
// body fails nothing is left at path (a file there before stays as it
// was).
func Write(ctx context.Context, path string, h *Header, body func(w io.Writer) error) (int64, error) {
	hc := *h
	hc.Compression = Deflate
	hj, err := json.Marshal(&hc)
	if err != nil {
		return 0, fmt.Errorf("partial-result header: %w", err)
	}
	f, err := atomicfile.Create(path)
	if err != nil {
		return 0, err
	}
	ok := false
	defer func() {
		if !ok {
			f.Abort()
		}
	}()
	sum := sha256.New()
	cw := &countWriter{ctx: ctx, w: io.MultiWriter(f, sum)}
	var prefix [prefixLen]byte
	copy(prefix[:], magic)
	binary.BigEndian.PutUint16(prefix[8:], FormatVersion)
	binary.BigEndian.PutUint32(prefix[10:], uint32(len(hj)))
	if _, err := cw.Write(prefix[:]); err != nil {
		return 0, fmt.Errorf("writing %s: %w", path, err)
	}
	if _, err := cw.Write(hj); err != nil {
		return 0, fmt.Errorf("writing %s: %w", path, err)
	}
	zw, err := flate.NewWriter(cw, flate.BestSpeed)
	if err != nil {
		return 0, err
	}
	raw := &countWriter{ctx: ctx, w: zw}
	if err := body(raw); err != nil {
		return 0, fmt.Errorf("writing %s: %w", path, err)
	}
	if err := zw.Close(); err != nil {
		return 0, fmt.Errorf("writing %s: %w", path, err)
	}
	var tr [trailerLen]byte
	copy(tr[:], endMagic)
	binary.BigEndian.PutUint64(tr[8:], uint64(cw.n))
	binary.BigEndian.PutUint64(tr[16:], uint64(raw.n))
	sum.Write(tr[:24])
	sum.Sum(tr[24:24])
	if _, err := f.Write(tr[:]); err != nil {
		return 0, fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Commit(); err != nil {
		return 0, err
	}
	ok = true
	return cw.n + trailerLen, nil
}

// countWriter counts what it writes and fails once ctx is done.
type countWriter struct {
	ctx context.Context
	w   io.Writer
	n   int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// File is an open partial-result file whose bytes were checked.
type File struct {
	Path   string
	Header Header
	// Size is the file's size.
	Size int64
	// Sum is the SHA-256 of the file's content before the trailer.
	Sum [sha256.Size]byte
	f   *os.File
	// body bounds the body: [bodyOff, bodyOff+bodyLen), rawLen bytes
	// uncompressed.
	bodyOff, bodyLen, rawLen int64
}

// Open opens the partial-result file at path and checks it: magic, format
// version, trailer, checksum, header. Its errors are *FileError wrapping
// one of the package's errors (or the file system's).
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &FileError{path, err}
	}
	pf, err := check(f)
	if err != nil {
		f.Close()
		return nil, &FileError{path, err}
	}
	pf.Path = path
	return pf, nil
}

func check(f *os.File) (*File, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	size := st.Size()
	var prefix [prefixLen]byte
	if n, err := io.ReadFull(f, prefix[:]); err != nil {
		if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, err
		}
		if m := min(n, len(magic)); string(prefix[:m]) == magic[:m] {
			return nil, ErrTruncated
		}
		return nil, ErrNotPartial
	}
	if string(prefix[:len(magic)]) != magic {
		return nil, ErrNotPartial
	}
	if v := int(binary.BigEndian.Uint16(prefix[8:])); v != FormatVersion {
		return nil, &VersionError{Got: v, Want: FormatVersion}
	}
	hlen := int64(binary.BigEndian.Uint32(prefix[10:]))
	if size < prefixLen+trailerLen {
		return nil, ErrTruncated
	}
	var tr [trailerLen]byte
	if _, err := f.ReadAt(tr[:], size-trailerLen); err != nil {
		return nil, err
	}
	content := size - trailerLen
	if string(tr[:8]) != endMagic || int64(binary.BigEndian.Uint64(tr[8:])) != content {
		return nil, ErrTruncated
	}
	if hlen > MaxHeader || prefixLen+hlen > content {
		return nil, fmt.Errorf("%w: a header of %d bytes", ErrHeader, hlen)
	}
	sum := sha256.New()
	if _, err := io.Copy(sum, io.NewSectionReader(f, 0, size-sha256.Size)); err != nil {
		return nil, err
	}
	var got [sha256.Size]byte
	sum.Sum(got[:0])
	if !bytes.Equal(got[:], tr[24:]) {
		return nil, ErrChecksum
	}
	hj := make([]byte, hlen)
	if _, err := f.ReadAt(hj, prefixLen); err != nil {
		return nil, err
	}
	pf := &File{Size: size, Sum: got, f: f, bodyOff: prefixLen + hlen, bodyLen: content - prefixLen - hlen,
		rawLen: int64(min(binary.BigEndian.Uint64(tr[16:]), 1<<62))}
	dec := json.NewDecoder(bytes.NewReader(hj))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&pf.Header); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrHeader, err)
	}
	switch pf.Header.Compression {
	case Deflate:
	case None, "":
		if pf.rawLen != pf.bodyLen {
			return nil, fmt.Errorf("%w: an uncompressed body of %d bytes that says %d", ErrHeader, pf.bodyLen, pf.rawLen)
		}
	default:
		return nil, fmt.Errorf("%w: compression %q; this pvjobs knows %s and %s", ErrHeader, pf.Header.Compression, Deflate, None)
	}
	return pf, nil
}

// Body returns a reader of the file's body, uncompressed, and its length
// uncompressed: no more bytes than that are believed (the reader ends
// there).
func (f *File) Body() (io.Reader, int64) {
	r := io.Reader(io.NewSectionReader(f.f, f.bodyOff, f.bodyLen))
	if f.Header.Compression == Deflate {
		r = flate.NewReader(r)
	}
	return io.LimitReader(r, f.rawLen), f.rawLen
}

// Close closes the file.
func (f *File) Close() error { return f.f.Close() }

// List returns the partial-result files that paths name: a file as it is,
// a directory's files ending in Ext (not hidden ones, such as a temporary
// file of a shard still writing), sorted, each path once.
func List(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		ents, err := os.ReadDir(p)
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			n := e.Name()
			if strings.HasPrefix(n, ".") || !strings.HasSuffix(n, Ext) || e.IsDir() {
				continue
			}
			out = append(out, filepath.Join(p, n))
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// Fingerprint returns the hex SHA-256 of the JSON encoding of v (for
// Header.Fingerprint): encoding/json writes struct fields in order and map
// keys sorted, so equal values have equal fingerprints.
func Fingerprint(v any) (string, json.RawMessage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", nil, err
	}
	s := sha256.Sum256(b)
	return fmt.Sprintf("%x", s[:]), b, nil
}
