// Package cassandratest holds what integration tests against a real Cassandra
// share: the server address from the environment (skip, or fail in CI), a
// throwaway keyspace per test, and a TCP proxy that a test can cut to stop
// "Cassandra" in the middle of a run without touching the shared server.
package cassandratest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
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

// Keyspace is a throwaway keyspace (SimpleStrategy, replication factor 1)
// with tables of given layouts.
type Keyspace struct {
	Addr string
	Name string
}

// keyspacePrefix starts the name of every keyspace the tests create:
// pvjobs_test_<unix seconds>_<random>.
const keyspacePrefix = "pvjobs_test_"

// staleAfter is the age after which a test keyspace is a leftover of a test
// process that was killed before it could drop it.
const staleAfter = 2 * time.Hour

// KeyspaceName returns a new keyspace name, pvjobs_test_<unix seconds>_<random>.
func KeyspaceName() string {
	var b [4]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s%d_%s", keyspacePrefix, time.Now().Unix(), hex.EncodeToString(b[:]))
}

// KeyspaceFor creates a keyspace of its own for tb with a table per layout
// (the default layout when none is given) and drops it when tb and its
// subtests end, so tests share no rows and `go test -count=2` passes. It
// skips or fails tb as Require does when there is no server.
func KeyspaceFor(tb testing.TB, layouts ...cassandra.Layout) *Keyspace {
	tb.Helper()
	addr := Require(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ks, err := NewKeyspace(ctx, addr, layouts...)
	if err != nil {
		tb.Fatalf("creating a test keyspace: %v", err)
	}
	tb.Cleanup(func() {
		if err := ks.Drop(); err != nil {
			tb.Errorf("dropping keyspace %s: %v", ks.Name, err)
		}
	})
	return ks
}

// NewKeyspace creates a new keyspace on addr with a table per layout (the
// default layout when none is given); the caller drops it (KeyspaceFor does
// both for a test). Cassandra is slow at DDL (about a second a keyspace):
// share one where tests cannot disturb each other. The first call of a
// process also drops test keyspaces older than two hours, left behind by
// killed test runs.
func NewKeyspace(ctx context.Context, addr string, layouts ...cassandra.Layout) (*Keyspace, error) {
	s, err := adminSession(addr)
	if err != nil {
		return nil, err
	}
	sweepOnce(addr, s)
	ks := &Keyspace{Addr: addr, Name: KeyspaceName()}
	if len(layouts) == 0 {
		layouts = []cassandra.Layout{cassandra.DefaultLayout}
	}
	for i, l := range layouts {
		cfg := ks.Config()
		cfg.Layout = l
		stmts := cassandra.SchemaCQL(cfg, cassandra.Replication{Factor: 1})
		if i > 0 {
			stmts = stmts[1:] // the keyspace exists
		}
		for _, stmt := range stmts {
			if err := s.Query(stmt).ExecContext(ctx); err != nil {
				return nil, fmt.Errorf("%s: %w", stmt, err)
			}
		}
	}
	if err := s.AwaitSchemaAgreement(ctx); err != nil {
		return nil, fmt.Errorf("waiting for schema agreement: %w", err)
	}
	return ks, nil
}

// Config returns a Config for the keyspace with the default layout and a
// short retry budget.
func (k *Keyspace) Config() *cassandra.Config {
	cfg := cassandra.NewConfig(k.Name, k.Addr)
	cfg.Retry = cassandra.Retry{Budget: time.Second, Wait: 50 * time.Millisecond, MaxWait: 200 * time.Millisecond}
	return cfg
}

// URL returns a source URL for the keyspace.
func (k *Keyspace) URL() string { return "cassandra://" + k.Addr + "/" + k.Name }

// Session opens a plain gocql session on the keyspace, for statements the
// tests send themselves; the caller closes it.
func (k *Keyspace) Session() (*gocql.Session, error) {
	cl, err := cluster(k.Addr)
	if err != nil {
		return nil, err
	}
	cl.Keyspace = k.Name
	return cl.CreateSession()
}

// Drop drops the keyspace.
func (k *Keyspace) Drop() error {
	stmt := `DROP KEYSPACE IF EXISTS "` + k.Name + `"`
	s, err := adminSession(k.Addr)
	if err == nil {
		if err = s.Query(stmt).Exec(); err == nil {
			return nil
		}
	}
	// The shared session may still be reconnecting after a test restarted
	// the node: once more on a session of its own.
	cl, cerr := cluster(k.Addr)
	if cerr != nil {
		return cerr
	}
	fresh, cerr := cl.CreateSession()
	if cerr != nil {
		return fmt.Errorf("%w (then connecting again: %v)", err, cerr)
	}
	defer fresh.Close()
	return fresh.Query(stmt).Exec()
}

func cluster(addr string) (*gocql.ClusterConfig, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	cl := gocql.NewCluster(host)
	if cl.Port, err = strconv.Atoi(port); err != nil {
		return nil, fmt.Errorf("port of %s: %w", addr, err)
	}
	cl.Consistency = gocql.One
	cl.Timeout = time.Minute // DDL is slow on a busy test node
	cl.ReconnectInterval = 2 * time.Second
	return cl, nil
}

var admin struct {
	sync.Mutex
	sessions map[string]*gocql.Session
	swept    map[string]bool
}

// adminSession returns the process's session for DDL on addr, opened on
// first use and kept until the process ends.
func adminSession(addr string) (*gocql.Session, error) {
	admin.Lock()
	defer admin.Unlock()
	if s := admin.sessions[addr]; s != nil && !s.Closed() {
		return s, nil
	}
	cl, err := cluster(addr)
	if err != nil {
		return nil, err
	}
	s, err := cl.CreateSession()
	if err != nil {
		return nil, fmt.Errorf("connecting to the test Cassandra at %s: %w", addr, err)
	}
	if admin.sessions == nil {
		admin.sessions = map[string]*gocql.Session{}
	}
	admin.sessions[addr] = s
	return s, nil
}

// sweepOnce drops the test keyspaces on addr older than staleAfter, once per
// process. Failures are ignored: a leftover costs disk, not correctness.
func sweepOnce(addr string, s *gocql.Session) {
	admin.Lock()
	if admin.swept[addr] {
		admin.Unlock()
		return
	}
	if admin.swept == nil {
		admin.swept = map[string]bool{}
	}
	admin.swept[addr] = true
	admin.Unlock()
	iter := s.Query(`SELECT keyspace_name FROM system_schema.keyspaces`).Iter()
	var name string
	var stale []string
	for iter.Scan(&name) {
		rest, ok := strings.CutPrefix(name, keyspacePrefix)
		if !ok {
			continue
		}
		secs, _, ok := strings.Cut(rest, "_")
		t, err := strconv.ParseInt(secs, 10, 64)
		if !ok || err != nil {
			continue
		}
		if time.Since(time.Unix(t, 0)) > staleAfter {
			stale = append(stale, name)
		}
	}
	if iter.Close() != nil {
		return
	}
	for _, name := range stale {
		s.Query(`DROP KEYSPACE IF EXISTS "` + name + `"`).Exec()
	}
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
				// Cut before returning: the client notices the cut only
				// once its connection closes, and a Restore it triggers
				// must find the listener closed already, not racing a
				// Cut still to come (which would leave the proxy cut).
				p.Cut()
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

// Restore listens again on the same port (Go's listeners set SO_REUSEADDR,
// so the port is free again as soon as Cut closed it).
func (p *Proxy) Restore() error {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		return fmt.Errorf("proxy: listening again on %s: %w", p.addr, err)
	}
	p.serve(ln)
	return nil
}

// Close cuts the proxy for good and waits for its accept loop.
func (p *Proxy) Close() {
	p.Cut()
	p.wg.Wait()
}
