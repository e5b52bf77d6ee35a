package cassandra

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
)

// ErrNoTable is wrapped by the error of Open when the keyspace or table does
// not exist.
var ErrNoTable = errors.New("table not found")

// ErrLayout is wrapped by the error of Open when the table exists but its
// columns do not fit the layout.
var ErrLayout = errors.New("table does not fit the layout")

// Table is a page-view table in a Cassandra cluster: a [mapreduce.Source]
// (Split, Read), a lister of its partitions (Shards) and a writer of rows
// (WriteShard). Its methods are safe for concurrent use.
type Table struct {
	cfg     Config
	session *gocql.Session
	cons    gocql.Consistency
	// statements
	qSlice, qSliceAfter, qPart, qPartAfter, qInsert string
	qDistinct, qDistinctRange                       string
	// writeSem bounds the batches in flight of WriteShard across shards.
	writeSem chan struct{}
}

// quote quotes a CQL identifier (names are checked to be [A-Za-z0-9_]).
func quote(name string) string { return `"` + name + `"` }

// Open connects to the cluster and checks that the table exists and fits
// cfg.Layout. Close releases the connections.
func Open(ctx context.Context, cfg *Config) (*Table, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	c := cfg.defaults()
	session, cons, err := connect(ctx, &c)
	if err != nil {
		return nil, err
	}
	t := &Table{cfg: c, session: session, cons: cons, writeSem: make(chan struct{}, c.Concurrency)}
	if err := t.checkLayout(ctx); err != nil {
		session.Close()
		return nil, err
	}
	l := c.Layout
	tbl := quote(c.Keyspace) + "." + quote(l.Table)
	k, ts, v := quote(l.Key), quote(l.TS), quote(l.Value)
	sel := "SELECT " + ts + ", " + v + " FROM " + tbl + " WHERE " + k + " = ?"
	order := " ORDER BY " + ts + " ASC"
	t.qSlice = sel + " AND " + ts + " >= ? AND " + ts + " < ?" + order
	t.qSliceAfter = sel + " AND " + ts + " > ? AND " + ts + " < ?" + order
	t.qPart = sel + order
	t.qPartAfter = sel + " AND " + ts + " > ?" + order
	t.qInsert = "INSERT INTO " + tbl + " (" + k + ", " + ts + ", " + v + ") VALUES (?, ?, ?)"
	t.qDistinct = "SELECT DISTINCT " + k + " FROM " + tbl
	t.qDistinctRange = t.qDistinct + " WHERE token(" + k + ") > ? AND token(" + k + ") <= ?"
	return t, nil
}

// connect opens a gocql session for c (already defaulted). A cluster that
// cannot be reached at all (every connection refused or timed out, as while
// the node restarts) is retried within c.Retry's budget; a node that answers
// but refuses the session (TLS, credentials, protocol) is not.
func connect(ctx context.Context, c *Config) (*gocql.Session, gocql.Consistency, error) {
	cons, err := gocql.ParseConsistencyWrapper(c.Consistency)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: consistency %q", ErrBadURL, c.Consistency)
	}
	op := "connecting to cassandra://" + strings.Join(c.Hosts, ",")
	var session *gocql.Session
	err = c.retry(ctx, op, noProgress, func() error {
		var err error
		session, err = createSession(ctx, c, cons)
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", op, err)
	}
	return session, cons, nil
}

// createSession makes one attempt at opening a session. Its error is
// permanent unless every connection failed to be set up at all.
func createSession(ctx context.Context, c *Config, cons gocql.Consistency) (*gocql.Session, error) {
	cl := gocql.NewCluster(c.Hosts...)
	cl.Port = c.Port
	cl.Consistency = cons
	cl.PageSize = c.PageSize
	cl.ProtoVersion = c.Protocol
	cl.Timeout = c.Timeout
	cl.WriteTimeout = c.Timeout
	cl.ConnectTimeout = c.ConnectTimeout
	// Every statement pvjobs sends is idempotent (reads; inserts of the same
	// cell). Retries are ours (per work item, with resume), not gocql's.
	cl.DefaultIdempotence = true
	cl.RetryPolicy = nil
	// Reconnect to nodes marked down soon, so a restarted node is used again
	// while a run still retries (gocql's default is once a minute).
	cl.ReconnectInterval = 2 * time.Second
	// Keyspace metadata is all token-aware routing needs.
	cl.Metadata.CacheMode = gocql.KeyspaceOnly
	w := &connWatch{user: c.Username, log: c.Logger}
	cl.ConnectObserver = w
	if c.Username != "" {
		auth := gocql.PasswordAuthenticator{Username: c.Username, Password: c.Password}
		cl.AuthProvider = func(h *gocql.HostInfo) (gocql.Authenticator, error) {
			return &watchedAuth{auth, w, h.ConnectAddressAndPort()}, nil
		}
	}
	if t := c.TLS; t != nil {
		cl.SslOpts = &gocql.SslOptions{
			Config:                 &tls.Config{ServerName: t.ServerName, InsecureSkipVerify: t.Insecure, MinVersion: tls.VersionTLS12},
			CaPath:                 t.CA,
			CertPath:               t.Cert,
			KeyPath:                t.Key,
			EnableHostVerification: !t.Insecure,
		}
	}
	policy := gocql.RoundRobinHostPolicy()
	if c.LocalDC != "" {
		policy = gocql.DCAwareRoundRobinPolicy(c.LocalDC)
	}
	if !c.NoTokenAware {
		policy = gocql.TokenAwareHostPolicy(policy, gocql.ShuffleReplicas())
	}
	cl.PoolConfig.HostSelectionPolicy = policy
	if c.NoDiscovery {
		cl.DisableInitialHostLookup = true
		cl.Events.DisableTopologyEvents = true
	}
	type result struct {
		s   *gocql.Session
		err error
	}
	done := make(chan result, 1)
	go func() {
		s, err := cl.CreateSession()
		done <- result{s, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			if !w.unreachable() {
				return nil, &permanentError{r.err}
			}
			return nil, r.err
		}
		return r.s, nil
	case <-ctx.Done():
		go func() {
			if r := <-done; r.s != nil {
				r.s.Close()
			}
		}()
		return nil, ctx.Err()
	}
}

// connWatch watches the connections of one session. While the session is
// created it tells a cluster that cannot be reached (every connection failed
// to dial) from one that refuses the session; afterwards it warns once when
// a node accepts a connection without asking for the credentials given.
type connWatch struct {
	user string // the user name given, or ""
	log  *slog.Logger

	mu       sync.Mutex
	dialErrs int             // connections that failed to dial
	others   int             // connections that failed after dialling
	asked    map[string]bool // nodes that asked for credentials
	warned   bool
}

// ObserveConnect implements gocql.ConnectObserver. It is called after every
// attempt to open a connection, from the goroutine that opened it: after
// the authentication exchange, if there was one.
func (w *connWatch) ObserveConnect(o gocql.ObservedConnect) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if o.Err != nil {
		if isDialError(o.Err) {
			w.dialErrs++
		} else {
			w.others++
		}
		return
	}
	if w.user == "" || w.warned || o.Host == nil || w.asked[o.Host.ConnectAddressAndPort()] {
		return
	}
	w.warned = true
	w.log.Warn("cassandra: the node did not ask for credentials: it runs without authentication, and the user name and password given are not used",
		"host", o.Host.ConnectAddressAndPort(), "user", w.user)
}

// unreachable reports whether connections failed and every failure was a
// failure to dial.
func (w *connWatch) unreachable() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.dialErrs > 0 && w.others == 0
}

// watchedAuth is a PasswordAuthenticator that tells its connWatch when a node
// asks for credentials.
type watchedAuth struct {
	gocql.PasswordAuthenticator
	w    *connWatch
	host string
}

// Challenge implements gocql.Authenticator.
func (a *watchedAuth) Challenge(req []byte) ([]byte, gocql.Authenticator, error) {
	a.w.mu.Lock()
	if a.w.asked == nil {
		a.w.asked = map[string]bool{}
	}
	a.w.asked[a.host] = true
	a.w.mu.Unlock()
	return a.PasswordAuthenticator.Challenge(req)
}

// isDialError reports whether err is a failure to open a TCP connection:
// refused, timed out, no route. TLS, protocol and authentication failures
// come after dialling and are not.
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// checkLayout reads the table's columns from system_schema and checks them
// against the layout: one text partition key, one timeuuid clustering column,
// a blob value.
func (t *Table) checkLayout(ctx context.Context) error {
	l := t.cfg.Layout
	name := t.cfg.Keyspace + "." + l.Table
	iter := t.session.Query(`SELECT column_name, kind, type FROM system_schema.columns WHERE keyspace_name = ? AND table_name = ?`,
		t.cfg.Keyspace, l.Table).Consistency(gocql.One).IterContext(ctx)
	type col struct{ kind, typ string }
	cols := map[string]col{}
	var names []string
	var n, kind, typ string
	parts, clust := 0, 0
	for iter.Scan(&n, &kind, &typ) {
		cols[n] = col{kind, typ}
		names = append(names, n)
		switch kind {
		case "partition_key":
			parts++
		case "clustering":
			clust++
		}
	}
	if err := iter.Close(); err != nil {
		return fmt.Errorf("reading the schema of %s: %w", name, err)
	}
	if len(cols) == 0 {
		return fmt.Errorf("%w: %s (create it with 'pvjobs schema --apply', or name yours with table=... in the URL or --cql-table)", ErrNoTable, name)
	}
	want := func(column, role string, kinds string, types ...string) error {
		c, ok := cols[column]
		if !ok {
			return fmt.Errorf("%w: %s has no column %q for the %s (columns: %s)", ErrLayout, name, column, role, strings.Join(names, ", "))
		}
		if !strings.Contains(kinds, c.kind) {
			return fmt.Errorf("%w: column %q of %s is a %s column, want the %s", ErrLayout, column, name, c.kind, role)
		}
		for _, ty := range types {
			if c.typ == ty {
				return nil
			}
		}
		return fmt.Errorf("%w: column %q of %s is %s, want %s for the %s", ErrLayout, column, name, c.typ, strings.Join(types, " or "), role)
	}
	if err := want(l.Key, "partition key", "partition_key", "text", "varchar", "ascii"); err != nil {
		return err
	}
	if err := want(l.TS, "clustering column", "clustering", "timeuuid"); err != nil {
		return err
	}
	if err := want(l.Value, "value", "regular static", "blob"); err != nil {
		return err
	}
	if parts != 1 || clust != 1 {
		return fmt.Errorf("%w: %s has %d partition key and %d clustering columns, want 1 and 1", ErrLayout, name, parts, clust)
	}
	return nil
}

// Close closes the connections.
func (t *Table) Close() { t.session.Close() }

// String names the table for messages (without password).
func (t *Table) String() string {
	c := t.cfg
	return c.String()
}

// Config returns the table's configuration, defaults filled in.
func (t *Table) Config() Config { return t.cfg }
