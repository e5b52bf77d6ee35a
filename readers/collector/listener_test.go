package collector_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/readers/collector"
)

// serve runs c on a loopback port until the test ends, and returns its
// address.
func serve(t *testing.T, c *collector.Collector) (addr string, stop func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, ln) }()
	stopped := false
	var runErr error
	stop = func() error {
		if !stopped {
			stopped = true
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(time.Minute):
				t.Fatal("Run did not return within a minute of its context's end")
			}
		}
		return runErr
	}
	t.Cleanup(func() { stop() })
	return ln.Addr().String(), stop
}

// roundTrip sends a raw HTTP/1.1 request on conn and reads the answer,
// waiting at most d.
func rawRoundTrip(conn net.Conn, br *bufio.Reader, request string, d time.Duration) (*http.Response, error) {
	conn.SetDeadline(time.Now().Add(d))
	if _, err := io.WriteString(conn, request); err != nil {
		return nil, err
	}
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		return nil, err
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res, nil
}

const healthz = "GET /healthz HTTP/1.1\r\nHost: stats.example\r\n\r\n"

// TestHeadersTooLarge: request headers over MaxHeaderBytes get net/http's
// own 431, which no handler sees; the collector counts it as
// headers_too_large all the same, and nothing else as such.
func TestHeadersTooLarge(t *testing.T) {
	st := newMemStore()
	c := newCollector(t, collector.Config{Store: st, MaxHeaderBytes: 1 << 10})
	addr, _ := serve(t, c)
	send := func(extra string) int {
		t.Helper()
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		res, err := rawRoundTrip(conn, bufio.NewReader(conn),
			"GET /a.gif?id=blog&url=https%3A%2F%2Fb.example%2F HTTP/1.1\r\nHost: stats.example\r\nUser-Agent: test\r\n"+extra+"\r\n", 30*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		return res.StatusCode
	}
	if got := send("Cookie: " + strings.Repeat("c", 8<<10) + "\r\n"); got != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("8 KiB of cookies: status %d, want 431", got)
	}
	if got := c.Metrics().Rejected(collector.ReasonHeadersTooLarge); got != 1 {
		t.Errorf("rejected{reason=headers_too_large} = %d after one 431, want 1", got)
	}
	// A request within the limit is served and not counted; neither is a
	// refusal of the collector's own.
	if got := send("Cookie: small\r\n"); got != http.StatusOK {
		t.Errorf("small headers: status %d, want 200", got)
	}
	if got := send("X-Big: " + strings.Repeat("x", 9<<10) + "\r\n"); got != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("9 KiB header: status %d, want 431", got)
	}
	res, err := http.Get("http://" + addr + "/a.gif?id=nobody&url=https://b.example/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 400 {
		t.Errorf("unknown account: status %d, want 400", res.StatusCode)
	}
	if got := c.Metrics().Rejected(collector.ReasonHeadersTooLarge); got != 2 {
		t.Errorf("rejected{reason=headers_too_large} = %d after two 431s, want 2", got)
	}
	res, err = http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(body), `pvjobs_collect_rejected_total{reason="headers_too_large"} 2`+"\n") {
		t.Errorf("/metrics lacks headers_too_large 2:\n%s", body)
	}
	waitFor(t, "the one page view stored", func() bool { return st.count() == 1 })
}

// TestMaxConnections: with MaxConnections 2, a third connection is made
// (the kernel queues it) but its request waits, unanswered, until one of
// the two closes; then it is served. Closing the collector while it waits
// for a slot ends Run.
func TestMaxConnections(t *testing.T) {
	c := newCollector(t, collector.Config{Store: newMemStore(), MaxConnections: 2})
	addr, stop := serve(t, c)
	dial := func() (net.Conn, *bufio.Reader) {
		t.Helper()
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return conn, bufio.NewReader(conn)
	}
	// Two keep-alive connections, each answered and left open.
	c1, r1 := dial()
	c2, r2 := dial()
	for i, cr := range []struct {
		c net.Conn
		r *bufio.Reader
	}{{c1, r1}, {c2, r2}} {
		if res, err := rawRoundTrip(cr.c, cr.r, healthz, 30*time.Second); err != nil || res.StatusCode != 200 {
			t.Fatalf("connection %d: %v %v", i+1, res, err)
		}
	}
	// The listener is at its cap: it waits for a slot and accepts nothing.
	waitFor(t, "the listener at its cap", func() bool {
		open, atCap := c.Metrics().Connections()
		return open == 2 && atCap
	})
	c3, r3 := dial()
	if _, err := io.WriteString(c3, healthz); err != nil {
		t.Fatal(err)
	}
	// Nothing can answer it while both slots are taken: Accept is blocked.
	// (A short read proves nothing more, but shows the wait.)
	c3.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if _, err := r3.Peek(1); !isTimeout(err) {
		t.Fatalf("the third connection was answered at the cap: %v", err)
	}
	if open, atCap := c.Metrics().Connections(); open != 2 || !atCap {
		t.Fatalf("at the cap: %d open, at cap %v; want 2, true", open, atCap)
	}
	// A connection closes: the third is accepted and served.
	c1.Close()
	c3.SetDeadline(time.Now().Add(30 * time.Second))
	res, err := http.ReadResponse(r3, nil)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("the third connection after one closed: %v %v", res, err)
	}
	res.Body.Close()
	// At the cap again (2 and 3 open): a fourth waits, and closing the
	// collector ends Run all the same.
	waitFor(t, "the listener at its cap again", func() bool {
		open, atCap := c.Metrics().Connections()
		return open == 2 && atCap
	})
	c4, _ := dial()
	io.WriteString(c4, healthz)
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	waitFor(t, "every connection closed", func() bool {
		open, _ := c.Metrics().Connections()
		return open == 0
	})
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
