package collector_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pvjobs/pvjobs/readers/collector"
)

// BenchmarkBeacon is the whole path of one beacon in-process, without the
// network: parse, check, encode, append to the spool (group commit, fsync
// every second) and queue for a store in memory. Run with -cpu 1 for the
// cost on one core.
func BenchmarkBeacon(b *testing.B) {
	st := newMemStore()
	c := newCollector(b, collector.Config{Store: st})
	h := c.Handler()
	const body = `{"id":"blog","url":"https://blog.example.com/posts/2024/08/a-post?utm_source=newsletter","ref":"https://www.google.com/","title":"A post about things"}`
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	// Many requests in flight, as from many connections: the spool
	// writes them in groups.
	b.SetParallelism(64)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := httptest.NewRequest(http.MethodPost, "/e", strings.NewReader(body))
			r.RemoteAddr = "203.0.113.7:5555"
			r.Header.Set("Content-Type", "text/plain;charset=UTF-8")
			r.Header.Set("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36")
			r.Header.Set("Accept-Language", "en-US,en;q=0.9")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != 204 {
				b.Fatalf("status %d", w.Code)
			}
		}
	})
}
