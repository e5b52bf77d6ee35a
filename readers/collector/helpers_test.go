package collector_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/collector"
	"github.com/pvjobs/pvjobs/readers/pageview"
)

// memStore is a Store in memory that can be made to fail, like a Cassandra
// that is down; for the collector's own logic. The integration tests use
// the real Cassandra.
type memStore struct {
	mu      sync.Mutex
	cells   map[string]map[[16]byte][]byte
	writes  int64 // rows written, counting rewrites
	failing atomic.Bool
	// block, when set, holds every write until it is closed.
	block chan struct{}
}

var errDown = errors.New("store is down")

func newMemStore() *memStore { return &memStore{cells: map[string]map[[16]byte][]byte{}} }

func (m *memStore) WriteBatch(ctx context.Context, key mapreduce.ShardKey, rows []mapreduce.Row) error {
	if b := m.block; b != nil {
		select {
		case <-b:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if m.failing.Load() {
		return errDown
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.cells[key.String()]
	if p == nil {
		p = map[[16]byte][]byte{}
		m.cells[key.String()] = p
	}
	for _, r := range rows {
		p[r.TS] = bytes.Clone(r.Value)
	}
	m.writes += int64(len(rows))
	return nil
}

// stored is one stored page view, decoded.
type stored struct {
	key string
	ts  [16]byte
	pv  map[string]string
}

// all returns every cell, decoded.
func (m *memStore) all(t testing.TB) []stored {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []stored
	for k, p := range m.cells {
		for ts, v := range p {
			out = append(out, stored{k, ts, decode(t, v)})
		}
	}
	return out
}

func (m *memStore) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, p := range m.cells {
		n += len(p)
	}
	return n
}

// decode decodes a stored value with the readers' decoder.
func decode(t testing.TB, v []byte) map[string]string {
	t.Helper()
	var pv mapreduce.PageView
	if err := pageview.NewDecoder().Decode(v, &pv); err != nil {
		t.Fatalf("stored value does not decode: %v (%x)", err, v)
	}
	m := map[string]string{"url": string(pv.URL), "title": string(pv.Title), "ip": string(pv.IP),
		"referrer": string(pv.Referrer), "user_agent": string(pv.UserAgent), "language": string(pv.Language)}
	if pv.VisitorID != nil {
		m["visitor_id"] = string(pv.VisitorID)
	}
	return m
}

// newCollector starts a collector on a temporary spool with cfg's gaps
// filled: accounts blog and shop, no rate limit, short segments.
func newCollector(t testing.TB, cfg collector.Config) *collector.Collector {
	t.Helper()
	if cfg.SpoolDir == "" {
		cfg.SpoolDir = t.TempDir()
	}
	if cfg.Accounts == nil {
		a, err := collector.NewAccounts([]string{"blog", "shop"})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Accounts = a
	}
	if cfg.SegmentAge == 0 {
		cfg.SegmentAge = 100 * time.Millisecond
	}
	if cfg.DrainTimeout == 0 {
		cfg.DrainTimeout = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	c, err := collector.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// beacon sends a POST /e to h and returns the status.
func beacon(h http.Handler, body string, hdr ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/e", strings.NewReader(body))
	r.RemoteAddr = "203.0.113.7:5555"
	r.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	r.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36")
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// waitFor polls cond until it holds or a minute passes (the machine may be
// busy).
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
