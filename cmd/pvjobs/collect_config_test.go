package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/options"
)

// resolveCollect returns the settings 'pvjobs collect args...' resolves,
// without serving anything.
func resolveCollect(t *testing.T, args ...string) (*options.Values, error) {
	t.Helper()
	var v *options.Values
	var verr error
	app := &cli.App{
		Name: "pvjobs", Flags: options.Flags(options.Collect), Writer: &bytes.Buffer{}, ErrWriter: &bytes.Buffer{},
		Action: func(c *cli.Context) error {
			v, verr = collectSettings(c)
			return nil
		},
		ExitErrHandler: func(*cli.Context, error) {},
	}
	if err := app.Run(append([]string{"pvjobs"}, args...)); err != nil {
		t.Fatalf("flags %v: %v", args, err)
	}
	return v, verr
}

// collectConfig sets every key of the collect section but accounts_file
// (which excludes accounts), and job keys the collector must not read.
const collectConfig = `
defaults:
  tz: Asia/Kolkata
  redis_prefix: defaults-prefix
jobs:
  nightly:
    tz: Asia/Tokyo
    strip_query: false
collect:
  listen: 127.0.0.1:8001
  cassandra: cassandra://file-host/ks
  accounts: [file1, file2]
  spool: file-spool
  fsync: always
  trusted_proxies: [10.0.0.0/8, 127.0.0.1]
  anonymize_ip: true
  respect_dnt: true
  rate_limit: 11
  rate_burst: 12
  max_body: 4096
  max_connections: 13
  queue: 14
  writers: 15
  drain_timeout: 1m
  live: redis://file-redis:6379/1
  tz: Europe/Berlin
  strip_query: true
  include_bots: true
  spam_domains: [file-spam.example]
  include_spam: true
  redis_prefix: fileprefix
  redis_ttl: 90d
  uv_granularity: minute
  redis_cluster: true
  redis_timeout: 4s
  redis_user: fileuser
  redis_ca: file-ca.pem
  redis_cert: file-cert.pem
  redis_key: file-key.pem
  cql_consistency: QUORUM
  cql_timeout: 1m
  cql_token_aware: false
`

// TestCollectPrecedence checks flag > env > file > default for every key of
// the collect section, and that the collector reads neither the jobs nor
// the defaults section.
func TestCollectPrecedence(t *testing.T) {
	// Variables of the machine running the tests stay out of it.
	for _, o := range options.Table {
		if o.For&options.Collect != 0 && o.Env != "" {
			t.Setenv(o.Env, "")
		}
	}
	cfg := writeConfig(t, collectConfig)
	accountsFile := writeConfig(t, "collect:\n  cassandra: cassandra://file-host/ks\n  accounts_file: file-accounts\n")
	empty := writeConfig(t, "collect:\n  cassandra: cassandra://file-host/ks\n")
	join := func(l []string) string { return strings.Join(l, " ") }
	cql := func(name string) func(v *options.Values) any {
		return func(v *options.Values) any { return v.Cassandra[name] }
	}
	tests := []struct {
		key, env string
		config   string   // the file, when not collectConfig
		flagArg  []string // the flag and its value
		envVal   string
		get      func(v *options.Values) any
		file     any
		fromFlag any
		fromEnv  any
		def      any
	}{
		{"listen", "PVJOBS_COLLECT_LISTEN", "", []string{"--listen", ":8003"}, "127.0.0.1:8002", func(v *options.Values) any { return v.Collect.Listen }, "127.0.0.1:8001", ":8003", "127.0.0.1:8002", "127.0.0.1:8080"},
		{"cassandra", "PVJOBS_CASSANDRA_URL", "", []string{"-c", "cassandra://flag-host/ks"}, "cassandra://env-host/ks", func(v *options.Values) any { return v.CassandraURL }, "cassandra://file-host/ks", "cassandra://flag-host/ks", "cassandra://env-host/ks", nil},
		{"accounts", "PVJOBS_ACCOUNTS", "", []string{"--accounts", "flag"}, "env1,env2", func(v *options.Values) any { return join(v.Accounts) }, "file1 file2", "flag", "env1 env2", ""},
		{"accounts_file", "PVJOBS_ACCOUNTS_FILE", accountsFile, []string{"--accounts-file", "flag-accounts"}, "env-accounts", func(v *options.Values) any { return v.Collect.AccountsFile }, "file-accounts", "flag-accounts", "env-accounts", ""},
		{"spool", "PVJOBS_SPOOL", "", []string{"--spool", "flag-spool"}, "env-spool", func(v *options.Values) any { return v.Collect.Spool }, "file-spool", "flag-spool", "env-spool", "pvjobs-spool"},
		{"fsync", "PVJOBS_FSYNC", "", []string{"--fsync", "never"}, "200ms", func(v *options.Values) any { return v.Collect.Fsync }, "always", "never", "200ms", "1s"},
		{"trusted_proxies", "PVJOBS_TRUSTED_PROXIES", "", []string{"--trusted-proxies", "192.168.0.0/16"}, "::1,172.16.0.0/12", func(v *options.Values) any { return join(v.Collect.TrustedProxies) }, "10.0.0.0/8 127.0.0.1", "192.168.0.0/16", "::1 172.16.0.0/12", ""},
		{"anonymize_ip", "PVJOBS_ANONYMIZE_IP", "", []string{"--anonymize-ip=true"}, "false", func(v *options.Values) any { return v.Collect.AnonymizeIP }, true, true, false, false},
		{"respect_dnt", "PVJOBS_RESPECT_DNT", "", []string{"--respect-dnt=true"}, "false", func(v *options.Values) any { return v.Collect.RespectDNT }, true, true, false, false},
		{"rate_limit", "PVJOBS_RATE_LIMIT", "", []string{"--rate-limit", "0"}, "21", func(v *options.Values) any { return v.Collect.RateLimit }, 11, 0, 21, 50},
		{"rate_burst", "PVJOBS_RATE_BURST", "", []string{"--rate-burst", "32"}, "22", func(v *options.Values) any { return v.Collect.RateBurst }, 12, 32, 22, 0},
		{"max_body", "PVJOBS_MAX_BODY", "", []string{"--max-body", "8192"}, "2048", func(v *options.Values) any { return v.Collect.MaxBody }, 4096, 8192, 2048, 16384},
		{"max_connections", "PVJOBS_MAX_CONNECTIONS", "", []string{"--max-connections", "0"}, "23", func(v *options.Values) any { return v.Collect.MaxConnections }, 13, 0, 23, 10000},
		{"queue", "PVJOBS_QUEUE", "", []string{"--queue", "34"}, "24", func(v *options.Values) any { return v.Collect.Queue }, 14, 34, 24, 65536},
		{"writers", "PVJOBS_WRITERS", "", []string{"--writers", "35"}, "25", func(v *options.Values) any { return v.Collect.Writers }, 15, 35, 25, 8},
		{"drain_timeout", "PVJOBS_DRAIN_TIMEOUT", "", []string{"--drain-timeout", "5s"}, "2m", func(v *options.Values) any { return v.Collect.DrainTimeout }, time.Minute, 5 * time.Second, 2 * time.Minute, 30 * time.Second},
		{"live", "PVJOBS_LIVE_URL", "", []string{"--live", "redis://flag-redis:6379/3"}, "redis://env-redis:6379/2", func(v *options.Values) any { return v.Collect.Live }, "redis://file-redis:6379/1", "redis://flag-redis:6379/3", "redis://env-redis:6379/2", ""},
		{"tz", "PVJOBS_TZ", "", []string{"--tz", "America/New_York"}, "Asia/Tokyo", func(v *options.Values) any { return v.TZ }, "Europe/Berlin", "America/New_York", "Asia/Tokyo", "UTC"},
		{"strip_query", "", "", []string{"--strip-query=false"}, "", func(v *options.Values) any { return v.StripQuery }, true, false, nil, false},
		{"include_bots", "", "", []string{"--include-bots=false"}, "", func(v *options.Values) any { return v.IncludeBots }, true, false, nil, false},
		{"spam_domains", "PVJOBS_SPAM_DOMAINS", "", []string{"--spam-domains", "flag-spam.example"}, "env-spam.example", func(v *options.Values) any { return join(v.SpamDomains) }, "file-spam.example", "flag-spam.example", "env-spam.example", ""},
		{"include_spam", "", "", []string{"--include-spam=false"}, "", func(v *options.Values) any { return v.IncludeSpam }, true, false, nil, false},
		{"redis_prefix", "PVJOBS_REDIS_PREFIX", "", []string{"--redis-prefix", "flagprefix"}, "envprefix", func(v *options.Values) any { return v.Redis.Prefix }, "fileprefix", "flagprefix", "envprefix", "pv"},
		{"redis_ttl", "PVJOBS_REDIS_TTL", "", []string{"--ttl", "36h"}, "2w", func(v *options.Values) any { return v.Redis.TTL }, 90 * 24 * time.Hour, 36 * time.Hour, 14 * 24 * time.Hour, time.Duration(0)},
		{"uv_granularity", "PVJOBS_UV_GRANULARITY", "", []string{"--uv-granularity", "minute"}, "hour", func(v *options.Values) any { return v.UVGranularity }, "minute", "minute", "hour", "hour"},
		{"redis_cluster", "PVJOBS_REDIS_CLUSTER", "", []string{"--redis-cluster=false"}, "false", func(v *options.Values) any { return v.Redis.Cluster }, true, false, false, false},
		{"redis_timeout", "PVJOBS_REDIS_TIMEOUT", "", []string{"--redis-timeout", "6s"}, "7s", func(v *options.Values) any { return v.Redis.Timeout }, 4 * time.Second, 6 * time.Second, 7 * time.Second, time.Duration(0)},
		{"redis_user", "PVJOBS_REDIS_USER", "", []string{"--redis-user", "flaguser"}, "envuser", func(v *options.Values) any { return v.Redis.User }, "fileuser", "flaguser", "envuser", ""},
		{"redis_ca", "PVJOBS_REDIS_CA", "", []string{"--redis-ca", "flag-ca.pem"}, "env-ca.pem", func(v *options.Values) any { return v.Redis.CA }, "file-ca.pem", "flag-ca.pem", "env-ca.pem", ""},
		{"redis_cert", "PVJOBS_REDIS_CERT", "", []string{"--redis-cert", "flag-cert.pem"}, "env-cert.pem", func(v *options.Values) any { return v.Redis.Cert }, "file-cert.pem", "flag-cert.pem", "env-cert.pem", ""},
		{"redis_key", "PVJOBS_REDIS_KEY", "", []string{"--redis-key", "flag-key.pem"}, "env-key.pem", func(v *options.Values) any { return v.Redis.Key }, "file-key.pem", "flag-key.pem", "env-key.pem", ""},
		{"cql_consistency", "PVJOBS_CQL_CONSISTENCY", "", []string{"--cql-consistency", "ONE"}, "LOCAL_QUORUM", cql("consistency"), "QUORUM", "ONE", "LOCAL_QUORUM", ""},
		{"cql_timeout", "PVJOBS_CQL_TIMEOUT", "", []string{"--cql-timeout", "30s"}, "1d", cql("timeout"), "1m0s", "30s", "24h0m0s", ""},
		{"cql_token_aware", "PVJOBS_CQL_TOKEN_AWARE", "", []string{"--cql-token-aware=true"}, "true", cql("token-aware"), "false", "true", "true", ""},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			config := cfg
			if tc.config != "" {
				config = tc.config
			}
			check := func(what string, want any, args ...string) {
				t.Helper()
				if tc.key != "cassandra" {
					args = append([]string{"--cassandra", "cassandra://h/ks"}, args...)
				}
				v, err := resolveCollect(t, args...)
				if want == nil { // a required option that nothing gives
					if err == nil || !isUsage(err) || !strings.Contains(err.Error(), "required: --cassandra") {
						t.Errorf("%s: error %v; want --cassandra required", what, err)
					}
					return
				}
				if err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				if got := tc.get(v); got != want {
					t.Errorf("%s: %s = %#v; want %#v", what, tc.key, got, want)
				}
			}
			check("default (no file)", tc.def)
			if tc.key != "cassandra" {
				check("default (file without the key)", tc.def, "--config", empty)
			}
			check("file", tc.file, "--config", config)
			if tc.env != "" {
				t.Setenv(tc.env, tc.envVal)
				check("env over file", tc.fromEnv, "--config", config)
			}
			check("flag over env and file", tc.fromFlag, append([]string{"--config", config}, tc.flagArg...)...)
		})
	}
	t.Run("every key", func(t *testing.T) {
		// Every key of the collect section is in the file and the cases
		// above (the --cql-* options are made by one loop: three stand for
		// them all).
		tested := map[string]bool{}
		for _, tc := range tests {
			tested[tc.key] = true
		}
		for _, o := range options.Table {
			if o.In(options.SectionCollect) && o.Category != "Cassandra" && !tested[o.Key] {
				t.Errorf("collect key %s is not tested", o.Key)
			}
		}
	})
	t.Run("config from env", func(t *testing.T) {
		t.Setenv("PVJOBS_CONFIG", cfg)
		v, err := resolveCollect(t)
		if err != nil || v.CassandraURL != "cassandra://file-host/ks" || v.Collect.Queue != 14 {
			t.Errorf("PVJOBS_CONFIG: cassandra %q, queue %d, %v", v.CassandraURL, v.Collect.Queue, err)
		}
	})
}

// TestCollectConfigErrors: a bad collect section is refused with exit 2
// before anything runs, every mistake with its place; passwords never show.
func TestCollectConfigErrors(t *testing.T) {
	const pw = "Hunter2Secret"
	bad := writeConfig(t, `collect:
  cassandra: "cassandra://u:`+pw+`@db/pv"
  listen: 8080
  accounts: all
  fsync: sometimes
  live: "redis://:`+pw+`@r:6379/0"
  queue: 0
`)
	jobsOnly := writeConfig(t, "jobs:\n  a: {}\n")
	collectOnly := writeConfig(t, "collect:\n  cassandra: cassandra://db/pv\n")
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want []string
	}{
		{"every mistake with its place", nil, []string{"collect", "--config", bad}, []string{
			bad + `:2:14: collect.cassandra: "cassandra://u:xxxxx@db/pv": keep passwords out of config files: leave it out of the URL and set $PVJOBS_CQL_PASSWORD`,
			bad + `:3:11: collect.listen: "8080": want [host]:port`,
			bad + `:4:13: collect.accounts: all: the collector accepts only the accounts it is told`,
			bad + `:5:10: collect.fsync: fsync policy "sometimes"`,
			bad + `:6:9: collect.live: "redis://:xxxxx@r:6379/0": keep passwords out of config files: leave it out of the URL and set $PVJOBS_REDIS_PASSWORD`,
			bad + `:7:10: collect.queue: "0": want a whole number, 1 to 1073741824`,
		}},
		{"a file without a collect section", nil, []string{"collect", "--config", jobsOnly}, []string{"--config " + jobsOnly + ": no collect section"}},
		{"the same file for run", nil, []string{"run", "--config", collectOnly}, []string{collectOnly + " has no jobs section"}},
		{"a missing file", nil, []string{"collect", "--config", filepath.Join(t.TempDir(), "nope.yaml")}, []string{"reading config", "nope.yaml"}},
		{"a bad flag with a good file", nil, []string{"collect", "--config", collectOnly, "--accounts", "a", "--max-connections", "-1"}, []string{`--max-connections "-1": want a whole number, 0 (no limit) or more`}},
		{"a bad variable with a good file", map[string]string{"PVJOBS_FSYNC": "often"}, []string{"collect", "--config", collectOnly, "--accounts", "a"}, []string{`$PVJOBS_FSYNC: fsync policy "often"`}},
		{"accounts in the file, accounts-file as a flag", nil, []string{"collect", "--config", writeConfig(t, "collect:\n  cassandra: cassandra://db/pv\n  accounts: [a]\n"), "--accounts-file", "f"}, []string{"not both"}},
		{"the password in the environment, a bad cassandra URL in the file", map[string]string{"PVJOBS_CQL_PASSWORD": pw},
			[]string{"collect", "--config", writeConfig(t, "collect:\n  cassandra: \"cassandra://u@db:99999/pv\"\n  accounts: [a]\n")}, []string{"cassandra://u@db:99999/pv"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			code, stdout, stderr := opsCLI(t, context.Background(), tc.args...)
			if code != exitUsage {
				t.Errorf("exit %d; want %d\n%s", code, exitUsage, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if strings.Contains(stdout+stderr, pw) {
				t.Errorf("the password shows:\n%s%s", stdout, stderr)
			}
		})
	}
}

// TestCollectConfigServes: pvjobs collect serves with the settings of its
// config file's collect section alone (and the password from the
// environment, which the file may not hold).
func TestCollectConfigServes(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	accounts := filepath.Join(dir, "accounts")
	if err := os.WriteFile(accounts, []byte("blog\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Nothing answers at the Cassandra address: the collector starts
	// anyway and spools.
	cfg := writeConfig(t, `collect:
  listen: "`+addr+`"
  cassandra: "cassandra://collector@`+freeAddr(t)+`/pv?connect-timeout=1s"
  accounts_file: "`+accounts+`"
  spool: "`+filepath.Join(dir, "spool")+`"
  rate_limit: 0
  max_connections: 100
  drain_timeout: 1s
`)
	t.Setenv("PVJOBS_CQL_PASSWORD", "Hunter2Secret")
	ctx, cancel := context.WithCancel(context.Background())
	type result struct {
		code           int
		stdout, stderr string
	}
	done := make(chan result, 1)
	go func() {
		code, stdout, stderr := opsCLI(t, ctx, "collect", "--config", cfg)
		done <- result{code, stdout, stderr}
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ok := postBeacons(t, addr, "config", 1)
		if len(ok) == 1 {
			break
		}
		select {
		case r := <-done:
			t.Fatalf("pvjobs collect exited with %d:\n%s", r.code, r.stderr)
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatal("pvjobs collect --config did not accept a beacon within 30s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	r := <-done
	if r.code != 0 {
		t.Fatalf("pvjobs collect: exit %d\n%s", r.code, r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, "Hunter2Secret") {
		t.Errorf("the password shows:\n%s", r.stderr)
	}
}
