package configfile_test

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/configfile"
	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/daterange"
	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/location"
	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/options"
)

// checker stands in for one of the CLI's registries of locations (the CLI's
// tests check the config file with the real ones): a location is good when
// it starts with one of the prefixes and, for a URL, has a host.
type checker struct {
	syntax   string
	prefixes []string
}

func (c checker) Check(raw string) error {
	for _, p := range c.prefixes {
		if p == "" && !strings.Contains(raw, "://") {
			return nil
		}
		if p != "" && strings.HasPrefix(raw, p) && len(raw) > len(p) {
			if u, err := url.Parse(raw); !strings.Contains(p, "://") || (err == nil && u.Host != "") {
				return nil
			}
		}
	}
	return fmt.Errorf("%q: want %s", location.Redact(raw), c.syntax)
}

func (c checker) Redact(raw string) string { return location.Redact(raw) }
func (c checker) Syntax() string           { return c.syntax }

var locs = configfile.Locations{
	Sources: checker{"a directory of shard files or cassandra://host[:port]/keyspace", []string{"", "cassandra://"}},
	Outputs: checker{"csv:DIR, html:DIR, redis://host:port/db or rediss://host:port/db", []string{"csv:", "html:", "redis://", "rediss://"}},
	Locks:   checker{"redis://host:port/db or rediss://host:port/db", []string{"redis://", "rediss://"}},
}

// repoFile returns the path of a file relative to the repository root.
func repoFile(rel string) string {
	_, here, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(here), "..", "..", "..", "..", rel)
}

// lineOf returns the number of the first line of the file at path that
// starts with prefix.
func lineOf(t *testing.T, path, prefix string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, prefix) {
			return i + 1
		}
	}
	t.Fatalf("%s has no line %q", path, prefix)
	return 0
}

// checkKeys checks the values of a job's keys; nil means the key is not set.
// Budgets compare as text.
func checkKeys(t *testing.T, j *configfile.Job, want map[string]any) {
	t.Helper()
	for key, w := range want {
		got, ok := j.Get(key)
		if s, isStringer := got.(fmt.Stringer); isStringer {
			if _, wantString := w.(string); wantString {
				got = s.String()
			}
		}
		switch {
		case w == nil && ok:
			t.Errorf("job %s: %s = %#v; want it unset", j.Name, key, got)
		case w != nil && !reflect.DeepEqual(got, w):
			t.Errorf("job %s: %s = %#v; want %#v", j.Name, key, got, w)
		}
	}
}

func TestLoadExample(t *testing.T) {
	f, err := configfile.Load(repoFile("testdata/config/pvjobs.yaml"), locs)
	if err != nil {
		t.Fatal(err)
	}
	state, _ := f.Scheduler("state")
	addr, _ := f.Scheduler("metrics_addr")
	if _, lock := f.Scheduler("lock"); state != "pvjobs-out/scheduler-state.json" || addr != "127.0.0.1:9464" || lock {
		t.Errorf("scheduler: state %v, metrics_addr %v, lock %v", state, addr, lock)
	}
	var names []string
	for _, j := range f.Jobs {
		names = append(names, j.Name)
	}
	if !slices.Equal(names, []string{"nightly", "weekly"}) {
		t.Fatalf("jobs %v", names)
	}
	n, err := f.Job("nightly")
	if err != nil {
		t.Fatal(err)
	}
	checkKeys(t, n, map[string]any{
		"source": nil, "accounts": []string{"all"}, "reports": []string{"urls", "uniques"},
		"out": []string{"csv:pvjobs-out/nightly"}, "csv_pattern": "{report}-{from}.csv",
		"tz": "Europe/Berlin", "max_bad_rows": "0.1%", "top": 0, "schedule": "30 2 * * *",
		"range": daterange.Yesterday, "catch_up": 72 * time.Hour, "timeout": 2 * time.Hour,
		"metrics_file": "pvjobs-out/nightly.prom",
	})
	if n.Location().String() != "Europe/Berlin" {
		t.Errorf("location %s", n.Location())
	}
	s, err := n.ParseSchedule()
	if err != nil {
		t.Fatal(err)
	}
	if next := s.Next(time.Date(2024, 8, 7, 12, 0, 0, 0, time.UTC)); next.Format(time.RFC3339) != "2024-08-08T02:30:00+02:00" {
		t.Errorf("next slot %s", next.Format(time.RFC3339))
	}
	w, _ := f.Job("weekly")
	checkKeys(t, w, map[string]any{"top": 5, "tz": "Europe/Berlin", "range": daterange.Window{Days: 7}, "catch_up": nil, "metrics_file": nil})
	// tz comes from the defaults section: its position says so.
	if p, ok := w.Pos("tz"); !ok || p.Line != lineOf(t, f.Path, "  tz: Europe/Berlin") {
		t.Errorf("weekly tz set at %v", p)
	}
	if p, ok := w.Pos("top"); !ok || p.Line != lineOf(t, f.Path, "    top: 5") {
		t.Errorf("weekly top set at %v", p)
	}
	if _, err := f.Job("hourly"); !errors.Is(err, configfile.ErrNoJob) || !strings.Contains(err.Error(), "nightly, weekly") {
		t.Errorf("unknown job: %v", err)
	}
}

func TestParseDefaults(t *testing.T) {
	f, err := configfile.Parse("t.yaml", []byte(`
defaults:
  tz: America/New_York
  out: [csv:a, csv:b]
  schedule: "0 6 * * *"
  strip_query: true
jobs:
  a: {}
  b:
    out: csv:c
    strip_query: false
    tz: UTC
  c:
`), locs)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := f.Job("a")
	b, _ := f.Job("b")
	c, _ := f.Job("c")
	checkKeys(t, a, map[string]any{"tz": "America/New_York", "out": []string{"csv:a", "csv:b"}, "strip_query": true, "schedule": "0 6 * * *"})
	checkKeys(t, b, map[string]any{"tz": "UTC", "out": []string{"csv:c"}, "strip_query": false})
	checkKeys(t, c, map[string]any{"source": nil, "top": nil, "accounts": nil, "tz": "America/New_York"})
	// Inherited values are copies.
	out, _ := a.Get("out")
	out.([]string)[0] = "csv:changed"
	if out, _ := c.Get("out"); out.([]string)[0] != "csv:a" {
		t.Error("jobs share the defaults' list")
	}
	sa, _ := a.ParseSchedule()
	if got := sa.Next(time.Date(2024, 8, 7, 0, 0, 0, 0, time.UTC)).Format(time.RFC3339); got != "2024-08-07T06:00:00-04:00" {
		t.Errorf("a's schedule is not in its tz: %s", got)
	}
}

func TestParseValues(t *testing.T) {
	f, err := configfile.Parse("t.yaml", []byte(`
jobs:
  j:
    source: cassandra://db:9042/pv
    accounts: "blog, shop"
    reports: all
    out: [csv:out, "redis://localhost:6379/2", rediss://r:6380/0]
    csv_raw: true
    top: 20
    quiet: false
    slices: 96
    workers: 4
    max_bad_rows: 100
    internal_domains: [a.example, b.example]
    geoip: /geo/City.mmdb
    include_bots: true
    exact_uniques: true
    unique_minutes: true
    schedule: "@hourly"
    range: today
    catch_up: 90m
    timeout: 1h30m
    allow_empty: true
    redis_ttl: 2w
    redis_top: 100
    uv_merge: true
    cql_consistency: local_quorum
    cql_retry_max_wait: 1d
    cql_token_aware: false
`), locs)
	if err != nil {
		t.Fatal(err)
	}
	checkKeys(t, f.Jobs[0], map[string]any{
		"source": "cassandra://db:9042/pv", "accounts": []string{"blog", "shop"}, "reports": []string{"all"},
		"out": []string{"csv:out", "redis://localhost:6379/2", "rediss://r:6380/0"}, "csv_raw": true, "top": 20,
		"quiet": false, "slices": 96, "workers": 4, "max_bad_rows": "100", "internal_domains": []string{"a.example", "b.example"},
		"geoip": "/geo/City.mmdb", "include_bots": true, "exact_uniques": true, "uv_granularity": "minute",
		"range": daterange.Today, "catch_up": 90 * time.Minute, "timeout": 90 * time.Minute,
		"allow_empty": true, "redis_ttl": 14 * 24 * time.Hour, "redis_top": 100, "uv_merge": true,
		"cql_consistency": "local_quorum", "cql_retry_max_wait": 24 * time.Hour, "cql_token_aware": false,
	})
}

// TestParseErrors checks that every bad field is refused with its file,
// line, column, key and what is wrong.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // the errors, in order
	}{
		{"empty file", ``, []string{"t.yaml:1: empty config file: want a jobs section"}},
		{"only a comment", "# nothing\n", []string{"t.yaml:1: empty config file: want a jobs section"}},
		{"not yaml", "jobs:\n  a:\n    tz: UTC\n    top 5\n    quiet: true\n", []string{"t.yaml:4: not valid YAML: could not find expected ':'"}},
		{"unclosed list", "jobs:\n  a: [b\n", []string{"t.yaml:1: not valid YAML: did not find expected ',' or ']'"}},
		{"tab indent", "jobs:\n\ta: {}\n", []string{"t.yaml:2: not valid YAML: found character that cannot start any token"}},
		{"two documents", "jobs: {a: {}}\n---\njobs: {b: {}}\n", []string{"t.yaml:2: more than one YAML document (---): want one"}},
		{"a list", "- a\n", []string{"t.yaml:1:1: want a mapping with the sections defaults, scheduler, jobs and collect"}},
		{"no jobs", "defaults: {tz: UTC}\n", []string{"t.yaml:1:1: no jobs: add a jobs section"}},
		{"empty jobs", "jobs: {}\n", []string{"t.yaml:1:7: jobs: no jobs defined"}},
		{"jobs is a list", "jobs:\n  - a\n", []string{"t.yaml:2:3: jobs: want a mapping (key: value lines), not a list"}},
		{"unknown section", "job:\n  a: {}\njobs: {a: {}}\n", []string{`t.yaml:1:1: unknown key "job" (did you mean "jobs"?)`}},
		{"unknown section far", "reports: {}\njobs: {a: {}}\n", []string{`t.yaml:1:1: unknown key "reports" (known: defaults, scheduler, jobs, collect)`}},
		{"bad job name", "jobs:\n  night.ly: {}\n", []string{`t.yaml:2:3: jobs: job name "night.ly": want 1 to 64 of A-Z a-z 0-9 _ -`}},
		{"job twice", "jobs:\n  a: {}\n  a: {}\n", []string{`t.yaml:3:3: jobs.a: given twice (first on line 2)`}},
		{"key twice", "jobs:\n  a:\n    tz: UTC\n    tz: UTC\n", []string{`t.yaml:4:5: jobs.a.tz: given twice (first on line 3)`}},
		{"unknown job key", "jobs:\n  a:\n    acounts: all\n", []string{`t.yaml:3:5: jobs.a: unknown key "acounts" (did you mean "accounts"?)`}},
		{"unknown defaults key", "defaults:\n  timezone: UTC\njobs: {a: {}}\n", []string{`t.yaml:2:3: defaults: unknown key "timezone"`}},
		{"job is a string", "jobs:\n  a: nightly\n", []string{`t.yaml:2:6: jobs.a: want a mapping (key: value lines), not "nightly"`}},
		{"merge key", "x: &x {tz: UTC}\njobs:\n  a:\n    <<: *x\n", []string{`t.yaml:1:1: unknown key "x"`, `t.yaml:4:5: jobs.a: YAML merge keys (<<) are not supported`}},
		{"source scheme", "jobs:\n  a:\n    source: s3://bucket/x\n", []string{`t.yaml:3:13: jobs.a.source: "s3://bucket/x": want a directory of shard files or cassandra://host[:port]/keyspace`}},
		{"source empty", "jobs:\n  a:\n    source:\n", []string{`t.yaml:3:12: jobs.a.source: want a value, not an empty value`}},
		{"source list", "jobs:\n  a:\n    source: [a, b]\n", []string{`t.yaml:3:13: jobs.a.source: want a value, not a list`}},
		{"accounts bad", "jobs:\n  a:\n    accounts: [blog, sh op]\n", []string{`t.yaml:3:15: jobs.a.accounts: invalid account id "sh op": character ' ' at position 3`}},
		{"accounts all and more", "jobs:\n  a:\n    accounts: all,blog\n", []string{`t.yaml:3:15: jobs.a.accounts: "all" with other accounts`}},
		{"accounts empty list", "jobs:\n  a:\n    accounts: []\n", []string{`t.yaml:3:15: jobs.a.accounts: empty list`}},
		{"accounts mapping", "jobs:\n  a:\n    accounts: {blog: 1}\n", []string{`t.yaml:3:15: jobs.a.accounts: want a list, not a mapping`}},
		{"reports unknown", "jobs:\n  a:\n    reports: [urls, pages]\n", []string{`t.yaml:3:14: jobs.a.reports: unknown job "pages" (jobs: urls,`}},
		{"reports twice", "jobs:\n  a:\n    reports: urls,urls\n", []string{`t.yaml:3:14: jobs.a.reports: job "urls" is named twice`}},
		{"out bad", "jobs:\n  a:\n    out: [csv:x, s3://b]\n", []string{`t.yaml:3:10: jobs.a.out: "s3://b": want csv:DIR, html:DIR, redis://host:port/db or rediss://host:port/db`}},
		{"out html without dir", "jobs:\n  a:\n    out: \"html:\"\n", []string{`t.yaml:3:10: jobs.a.out: "html:": want csv:DIR, html:DIR,`}},
		{"html pattern path", "jobs:\n  a:\n    html_pattern: sub/{account}.html\n", []string{`t.yaml:3:19: jobs.a.html_pattern: bad HTML file pattern "sub/{account}.html" (pages): a file name, not a path`}},
		{"html index with account", "jobs:\n  a:\n    html_index: \"{account}.html\"\n", []string{`t.yaml:3:17: jobs.a.html_index: bad HTML file pattern "{account}.html" (index): the index is one page for every account`}},
		{"html top zero", "jobs:\n  a:\n    html_top: 0\n", []string{`t.yaml:3:15: jobs.a.html_top: "0": want a whole number, 1 or more`}},
		{"out csv without dir", "jobs:\n  a:\n    out: \"csv:\"\n", []string{`t.yaml:3:10: jobs.a.out: "csv:": want csv:DIR`}},
		{"out redis password redacted", "jobs:\n  a:\n    out: \"redis://:hunter2@\"\n", []string{`t.yaml:3:10: jobs.a.out: "redis://:xxxxx@": keep passwords out of config files`}},
		{"csv pattern without report", "jobs:\n  a:\n    csv_pattern: out-{from}.csv\n", []string{`t.yaml:3:18: jobs.a.csv_pattern: bad CSV file pattern "out-{from}.csv": has no {report}: the `}},
		{"csv pattern without report, one report", "jobs:\n  a:\n    reports: urls\n    csv_pattern: pages.csv\n    top: x\n", []string{`t.yaml:5:10: jobs.a.top`}},
		{"csv pattern a path", "jobs:\n  a:\n    csv_pattern: ../{report}.csv\n", []string{`t.yaml:3:18: jobs.a.csv_pattern: bad CSV file pattern "../{report}.csv": a file name, not a path`}},
		{"tz unknown", "jobs:\n  a:\n    tz: Europe/Berln\n", []string{`t.yaml:3:9: jobs.a.tz: unknown time zone "Europe/Berln": want an IANA name`}},
		{"tz local", "jobs:\n  a:\n    tz: Local\n", []string{`t.yaml:3:9: jobs.a.tz: unknown time zone "Local"`}},
		{"top negative", "jobs:\n  a:\n    top: -1\n", []string{`t.yaml:3:10: jobs.a.top: "-1": want a whole number, 0 (no table) or more`}},
		{"top text", "jobs:\n  a:\n    top: ten\n", []string{`t.yaml:3:10: jobs.a.top: "ten": want a whole number`}},
		{"top list", "jobs:\n  a:\n    top: [1]\n", []string{`t.yaml:3:10: jobs.a.top: want a whole number, 0 (no table) or more, not a list`}},
		{"slices zero", "jobs:\n  a:\n    slices: 0\n", []string{`t.yaml:3:13: jobs.a.slices: "0": want a whole number, 1 to 86400`}},
		{"workers float", "jobs:\n  a:\n    workers: 1.5\n", []string{`t.yaml:3:14: jobs.a.workers: "1.5": want a whole number, 0 (GOMAXPROCS) or more`}},
		{"max bad rows", "jobs:\n  a:\n    max_bad_rows: 200%\n", []string{`t.yaml:3:19: jobs.a.max_bad_rows: bad-row budget "200%"`}},
		{"bool yes", "jobs:\n  a:\n    strip_query: yes\n", []string{`t.yaml:3:18: jobs.a.strip_query: want true or false, not "yes"`}},
		{"bool number", "jobs:\n  a:\n    include_bots: 1\n", []string{`t.yaml:3:19: jobs.a.include_bots: want true or false, not a number`}},
		{"schedule fields", "jobs:\n  a:\n    schedule: \"30 2 * *\"\n", []string{`t.yaml:3:15: jobs.a.schedule: cron expression "30 2 * *": expected exactly 5 fields`}},
		{"schedule range", "jobs:\n  a:\n    schedule: \"30 25 * * *\"\n", []string{`t.yaml:3:15: jobs.a.schedule: cron expression "30 25 * * *": end of range (25) above maximum (23)`}},
		{"schedule zone", "jobs:\n  a:\n    schedule: CRON_TZ=Mars/Base 0 2 * * *\n", []string{`t.yaml:3:15: jobs.a.schedule: cron expression "CRON_TZ=Mars/Base 0 2 * * *": unknown time zone "Mars/Base"`}},
		{"range bad", "jobs:\n  a:\n    range: last week\n", []string{`t.yaml:3:12: jobs.a.range: "last week": want yesterday, today, or last N days or weeks`}},
		{"catch up bad", "jobs:\n  a:\n    catch_up: 3 days\n", []string{`t.yaml:3:15: jobs.a.catch_up: "3 days": want a duration such as 3d, 12h or 90m`}},
		{"catch up negative", "jobs:\n  a:\n    catch_up: -1h\n", []string{`t.yaml:3:15: jobs.a.catch_up: "-1h": want a duration`}},
		{"timeout zero", "jobs:\n  a:\n    timeout: 0s\n", []string{`t.yaml:3:14: jobs.a.timeout: "0s": want a duration above zero`}},
		{"cql password", "jobs:\n  a:\n    cql_password: hunter2\n", []string{`t.yaml:3:5: jobs.a: unknown key "cql_password": keep secrets out of config files, set $PVJOBS_CQL_PASSWORD`}},
		{"redis password", "defaults:\n  redis_password: hunter2\njobs: {a: {}}\n", []string{`t.yaml:2:3: defaults: unknown key "redis_password": keep secrets out of config files, set $PVJOBS_REDIS_PASSWORD`}},
		{"cql consistency", "jobs:\n  a:\n    cql_consistency: MOST\n", []string{`t.yaml:3:22: jobs.a.cql_consistency: bad cassandra source: consistency="MOST": want ANY, ONE`}},
		{"cql timeout", "jobs:\n  a:\n    cql_timeout: 0s\n", []string{`t.yaml:3:18: jobs.a.cql_timeout: "0s": want a positive duration`}},
		{"redis ttl", "jobs:\n  a:\n    redis_ttl: forever\n", []string{`t.yaml:3:16: jobs.a.redis_ttl: "forever": want a duration such as 90d or 36h`}},
		{"redis batch", "jobs:\n  a:\n    redis_batch: 0\n", []string{`t.yaml:3:18: jobs.a.redis_batch: "0": want a whole number, 1 to 1000000`}},
		{"uv granularity", "jobs:\n  a:\n    uv_granularity: second\n", []string{`t.yaml:3:21: jobs.a.uv_granularity: "second": want hour or minute`}},
		{"old and new key", "jobs:\n  a:\n    uv_granularity: hour\n    unique_minutes: true\n", []string{`t.yaml:4:5: jobs.a.unique_minutes: the same as uv_granularity (line 3): give one of them`}},
		{"redis prefix", "jobs:\n  a:\n    redis_prefix: a{b}\n", []string{`t.yaml:3:19: jobs.a.redis_prefix: key prefix "a{b}"`}},
		{"lock password", "scheduler:\n  lock: \"http://u:hunter2@h/0\"\njobs: {a: {}}\n", []string{`t.yaml:2:9: scheduler.lock: "http://u:xxxxx@h/0": want redis://`}},
		{"scheduler unknown", "scheduler:\n  locks: redis://x:1/0\njobs: {a: {}}\n", []string{`t.yaml:2:3: scheduler: unknown key "locks" (did you mean "lock"?)`}},
		{"scheduler lock", "scheduler:\n  lock: localhost:6379\njobs: {a: {}}\n", []string{`t.yaml:2:9: scheduler.lock: "localhost:6379": want redis://`}},
		{"scheduler ttl", "scheduler:\n  lock_ttl: 10ms\njobs: {a: {}}\n", []string{`t.yaml:2:13: scheduler.lock_ttl: "10ms": want a duration of at least 1s`}},
		{"scheduler addr", "scheduler:\n  metrics_addr: 9464\njobs: {a: {}}\n", []string{`t.yaml:2:17: scheduler.metrics_addr: "9464": want [host]:port`}},
		{"bad defaults reported once", "defaults:\n  tz: Nowhere\njobs:\n  a: {}\n  b: {}\n", []string{`t.yaml:2:7: defaults.tz: unknown time zone "Nowhere"`}},
		{"collect a list", "collect: [a]\n", []string{`t.yaml:1:10: collect: want a mapping (key: value lines), not a list`}},
		{"collect typo", "collect:\n  lisen: :8080\n", []string{`t.yaml:2:3: collect: unknown key "lisen" (did you mean "listen"?)`}},
		{"collect job key", "collect:\n  reports: [urls]\n", []string{`t.yaml:2:3: collect: unknown key "reports"`}},
		{"collect former key", "collect:\n  unique_minutes: true\n", []string{`t.yaml:2:3: collect: unknown key "unique_minutes"`}},
		{"collect listen", "collect:\n  listen: 8080\n", []string{`t.yaml:2:11: collect.listen: "8080": want [host]:port`}},
		{"collect listen port", "collect:\n  listen: \"127.0.0.1:99999\"\n", []string{`t.yaml:2:11: collect.listen: "127.0.0.1:99999": want [host]:port`}},
		{"collect cassandra scheme", "collect:\n  cassandra: /var/lib/shards\n", []string{`t.yaml:2:14: collect.cassandra: "/var/lib/shards": want cassandra://host[:port]/keyspace`}},
		{"collect cassandra password", "collect:\n  cassandra: \"cassandra://u:hunter2@db/pv\"\n", []string{
			`t.yaml:2:14: collect.cassandra: "cassandra://u:xxxxx@db/pv": keep passwords out of config files: leave it out of the URL and set $PVJOBS_CQL_PASSWORD`}},
		{"collect cassandra password parameter", "collect:\n  cassandra: \"cassandra://db/pv?user=u&password=hunter2\"\n", []string{
			`t.yaml:2:14: collect.cassandra: "cassandra://db/pv?user=u&password=xxxxx": keep passwords out of config files`}},
		{"collect cql password", "collect:\n  cql_password: hunter2\n", []string{`t.yaml:2:3: collect: unknown key "cql_password": keep secrets out of config files, set $PVJOBS_CQL_PASSWORD`}},
		{"collect redis password", "collect:\n  redis_password: hunter2\n", []string{`t.yaml:2:3: collect: unknown key "redis_password": keep secrets out of config files, set $PVJOBS_REDIS_PASSWORD`}},
		{"collect live password", "collect:\n  live: \"redis://:hunter2@r:6379/0\"\n", []string{
			`t.yaml:2:9: collect.live: "redis://:xxxxx@r:6379/0": keep passwords out of config files: leave it out of the URL and set $PVJOBS_REDIS_PASSWORD`}},
		{"job out password", "jobs:\n  a:\n    out: [csv:x, \"redis://u:hunter2@r:6379/0\"]\n", []string{
			`t.yaml:3:10: jobs.a.out: "redis://u:xxxxx@r:6379/0": keep passwords out of config files: leave it out of the URL and set $PVJOBS_REDIS_PASSWORD`}},
		{"defaults source password", "defaults:\n  source: \"cassandra://db/pv?password=hunter2\"\njobs: {a: {}}\n", []string{
			`t.yaml:2:11: defaults.source: "cassandra://db/pv?password=xxxxx": keep passwords out of config files: leave it out of the URL and set $PVJOBS_CQL_PASSWORD`}},
		{"scheduler lock password", "scheduler:\n  lock: \"rediss://:hunter2@r:6380/0\"\njobs: {a: {}}\n", []string{
			`t.yaml:2:9: scheduler.lock: "rediss://:xxxxx@r:6380/0": keep passwords out of config files: leave it out of the URL and set $PVJOBS_REDIS_PASSWORD`}},
		{"collect live scheme", "collect:\n  live: \"http://r:6379/0\"\n", []string{`t.yaml:2:9: collect.live: "http://r:6379/0": want redis://`}},
		{"collect accounts all", "collect:\n  accounts: all\n", []string{`t.yaml:2:13: collect.accounts: all: the collector accepts only the accounts it is told`}},
		{"collect accounts bad", "collect:\n  accounts: [blog, \"sh op\"]\n", []string{`t.yaml:2:13: collect.accounts: invalid account id "sh op"`}},
		{"collect accounts and file", "collect:\n  accounts: [blog]\n  accounts_file: /etc/accounts\n", []string{`t.yaml:3:18: collect.accounts_file: give accounts or accounts_file, not both`}},
		{"collect fsync", "collect:\n  fsync: sometimes\n", []string{`t.yaml:2:10: collect.fsync: fsync policy "sometimes": want always, never or an interval`}},
		{"collect trusted proxies", "collect:\n  trusted_proxies: [10.0.0.0/8, 10.0.0.0/99]\n", []string{`t.yaml:2:20: collect.trusted_proxies: trusted proxy "10.0.0.0/99": want a CIDR`}},
		{"collect rate limit", "collect:\n  rate_limit: -1\n", []string{`t.yaml:2:15: collect.rate_limit: "-1": want a whole number, 0 (no limit) or more`}},
		{"collect max body", "collect:\n  max_body: 10\n", []string{`t.yaml:2:13: collect.max_body: "10": want a whole number, 256 to 1048576 bytes`}},
		{"collect max connections", "collect:\n  max_connections: lots\n", []string{`t.yaml:2:20: collect.max_connections: "lots": want a whole number, 0 (no limit) or more`}},
		{"collect writers", "collect:\n  writers: 0\n", []string{`t.yaml:2:12: collect.writers: "0": want a whole number, 1 to 256`}},
		{"collect drain timeout", "collect:\n  drain_timeout: 10ms\n", []string{`t.yaml:2:18: collect.drain_timeout: "10ms": want a duration of at least 1s`}},
		{"collect anonymize", "collect:\n  anonymize_ip: yes\n", []string{`t.yaml:2:17: collect.anonymize_ip: want true or false, not "yes"`}},
		{"collect tz", "collect:\n  tz: Europe/Berln\n", []string{`t.yaml:2:7: collect.tz: unknown time zone "Europe/Berln"`}},
		{"collect redis prefix", "collect:\n  redis_prefix: a{b}\n", []string{`t.yaml:2:17: collect.redis_prefix: key prefix "a{b}"`}},
		{"collect cql consistency", "collect:\n  cql_consistency: MOST\n", []string{`t.yaml:2:20: collect.cql_consistency: bad cassandra source: consistency="MOST"`}},
		{"collect key twice", "collect:\n  queue: 1\n  queue: 2\n", []string{`t.yaml:3:3: collect.queue: given twice (first on line 2)`}},
		{"collect and jobs both bad", "jobs:\n  a: {top: x}\ncollect:\n  queue: 0\n", []string{`t.yaml:2:12: jobs.a.top`, `t.yaml:4:10: collect.queue`}},
		{"every mistake at once, in file order", "jobs:\n  b:\n    top: x\n  a:\n    tz: Nowhere\n    out: nope\n", []string{
			`t.yaml:3:10: jobs.b.top`, `t.yaml:5:9: jobs.a.tz`, `t.yaml:6:10: jobs.a.out`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := configfile.Parse("t.yaml", []byte(tc.yaml), locs)
			if err == nil {
				t.Fatalf("no error; parsed %+v", f)
			}
			var es configfile.Errors
			if !errors.As(err, &es) {
				t.Fatalf("error %T %v is not configfile.Errors", err, err)
			}
			if len(es) != len(tc.want) {
				t.Fatalf("%d errors:\n%v\nwant %d:\n%s", len(es), err, len(tc.want), strings.Join(tc.want, "\n"))
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(es[i].Error(), w) {
					t.Errorf("error %d:\n got %s\nwant %s…", i+1, es[i], w)
				}
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("a password shows: %v", err)
			}
			var one *configfile.Error
			if !errors.As(err, &one) || one.File != "t.yaml" || one.Line == 0 {
				t.Errorf("errors.As *configfile.Error: %+v", one)
			}
		})
	}
}

// TestParseCollect reads a collect section: the collector's own keys and
// the job keys it shares, apart from the jobs and the defaults.
func TestParseCollect(t *testing.T) {
	const yaml = `
defaults:
  tz: Europe/Berlin
  redis_prefix: batch
jobs:
  nightly: {reports: [urls]}
collect:
  listen: 0.0.0.0:8080
  cassandra: cassandra://db1,db2:9042/pv
  accounts: [blog, shop]
  spool: /var/lib/pvjobs/spool
  fsync: always
  trusted_proxies: 127.0.0.1/32, 10.0.0.0/8
  anonymize_ip: true
  respect_dnt: true
  rate_limit: 20
  rate_burst: 40
  max_body: 4096
  max_connections: 500
  queue: 1000
  writers: 4
  drain_timeout: 1m
  live: redis://cache:6379/1
  tz: America/New_York
  strip_query: true
  redis_prefix: live
  redis_ttl: 2d
  uv_granularity: minute
  cql_consistency: LOCAL_QUORUM
  cql_user: collector
`
	f, err := configfile.Parse("t.yaml", []byte(yaml), locs)
	if err != nil {
		t.Fatal(err)
	}
	view, ok := f.Collect()
	if !ok {
		t.Fatal("no collect section")
	}
	want := map[string]any{
		"listen": "0.0.0.0:8080", "cassandra": "cassandra://db1,db2:9042/pv", "accounts": []string{"blog", "shop"},
		"spool": "/var/lib/pvjobs/spool", "fsync": "always", "trusted_proxies": []string{"127.0.0.1/32", "10.0.0.0/8"},
		"anonymize_ip": true, "respect_dnt": true, "rate_limit": 20, "rate_burst": 40, "max_body": 4096,
		"max_connections": 500, "queue": 1000, "writers": 4, "drain_timeout": time.Minute, "live": "redis://cache:6379/1",
		"tz": "America/New_York", "strip_query": true, "redis_prefix": "live", "redis_ttl": 48 * time.Hour,
		"uv_granularity": "minute", "cql_consistency": "LOCAL_QUORUM", "cql_user": "collector",
		"include_bots": nil, "cql_timeout": nil,
	}
	for key, w := range want {
		o := options.ByKey(options.SectionCollect, key)
		if o == nil {
			t.Errorf("collect.%s: no such key", key)
			continue
		}
		got, ok := view.Lookup(o)
		switch {
		case w == nil && ok:
			t.Errorf("collect.%s = %#v; want it unset", key, got)
		case w != nil && !reflect.DeepEqual(got, w):
			t.Errorf("collect.%s = %#v; want %#v", key, got, w)
		}
	}
	if p, ok := f.CollectPos("queue"); !ok || p.Line != 20 || p.Column != 10 {
		t.Errorf("collect.queue set at %v", p)
	}
	// The job does not see the collect section, nor collect the defaults.
	j := f.Jobs[0]
	checkKeys(t, j, map[string]any{"tz": "Europe/Berlin", "redis_prefix": "batch", "strip_query": nil, "cql_consistency": nil})
	if _, ok := f.For(j).Lookup(options.ByKey(options.SectionCollect, "listen")); ok {
		t.Error("a job's view has collect.listen")
	}

	// A file of a collect section alone, and one without.
	only, err := configfile.Parse("t.yaml", []byte("collect:\n  listen: :8080\n"), locs)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := only.Collect(); !ok || len(only.Jobs) != 0 {
		t.Errorf("collect only: %d jobs, collect %v", len(only.Jobs), ok)
	}
	if _, err := only.Job("nightly"); !errors.Is(err, configfile.ErrNoJob) || !strings.Contains(err.Error(), "no jobs section") {
		t.Errorf("Job of a file without jobs: %v", err)
	}
	none, err := configfile.Parse("t.yaml", []byte("jobs: {a: {}}\n"), locs)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := none.Collect(); ok {
		t.Error("a file without a collect section has one")
	}
}

func TestLoadMissing(t *testing.T) {
	if _, err := configfile.Load(filepath.Join(t.TempDir(), "nope.yaml"), locs); err == nil || !strings.Contains(err.Error(), "nope.yaml") {
		t.Errorf("Load of a missing file: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("jobs:\n  a:\n    tz: UTC\n"))
	f.Add([]byte("defaults: &d {tz: UTC}\njobs:\n  a: *d\n"))
	f.Add([]byte("jobs: {a: {out: [csv:x], schedule: '@daily', range: last 7d, catch_up: 3d}}"))
	f.Add([]byte("collect: {listen: ':8080', cassandra: 'cassandra://db/pv', accounts: [blog], cql_consistency: QUORUM, redis_prefix: live}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := configfile.Parse("f.yaml", b, locs)
		if err == nil && len(file.Jobs) == 0 {
			if _, collect := file.Collect(); !collect {
				t.Error("no error, no jobs and no collect section")
			}
		}
		var es configfile.Errors
		if err != nil && !errors.As(err, &es) {
			t.Errorf("error %T is not configfile.Errors", err)
		}
	})
}
