package collector

import (
	"bytes"
	"net"
	"sync"
)

// listener is the collector's net.Listener around the one Run is given. It
// does two things http.Server offers no hook for:
//
//   - It caps the open connections at max (max <= 0: no cap). At the cap,
//     Accept waits until one of them closes before it takes the next from
//     the kernel's accept queue: the client's connection is made (the
//     kernel completes the handshake into its backlog) and its request
//     waits, unanswered, rather than being refused. Idle keep-alive
//     connections close after Config.IdleTimeout, so a slot frees within
//     that even when every client keeps its connection open.
//   - It counts the answers the server writes on its own before any
//     handler runs. When a request's headers exceed MaxHeaderBytes, net/http
//     writes "HTTP/1.1 431 Request Header Fields Too Large" straight to the
//     connection and closes it: the handler never sees the request, and
//     there is no callback. The collector never answers 431 itself, so a
//     connection write that starts with that status line is the server's,
//     and is counted as ReasonHeadersTooLarge.
//
// Accept is called from the server's one accept loop; the connections' Write
// and Close from their own goroutines.
type listener struct {
	net.Listener
	m *Metrics
	// slots holds a token per open connection; nil when there is no cap.
	slots     chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

func newListener(ln net.Listener, max int, m *Metrics) *listener {
	l := &listener{Listener: ln, m: m, done: make(chan struct{})}
	if max > 0 {
		l.slots = make(chan struct{}, max)
		m.connCap.Store(int64(max))
	}
	return l
}

// Accept waits for a free slot, then accepts a connection.
func (l *listener) Accept() (net.Conn, error) {
	if l.slots != nil {
		select {
		case l.slots <- struct{}{}:
		default:
			l.m.connWaits.Add(1)
			l.m.connWaiting.Store(true)
			select {
			case l.slots <- struct{}{}:
				l.m.connWaiting.Store(false)
			case <-l.done:
				l.m.connWaiting.Store(false)
				return nil, net.ErrClosed
			}
		}
	}
	c, err := l.Listener.Accept()
	if err != nil {
		l.release()
		return nil, err
	}
	l.m.connOpen.Add(1)
	return &conn{Conn: c, l: l}, nil
}

// Close closes the listener; an Accept waiting for a slot returns
// net.ErrClosed.
func (l *listener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

func (l *listener) release() {
	if l.slots != nil {
		<-l.slots
	}
}

// status431 starts net/http's own answer to oversized request headers.
var status431 = []byte("HTTP/1.1 431 ")

// conn is an accepted connection: it gives its slot back when closed, and
// counts the server's own 431 answers.
type conn struct {
	net.Conn
	l    *listener
	once sync.Once
}

func (c *conn) Write(p []byte) (int, error) {
	if bytes.HasPrefix(p, status431) {
		c.l.m.rejected[ReasonHeadersTooLarge].Add(1)
	}
	return c.Conn.Write(p)
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.l.m.connOpen.Add(-1)
		c.l.release()
	})
	return err
}

// CloseWrite half-closes a TCP connection, as net/http does before it
// hangs up after an error (so that the client reads the answer rather
// than a reset).
func (c *conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
