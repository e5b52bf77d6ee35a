package file

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/vmihailenco/msgpack/v5"
)

// Writer writes one shard file atomically: rows go to a temporary file that
// Close renames into place, so readers never see half a shard. Rows must be
// written in timeuuid order.
type Writer struct {
	f     *os.File
	zw    *gzip.Writer
	bw    *bufio.Writer
	enc   *msgpack.Encoder
	final string
	done  bool
}

// Create starts the shard file for key in dir, gzip-compressed when gz.
func Create(dir string, key mapreduce.ShardKey, gz bool) (*Writer, error) {
	name := key.String() + Ext
	if gz {
		name = key.String() + ExtGz
	}
	f, err := os.CreateTemp(dir, "."+name+".tmp*")
	if err != nil {
		return nil, fmt.Errorf("creating shard file: %w", err)
	}
	w := &Writer{f: f, final: filepath.Join(dir, name)}
	var out io.Writer = f
	if gz {
		w.zw, _ = gzip.NewWriterLevel(f, gzip.BestCompression)
		out = w.zw
	}
	w.bw = bufio.NewWriterSize(out, 64<<10)
	w.enc = msgpack.NewEncoder(w.bw)
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

// Close flushes the file and renames it into place.
func (w *Writer) Close() error {
	if w.done {
		return nil
	}
	w.done = true
	err := w.bw.Flush()
	if w.zw != nil && err == nil {
		err = w.zw.Close()
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
	return nil
}

// Abort drops the file.
func (w *Writer) Abort() {
	if w.done {
		return
	}
	w.done = true
	w.f.Close()
	os.Remove(w.f.Name())
}
