package cassandratest

import (
	"bytes"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// EnvRestart allows tests to stop and start the test server. make test sets
// it in a phase of its own, after every other test, for the server it started
// itself (testdata/test.sh); never set it for a server others use.
const EnvRestart = "PVJOBS_TEST_CASSANDRA_RESTART"

// Node is the test server as testdata/cassandra/cassandra.sh runs it, for
// tests that restart it. The script finds the server by the environment
// (PVJOBS_CASSANDRA_PORT, PVJOBS_CASSANDRA_STATE) it was started with.
type Node struct {
	Addr   string
	script string
}

// RequireNode returns the test server for a test that restarts it. Unless
// EnvRestart is set it skips tb, or fails it when CI or
// PVJOBS_TEST_DISALLOW_SKIP is set (make test runs such tests alone, with
// EnvRestart). It fails tb unless the server is the one cassandra.sh started
// on PVJOBS_CASSANDRA_PORT.
func RequireNode(tb testing.TB) *Node {
	tb.Helper()
	addr := Require(tb)
	if os.Getenv(EnvRestart) == "" {
		msg := EnvRestart + " is not set: this test restarts the Cassandra node; make test runs it alone after the other tests"
		if _, must := Addr(); must {
			tb.Fatal(msg + "; CI / PVJOBS_TEST_DISALLOW_SKIP forbid skipping (run only with make test, or skip it with -skip)")
		}
		tb.Skip(msg)
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		tb.Fatalf("%s=%s: %v", EnvAddr, addr, err)
	}
	want := os.Getenv("PVJOBS_CASSANDRA_PORT")
	if want == "" {
		want = "9042" // cassandra.sh's default
	}
	if port != want {
		tb.Fatalf("%s=%s, but PVJOBS_CASSANDRA_PORT=%q: cassandra.sh would restart another server", EnvAddr, addr, want)
	}
	script, err := scriptPath()
	if err != nil {
		tb.Fatal(err)
	}
	n := &Node{Addr: addr, script: script}
	if _, err := n.run("owned"); err != nil {
		tb.Fatalf("the Cassandra at %s was not started by cassandra.sh with this environment's state directory: not restarting it", addr)
	}
	return n
}

// Stop stops the server (SIGTERM: it drains and exits) and returns once its
// process has exited.
func (n *Node) Stop(tb testing.TB) {
	tb.Helper()
	if out, err := n.run("down"); err != nil {
		tb.Fatalf("cassandra.sh down: %v\n%s", err, out)
	}
}

// Start starts the server again and returns once it answers CQL.
func (n *Node) Start(tb testing.TB) {
	tb.Helper()
	if out, err := n.run("up"); err != nil {
		tb.Fatalf("cassandra.sh up: %v\n%s", err, out)
	}
}

func (n *Node) run(cmd string) (string, error) {
	c := exec.Command("bash", n.script, cmd)
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	c.WaitDelay = time.Minute
	err := c.Run()
	return out.String(), err
}

// scriptPath finds testdata/cassandra/cassandra.sh above the working
// directory (a test runs in its package's directory).
func scriptPath() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "testdata", "cassandra", "cassandra.sh")
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			if _, err := os.Stat(p); err != nil {
				return "", err
			}
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("testdata/cassandra/cassandra.sh not found above the working directory")
		}
		dir = parent
	}
}
