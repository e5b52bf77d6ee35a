package redis

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// ErrBadURL is wrapped by the errors of ParseURL.
var ErrBadURL = errors.New("invalid Redis URL")

// Target is a parsed redis:// or rediss:// URL: where to connect, and the
// writer options the URL's query sets.
type Target struct {
	// Client is set for a single server, Cluster for a Redis Cluster.
	Client  *goredis.Options
	Cluster *goredis.ClusterOptions
	// Prefix, Batch and Pipeline are the query's prefix=, batch= and
	// pipeline= ("" and 0 when absent).
	Prefix          string
	Batch, Pipeline int
	// RetryBudget is the query's retry_budget= (Options.RetryBudget; 0 when
	// absent).
	RetryBudget time.Duration
	// redacted is the URL without its password.
	redacted string
}

// ParseURL parses redis://[user:password@]host:port/db or rediss://... (TLS).
// Its query may hold go-redis's options (dial_timeout, read_timeout,
// write_timeout, max_retries, pool_size, skip_verify, ... see go-redis's
// ParseURL) and pvjobs' own: prefix=pv, batch=1000 (members per ZADD),
// pipeline=100 (commands per round trip), retry_budget=1m (how long
// transient failures are retried, Options.RetryBudget) and cluster=true for a Redis Cluster,
// whose further seed nodes are given as addr=host:port (which implies
// cluster=true). A cluster has database 0 only.
func ParseURL(raw string) (*Target, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %v", ErrBadURL, Redact(raw), errors.Unwrap(err))
	}
	if u.Scheme != "redis" && u.Scheme != "rediss" {
		return nil, fmt.Errorf("%w %q: want redis:// or rediss://", ErrBadURL, Redact(raw))
	}
	if u.Host == "" {
		return nil, fmt.Errorf("%w %q: no host", ErrBadURL, Redact(raw))
	}
	t := &Target{redacted: Redact(raw)}
	q := u.Query()
	t.Prefix = q.Get("prefix")
	if q.Has("prefix") && !validPrefix(t.Prefix) {
		return nil, fmt.Errorf("%w %q: prefix %q: want 1 to 64 of A-Z a-z 0-9 _ - . : (no braces, no spaces)", ErrBadURL, t.redacted, t.Prefix)
	}
	for _, p := range []struct {
		name string
		dst  *int
	}{{"batch", &t.Batch}, {"pipeline", &t.Pipeline}} {
		if !q.Has(p.name) {
			continue
		}
		n, err := strconv.Atoi(q.Get(p.name))
		if err != nil || n < 1 || n > 1_000_000 {
			return nil, fmt.Errorf("%w %q: %s=%q: want a number from 1 to 1000000", ErrBadURL, t.redacted, p.name, q.Get(p.name))
		}
		*p.dst = n
	}
	if q.Has("retry_budget") {
		d, err := time.ParseDuration(q.Get("retry_budget"))
		if err != nil || d <= 0 || d > 24*time.Hour {
			return nil, fmt.Errorf("%w %q: retry_budget=%q: want a duration from 1ms to 24h, such as 90s", ErrBadURL, t.redacted, q.Get("retry_budget"))
		}
		t.RetryBudget = d
	}
	cluster := q.Has("addr")
	if q.Has("cluster") {
		switch q.Get("cluster") {
		case "true", "1":
			cluster = true
		case "false", "0", "":
		default:
			return nil, fmt.Errorf("%w %q: cluster=%q: want true or false", ErrBadURL, t.redacted, q.Get("cluster"))
		}
	}
	for _, k := range []string{"prefix", "batch", "pipeline", "retry_budget", "cluster"} {
		q.Del(k)
	}
	u.RawQuery = q.Encode()
	if cluster {
		if db := strings.Trim(u.Path, "/"); db != "" && db != "0" {
			return nil, fmt.Errorf("%w %q: a Redis Cluster has database 0 only", ErrBadURL, t.redacted)
		}
		u.Path = ""
		skip := q.Get("skip_verify")
		u.RawQuery = without(q, "skip_verify").Encode()
		o, err := goredis.ParseClusterURL(u.String())
		if err != nil {
			return nil, fmt.Errorf("%w %q: %v", ErrBadURL, t.redacted, err)
		}
		if o.TLSConfig != nil {
			o.TLSConfig.MinVersion = tls.VersionTLS12
			o.TLSConfig.InsecureSkipVerify = skip == "true" || skip == "1"
		}
		o.DisableIdentity = true
		t.Cluster = o
		return t, nil
	}
	o, err := goredis.ParseURL(u.String())
	if err != nil {
		return nil, fmt.Errorf("%w %q: %v", ErrBadURL, t.redacted, err)
	}
	o.DisableIdentity = true
	t.Client = o
	return t, nil
}

func without(q url.Values, key string) url.Values {
	c := url.Values{}
	for k, v := range q {
		if k != key {
			c[k] = v
		}
	}
	return c
}

// validPrefix reports whether p can start keys: no hash-tag braces, no
// spaces or control characters.
func validPrefix(p string) bool {
	if p == "" || len(p) > 64 {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_-.:", c) >= 0) {
			return false
		}
	}
	return true
}

// ValidPrefix checks a key prefix (Options.Prefix).
func ValidPrefix(p string) error {
	if !validPrefix(p) {
		return fmt.Errorf("key prefix %q: want 1 to 64 of A-Z a-z 0-9 _ - . : (no braces, no spaces)", p)
	}
	return nil
}

// SetAuth sets the ACL user name and password when the URL gave none.
func (t *Target) SetAuth(user, password string) {
	set := func(u, p *string) {
		if *u == "" && user != "" {
			*u = user
		}
		if *p == "" && password != "" {
			*p = password
		}
	}
	if t.Cluster != nil {
		set(&t.Cluster.Username, &t.Cluster.Password)
	} else {
		set(&t.Client.Username, &t.Client.Password)
	}
}

// SetTLS configures TLS of a rediss:// target: ca is a PEM file of the
// certificate authorities to trust instead of the system's, cert and key a
// client certificate; each may be empty.
func (t *Target) SetTLS(ca, cert, key string) error {
	if ca == "" && cert == "" && key == "" {
		return nil
	}
	cfg := t.tls()
	if cfg == nil {
		return fmt.Errorf("TLS options need a rediss:// URL, not %s", t.redacted)
	}
	if ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return fmt.Errorf("redis CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("redis CA %s: no PEM certificate in it", ca)
		}
		cfg.RootCAs = pool
	}
	if (cert == "") != (key == "") {
		return errors.New("redis client certificate: give both the certificate and its key")
	}
	if cert != "" {
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return fmt.Errorf("redis client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return nil
}

func (t *Target) tls() *tls.Config {
	if t.Cluster != nil {
		return t.Cluster.TLSConfig
	}
	return t.Client.TLSConfig
}

// SetTimeout sets the dial, read and write timeouts that the URL did not set.
func (t *Target) SetTimeout(d time.Duration) {
	set := func(dst *time.Duration) {
		if *dst == 0 {
			*dst = d
		}
	}
	if t.Cluster != nil {
		set(&t.Cluster.DialTimeout)
		set(&t.Cluster.ReadTimeout)
		set(&t.Cluster.WriteTimeout)
	} else {
		set(&t.Client.DialTimeout)
		set(&t.Client.ReadTimeout)
		set(&t.Client.WriteTimeout)
	}
}

// NewClient returns a client of the target: a *goredis.ClusterClient for a
// cluster, else a *goredis.Client.
func (t *Target) NewClient() goredis.UniversalClient {
	if t.Cluster != nil {
		return goredis.NewClusterClient(t.Cluster)
	}
	return goredis.NewClient(t.Client)
}

// String describes the target without its password: "redis 127.0.0.1:6379
// db 0", "redis cluster 10.0.0.1:7000 (TLS)".
func (t *Target) String() string {
	var s string
	if t.Cluster != nil {
		s = "redis cluster " + strings.Join(t.Cluster.Addrs, ",")
		if t.Cluster.TLSConfig != nil {
			s += " (TLS)"
		}
		return s
	}
	s = fmt.Sprintf("redis %s db %d", t.Client.Addr, t.Client.DB)
	if t.Client.TLSConfig != nil {
		s += " (TLS)"
	}
	return s
}

// Redact returns the URL with its password replaced by "xxxxx": whatever
// lies between the first colon after the scheme and the last "@". It errs on
// the side of hiding (an "@" in the query hides more than the password) and
// works on text that does not parse as a URL too.
func Redact(raw string) string {
	start := 0
	if i := strings.Index(raw, "://"); i >= 0 {
		start = i + 3
	}
	at := strings.LastIndex(raw, "@")
	if at < start {
		return raw
	}
	colon := strings.IndexByte(raw[start:at], ':')
	if colon < 0 {
		return raw
	}
	return raw[:start+colon+1] + "xxxxx" + raw[at:]
}

// Count returns the estimated number of distinct visitors of account over
// [start, end), and the keys it read: one PFCOUNT over the keys of Cover(start,
// end, loc, minutes). The keys of an account share a slot, so this works in
// Redis Cluster too.
func Count(ctx context.Context, c goredis.UniversalClient, k Keys, account string, start, end time.Time, loc *time.Location, minutes bool) (uint64, []string, error) {
	units, err := Cover(start, end, loc, minutes)
	if err != nil {
		return 0, nil, err
	}
	keys := make([]string, len(units))
	for i, u := range units {
		keys[i] = k.UV(account, u)
	}
	n, err := c.PFCount(ctx, keys...).Result()
	if err != nil {
		return 0, keys, fmt.Errorf("PFCOUNT of %d keys of %s: %w", len(keys), account, err)
	}
	return uint64(n), keys, nil
}
