// Package cassandratest holds what integration tests against a real Cassandra
// share: the server address from the environment (skip, or fail in CI), a
// throwaway keyspace per test run, and a TCP proxy that a test can cut to
// stop "Cassandra" in the middle of a run without touching the shared server.
package cassandratest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/pvjobs/pvjobs/readers/cassandra"
)

// EnvAddr is the environment variable holding the test server's host:port
// (make test sets it to 127.0.0.1:9042).
const EnvAddr = "PVJOBS_CASSANDRA_ADDR"

// Addr returns the test server's address, or "" with the reason it is
// missing.
func Addr() (addr string, mustRun bool) {
	return os.Getenv(EnvAddr), os.Getenv("CI") != "" || os.Getenv("PVJOBS_TEST_DISALLOW_SKIP") != ""
}

// Require returns the test server's address. Without one it skips tb, or
// fails it when CI or PVJOBS_TEST_DISALLOW_SKIP is set.
func Require(tb testing.TB) string {
	tb.Helper()
	addr, must := Addr()
	if addr == "" {
		msg := EnvAddr + " is not set: no Cassandra to test against (make test starts one: bash testdata/cassandra/cassandra.sh up)"
		if must {
			tb.Fatal(msg + "; CI / PVJOBS_TEST_DISALLOW_SKIP forbid skipping")
		}
		tb.Skip(msg)
	}
	return addr
}

// Keyspace is a throwaway keyspace pvjobs_test_<random> (SimpleStrategy,
// replication factor 1) with tables of the given layouts.
type Keyspace struct {
	Addr string
	Name string
}

// NewKeyspace creates a keyspace with a table per layout (the default layout
// when none is given). Cassandra is slow at DDL: create one per test package
// (TestMain), not one per test.
func NewKeyspace(ctx context.Context, addr string, layouts ...cassandra.Layout) (*Keyspace, error) {
	var b [6]byte
	rand.Read(b[:])
	ks := &Keyspace{Addr: addr, Name: "pvjobs_test_" + hex.EncodeToString(b[:])}
	if len(layouts) == 0 {
		layouts = []cassandra.Layout{cassandra.DefaultLayout}
	}
	for _, l := range layouts {
		cfg := ks.Config()
		cfg.Layout = l
		if err := cassandra.CreateSchema(ctx, cfg, cassandra.Replication{Factor: 1}); err != nil {
			return nil, err
		}
	}
	return ks, nil
}

// Config returns a Config for the keyspace with the default layout and short
// retries.
func (k *Keyspace) Config() *cassandra.Config {
	cfg := cassandra.NewConfig(k.Name, k.Addr)
	cfg.Retry = cassandra.Retry{Attempts: 3, Wait: 50 * time.Millisecond, MaxWait: 200 * time.Millisecond}
	return cfg
}

// URL returns a source URL for the keyspace.
func (k *Keyspace) URL() string { return "cassandra://" + k.Addr + "/" + k.Name }

// Session opens a plain gocql session on the keyspace, for statements the
// tests send themselves.
func (k *Keyspace) Session() (*gocql.Session, error) {
	host, port, err := net.SplitHostPort(k.Addr)
	if err != nil {
		return nil, err
	}
	cl := gocql.NewCluster(host)
	fmt.Sscan(port, &cl.Port)
	cl.Keyspace = k.Name
	cl.Consistency = gocql.One
	cl.Timeout = time.Minute
	return cl.CreateSession()
}

// Drop drops the keyspace.
func (k *Keyspace) Drop() error {
	s, err := k.Session()
	if err != nil {
		return err
	}
	defer s.Close()
	return s.Query(`DROP KEYSPACE IF EXISTS "` + k.Name + `"`).Exec()
}

// Proxy forwards TCP connections from a local port to a target address. Cut
// stops it the way a stopped server looks from a client: every connection is
// closed and new ones are refused. Restore starts it again on the same port.
type Proxy struct {
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]bool
	cut   bool
	wg    sync.WaitGroup

	// downBytes counts bytes forwarded from the target to clients.
	downBytes atomic.Int64
	// cutAt, when > 0, cuts the proxy once downBytes reaches it.
	cutAt atomic.Int64
	// Accepted counts the connections accepted.
	Accepted atomic.Int64
}

// NewProxy listens on 127.0.0.1 on a free port and forwards to target.
func NewProxy(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{target: target, addr: ln.Addr().String(), conns: map[net.Conn]bool{}}
	p.serve(ln)
	return p, nil
}

// Addr returns the proxy's host:port.
func (p *Proxy) Addr() string { return p.addr }

// DownBytes returns the bytes forwarded from the server so far.
func (p *Proxy) DownBytes() int64 { return p.downBytes.Load() }

// CutAfter arms the proxy to cut itself once n more bytes came from the
// server.
func (p *Proxy) CutAfter(n int64) { p.cutAt.Store(p.downBytes.Load() + n) }

func (p *Proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.cut = false
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.Accepted.Add(1)
			go p.handle(c)
		}
	}()
}

func (p *Proxy) handle(c net.Conn) {
	s, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.cut {
		p.mu.Unlock()
		c.Close()
		s.Close()
		return
	}
	p.conns[c], p.conns[s] = true, true
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { io.Copy(s, c); done <- struct{}{} }()
	go func() { p.down(c, s); done <- struct{}{} }()
	<-done
	c.Close()
	s.Close()
	<-done
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, s)
	p.mu.Unlock()
}

// down copies server to client, counting bytes and cutting when armed.
func (p *Proxy) down(c, s net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := s.Read(buf)
		if n > 0 {
			total := p.downBytes.Add(int64(n))
			if at := p.cutAt.Load(); at > 0 && total >= at {
				// Deliver the bytes up to the cut point, then cut.
				keep := int64(n) - (total - at)
				if keep > 0 {
					c.Write(buf[:keep])
				}
				p.cutAt.Store(0)
				go p.Cut()
				return
			}
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// Cut closes the listener and every connection: new connections are refused.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut {
		return
	}
	p.cut = true
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
}

// IsCut reports whether the proxy is cut (refusing connections).
func (p *Proxy) IsCut() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cut
}

// Restore listens again on the same port.
func (p *Proxy) Restore() error {
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ {
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			p.serve(ln)
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("proxy: listening again on %s: %w", p.addr, err)
}

// Close cuts the proxy for good and waits for its accept loop.
func (p *Proxy) Close() {
	p.Cut()
	p.wg.Wait()
}
