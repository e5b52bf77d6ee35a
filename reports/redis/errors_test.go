package redis_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/pvjobs/pvjobs/reports/redis"
)

// reply is an error reply as a server sends it: go-redis's Error interface.
type reply string

func (r reply) Error() string { return string(r) }
func (reply) RedisError()     {}

var _ goredis.Error = reply("")

func TestTransient(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{io.EOF, true},
		{fmt.Errorf("writing: %w", io.ErrUnexpectedEOF), true},
		{&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, true},
		{&net.OpError{Op: "dial", Net: "tcp", Err: context.DeadlineExceeded}, true},
		{&net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, true},
		{&net.OpError{Op: "write", Net: "tcp", Err: os.NewSyscallError("write", syscall.EPIPE)}, true},
		{&net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}, true},
		{goredis.ErrPoolTimeout, true},
		{goredis.TxFailedErr, true},
		{reply("LOADING Redis is loading the dataset in memory"), true},
		{reply("TRYAGAIN Multiple keys request during rehashing of slot"), true},
		{reply("CLUSTERDOWN The cluster is down"), true},
		{reply("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."), true},
		{reply("READONLY You can't write against a read only replica."), true},
		{reply("ERR max number of clients reached"), true},
		{reply("BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."), true},
		{&redis.CommandError{Command: "ZADD", Key: "k", Err: reply("LOADING Redis is loading the dataset in memory")}, true},
		{fmt.Errorf("swap: %w", &redis.CommandError{Command: "SET", Key: "k", Err: reply("READONLY You can't write against a read only replica.")}), true},

		{context.Canceled, false},
		{fmt.Errorf("x: %w", context.DeadlineExceeded), false},
		{goredis.ErrClosed, false},
		{reply("NOPERM User u has no permissions to run the 'rename' command"), false},
		{reply("OOM command not allowed when used memory > 'maxmemory'."), false},
		{reply("WRONGTYPE Operation against a key holding the wrong kind of value"), false},
		{reply("EXECABORT Transaction discarded because of previous errors."), false},
		{reply("ERR syntax error"), false},
		{reply("ERR unknown command 'pfmerge'"), false},
		{reply("NOAUTH Authentication required."), false},
		{reply("WRONGPASS invalid username-password pair or user is disabled."), false},
		{reply("MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk."), false},
		{&redis.CommandError{Command: "ZADD", Key: "k", Err: reply("OOM command not allowed when used memory > 'maxmemory'.")}, false},
		{redis.ErrTempExpired, false},
		{errors.New("something else"), false},
	} {
		name := "nil"
		if tc.err != nil {
			name = tc.err.Error()
		}
		t.Run(name, func(t *testing.T) {
			if got := redis.Transient(tc.err); got != tc.want {
				t.Errorf("transient(%#v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

func TestCommandError(t *testing.T) {
	oom := reply("OOM command not allowed when used memory > 'maxmemory'.")
	err := fmt.Errorf("writing temporary keys of account blog: %w", &redis.CommandError{Command: "ZADD", Key: "pv:{blog}:tmp:x:urls:20240801", Err: oom})
	if got, want := err.Error(), "writing temporary keys of account blog: ZADD pv:{blog}:tmp:x:urls:20240801: OOM command not allowed when used memory > 'maxmemory'."; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !goredis.HasErrorPrefix(err, "OOM") {
		t.Errorf("goredis.HasErrorPrefix does not see the reply through CommandError")
	}
	var ce *redis.CommandError
	if !errors.As(err, &ce) || ce.Command != "ZADD" {
		t.Errorf("errors.As: %v", ce)
	}
}

func TestCommitError(t *testing.T) {
	cause := errors.New("boom")
	for _, tc := range []struct {
		err  redis.CommitError
		want string
	}{
		{redis.CommitError{Pending: []string{"blog", "shop"}, Err: cause}, "account blog: swap: boom; not swapped in: blog, shop"},
		{redis.CommitError{Committed: []string{"a"}, Pending: []string{"blog", "shop"}, Err: cause}, "account blog: swap: boom; swapped in: a; not swapped in: blog, shop"},
		{redis.CommitError{Committed: []string{"a"}, Unknown: "blog", Pending: []string{"shop"}, Err: cause},
			"account blog: swap: boom (whether it was swapped in is unknown: all of it or none); swapped in: a; not swapped in: shop"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %q\nwant %q", got, tc.want)
		}
		if !errors.Is(&tc.err, cause) {
			t.Errorf("errors.Is(cause) = false")
		}
	}
}
