package scheduler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/pvjobs/pvjobs/reports/atomicfile"
)

// Store remembers, per job, the latest slot that finished successfully, so a
// restarted scheduler knows which slots it missed, and schedulers on several
// machines sharing one Store do not run a slot twice. Its methods are called
// from the scheduler's goroutines concurrently.
type Store interface {
	// Last returns the latest slot of job recorded as done, or the zero time.
	Last(ctx context.Context, job string) (time.Time, error)
	// Done records slot as done for job, unless a later slot already is.
	Done(ctx context.Context, job string, slot time.Time) error
}

// MemStore is a Store in memory: a process that restarts forgets it. The zero
// MemStore is ready to use and safe for concurrent use.
type MemStore struct {
	mu   sync.Mutex
	last map[string]time.Time
}

// Last returns the latest slot recorded for job.
func (m *MemStore) Last(_ context.Context, job string) (time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.last[job], nil
}

// Done records slot for job unless a later slot is recorded.
func (m *MemStore) Done(_ context.Context, job string, slot time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.last == nil {
		m.last = map[string]time.Time{}
	}
	if slot.After(m.last[job]) {
		m.last[job] = slot
	}
	return nil
}

// FileStore is a Store in a JSON file, for one scheduler process (schedulers
// on several machines share a RedisStore instead). The file is replaced
// atomically (package atomicfile: written to a temporary file, synced,
// renamed, the directory synced), so a crash leaves the old or the new
// state, never a torn one.
type FileStore struct {
	Path string
	mu   sync.Mutex
}

// fileState is the JSON form of a FileStore: the last done slot per job.
type fileState struct {
	Done map[string]time.Time `json:"done"`
}

// Last returns the latest slot recorded for job in the file; a missing file
// records nothing.
func (f *FileStore) Last(_ context.Context, job string) (time.Time, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, err := f.read()
	if err != nil {
		return time.Time{}, err
	}
	return st.Done[job], nil
}

// Done records slot for job unless a later slot is recorded.
func (f *FileStore) Done(_ context.Context, job string, slot time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, err := f.read()
	if err != nil {
		return err
	}
	if !slot.After(st.Done[job]) {
		return nil
	}
	st.Done[job] = slot
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(f.Path, append(b, '\n'))
}

func (f *FileStore) read() (*fileState, error) {
	st := &fileState{}
	b, err := os.ReadFile(f.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("reading scheduler state: %w", err)
	default:
		if err := json.Unmarshal(b, st); err != nil {
			return nil, fmt.Errorf("reading scheduler state %s: %w", f.Path, err)
		}
	}
	if st.Done == nil {
		st.Done = map[string]time.Time{}
	}
	return st, nil
}

// writeFileAtomic writes b to path atomically (package atomicfile), creating
// its directory.
func writeFileAtomic(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
		return fmt.Errorf("writing scheduler state: %w", err)
	}
	if err := atomicfile.WriteFile(path, b); err != nil {
		return fmt.Errorf("writing scheduler state: %w", err)
	}
	return nil
}
