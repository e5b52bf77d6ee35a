package cassandra_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/pvjobs/pvjobs/readers/cassandra"
)

func TestParseURL(t *testing.T) {
	def := func(mod func(c *cassandra.Config)) *cassandra.Config {
		c := cassandra.NewConfig("pv", "db1")
		mod(c)
		return c
	}
	tests := []struct {
		name string
		url  string
		want *cassandra.Config
	}{
		{"one host", "cassandra://db1/pv", def(func(c *cassandra.Config) {})},
		{"trailing slash", "cassandra://db1/pv/", def(func(c *cassandra.Config) {})},
		{"port applies to all", "cassandra://db1,db2:9043/pv", def(func(c *cassandra.Config) {
			c.Hosts = []string{"db1:9043", "db2:9043"}
		})},
		{"ports per host", "cassandra://db1:9042,db2:9043/pv", def(func(c *cassandra.Config) {
			c.Hosts = []string{"db1:9042", "db2:9043"}
		})},
		{"ipv6", "cassandra://[::1]:9042,[fe80::1]/pv", def(func(c *cassandra.Config) {
			c.Hosts = []string{"[::1]:9042", "[fe80::1]"}
		})},
		{"user and escaped password", "cassandra://ana:p%40ss%3Aw%2Fd@db1/pv", def(func(c *cassandra.Config) {
			c.Username, c.Password = "ana", "p@ss:w/d"
		})},
		{"user only", "cassandra://ana@db1/pv", def(func(c *cassandra.Config) { c.Username = "ana" })},
		{"layout and consistency", "cassandra://db1/pv?table=views&key-column=rk&ts-column=t&value-column=v&consistency=local_quorum", def(func(c *cassandra.Config) {
			c.Layout = cassandra.Layout{Table: "views", Key: "rk", TS: "t", Value: "v"}
			c.Consistency = "LOCAL_QUORUM"
		})},
		{"tls", "cassandra://db1/pv?tls-ca=/etc/ca.pem&tls-cert=/c.pem&tls-key=/k.pem&tls-server-name=cassandra.internal", def(func(c *cassandra.Config) {
			c.TLS = &cassandra.TLS{CA: "/etc/ca.pem", Cert: "/c.pem", Key: "/k.pem", ServerName: "cassandra.internal"}
		})},
		{"tls on", "cassandra://db1/pv?tls=true", def(func(c *cassandra.Config) { c.TLS = &cassandra.TLS{} })},
		{"routing and paging", "cassandra://db1/pv?dc=eu-west&token-aware=false&discover=false&page-size=1000&concurrency=4&batch-rows=10", def(func(c *cassandra.Config) {
			c.LocalDC, c.NoTokenAware, c.NoDiscovery = "eu-west", true, true
			c.PageSize, c.Concurrency, c.BatchRows = 1000, 4, 10
		})},
		{"protocol negotiated", "cassandra://db1/pv?protocol=0", def(func(c *cassandra.Config) { c.Protocol = 0 })},
		{"protocol 3", "cassandra://db1/pv?protocol=3", def(func(c *cassandra.Config) { c.Protocol = 3 })},
		{"timeouts and retries", "cassandra://db1/pv?timeout=30s&connect-timeout=5s&retry-budget=5m&retry-wait=1s&retry-max-wait=20s", def(func(c *cassandra.Config) {
			c.Timeout, c.ConnectTimeout = 30*time.Second, 5*time.Second
			c.Retry = cassandra.Retry{Budget: 5 * time.Minute, Wait: time.Second, MaxWait: 20 * time.Second}
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := cassandra.ParseURL(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseURL(%q)\n got %+v\nwant %+v", tt.url, got, tt.want)
			}
		})
	}
}

func TestParseURLErrors(t *testing.T) {
	tests := []struct{ name, url, want string }{
		{"other scheme", "cql://db1/pv", "want cassandra://"},
		{"no host", "cassandra:///pv", "no host"},
		{"no keyspace", "cassandra://db1", "no keyspace"},
		{"bad keyspace", "cassandra://db1/pv-1", "keyspace"},
		{"bad port", "cassandra://db1:99999/pv", "port"},
		{"empty host", "cassandra://db1,,db2/pv", "empty host"},
		{"unknown parameter", "cassandra://db1/pv?tabel=x", `unknown parameter "tabel"`},
		{"bad consistency", "cassandra://db1/pv?consistency=most", "consistency"},
		{"bad table name", "cassandra://db1/pv?table=a%3Bdrop", "CQL name"},
		{"quote in column", `cassandra://db1/pv?key-column=a"b`, "CQL name"},
		{"bad duration", "cassandra://db1/pv?timeout=soon", "duration"},
		{"bad page size", "cassandra://db1/pv?page-size=0", "page-size"},
		{"cert without key", "cassandra://db1/pv?tls-cert=/c.pem", "tls-key"},
		{"bad bool", "cassandra://db1/pv?token-aware=maybe", "true or false"},
		{"retries is a budget now", "cassandra://db1/pv?retries=8", "use retry-budget"},
		{"bad budget", "cassandra://db1/pv?retry-budget=8", "duration"},
		{"bad protocol", "cassandra://db1/pv?protocol=2", "3, 4, 5 or 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := cassandra.ParseURL(tt.url)
			if err == nil {
				t.Fatalf("ParseURL(%q) = nil error, want one containing %q", tt.url, tt.want)
			}
			if !errors.Is(err, cassandra.ErrBadURL) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseURL(%q) = %v, want ErrBadURL containing %q", tt.url, err, tt.want)
			}
		})
	}
}

func TestConfigStringHidesPassword(t *testing.T) {
	c, err := cassandra.ParseURL("cassandra://ana:s3cret@db1,db2/pv?table=views")
	if err != nil {
		t.Fatal(err)
	}
	got := c.String()
	if want := "cassandra://ana:xxxxx@db1,db2/pv?table=views"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	_, err = cassandra.ParseURL("cassandra://ana:s3cret@db1")
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error %v shows the password", err)
	}
}

func TestEveryParamIsSettable(t *testing.T) {
	values := map[string]string{"consistency": "ONE", "page-size": "10", "concurrency": "2", "batch-rows": "3", "protocol": "5"}
	for _, p := range cassandra.Params {
		c := cassandra.NewConfig("pv", "db1")
		v, ok := values[p.Name]
		switch {
		case ok:
		case strings.Contains(p.Name, "timeout"), strings.Contains(p.Name, "wait"), p.Name == "retry-budget":
			v = "1s"
		case p.Name == "tls" || p.Name == "tls-insecure" || p.Name == "token-aware" || p.Name == "discover":
			v = "true"
		case strings.HasSuffix(p.Name, "column") || p.Name == "table":
			v = "x"
		default:
			v = "x"
		}
		if err := c.Set(p.Name, v); err != nil {
			t.Errorf("Set(%q, %q): %v", p.Name, v, err)
		}
	}
}

func TestTransient(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"no connections", gocql.ErrNoConnections, true},
		{"timeout", gocql.ErrTimeoutNoResponse, true},
		{"connection closed", fmt.Errorf("page 3: %w", gocql.ErrConnectionClosed), true},
		{"connection context cancelled", fmt.Errorf("x: %w", context.Canceled), true},
		{"session closed", gocql.ErrSessionClosed, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cassandra.Transient(tt.err); got != tt.want {
				t.Errorf("Transient(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestReplication(t *testing.T) {
	tests := []struct{ in, want string }{
		{"1", "{'class': 'SimpleStrategy', 'replication_factor': 1}"},
		{"3", "{'class': 'SimpleStrategy', 'replication_factor': 3}"},
		{"eu:3, us:2", "{'class': 'NetworkTopologyStrategy', 'eu': 3, 'us': 2}"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			r, err := cassandra.ParseReplication(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.String(); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
	for _, bad := range []string{"", "0", "eu", "eu:x", "eu:3,'x:1"} {
		if _, err := cassandra.ParseReplication(bad); err == nil {
			t.Errorf("ParseReplication(%q) = nil error", bad)
		}
	}
}

func ExampleSchemaCQL() {
	cfg := cassandra.NewConfig("analytics", "db1")
	for _, s := range cassandra.SchemaCQL(cfg, cassandra.Replication{DCs: map[string]int{"dc1": 3}}) {
		fmt.Println(s + ";")
	}
	// Output:
	// CREATE KEYSPACE IF NOT EXISTS "analytics" WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 3};
	// CREATE TABLE IF NOT EXISTS "analytics"."page_views" ("key" text, "column1" timeuuid, "value" blob, PRIMARY KEY ("key", "column1")) WITH CLUSTERING ORDER BY ("column1" ASC);
}

// FuzzParseURL: any source string is parsed or refused, never a panic, and a
// parsed URL's String parses back to the same hosts, keyspace and table.
func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"cassandra://db1/pv", "cassandra://a:b@h1,h2:9043/ks?table=t&page-size=10",
		"cassandra://[::1]:9042/ks", "cassandra://@/", "cassandra://h/ks?%zz", "cassandra://h:0/k"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := cassandra.ParseURL(s)
		if err != nil {
			return
		}
		back, err := cassandra.ParseURL(c.String())
		if err != nil {
			t.Fatalf("ParseURL(%q).String() = %q does not parse: %v", s, c.String(), err)
		}
		if strings.Join(back.Hosts, ",") != strings.Join(c.Hosts, ",") || back.Keyspace != c.Keyspace || back.Layout.Table != c.Layout.Table {
			t.Fatalf("%q: String %q parses to %v %s %s, want %v %s %s", s, c.String(), back.Hosts, back.Keyspace, back.Layout.Table, c.Hosts, c.Keyspace, c.Layout.Table)
		}
	})
}

func ExampleParseURL() {
	cfg, err := cassandra.ParseURL("cassandra://reader:s3cret@10.0.0.5,10.0.0.6:9142/analytics?table=views&consistency=local_quorum&dc=eu-west")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.Hosts, cfg.Keyspace, cfg.Layout.Table, cfg.Consistency, cfg.LocalDC)
	fmt.Println(cfg)
	// Output:
	// [10.0.0.5:9142 10.0.0.6:9142] analytics views LOCAL_QUORUM eu-west
	// cassandra://reader:xxxxx@10.0.0.5:9142,10.0.0.6:9142/analytics?table=views
}
