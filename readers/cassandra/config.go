package cassandra

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
)

// Layout names the table that holds page views and its three columns.
type Layout struct {
	// Table is the table's name (without keyspace).
	Table string
	// Key is the text partition key holding the shard key "YYYYMMDD.account".
	Key string
	// TS is the timeuuid clustering column.
	TS string
	// Value is the blob column holding the msgpack page view.
	Value string
}

// DefaultLayout is the original column family as CQL shows it: page_views
// (key text, column1 timeuuid, value blob, PRIMARY KEY (key, column1)).
var DefaultLayout = Layout{Table: "page_views", Key: "key", TS: "column1", Value: "value"}

// TLS configures encrypted connections. Without CA the system's roots verify
// the server; ServerName, when set, is the name every node's certificate must
// carry (else each node is verified against the address dialled).
type TLS struct {
	// CA is the path of a PEM file of CA certificates.
	CA string
	// Cert and Key are the paths of a PEM client certificate and its key, for
	// clusters that require client authentication.
	Cert, Key  string
	ServerName string
	// Insecure skips verifying the server's certificate (testing only).
	Insecure bool
}

// Retry bounds the retries of a failed query or connection by time, not by a
// count of attempts: after the n-th failure in a row it waits a random time up
// to Wait·2ⁿ⁻¹ (at most MaxWait) and tries again, until the failures have
// lasted Budget. The budget counts from the first failure of an outage and
// starts afresh once an attempt makes progress (delivers a row), so a long
// run survives several outages, each as long as Budget.
type Retry struct {
	// Budget is how long an outage may last before the work item (or the
	// connection) fails. The default, 3m, outlasts a node restart: 10–30 s
	// on an idle machine, 80 s seen on a busy one (TestNodeRestartMidRun),
	// over 90 s after a large load.
	Budget time.Duration
	// Wait is the first retry's longest wait, doubled per failure up to
	// MaxWait.
	Wait, MaxWait time.Duration
}

// Config says how to reach the cluster and which table to use. Start from
// [NewConfig] or [ParseURL]: the zero Config has no hosts and no keyspace.
type Config struct {
	// Hosts are the contact points: "host" or "host:port".
	Hosts []string
	// Port is the CQL port of hosts given without one (default 9042).
	Port     int
	Keyspace string
	Layout   Layout
	// Consistency is the consistency level of reads and writes, such as
	// LOCAL_ONE (the default), LOCAL_QUORUM or QUORUM.
	Consistency string
	// Username and Password authenticate with PasswordAuthenticator when
	// Username is set. A node that runs without authentication never asks
	// for them; Open then warns once on Logger, naming the node (never the
	// password), since the credentials protect nothing.
	Username, Password string
	// TLS enables encryption when not nil.
	TLS *TLS
	// ConnectTimeout bounds dialling and connection set-up (default 10s);
	// Timeout bounds each request, such as one page of a slice (default 12s:
	// above Cassandra's own 5s read timeout, so the server answers first).
	ConnectTimeout, Timeout time.Duration
	// LocalDC, when set, sends queries to that data centre's nodes first
	// (DC-aware round robin); other data centres are used only when no local
	// node is up.
	LocalDC string
	// NoTokenAware turns off token-aware routing (by default each query goes
	// to a replica of its partition).
	NoTokenAware bool
	// NoDiscovery connects to the given hosts only, without discovering the
	// rest of the ring from system.peers: for a single address behind a proxy
	// or NAT. Token-aware routing then has no token map and falls back.
	NoDiscovery bool
	// PageSize is the number of rows fetched per page (default 5000).
	PageSize int
	// Protocol is the native protocol version: 3 (Cassandra 2.1), 4, 5, or 0
	// for the highest both sides speak. NewConfig sets 4: gocql reads a
	// version 5 page through checksummed segments that it copies twice into
	// the frame, version 4 reads the frame once, at about half the client
	// CPU and garbage per row (see BenchmarkCassandraJob).
	Protocol int
	// Concurrency bounds the queries in flight of discovery, load and export
	// (default 8). A run's slices in flight are its workers instead.
	Concurrency int
	// BatchRows is the number of rows of one partition written per unlogged
	// batch by WriteShard (default 100).
	BatchRows int
	// Retry bounds retries (default a 3m budget per outage, waits of 200ms
	// doubling to 5s).
	Retry Retry
	// OnRetry, when set, is called before each retry, from the goroutine that
	// retries (concurrently for concurrent work items).
	OnRetry func(RetryEvent)
	// Logger receives warnings about the connection, such as credentials
	// that a node without authentication ignores (slog.Default() when nil).
	Logger *slog.Logger
}

// RetryEvent describes a retry about to happen.
type RetryEvent struct {
	// Op names what is retried, such as "20240801.blog [10:00:00,11:00:00)".
	Op string
	// Attempt counts the failed attempts of this outage (1 for the first).
	Attempt int
	// Wait is the time until the next attempt.
	Wait time.Duration
	// Outage is the time since the outage's first failure; the retries stop
	// once it reaches Budget.
	Outage, Budget time.Duration
	// Rows is the number of rows already delivered; the retry resumes after them.
	Rows int64
	Err  error
}

// Defaults.
const (
	DefaultPort        = 9042
	DefaultConsistency = "LOCAL_ONE"
	DefaultPageSize    = 5000
	DefaultProtocol    = 4
	DefaultConcurrency = 8
	DefaultBatchRows   = 100
)

// DefaultRetry is the retry policy of a Config that sets none.
var DefaultRetry = Retry{Budget: 3 * time.Minute, Wait: 200 * time.Millisecond, MaxWait: 5 * time.Second}

// NewConfig returns a Config with the default port, layout, consistency and
// page size, for the given keyspace and hosts.
func NewConfig(keyspace string, hosts ...string) *Config {
	return &Config{
		Hosts:       hosts,
		Port:        DefaultPort,
		Keyspace:    keyspace,
		Layout:      DefaultLayout,
		Consistency: DefaultConsistency,
		PageSize:    DefaultPageSize,
		Protocol:    DefaultProtocol,
		Concurrency: DefaultConcurrency,
		BatchRows:   DefaultBatchRows,
		Retry:       DefaultRetry,
	}
}

// ErrBadURL is wrapped by every error of ParseURL and Set.
var ErrBadURL = errors.New("bad cassandra source")

// ParseURL parses a source URL:
//
//	cassandra://[user[:password]@]host1[:port][,host2[:port]...][:port]/keyspace[?param=value&...]
//
// The query parameters are those of [Config.Set]. User and password are
// percent-decoded. A port after the last host applies to every host given
// without one.
func ParseURL(s string) (*Config, error) {
	rest, ok := strings.CutPrefix(s, "cassandra://")
	if !ok {
		return nil, fmt.Errorf("%w %q: want cassandra://host[:port]/keyspace", ErrBadURL, redactURL(s))
	}
	rest, query, _ := strings.Cut(rest, "?")
	authority, path, _ := strings.Cut(rest, "/")
	cfg := NewConfig("")
	if i := strings.LastIndex(authority, "@"); i >= 0 {
		user, pass, hasPass := strings.Cut(authority[:i], ":")
		authority = authority[i+1:]
		var err error
		if cfg.Username, err = url.PathUnescape(user); err != nil {
			return nil, fmt.Errorf("%w: user name: %v", ErrBadURL, err)
		}
		if hasPass {
			if cfg.Password, err = url.PathUnescape(pass); err != nil {
				return nil, fmt.Errorf("%w: password is not percent-encoded properly", ErrBadURL)
			}
		}
	}
	hosts, err := parseHosts(authority)
	if err != nil {
		return nil, err
	}
	cfg.Hosts = hosts
	ks := strings.TrimSuffix(path, "/")
	if ks == "" {
		return nil, fmt.Errorf("%w %q: no keyspace (cassandra://host/keyspace)", ErrBadURL, redactURL(s))
	}
	cfg.Keyspace = ks
	vals, err := url.ParseQuery(query)
	if err != nil {
		return nil, fmt.Errorf("%w: query %q: %v", ErrBadURL, query, err)
	}
	names := make([]string, 0, len(vals))
	for k := range vals {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		v := vals[k]
		if err := cfg.Set(k, v[len(v)-1]); err != nil {
			return nil, err
		}
	}
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// parseHosts splits a host list such as "h1,h2:9043,[::1]:9042". When only
// the last host has a port ("h1,h2:9043"), that port applies to every host.
func parseHosts(s string) ([]string, error) {
	if s == "" {
		return nil, fmt.Errorf("%w: no host (cassandra://host[:port]/keyspace)", ErrBadURL)
	}
	parts := strings.Split(s, ",")
	type hp struct{ host, port string }
	var hs []hp
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			return nil, fmt.Errorf("%w: empty host in %q", ErrBadURL, s)
		}
		host, port := p, ""
		if h, pt, err := net.SplitHostPort(p); err == nil {
			host, port = h, pt
		} else if strings.HasPrefix(p, "[") && strings.HasSuffix(p, "]") {
			host = p[1 : len(p)-1]
		} else if strings.Count(p, ":") > 1 {
			host = p // bare IPv6
		} else if strings.Contains(p, ":") {
			return nil, fmt.Errorf("%w: host %q: %v", ErrBadURL, p, err)
		}
		if port != "" {
			n, err := strconv.Atoi(port)
			if err != nil || n < 1 || n > 65535 {
				return nil, fmt.Errorf("%w: host %q: port %q is not a number from 1 to 65535", ErrBadURL, p, port)
			}
		}
		if host == "" {
			return nil, fmt.Errorf("%w: empty host in %q", ErrBadURL, s)
		}
		hs = append(hs, hp{host, port})
	}
	// "h1,h2:9043": the port of the last host applies to the others.
	if last := hs[len(hs)-1].port; last != "" {
		others := true
		for _, h := range hs[:len(hs)-1] {
			if h.port != "" {
				others = false
			}
		}
		if others {
			for i := range hs {
				hs[i].port = last
			}
		}
	}
	out := make([]string, len(hs))
	for i, h := range hs {
		if h.port == "" {
			if strings.Contains(h.host, ":") {
				out[i] = "[" + h.host + "]"
			} else {
				out[i] = h.host
			}
			continue
		}
		out[i] = net.JoinHostPort(h.host, h.port)
	}
	return out, nil
}

// Params lists the names Set accepts, with what each sets.
var Params = []struct{ Name, Usage string }{
	{"table", "table name (default page_views)"},
	{"key-column", "partition key column, text (default key)"},
	{"ts-column", "clustering column, timeuuid (default column1)"},
	{"value-column", "value column, blob (default value)"},
	{"consistency", "consistency level of reads and writes (default LOCAL_ONE)"},
	{"user", "user name (PasswordAuthenticator)"},
	{"password", "password"},
	{"tls", "true: connect with TLS"},
	{"tls-ca", "PEM file of CA certificates that verify the servers (implies tls)"},
	{"tls-cert", "PEM client certificate (implies tls)"},
	{"tls-key", "PEM key of the client certificate (implies tls)"},
	{"tls-server-name", "name the servers' certificates must carry (implies tls)"},
	{"tls-insecure", "true: do not verify the servers' certificates (testing only)"},
	{"connect-timeout", "dial and connection set-up timeout (default 10s)"},
	{"timeout", "per-request timeout, e.g. one page (default 12s)"},
	{"dc", "local data centre: DC-aware host selection"},
	{"token-aware", "false: no token-aware routing (default true)"},
	{"discover", "false: use only the given hosts, no ring discovery (proxies, NAT)"},
	{"page-size", "rows per page (default 5000)"},
	{"protocol", "native protocol version: 3, 4 or 5, 0 = the highest the cluster speaks (default 4: half the client CPU per row of 5)"},
	{"concurrency", "queries in flight for discovery, load and export (default 8)"},
	{"batch-rows", "rows per unlogged single-partition batch when loading (default 100)"},
	{"retry-budget", "how long a query or connection may go on failing before the run fails; outlasts a node restart (default 3m)"},
	{"retry-wait", "first retry's maximum wait, doubled per retry (default 200ms)"},
	{"retry-max-wait", "longest wait between retries (default 5s)"},
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,47}$`)

// Set sets one parameter by name (see [Params]), as a URL query parameter or a
// command-line flag gives it.
func (c *Config) Set(name, value string) error {
	bad := func(want string) error {
		return fmt.Errorf("%w: %s=%q: want %s", ErrBadURL, name, value, want)
	}
	ident := func(dst *string) error {
		if !identRE.MatchString(value) {
			return bad("a CQL name of letters, digits and _")
		}
		*dst = value
		return nil
	}
	boolean := func(dst *bool, invert bool) error {
		b, err := strconv.ParseBool(value)
		if err != nil {
			return bad("true or false")
		}
		*dst = b != invert
		return nil
	}
	dur := func(dst *time.Duration) error {
		d, err := time.ParseDuration(value)
		if err != nil || d <= 0 {
			return bad("a positive duration such as 500ms or 10s")
		}
		*dst = d
		return nil
	}
	num := func(dst *int, lo, hi int) error {
		n, err := strconv.Atoi(value)
		if err != nil || n < lo || n > hi {
			return bad(fmt.Sprintf("a number from %d to %d", lo, hi))
		}
		*dst = n
		return nil
	}
	tls := func() *TLS {
		if c.TLS == nil {
			c.TLS = &TLS{}
		}
		return c.TLS
	}
	switch name {
	case "table":
		return ident(&c.Layout.Table)
	case "key-column":
		return ident(&c.Layout.Key)
	case "ts-column":
		return ident(&c.Layout.TS)
	case "value-column":
		return ident(&c.Layout.Value)
	case "consistency":
		if _, err := gocql.ParseConsistencyWrapper(value); err != nil {
			return bad("ANY, ONE, TWO, THREE, QUORUM, ALL, LOCAL_QUORUM, EACH_QUORUM or LOCAL_ONE")
		}
		c.Consistency = strings.ToUpper(value)
	case "user":
		c.Username = value
	case "password":
		c.Password = value
	case "tls":
		var on bool
		if err := boolean(&on, false); err != nil {
			return err
		}
		if on {
			tls()
		} else {
			c.TLS = nil
		}
	case "tls-ca":
		tls().CA = value
	case "tls-cert":
		tls().Cert = value
	case "tls-key":
		tls().Key = value
	case "tls-server-name":
		tls().ServerName = value
	case "tls-insecure":
		return boolean(&tls().Insecure, false)
	case "connect-timeout":
		return dur(&c.ConnectTimeout)
	case "timeout":
		return dur(&c.Timeout)
	case "dc":
		c.LocalDC = value
	case "token-aware":
		return boolean(&c.NoTokenAware, true)
	case "discover":
		return boolean(&c.NoDiscovery, true)
	case "page-size":
		return num(&c.PageSize, 1, 1<<20)
	case "protocol":
		n, err := strconv.Atoi(value)
		if err != nil || (n != 0 && (n < 3 || n > 5)) {
			return bad("3, 4, 5 or 0 (the highest both sides speak)")
		}
		c.Protocol = n
	case "concurrency":
		return num(&c.Concurrency, 1, 1024)
	case "batch-rows":
		return num(&c.BatchRows, 1, 10000)
	case "retry-budget":
		return dur(&c.Retry.Budget)
	case "retries":
		return fmt.Errorf("%w: retries=%q: retries are bounded by time now, not by a count: use retry-budget (such as 3m)", ErrBadURL, value)
	case "retry-wait":
		return dur(&c.Retry.Wait)
	case "retry-max-wait":
		return dur(&c.Retry.MaxWait)
	default:
		var names []string
		for _, p := range Params {
			names = append(names, p.Name)
		}
		return fmt.Errorf("%w: unknown parameter %q (known: %s)", ErrBadURL, name, strings.Join(names, ", "))
	}
	return nil
}

// Check reports the first thing wrong with c.
func (c *Config) Check() error {
	if len(c.Hosts) == 0 {
		return fmt.Errorf("%w: no hosts", ErrBadURL)
	}
	if !identRE.MatchString(c.Keyspace) {
		return fmt.Errorf("%w: keyspace %q: want a CQL name of letters, digits and _", ErrBadURL, c.Keyspace)
	}
	for _, n := range []string{c.Layout.Table, c.Layout.Key, c.Layout.TS, c.Layout.Value} {
		if !identRE.MatchString(n) {
			return fmt.Errorf("%w: table or column name %q: want a CQL name of letters, digits and _", ErrBadURL, n)
		}
	}
	if c.Consistency != "" {
		if _, err := gocql.ParseConsistencyWrapper(c.Consistency); err != nil {
			return fmt.Errorf("%w: consistency %q", ErrBadURL, c.Consistency)
		}
	}
	if t := c.TLS; t != nil && (t.Cert == "") != (t.Key == "") {
		return fmt.Errorf("%w: a TLS client certificate needs both tls-cert and tls-key", ErrBadURL)
	}
	if c.Password != "" && c.Username == "" {
		return fmt.Errorf("%w: a password without a user name", ErrBadURL)
	}
	return nil
}

// String returns the source as a URL without password, for messages.
func (c *Config) String() string {
	var b strings.Builder
	b.WriteString("cassandra://")
	if c.Username != "" {
		b.WriteString(strings.NewReplacer(":", "%3A", "@", "%40").Replace(url.PathEscape(c.Username)))
		if c.Password != "" {
			b.WriteString(":xxxxx")
		}
		b.WriteString("@")
	}
	b.WriteString(strings.Join(c.Hosts, ","))
	b.WriteString("/")
	b.WriteString(c.Keyspace)
	if l := c.Layout; l != DefaultLayout && l.Table != "" {
		b.WriteString("?table=" + l.Table)
	}
	return b.String()
}

// redactURL hides the password of a source URL.
func redactURL(s string) string {
	rest, ok := strings.CutPrefix(s, "cassandra://")
	if !ok {
		return s
	}
	at := strings.LastIndex(strings.SplitN(rest, "/", 2)[0], "@")
	if at < 0 {
		return s
	}
	if user, _, hasPass := strings.Cut(rest[:at], ":"); hasPass {
		return "cassandra://" + user + ":xxxxx" + rest[at:]
	}
	return s
}

// defaults fills the zero fields of a copy of c.
func (c Config) defaults() Config {
	if c.Port == 0 {
		c.Port = DefaultPort
	}
	if c.Layout == (Layout{}) {
		c.Layout = DefaultLayout
	}
	if c.Consistency == "" {
		c.Consistency = DefaultConsistency
	}
	if c.PageSize <= 0 {
		c.PageSize = DefaultPageSize
	}
	if c.Concurrency <= 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.BatchRows <= 0 {
		c.BatchRows = DefaultBatchRows
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = 10 * time.Second
	}
	if c.Timeout <= 0 {
		c.Timeout = 12 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Retry.Budget <= 0 {
		c.Retry.Budget = DefaultRetry.Budget
	}
	if c.Retry.Wait <= 0 {
		c.Retry.Wait = DefaultRetry.Wait
	}
	if c.Retry.MaxWait <= 0 {
		c.Retry.MaxWait = DefaultRetry.MaxWait
	}
	if c.Retry.MaxWait < c.Retry.Wait {
		c.Retry.MaxWait = c.Retry.Wait
	}
	return c
}
