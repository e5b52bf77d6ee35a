package file

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/vmihailenco/msgpack/v5"
)

// Writer writes one shard file: rows in timeuuid order, encoded as the
// reader expects. A Writer from Create writes a file atomically: rows go to a
// temporary file that Close renames into place, so readers never see half a
// shard. A Writer from NewWriter encodes to any io.Writer (such as a file of
// package reports/atomicfile that the caller commits).
type Writer struct {
	f     *os.File // Create only
	zw    *gzip.Writer
	bw    *bufio.Writer
	enc   *msgpack.Encoder
	final string
	// other is the shard's file of the other form (.mpk for .mpk.gz and
	// the other way round), which Close removes (Create only).
	other string
	done  bool
}

// FileName returns the name of key's shard file: YYYYMMDD.account.mpk, or
// .mpk.gz when gz.
func FileName(key mapreduce.ShardKey, gz bool) string {
	if gz {
		return key.String() + ExtGz
	}
	return key.String() + Ext
}

// NewWriter returns a Writer that encodes rows to w, gzip-compressed when
// gz. Its Close flushes the rows (and ends the gzip stream) but does not
// close w.
func NewWriter(w io.Writer, gz bool) *Writer {
	out := &Writer{}
	if gz {
		out.zw, _ = gzip.NewWriterLevel(w, gzip.BestCompression)
		w = out.zw
	}
	out.bw = bufio.NewWriterSize(w, 64<<10)
	out.enc = msgpack.NewEncoder(out.bw)
	return out
}

// Create starts the shard file for key in dir, gzip-compressed when gz.
func Create(dir string, key mapreduce.ShardKey, gz bool) (*Writer, error) {
	name := FileName(key, gz)
	f, err := os.CreateTemp(dir, "."+name+".tmp*")
	if err != nil {
		return nil, fmt.Errorf("creating shard file: %w", err)
	}
	w := NewWriter(f, gz)
	w.f, w.final, w.other = f, filepath.Join(dir, name), filepath.Join(dir, FileName(key, !gz))
	return w, nil
}

// Write appends one row.
func (w *Writer) Write(ts [16]byte, value []byte) error {
	if err := w.enc.EncodeArrayLen(2); err != nil {
		return err
	}
	if err := w.enc.EncodeBytes(ts[:]); err != nil {
		return err
	}
	return w.enc.EncodeBytes(value)
}

// Close flushes the rows; a Writer from Create then closes its file,
// renames it into place and removes the shard's file of the other form, if
// any (writing 20240801.blog.mpk.gz removes 20240801.blog.mpk): the new file
// replaces it, and a reader refuses a shard with two files.
func (w *Writer) Close() error {
	if w.done {
		return nil
	}
	w.done = true
	err := w.bw.Flush()
	if w.zw != nil && err == nil {
		err = w.zw.Close()
	}
	if w.f == nil {
		return err
	}
	if err == nil {
		err = w.f.Close()
	} else {
		w.f.Close()
	}
	if err == nil {
		err = os.Rename(w.f.Name(), w.final)
	}
	if err != nil {
		os.Remove(w.f.Name())
		return fmt.Errorf("writing shard file %s: %w", w.final, err)
	}
	if err := os.Remove(w.other); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("writing shard file %s: removing the replaced %s: %w", w.final, w.other, err)
	}
	return nil
}

// Abort drops the file of a Writer from Create; a Writer from NewWriter
// just stops.
func (w *Writer) Abort() {
	if w.done {
		return
	}
	w.done = true
	if w.f == nil {
		return
	}
	w.f.Close()
	os.Remove(w.f.Name())
}
