package collector_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/collector"
	"github.com/pvjobs/pvjobs/readers/file"
)

// send posts n page views with URLs https://b.example/<prefix>/<i> from
// several goroutines and returns the URLs answered 204.
func send(t testing.TB, c *collector.Collector, prefix string, n int) map[string]bool {
	t.Helper()
	h := c.Handler()
	var mu sync.Mutex
	ok := map[string]bool{}
	var wg sync.WaitGroup
	const workers = 8
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				u := fmt.Sprintf("https://b.example/%s/%d", prefix, i)
				if r := beacon(h, `{"id":"blog","url":"`+u+`"}`); r.Code == 204 {
					mu.Lock()
					ok[u] = true
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return ok
}

// exactlyOnce checks that the store holds every URL of want once, and
// nothing else.
func exactlyOnce(t testing.TB, st *memStore, want map[string]bool) {
	t.Helper()
	seen := map[string]int{}
	for _, s := range st.all(t) {
		seen[s.pv["url"]]++
	}
	for u := range want {
		if seen[u] != 1 {
			t.Errorf("%s stored %d times, want once", u, seen[u])
		}
	}
	for u, n := range seen {
		if !want[u] {
			t.Errorf("%s stored %d times but never answered 204", u, n)
		}
	}
}

// TestOutageAndReplay: while the store fails, page views are answered and
// wait in the spool; once it is back they are replayed, each stored once,
// and the spool is emptied.
func TestOutageAndReplay(t *testing.T) {
	st := newMemStore()
	c := newCollector(t, collector.Config{Store: st})
	ok := send(t, c, "before", 200)
	waitFor(t, "the first page views written", func() bool { return c.Metrics().Written() == 200 })
	st.failing.Store(true)
	for k, v := range send(t, c, "during", 500) {
		ok[k] = v
	}
	waitFor(t, "the failing writes noticed", func() bool { return c.Metrics().Spooled() > 0 })
	if len(ok) != 700 {
		t.Fatalf("%d page views answered 204, want 700: the outage must not refuse any", len(ok))
	}
	st.failing.Store(false)
	for k, v := range send(t, c, "after", 200) {
		ok[k] = v
	}
	waitFor(t, "every page view stored", func() bool { return st.count() == 900 })
	waitFor(t, "the spool emptied", func() bool { segs, _, _ := c.SpoolStats(); return segs == 0 })
	exactlyOnce(t, st, ok)
	if c.Metrics().Replayed() == 0 {
		t.Error("nothing was replayed")
	}
}

// TestQueueFull: with a queue of one and a slow store, page views overflow
// into the spool and are all stored in the end.
func TestQueueFull(t *testing.T) {
	st := newMemStore()
	st.block = make(chan struct{})
	c := newCollector(t, collector.Config{Store: st, QueueSize: 1, Writers: 1})
	ok := send(t, c, "burst", 300)
	if c.Metrics().Spooled() == 0 {
		t.Fatal("nothing overflowed a queue of one behind a blocked store")
	}
	close(st.block)
	waitFor(t, "every page view stored", func() bool { return st.count() == 300 })
	waitFor(t, "the spool emptied", func() bool { segs, _, _ := c.SpoolStats(); return segs == 0 })
	exactlyOnce(t, st, ok)
}

// TestRestartReplays: page views accepted while the store is down stay in
// the spool when the collector stops; the next collector on that spool
// stores them, once.
func TestRestartReplays(t *testing.T) {
	dir := t.TempDir()
	down := newMemStore()
	down.failing.Store(true)
	c1 := newCollector(t, collector.Config{Store: down, SpoolDir: dir, DrainTimeout: 2 * time.Second})
	ok := send(t, c1, "first", 300)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	c1.Close(ctx)
	cancel()
	segs, err := collector.SpoolSegments(dir)
	if err != nil || len(segs) == 0 {
		t.Fatalf("spool after a shutdown with the store down: %v segments, %v", segs, err)
	}
	// The spool is shard files: readers/file reads it.
	rows := 0
	for _, seg := range segs {
		src, err := file.Open(seg)
		if err != nil {
			t.Fatal(err)
		}
		keys, _ := src.Shards()
		for _, k := range keys {
			err := src.Read(context.Background(), mapreduce.WorkItem{Shard: k, Start: k.Start(), End: k.End()}, func(*mapreduce.Row) error { rows++; return nil })
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	if rows != 300 {
		t.Errorf("the spool holds %d rows, want 300", rows)
	}
	st := newMemStore()
	c2 := newCollector(t, collector.Config{Store: st, SpoolDir: dir})
	for k, v := range send(t, c2, "second", 100) {
		ok[k] = v
	}
	waitFor(t, "the spool replayed", func() bool { return st.count() == 400 })
	waitFor(t, "the spool emptied", func() bool { segs, _, _ := c2.SpoolStats(); return segs == 0 })
	exactlyOnce(t, st, ok)
}

// TestSpoolLocked: a second collector on the same spool is refused.
func TestSpoolLocked(t *testing.T) {
	dir := t.TempDir()
	newCollector(t, collector.Config{Store: newMemStore(), SpoolDir: dir})
	a, _ := collector.NewAccounts([]string{"blog"})
	_, err := collector.New(collector.Config{Store: newMemStore(), SpoolDir: dir, Accounts: a})
	if err == nil {
		t.Fatal("two collectors on one spool")
	}
	if _, err := collector.LockSpool(dir); err == nil {
		t.Fatal("LockSpool of a spool in use succeeded")
	}
}

// TestTornTail: a segment left with half a row (an append the process did
// not finish) is cut at the last whole row and replayed.
func TestTornTail(t *testing.T) {
	dir := t.TempDir()
	seg := filepath.Join(dir, "seg-000000000007")
	if err := os.MkdirAll(seg, 0o755); err != nil {
		t.Fatal(err)
	}
	key := mapreduce.ShardKey{Day: time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC), Account: "blog"}
	g, _ := collector.NewUUIDGen()
	tmp := t.TempDir()
	w, err := file.Create(tmp, key, false)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		pv := collector.PageView{URL: fmt.Sprintf("https://b.example/%d", i)}
		if err := w.Write(g.Next(key.Day.Add(time.Duration(i)*time.Minute)), collector.AppendValue(nil, &pv)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(tmp, key.String()+file.Ext))
	if err != nil {
		t.Fatal(err)
	}
	whole := len(data)
	data = append(data, data[:10]...) // half of a fourth row
	name := filepath.Join(seg, key.String()+file.Ext)
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
	st := newMemStore()
	st.failing.Store(true) // keep the segment on disk to look at it
	c := newCollector(t, collector.Config{Store: st, SpoolDir: dir})
	if fi, _ := os.Stat(name); fi == nil || fi.Size() != int64(whole) {
		t.Fatalf("torn row not cut: %v bytes, want %d", fi.Size(), whole)
	}
	st.failing.Store(false)
	waitFor(t, "the segment replayed", func() bool { return st.count() == 3 })
	waitFor(t, "the segment removed", func() bool { _, err := os.Stat(seg); return os.IsNotExist(err) })
	c.Close(context.Background())
}

// TestRemoveLoaded: what pvjobs load wrote goes — the files named, then
// the segments left empty — and a collector on the spool replays only the
// rest.
func TestRemoveLoaded(t *testing.T) {
	dir := t.TempDir()
	down := newMemStore()
	down.failing.Store(true)
	c1 := newCollector(t, collector.Config{Store: down, SpoolDir: dir, DrainTimeout: time.Second})
	send(t, c1, "first", 50)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	c1.Close(ctx)
	cancel()
	segs, err := collector.SpoolSegments(dir)
	if err != nil || len(segs) == 0 {
		t.Fatalf("spool: %v, %v", segs, err)
	}
	// A second segment with one file "loaded" and one not.
	other := filepath.Join(dir, "seg-000099999999")
	if err := os.Mkdir(other, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"20240801.blog.mpk", "20240801.shop.mpk"} {
		if err := os.WriteFile(filepath.Join(other, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var loaded []string
	for _, seg := range segs {
		ents, _ := os.ReadDir(seg)
		for _, e := range ents {
			loaded = append(loaded, filepath.Join(seg, e.Name()))
		}
	}
	loaded = append(loaded, filepath.Join(other, "20240801.blog.mpk"))

	if _, _, err := collector.RemoveLoaded(dir, []string{filepath.Join(dir, "LOCK")}); err == nil {
		t.Error("RemoveLoaded removed a file outside the segments")
	}
	if _, _, err := collector.RemoveLoaded(dir, []string{filepath.Join(t.TempDir(), "seg-000000000001", "20240801.blog.mpk")}); err == nil {
		t.Error("RemoveLoaded removed a file of another spool")
	}
	files, emptied, err := collector.RemoveLoaded(dir, loaded)
	if err != nil || files != len(loaded) || emptied != len(segs) {
		t.Fatalf("RemoveLoaded: %d files, %d segments, %v; want %d and %d", files, emptied, err, len(loaded), len(segs))
	}
	left, _ := collector.SpoolSegments(dir)
	if len(left) != 1 || left[0] != other {
		t.Fatalf("segments left %v, want %s", left, other)
	}
	if _, err := os.Stat(filepath.Join(other, "20240801.shop.mpk")); err != nil {
		t.Errorf("the file not loaded: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "LOCK")); err != nil {
		t.Errorf("the lock file: %v", err)
	}
	// A collector on the spool replays what is left: an empty shard file.
	st := newMemStore()
	c2 := newCollector(t, collector.Config{Store: st, SpoolDir: dir})
	waitFor(t, "the spool replayed", func() bool { segs, _, _ := c2.SpoolStats(); return segs == 0 })
	if n := st.count(); n != 0 {
		t.Errorf("%d page views replayed from the loaded segments, want none", n)
	}
}
