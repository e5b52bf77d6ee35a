package file

import (
	"context"
	"io"
	"io/fs"
)

// A read from a FIFO without a writer, or from a hung network mount, blocks
// in the kernel, where a context cannot reach it. So every call that may
// block — stat, open, read — runs in a goroutine of its own, and the caller
// waits for it or for the context, whichever comes first. On cancellation the
// caller returns at once and the goroutine is left behind until the call
// returns, if it ever does; it touches nothing the caller still uses. A
// goroutine per call costs about a microsecond, against 256 KiB read per
// call: nothing measurable.

// await runs f in a goroutine and returns its result, or ctx's error as soon
// as ctx is done. When ctx wins, abandon (if not nil) is called, from the
// goroutine, with f's result once f returns: to close what f opened.
func await[T any](ctx context.Context, f func() (T, error), abandon func(T)) (T, error) {
	type result struct {
		v   T
		err error
	}
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	ch := make(chan result, 1)
	go func() {
		v, err := f()
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		if abandon != nil {
			go func() {
				if r := <-ch; r.err == nil {
					abandon(r.v)
				}
			}()
		}
		return zero, ctx.Err()
	}
}

// statContext is fs.Stat that returns when ctx is done.
func statContext(ctx context.Context, fsys fs.FS, name string) (fs.FileInfo, error) {
	return await(ctx, func() (fs.FileInfo, error) { return fs.Stat(fsys, name) }, nil)
}

// openContext is fsys.Open that returns when ctx is done; a file opened after
// that is closed.
func openContext(ctx context.Context, fsys fs.FS, name string) (fs.File, error) {
	return await(ctx, func() (fs.File, error) { return fsys.Open(name) }, func(f fs.File) { f.Close() })
}

// ctxReader reads from r until ctx is done: a Read blocked in r then returns
// ctx's error at once, and every later Read returns it too. The blocked read
// goes on in its goroutine, into the buffer it was given: after ctxReader
// returned an error, the caller must not use the buffers it passed to Read.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
	// stuck is set when a read was abandoned: it may still be going on.
	stuck bool
}

type readResult struct {
	n   int
	err error
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if c.stuck {
		return 0, c.ctx.Err()
	}
	r, err := await(c.ctx, func() (readResult, error) {
		n, err := c.r.Read(p)
		return readResult{n, err}, nil
	}, nil)
	if err != nil {
		c.stuck = true
		return 0, err
	}
	return r.n, r.err
}
