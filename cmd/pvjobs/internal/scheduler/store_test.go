package scheduler_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/scheduler"
)

func testStore(t *testing.T, s scheduler.Store) {
	t.Helper()
	ctx := context.Background()
	d1 := time.Date(2024, 8, 7, 2, 30, 0, 0, time.UTC)
	d2 := d1.AddDate(0, 0, 1)
	if last, err := s.Last(ctx, "nightly"); err != nil || !last.IsZero() {
		t.Fatalf("empty store: Last = %s, %v", last, err)
	}
	for _, step := range []struct {
		done, want time.Time
	}{{d1, d1}, {d2, d2}, {d1, d2}} {
		if err := s.Done(ctx, "nightly", step.done); err != nil {
			t.Fatal(err)
		}
		if last, err := s.Last(ctx, "nightly"); err != nil || !last.Equal(step.want) {
			t.Fatalf("after Done(%s): Last = %s, %v; want %s", step.done, last, err, step.want)
		}
	}
	if last, _ := s.Last(ctx, "weekly"); !last.IsZero() {
		t.Errorf("another job has %s", last)
	}
}

func TestMemStore(t *testing.T) { testStore(t, &scheduler.MemStore{}) }

func TestFileStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	testStore(t, &scheduler.FileStore{Path: path})
	// A new FileStore (a restarted scheduler) reads what the last wrote.
	last, err := (&scheduler.FileStore{Path: path}).Last(context.Background(), "nightly")
	if err != nil || !last.Equal(time.Date(2024, 8, 8, 2, 30, 0, 0, time.UTC)) {
		t.Errorf("reloaded: %s, %v", last, err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
	if err := os.WriteFile(path, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := (&scheduler.FileStore{Path: path}).Last(context.Background(), "nightly"); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("a corrupt state file: %v; want an error naming it", err)
	}
}

// TestFileStoreStaleTemp: a temporary state file that a killed scheduler
// left (unmodified for hours) goes with the next write.
func TestFileStoreStaleTemp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	stale := filepath.Join(dir, ".state.json.pvjobs-tmp-00000000-1-0a0b0c0d")
	if err := os.WriteFile(stale, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-7 * time.Hour)
	os.Chtimes(stale, old, old)
	if err := (&scheduler.FileStore{Path: path}).Done(context.Background(), "nightly", time.Now()); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "state.json" {
		t.Errorf("directory holds %v", entries)
	}
}
