package file_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/file"
	"github.com/pvjobs/pvjobs/readers/pageview"
)

// hungFS serves one FIFO under a shard file's name and says it is a regular
// file, as a hung network mount would: the stat succeeds, then the open or
// the read blocks. opening is closed when the open begins, reading when the
// first read does.
type hungFS struct {
	fifo             string
	name             string
	opening, reading chan struct{}
}

func newHungFS(fifo, name string) *hungFS {
	return &hungFS{fifo: fifo, name: name, opening: make(chan struct{}), reading: make(chan struct{})}
}

// regularInfo describes a file that claims to be regular.
type regularInfo struct{ name string }

func (i regularInfo) Name() string       { return i.name }
func (i regularInfo) Size() int64        { return 1 << 20 }
func (i regularInfo) Mode() fs.FileMode  { return 0o644 }
func (i regularInfo) ModTime() time.Time { return time.Time{} }
func (i regularInfo) IsDir() bool        { return false }
func (i regularInfo) Sys() any           { return nil }

func (h *hungFS) Stat(name string) (fs.FileInfo, error) {
	if name != h.name {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
	}
	return regularInfo{name}, nil
}

func (h *hungFS) Open(name string) (fs.File, error) {
	if name != h.name {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	close(h.opening) // os.Open of a FIFO blocks until a writer opens it
	f, err := os.Open(h.fifo)
	if err != nil {
		return nil, err
	}
	return &hungFile{File: f, reading: h.reading}, nil
}

// hungFile is the opened FIFO, claiming to be a regular file.
type hungFile struct {
	*os.File
	reading chan struct{}
	once    sync.Once
}

func (f *hungFile) Stat() (fs.FileInfo, error) { return regularInfo{f.Name()}, nil }

func (f *hungFile) Read(p []byte) (int, error) {
	f.once.Do(func() { close(f.reading) })
	return f.File.Read(p)
}

// mkfifo makes a FIFO in a temporary directory.
func mkfifo(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// readUntilCancelled starts src.Read of the shard 20240801.blog, waits for
// started, cancels, and checks that Read returns ctx's error within 2s.
func readUntilCancelled(t *testing.T, src *file.Source, started <-chan struct{}) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := readAllCtx(ctx, src, "20240801.blog")
		done <- err
	}()
	select {
	case <-started:
	case err := <-done:
		t.Fatalf("Read returned before blocking: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("Read never reached the file")
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Read = %v, want context.Canceled", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Read did not return within 2s of the cancellation")
	}
}

func readAllCtx(ctx context.Context, src *file.Source, key string) (int, error) {
	k, _ := mapreduce.ParseShardKey(key)
	n := 0
	err := src.Read(ctx, mapreduce.WorkItem{Shard: k, Start: k.Start(), End: k.End()}, func(*mapreduce.Row) error {
		n++
		return nil
	})
	return n, err
}

// TestReadStuckOpen: the open of a FIFO without a writer blocks in the
// kernel; cancelling returns from Read at once.
func TestReadStuckOpen(t *testing.T) {
	h := newHungFS(mkfifo(t), "20240801.blog.mpk")
	readUntilCancelled(t, file.NewFS(h, "hung"), h.opening)
	// Let the abandoned open return (a writer comes and goes), so that the
	// test leaves no blocked goroutine behind.
	w, err := os.OpenFile(h.fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
}

// TestReadStuckRead: a writer opens the FIFO and never writes, so the read
// blocks: cancelling returns from Read at once, plain or gzip, and a
// timeout fails a run of the engine promptly.
func TestReadStuckRead(t *testing.T) {
	fifo := mkfifo(t)
	// The writer: its open waits for the first reader's, in its own
	// goroutine; it is closed at the end of the test.
	writer := make(chan *os.File, 1)
	go func() {
		w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			w = nil
		}
		writer <- w
	}()
	defer func() {
		if w := <-writer; w != nil {
			w.Close()
		}
	}()
	for _, name := range []string{"20240801.blog.mpk", "20240801.blog.mpk.gz"} {
		t.Run(name, func(t *testing.T) {
			h := newHungFS(fifo, name)
			readUntilCancelled(t, file.NewFS(h, "hung"), h.reading)
		})
	}
	t.Run("engine timeout", func(t *testing.T) {
		src := file.NewFS(newHungFS(fifo, "20240801.blog.mpk"), "hung")
		plan, err := mapreduce.NewPlan(mapreduce.PlanSpec{Accounts: []string{"blog"}, Start: day, End: day.Add(24 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		res, err := mapreduce.Run(ctx, plan, src, []mapreduce.Task{mapreduce.NewTask("count", countJob{})},
			mapreduce.Options{NewDecoder: pageview.NewMapreduceDecoder})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Run = %v, want context.DeadlineExceeded", err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("Run took %s to give up after a 200ms timeout", d)
		}
		if s := res.Summary; s.ShardsUnread != 1 || s.ShardsMissing != 0 {
			t.Errorf("summary: %d unread, %d missing; want 1, 0", s.ShardsUnread, s.ShardsMissing)
		}
	})
}
