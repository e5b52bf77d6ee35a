// Package redistest gives tests the Redis servers they need: the shared
// test server at $PVJOBS_REDIS_ADDR (Addr, Client, Prefix), and private
// redis-server processes, on ports and in directories of their own, for the
// tests that restart, kill, fill or reconfigure a server (Start).
//
// Integration tests run when PVJOBS_REDIS_ADDR names a server, as
// testdata/redis/redis.sh starts one:
//
//	testdata/redis/redis.sh up
//	PVJOBS_REDIS_ADDR=$(testdata/redis/redis.sh addr) go test ./reports/redis/
//
// Without it they skip, unless CI or PVJOBS_TEST_DISALLOW_SKIP is set: then
// they fail, and so do the tests of private servers when redis-server is
// not in PATH. Never stop, restart or flush the shared server: a test that
// must do that starts its own.
package redistest

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// EnvAddr names the environment variable with the address of the shared
// test server.
const EnvAddr = "PVJOBS_REDIS_ADDR"

const how = "start one with `testdata/redis/redis.sh up` and set PVJOBS_REDIS_ADDR=$(testdata/redis/redis.sh addr)"

// MaySkip reports whether integration tests may skip when a server is
// missing: neither CI nor PVJOBS_TEST_DISALLOW_SKIP is set.
func MaySkip() bool {
	return os.Getenv("CI") == "" && os.Getenv("PVJOBS_TEST_DISALLOW_SKIP") == ""
}

// Addr returns $PVJOBS_REDIS_ADDR. Without it, it skips t, or fails it when
// CI or PVJOBS_TEST_DISALLOW_SKIP is set.
func Addr(t testing.TB) string {
	t.Helper()
	addr := os.Getenv(EnvAddr)
	if addr == "" {
		if !MaySkip() {
			t.Fatalf("%s is empty and CI or PVJOBS_TEST_DISALLOW_SKIP is set, so this Redis integration test may not skip: %s", EnvAddr, how)
		}
		t.Skipf("%s is empty, skipping the Redis integration test: %s", EnvAddr, how)
	}
	return addr
}

// Client returns a client of the shared test server, closed when the test
// ends, after checking that the server answers PING.
func Client(t testing.TB) *goredis.Client {
	t.Helper()
	addr := Addr(t)
	c := goredis.NewClient(&goredis.Options{Addr: addr, DisableIdentity: true})
	t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("PING redis at %s=%s: %v", EnvAddr, addr, err)
	}
	return c
}

// Prefix returns a key prefix of the test's own, name followed by the
// process id and a random number ("pvtest1234-9f2c01aa"), and deletes the
// keys on c that start with it, prefix + "*", when the test ends.
func Prefix(t testing.TB, c goredis.UniversalClient, name string) string {
	t.Helper()
	prefix := fmt.Sprintf("%s%d-%x", name, os.Getpid(), rand.Uint32())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if keys := Keys(t, c, prefix+"*"); len(keys) > 0 {
			for i := 0; i < len(keys); i += 1000 {
				c.Del(ctx, keys[i:min(i+1000, len(keys))]...)
			}
		}
	})
	return prefix
}

// Keys returns the keys matching pattern (SCAN), sorted.
func Keys(t testing.TB, c goredis.UniversalClient, pattern string) []string {
	t.Helper()
	ctx := context.Background()
	var keys []string
	iter := c.Scan(ctx, 0, pattern, 1000).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Fatalf("SCAN %s: %v", pattern, err)
	}
	slices.Sort(keys)
	return keys
}

// WaitFor polls cond until it holds, and fails t with what when it does not
// within timeout. It is for conditions no event announces (a server's state,
// keys another process writes), not for waiting out time.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Options configures a private server.
type Options struct {
	// Args are further redis-server arguments, such as "--appendonly",
	// "yes". Without "--save" or "--appendonly" among them the server keeps
	// nothing on disk.
	Args []string
	// TLS makes the port a TLS port (--port 0 --tls-port PORT); Args must
	// name the certificates, and Start does not wait for the server to
	// answer (it cannot PING it without them).
	TLS bool
}

// Server is a private redis-server process of one test.
type Server struct {
	// Addr is its address, 127.0.0.1:PORT; Dir its working directory (its
	// data files, and the log redis.log).
	Addr, Dir string
	t         testing.TB
	bin       string
	args      []string
	cmd       *exec.Cmd
	exited    chan struct{}
}

// Start starts a redis-server from PATH on a free port of 127.0.0.1, in a
// directory of its own, waits until it answers PING, and kills it when the
// test ends. It skips t like Addr when integration tests do not run, and
// also when redis-server is not in PATH (failing instead when CI or
// PVJOBS_TEST_DISALLOW_SKIP is set).
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	Addr(t) // the integration-test switch
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if !MaySkip() {
			t.Fatalf("redis-server is not in PATH, and this test may not skip (CI or PVJOBS_TEST_DISALLOW_SKIP is set)")
		}
		t.Skip("redis-server is not in PATH: skipping a test that needs a server of its own")
	}
	s := &Server{Dir: t.TempDir(), t: t, bin: bin}
	t.Cleanup(func() { s.Kill() })
	var last error
	for attempt := 0; attempt < 5; attempt++ { // another process may take the free port first
		port := freePort(t)
		s.Addr = "127.0.0.1:" + strconv.Itoa(port)
		s.args = []string{"--bind", "127.0.0.1", "--dir", s.Dir, "--logfile", filepath.Join(s.Dir, "redis.log")}
		if o.TLS {
			s.args = append(s.args, "--port", "0", "--tls-port", strconv.Itoa(port))
		} else {
			s.args = append(s.args, "--port", strconv.Itoa(port))
		}
		if !slices.Contains(o.Args, "--save") && !slices.Contains(o.Args, "--appendonly") {
			s.args = append(s.args, "--save", "", "--appendonly", "no")
		}
		s.args = append(s.args, o.Args...)
		s.Run()
		if o.TLS {
			return s
		}
		if last = s.waitReady(20 * time.Second); last == nil {
			return s
		}
		s.Kill()
	}
	t.Fatalf("starting redis-server %s: %v", strings.Join(s.args, " "), last)
	return nil
}

// freePort returns a port of 127.0.0.1 that nobody listened on a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Run starts the server process (again, after Kill or Stop) with the same
// arguments, port and directory, and returns without waiting for it to
// answer: see WaitReady.
func (s *Server) Run() {
	s.t.Helper()
	if s.cmd != nil {
		s.t.Fatalf("redis-server %s is running already", s.Addr)
	}
	cmd := exec.Command(s.bin, s.args...)
	cmd.Dir = s.Dir
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("starting redis-server: %v", err)
	}
	s.cmd = cmd
	s.exited = make(chan struct{})
	go func(done chan struct{}) {
		cmd.Wait()
		close(done)
	}(s.exited)
}

// WaitReady waits until the server answers PING (not LOADING), and fails
// the test when it does not within 20 seconds or exits.
func (s *Server) WaitReady() {
	s.t.Helper()
	if err := s.waitReady(20 * time.Second); err != nil {
		s.t.Fatal(err)
	}
}

func (s *Server) waitReady(timeout time.Duration) error {
	c := goredis.NewClient(&goredis.Options{Addr: s.Addr, DisableIdentity: true, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("redis-server %s exited: %v\n%s", s.Addr, err, s.logTail())
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redis-server %s does not answer PING after %s: %v\n%s", s.Addr, timeout, err, s.logTail())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// logTail returns the end of the server's log.
func (s *Server) logTail() string {
	b, _ := os.ReadFile(filepath.Join(s.Dir, "redis.log"))
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(bytes.TrimSpace(b))
}

// Kill kills the server process (SIGKILL) and waits for it to end: a crash,
// with no chance to save or to close its connections politely.
func (s *Server) Kill() { s.signal(syscall.SIGKILL) }

// Stop stops the server with SIGTERM and waits for it to end: a graceful
// shutdown that saves the data when persistence is on.
func (s *Server) Stop() { s.signal(syscall.SIGTERM) }

func (s *Server) signal(sig syscall.Signal) {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(sig)
	<-s.exited
	s.cmd = nil
}

// Client returns a client of the server, closed when the test ends.
func (s *Server) Client() *goredis.Client {
	c := goredis.NewClient(&goredis.Options{Addr: s.Addr, DisableIdentity: true})
	s.t.Cleanup(func() { c.Close() })
	return c
}
