package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/options"
)

// opsCLI runs the CLI in-process and returns its exit code and output.
func opsCLI(t *testing.T, ctx context.Context, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(ctx, append([]string{"pvjobs"}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

// opsMust runs the CLI and fails the test unless it exits 0.
func opsMust(t *testing.T, args ...string) (stdout, stderr string) {
	t.Helper()
	code, out, errOut := opsCLI(t, context.Background(), args...)
	if code != 0 {
		t.Fatalf("pvjobs %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errOut)
	}
	return out, errOut
}

// writeConfig writes a config file into a temporary directory.
func writeConfig(t *testing.T, yaml string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "pvjobs.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// resolveParams returns the run parameters 'pvjobs run args...' resolves,
// without running anything.
func resolveParams(t *testing.T, args ...string) (runParams, error) {
	t.Helper()
	var p runParams
	var perr error
	app := &cli.App{
		Name: "pvjobs", Flags: runFlags(), Writer: &bytes.Buffer{}, ErrWriter: &bytes.Buffer{},
		Action: func(c *cli.Context) error {
			p, perr = paramsFromContext(c)
			return nil
		},
		ExitErrHandler: func(*cli.Context, error) {},
	}
	if err := app.Run(append([]string{"pvjobs"}, args...)); err != nil {
		t.Fatalf("flags %v: %v", args, err)
	}
	return p, perr
}

// precedenceConfig sets every job key.
const precedenceConfig = `
jobs:
  j:
    source: file-source
    accounts: [file1, file2]
    reports: [urls]
    out: [csv:file-out]
    csv_pattern: "file-{report}.csv"
    csv_raw: true
    html_pattern: "file-{account}.html"
    html_index: "file-index.html"
    html_top: 5
    tz: Europe/Berlin
    top: 3
    quiet: true
    slices: 48
    workers: 3
    max_bad_rows: 5
    allow_empty: true
    max_rows: 50
    visit_timeout: 1h
    compare: previous
    max_row_size: 4096
    strip_query: true
    internal_domains: [file.example]
    geoip: file.mmdb
    include_bots: true
    spam_domains: [file-spam.example]
    include_spam: true
    exact_uniques: true
    uv_granularity: minute
    metrics_file: file.prom
    timeout: 1w
    redis_prefix: fileprefix
    redis_batch: 11
    redis_pipeline: 12
    redis_top: 13
    redis_ttl: 90d
    redis_range: true
    uv_merge: true
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

// TestPrecedence checks flag > env > file > default for every config key.
func TestPrecedence(t *testing.T) {
	cfg := writeConfig(t, precedenceConfig)
	empty := writeConfig(t, "jobs:\n  j: {}\n")
	get := func(f func(p *runParams) any) func(p *runParams) any { return f }
	join := func(l []string) string { return strings.Join(l, " ") }
	cql := func(name string) func(p *runParams) any {
		return func(p *runParams) any { return p.Cassandra[name] }
	}
	tests := []struct {
		key, flag, env string
		flagArg        []string // the flag and its value
		envVal         string
		get            func(p *runParams) any
		file, fromFlag any
		fromEnv, def   any
	}{
		{"source", "source", "PVJOBS_SOURCE", []string{"--source", "flag-source"}, "env-source", get(func(p *runParams) any { return p.Source }), "file-source", "flag-source", "env-source", ""},
		{"accounts", "accounts", "PVJOBS_ACCOUNTS", []string{"--accounts", "flag"}, "env", get(func(p *runParams) any { return join(p.Accounts) }), "file1 file2", "flag", "env", "all"},
		{"reports", "jobs", "PVJOBS_JOBS", []string{"--jobs", "uniques"}, "geo", get(func(p *runParams) any { return join(p.Jobs) }), "urls", "uniques", "geo", "all"},
		{"out", "out", "PVJOBS_OUT", []string{"--out", "csv:flag-out"}, "csv:env-out", get(func(p *runParams) any { return join(p.Out) }), "csv:file-out", "csv:flag-out", "csv:env-out", "csv:pvjobs-out html:pvjobs-out"},
		{"csv_pattern", "csv-pattern", "", []string{"--csv-pattern", "flag-{report}.csv"}, "", get(func(p *runParams) any { return p.CSVPattern }), "file-{report}.csv", "flag-{report}.csv", nil, "{report}.csv"},
		{"csv_raw", "csv-raw", "", []string{"--csv-raw=false"}, "", get(func(p *runParams) any { return p.CSVRaw }), true, false, nil, false},
		{"html_pattern", "html-pattern", "PVJOBS_HTML_PATTERN", []string{"--html-pattern", "flag-{account}.html"}, "env-{account}.html", get(func(p *runParams) any { return p.HTMLPattern }), "file-{account}.html", "flag-{account}.html", "env-{account}.html", "{account}.html"},
		{"html_index", "html-index", "PVJOBS_HTML_INDEX", []string{"--html-index", "flag-index.html"}, "env-index.html", get(func(p *runParams) any { return p.HTMLIndex }), "file-index.html", "flag-index.html", "env-index.html", "index.html"},
		{"html_top", "html-top", "PVJOBS_HTML_TOP", []string{"--html-top", "7"}, "9", get(func(p *runParams) any { return p.HTMLTop }), 5, 7, 9, 10},
		{"tz", "tz", "PVJOBS_TZ", []string{"--tz", "America/New_York"}, "Asia/Tokyo", get(func(p *runParams) any { return p.TZ }), "Europe/Berlin", "America/New_York", "Asia/Tokyo", "UTC"},
		{"top", "top", "", []string{"--top", "7"}, "", get(func(p *runParams) any { return p.Top }), 3, 7, nil, 10},
		{"quiet", "quiet", "", []string{"--quiet=false"}, "", get(func(p *runParams) any { return p.Quiet }), true, false, nil, false},
		{"slices", "slices", "", []string{"--slices", "12"}, "", get(func(p *runParams) any { return p.Slices }), 48, 12, nil, 24},
		{"workers", "workers", "PVJOBS_WORKERS", []string{"--workers", "1"}, "2", get(func(p *runParams) any { return p.Workers }), 3, 1, 2, 0},
		{"max_bad_rows", "max-bad-rows", "PVJOBS_MAX_BAD_ROWS", []string{"--max-bad-rows", "1%"}, "9", get(func(p *runParams) any { return p.MaxBadRows.String() }), "5", "1%", "9", "0.1%"},
		{"allow_empty", "allow-empty", "", []string{"--allow-empty=false"}, "", get(func(p *runParams) any { return p.AllowEmpty }), true, false, nil, false},
		{"max_rows", "max-rows", "PVJOBS_MAX_ROWS", []string{"--max-rows", "0"}, "70", get(func(p *runParams) any { return p.MaxRows }), 50, 0, 70, 1000},
		{"compare", "compare", "PVJOBS_COMPARE", []string{"--compare", "none"}, "none", get(func(p *runParams) any { return p.Compare }), "previous", "none", "none", "none"},
		{"max_row_size", "max-row-size", "", []string{"--max-row-size", "2048"}, "", get(func(p *runParams) any { return p.MaxRowSize }), 4096, 2048, nil, 1 << 20},
		{"visit_timeout", "visit-timeout", "PVJOBS_VISIT_TIMEOUT", []string{"--visit-timeout", "10m"}, "2h", get(func(p *runParams) any { return p.VisitTimeout }), time.Hour, 10 * time.Minute, 2 * time.Hour, 30 * time.Minute},
		{"strip_query", "strip-query", "", []string{"--strip-query=false"}, "", get(func(p *runParams) any { return p.StripQuery }), true, false, nil, false},
		{"internal_domains", "internal-domains", "", []string{"--internal-domains", "flag.example"}, "", get(func(p *runParams) any { return join(p.InternalDomains) }), "file.example", "flag.example", nil, ""},
		{"geoip", "geoip", "PVJOBS_GEOIP", []string{"--geoip", "flag.mmdb"}, "env.mmdb", get(func(p *runParams) any { return p.GeoIP }), "file.mmdb", "flag.mmdb", "env.mmdb", ""},
		{"include_bots", "include-bots", "", []string{"--include-bots=false"}, "", get(func(p *runParams) any { return p.IncludeBots }), true, false, nil, false},
		{"spam_domains", "spam-domains", "PVJOBS_SPAM_DOMAINS", []string{"--spam-domains", "flag-spam.example"}, "env-spam.example", get(func(p *runParams) any { return join(p.SpamDomains) }), "file-spam.example", "flag-spam.example", "env-spam.example", ""},
		{"include_spam", "include-spam", "", []string{"--include-spam=false"}, "", get(func(p *runParams) any { return p.IncludeSpam }), true, false, nil, false},
		{"exact_uniques", "exact-uniques", "", []string{"--exact-uniques=false"}, "", get(func(p *runParams) any { return p.ExactUniques }), true, false, nil, false},
		{"uv_granularity", "uv-granularity", "PVJOBS_UV_GRANULARITY", []string{"--uv-granularity", "hour"}, "hour", get(func(p *runParams) any { return p.UniqueMinutes() }), true, false, false, false},
		{"metrics_file", "metrics-file", "PVJOBS_METRICS_FILE", []string{"--metrics-file", "flag.prom"}, "env.prom", get(func(p *runParams) any { return p.MetricsFile }), "file.prom", "flag.prom", "env.prom", ""},
		{"timeout", "timeout", "PVJOBS_TIMEOUT", []string{"--timeout", "1d"}, "2h", get(func(p *runParams) any { return p.Timeout }), 7 * 24 * time.Hour, 24 * time.Hour, 2 * time.Hour, time.Duration(0)},
		{"redis_prefix", "redis-prefix", "PVJOBS_REDIS_PREFIX", []string{"--redis-prefix", "flagprefix"}, "envprefix", get(func(p *runParams) any { return p.Redis.Prefix }), "fileprefix", "flagprefix", "envprefix", "pv"},
		{"redis_batch", "redis-batch", "PVJOBS_REDIS_BATCH", []string{"--redis-batch", "21"}, "31", get(func(p *runParams) any { return p.Redis.Batch }), 11, 21, 31, 1000},
		{"redis_pipeline", "redis-pipeline", "PVJOBS_REDIS_PIPELINE", []string{"--redis-pipeline", "22"}, "32", get(func(p *runParams) any { return p.Redis.Pipeline }), 12, 22, 32, 100},
		{"redis_top", "redis-top", "PVJOBS_REDIS_TOP", []string{"--redis-top", "23"}, "33", get(func(p *runParams) any { return p.Redis.Top }), 13, 23, 33, 0},
		{"redis_ttl", "redis-ttl", "PVJOBS_REDIS_TTL", []string{"--ttl", "36h"}, "2w", get(func(p *runParams) any { return p.Redis.TTL }), 90 * 24 * time.Hour, 36 * time.Hour, 14 * 24 * time.Hour, time.Duration(0)},
		{"redis_range", "redis-range", "", []string{"--redis-range=false"}, "", get(func(p *runParams) any { return p.Redis.Range }), true, false, nil, false},
		{"uv_merge", "uv-merge", "PVJOBS_UV_MERGE", []string{"--uv-merge=true"}, "false", get(func(p *runParams) any { return p.Redis.UVMerge }), true, true, false, false},
		{"redis_cluster", "redis-cluster", "PVJOBS_REDIS_CLUSTER", []string{"--redis-cluster=false"}, "false", get(func(p *runParams) any { return p.Redis.Cluster }), true, false, false, false},
		{"redis_timeout", "redis-timeout", "PVJOBS_REDIS_TIMEOUT", []string{"--redis-timeout", "6s"}, "7s", get(func(p *runParams) any { return p.Redis.Timeout }), 4 * time.Second, 6 * time.Second, 7 * time.Second, time.Duration(0)},
		{"redis_user", "redis-user", "PVJOBS_REDIS_USER", []string{"--redis-user", "flaguser"}, "envuser", get(func(p *runParams) any { return p.Redis.User }), "fileuser", "flaguser", "envuser", ""},
		{"redis_ca", "redis-ca", "PVJOBS_REDIS_CA", []string{"--redis-ca", "flag-ca.pem"}, "env-ca.pem", get(func(p *runParams) any { return p.Redis.CA }), "file-ca.pem", "flag-ca.pem", "env-ca.pem", ""},
		{"redis_cert", "redis-cert", "PVJOBS_REDIS_CERT", []string{"--redis-cert", "flag-cert.pem"}, "env-cert.pem", get(func(p *runParams) any { return p.Redis.Cert }), "file-cert.pem", "flag-cert.pem", "env-cert.pem", ""},
		{"redis_key", "redis-key", "PVJOBS_REDIS_KEY", []string{"--redis-key", "flag-key.pem"}, "env-key.pem", get(func(p *runParams) any { return p.Redis.Key }), "file-key.pem", "flag-key.pem", "env-key.pem", ""},
		{"cql_consistency", "cql-consistency", "PVJOBS_CQL_CONSISTENCY", []string{"--cql-consistency", "ONE"}, "LOCAL_QUORUM", cql("consistency"), "QUORUM", "ONE", "LOCAL_QUORUM", ""},
		{"cql_timeout", "cql-timeout", "PVJOBS_CQL_TIMEOUT", []string{"--cql-timeout", "30s"}, "1d", cql("timeout"), "1m0s", "30s", "24h0m0s", ""},
		{"cql_token_aware", "cql-token-aware", "PVJOBS_CQL_TOKEN_AWARE", []string{"--cql-token-aware=true"}, "true", cql("token-aware"), "false", "true", "true", ""},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			check := func(what string, want any, args ...string) {
				t.Helper()
				p, err := resolveParams(t, args...)
				if err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				if got := tc.get(&p); got != want {
					t.Errorf("%s: %s = %#v; want %#v", what, tc.key, got, want)
				}
			}
			check("default (no file)", tc.def)
			check("default (file without the key)", tc.def, "--config", empty)
			check("file", tc.file, "--config", cfg, "--job", "j")
			if tc.env != "" {
				t.Setenv(tc.env, tc.envVal)
				check("env over file", tc.fromEnv, "--config", cfg, "--job", "j")
			}
			if tc.flagArg != nil {
				check("flag over env and file", tc.fromFlag, append([]string{"--config", cfg, "--job", "j"}, tc.flagArg...)...)
			}
		})
	}
	t.Run("every key", func(t *testing.T) {
		// Every job key of options.Table that a run reads is in the file
		// and the cases above.
		tested := map[string]bool{}
		for _, tc := range tests {
			tested[tc.key] = true
		}
		for _, o := range options.Table {
			// The --cql-* options are made by one loop: three stand
			// for them all.
			if o.Key != "" && o.Section == options.SectionJob && o.For&options.Run != 0 && o.Key != "range" &&
				o.Category != "Cassandra" && !tested[o.Key] {
				t.Errorf("job key %s is not tested", o.Key)
			}
		}
	})
	t.Run("unique_minutes", func(t *testing.T) {
		// The former key of uv_granularity.
		old := writeConfig(t, "jobs:\n  j: {unique_minutes: true}\n")
		p, err := resolveParams(t, "--config", old)
		if err != nil || !p.UniqueMinutes() {
			t.Errorf("unique_minutes: true: minutes %v, %v", p.UniqueMinutes(), err)
		}
		p, err = resolveParams(t, "--config", old, "--uv-granularity", "hour")
		if err != nil || p.UniqueMinutes() {
			t.Errorf("--uv-granularity hour over unique_minutes: true: minutes %v, %v", p.UniqueMinutes(), err)
		}
	})
	t.Run("config from env", func(t *testing.T) {
		t.Setenv("PVJOBS_CONFIG", cfg)
		t.Setenv("PVJOBS_JOB", "j")
		p, err := resolveParams(t)
		if err != nil || p.Source != "file-source" || p.Job != "j" {
			t.Errorf("PVJOBS_CONFIG and PVJOBS_JOB: %+v, %v", p, err)
		}
	})
}

func TestRelativeDatesCLI(t *testing.T) {
	cfg := writeConfig(t, `
jobs:
  nightly:
    tz: Europe/Berlin
    range: yesterday
  weekly:
    range: last 7d
  plain: {}
`)
	const now = "2024-08-08T01:30:00+02:00" // still 2024-08-07 in UTC
	tests := []struct {
		name     string
		args     []string
		from, to string
		wantErr  string
	}{
		{"no dates: the source's range", []string{"--now", now}, "", "", ""},
		{"yesterday utc", []string{"--now", now, "--yesterday"}, "2024-08-06T00:00:00Z", "2024-08-07T00:00:00Z", ""},
		{"yesterday berlin", []string{"--now", now, "--yesterday", "--tz", "Europe/Berlin"}, "2024-08-07T00:00:00+02:00", "2024-08-08T00:00:00+02:00", ""},
		{"today", []string{"--now", now, "--today"}, "2024-08-07T00:00:00Z", "2024-08-08T00:00:00Z", ""},
		{"last 7d", []string{"--now", now, "--last", "7d"}, "2024-07-31T00:00:00Z", "2024-08-07T00:00:00Z", ""},
		{"job range in its tz", []string{"--now", now, "--config", cfg, "--job", "nightly"}, "2024-08-07T00:00:00+02:00", "2024-08-08T00:00:00+02:00", ""},
		{"job range, tz from the flag", []string{"--now", now, "--config", cfg, "--job", "nightly", "--tz", "UTC"}, "2024-08-06T00:00:00Z", "2024-08-07T00:00:00Z", ""},
		{"job range last 7d", []string{"--now", now, "--config", cfg, "--job", "weekly"}, "2024-07-31T00:00:00Z", "2024-08-07T00:00:00Z", ""},
		{"flags win over the job range", []string{"--now", now, "--config", cfg, "--job", "weekly", "--today"}, "2024-08-07T00:00:00Z", "2024-08-08T00:00:00Z", ""},
		{"dates win over the job range", []string{"--config", cfg, "--job", "weekly", "--from", "2024-08-01", "--to", "2024-08-02"}, "2024-08-01", "2024-08-02", ""},
		{"job without range", []string{"--now", now, "--config", cfg, "--job", "plain"}, "", "", ""},
		{"relative and dates", []string{"--yesterday", "--from", "2024-08-01", "--to", "2024-08-02"}, "", "", "either --from and --to, or one of"},
		{"two relative", []string{"--yesterday", "--today"}, "", "", "only one of --yesterday, --today"},
		{"bad last", []string{"--last", "7"}, "", "", "--last"},
		{"bad now", []string{"--now", "yesterday", "--yesterday"}, "", "", "--now"},
		{"bad tz", []string{"--yesterday", "--tz", "Mars/Base"}, "", "", "--tz"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := resolveParams(t, tc.args...)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !isUsage(err) {
					t.Fatalf("error %v; want a usage error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.From != tc.from || p.To != tc.to {
				t.Errorf("range %q to %q; want %q to %q", p.From, p.To, tc.from, tc.to)
			}
		})
	}
}

func TestConfigCLIErrors(t *testing.T) {
	two := writeConfig(t, "jobs:\n  a: {}\n  b: {}\n")
	bad := writeConfig(t, "jobs:\n  a:\n    tz: Europe/Berln\n    top: -1\n")
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"bad file", []string{"run", "--config", bad, "--job", "a"}, []string{
			bad + `:3:9: jobs.a.tz: unknown time zone "Europe/Berln"`, bad + `:4:10: jobs.a.top: "-1": want a whole number`}},
		{"missing file", []string{"run", "--config", "/nonexistent/pvjobs.yaml"}, []string{"reading config", "/nonexistent/pvjobs.yaml"}},
		{"unknown job", []string{"run", "--config", two, "--job", "c"}, []string{`--job: no job "c" in ` + two + ` (jobs: a, b)`}},
		{"several jobs, none named", []string{"run", "--config", two}, []string{"has 2 jobs: name one with --job (a, b)"}},
		{"job without config", []string{"run", "--job", "a"}, []string{`--job "a" needs --config`}},
		{"bad progress", []string{"run", "--progress", "fancy"}, []string{`--progress "fancy"`}},
		{"bad timeout", []string{"run", "--timeout", "soon"}, []string{`--timeout "soon"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := opsCLI(t, context.Background(), tc.args...)
			if code != exitUsage {
				t.Errorf("exit %d; want %d\n%s", code, exitUsage, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
}

// TestEnvErrors: a bad environment variable is refused like a bad flag,
// naming the variable; an empty one counts as unset.
func TestEnvErrors(t *testing.T) {
	for _, tc := range []struct{ env, val, want string }{
		{"PVJOBS_TIMEOUT", "0s", `$PVJOBS_TIMEOUT "0s": want a duration above zero`},
		{"PVJOBS_TZ", "Local", `$PVJOBS_TZ: unknown time zone "Local"`},
		{"PVJOBS_UV_MERGE", "yes", `$PVJOBS_UV_MERGE "yes": want true or false`},
		{"PVJOBS_ACCOUNTS", "all,blog", `$PVJOBS_ACCOUNTS: "all" with other accounts`},
		{"PVJOBS_OUT", "redis://u:hunter2@h:x/0,s3://b", `$PVJOBS_OUT: invalid Redis URL "redis://u:xxxxx@h:x/0"`},
	} {
		t.Run(tc.env, func(t *testing.T) {
			t.Setenv(tc.env, tc.val)
			code, _, stderr := opsCLI(t, context.Background(), "run", "--jobs", "urls", "--dry-run")
			if code != exitUsage || !strings.Contains(stderr, tc.want) || strings.Contains(stderr, "hunter2") {
				t.Errorf("exit %d; want %d and %q in\n%s", code, exitUsage, tc.want, stderr)
			}
		})
	}
	t.Setenv("PVJOBS_TZ", "")
	if p, err := resolveParams(t); err != nil || p.TZ != "UTC" {
		t.Errorf("PVJOBS_TZ empty: tz %q, %v; want the default", p.TZ, err)
	}
}

// TestExampleConfig runs the nightly job of the shipped example on the
// embedded sample, as the README shows.
func TestExampleConfig(t *testing.T) {
	dir := t.TempDir()
	example, err := filepath.Abs("../../testdata/config/pvjobs.yaml")
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	stdout, _ := opsMust(t, "run", "--config", example, "--job", "nightly", "--now", "2024-08-07T02:30:00+02:00")
	for _, w := range []string{"shards 4 read, 0 missing", "report urls", "wrote CSV files in pvjobs-out/nightly"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("stdout lacks %q:\n%s", w, stdout)
		}
	}
	for _, f := range []string{"pvjobs-out/nightly/urls-2024-08-06.csv", "pvjobs-out/nightly/uniques-2024-08-06.csv", "pvjobs-out/nightly.prom"} {
		if _, err := os.Stat(f); err != nil {
			t.Error(err)
		}
	}
}

// readCSV reads a report written by the CSV sink.
func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// column returns the index of the column named name in a CSV header.
func column(t *testing.T, header []string, name string) int {
	t.Helper()
	i := slices.Index(header, name)
	if i < 0 {
		t.Fatalf("no column %q in %q", name, header)
	}
	return i
}

// TestTimeZoneDays runs a Berlin day end to end on generated shards: the run
// reads the two UTC shards that overlap the local day, only the rows of the
// local day (the same rows as the equivalent UTC range), and buckets them in
// Berlin hours: 23 on 2024-03-31, 25 on 2024-10-27, 24 on an ordinary day.
func TestTimeZoneDays(t *testing.T) {
	shards := t.TempDir()
	for _, r := range [][2]string{{"2024-03-30", "2024-04-01"}, {"2024-10-26", "2024-10-28"}, {"2024-08-05", "2024-08-07"}} {
		opsMust(t, "gen", "--to-dir", shards, "--accounts", "blog", "--from", r[0], "--to", r[1], "--rows-per-day", "3000")
	}
	tests := []struct {
		day        string
		utcFrom    string // the local day in UTC
		utcTo      string
		firstShard string
		hours      int
	}{
		{"2024-03-31", "2024-03-30T23:00:00Z", "2024-03-31T22:00:00Z", "20240330.blog  [23:00, 24:00) UTC", 23},
		{"2024-10-27", "2024-10-26T22:00:00Z", "2024-10-27T23:00:00Z", "20241026.blog  [22:00, 24:00) UTC", 25},
		{"2024-08-06", "2024-08-05T22:00:00Z", "2024-08-06T22:00:00Z", "20240805.blog  [22:00, 24:00) UTC", 24},
	}
	for _, tc := range tests {
		t.Run(tc.day, func(t *testing.T) {
			// Bots too, so the urls report counts every row read.
			berlin := []string{"--source", shards, "--accounts", "blog", "--jobs", "urls,uniques", "--include-bots", "--tz", "Europe/Berlin", "--from", tc.day, "--to", tc.day}
			plan, _ := opsMust(t, append([]string{"run", "--dry-run"}, berlin...)...)
			for _, w := range []string{"shards    2 ", tc.firstShard, plural(tc.hours, "hour")} {
				if !strings.Contains(plan, w) {
					t.Errorf("plan lacks %q:\n%s", w, plan)
				}
			}
			out := t.TempDir()
			sum, _ := opsMust(t, append([]string{"run", "--top", "0", "--out", "csv:" + out}, berlin...)...)
			utc, _ := opsMust(t, "run", "--source", shards, "--accounts", "blog", "--jobs", "urls", "--top", "0",
				"--from", tc.utcFrom, "--to", tc.utcTo, "--out", "csv:"+t.TempDir())
			rows := func(s string) string {
				i := strings.Index(s, "· rows ")
				if i < 0 {
					t.Fatalf("no summary in\n%s", s)
				}
				return strings.Fields(s[i:])[2]
			}
			if rows(sum) != rows(utc) {
				t.Errorf("the Berlin day read %s rows, the same range in UTC %s", rows(sum), rows(utc))
			}
			hours := map[string]bool{}
			days := map[string]int64{}
			for _, r := range readCSV(t, filepath.Join(out, "uniques.csv"))[1:] {
				// account, period, start, visitors
				switch r[1] {
				case "hour":
					hours[r[2]] = true
				case "day":
					days[r[2]]++
				}
			}
			if len(hours) != tc.hours {
				t.Errorf("%d hour rows; want %d: %v", len(hours), tc.hours, slices.Sorted(mapsKeys(hours)))
			}
			if len(days) != 1 || days[tc.day] != 1 {
				t.Errorf("day rows %v; want one for %s", days, tc.day)
			}
			var total int64
			recs := readCSV(t, filepath.Join(out, "urls.csv"))
			pv := column(t, recs[0], "pageviews")
			for _, r := range recs[1:] {
				if r[1] == "day" {
					n, _ := strconv.ParseInt(r[pv], 10, 64)
					total += n
				}
			}
			if want := strings.ReplaceAll(rows(sum), ",", ""); strconv.FormatInt(total, 10) != want {
				t.Errorf("urls day rows add up to %d page views; the run read %s", total, want)
			}
		})
	}
}

func mapsKeys(m map[string]bool) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// isUsage reports whether err is a usage error.
func isUsage(err error) bool {
	var ue *usageError
	return errors.As(err, &ue)
}
