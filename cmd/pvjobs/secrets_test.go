package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The secrets of TestSecretsNeverShown, and every form in which a message
// could show them.
const (
	secret        = "Hunter2Secret"
	secretEscaped = "Pa%24%24w0rdX%40" // Pa$$w0rdX@, percent-encoded in a URL
)

var secretForms = []string{secret, "Pa%24%24w0rdX", "Pa$$w0rdX", `Pa\$\$w0rdX`}

// TestSecretsNeverShown feeds locations with credentials — malformed,
// unreachable and good — through every path that prints a location: flags,
// environment variables, config files (source:, out:, scheduler.lock),
// --lock, errors, debug logs, --dry-run plans, help, and the metrics file;
// no secret may appear in stdout, stderr (where the logs go) or the metrics
// file.
func TestSecretsNeverShown(t *testing.T) {
	shards := genShards(t)
	dir := t.TempDir()
	metricsFile := filepath.Join(dir, "m.prom")
	redisUnreachable := "redis://user:" + secret + "@127.0.0.1:1/0?dial_timeout=300ms&max_retries=0"
	cassUnreachable := "cassandra://u:" + secret + "@127.0.0.1:1/ks?connect-timeout=300ms&retries=1"
	malformed := map[string]string{
		"redis bad port":          "redis://user:" + secret + "@h:63x9/0",
		"redis escaped password":  "redis://user:" + secretEscaped + "@h:63x9/0",
		"rediss bad escape":       "rediss://user:" + secret + "%zz@h:6379/0",
		"redis password in query": "redis://h:6379/0?password=" + secret + "&colour=blue",
		"redis no host":           "redis://:" + secret + "@/0",
		"unknown scheme":          "ftp://u:" + secret + "@host/dir",
		"cassandra bad port":      "cassandra://u:" + secret + "@h:99999/ks",
		"cassandra bad escape":    "cassandra://h/ks?password=" + secret + "&x=%zz",
		"cassandra bad param":     "cassandra://h/ks?user=u&password=" + secretEscaped + "&page-size=none",
		"cassandra escaped":       "cassandra://u:" + secretEscaped + "@h:99999/ks",
	}
	config := func(yaml string) string {
		p := filepath.Join(t.TempDir(), "pvjobs.yaml")
		if err := os.WriteFile(p, []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	okConfig := config("jobs:\n  nightly:\n    schedule: '@daily'\n    reports: [urls]\n")
	type call struct {
		name string
		env  map[string]string
		args []string
	}
	var calls []call
	run := []string{"--log-level", "debug", "run", "--source", shards, "--jobs", "urls", "--out", "csv:" + filepath.Join(dir, "out"), "--metrics-file", metricsFile}
	for name, loc := range malformed {
		calls = append(calls,
			call{"--out " + name, nil, append(run, "--out", loc)},
			call{"--source " + name, nil, append(run, "--source", loc)},
			call{"PVJOBS_OUT " + name, map[string]string{"PVJOBS_OUT": loc}, []string{"run", "--source", shards, "--jobs", "urls"}},
			call{"PVJOBS_SOURCE " + name, map[string]string{"PVJOBS_SOURCE": loc}, []string{"run", "--jobs", "urls", "--out", "csv:" + dir}},
			call{"config out " + name, nil, []string{"run", "--config", config("jobs:\n  a:\n    out: ['" + loc + "']\n")}},
			call{"config source " + name, nil, []string{"run", "--config", config("jobs:\n  a:\n    source: '" + loc + "'\n")}},
			call{"config lock " + name, nil, []string{"schedule", "--config", config("scheduler:\n  lock: '" + loc + "'\njobs:\n  a: {schedule: '@daily'}\n")}},
			call{"--lock " + name, nil, []string{"--log-level", "debug", "schedule", "--config", okConfig, "--lock", loc}},
			call{"PVJOBS_LOCK " + name, map[string]string{"PVJOBS_LOCK": loc}, []string{"schedule", "--config", okConfig}},
			call{"uniques --redis " + name, nil, []string{"uniques", "--redis", loc, "--accounts", "blog", "--from", "2024-08-01", "--to", "2024-08-01"}},
			call{"uniques --source " + name, nil, []string{"uniques", "--source", loc, "--accounts", "blog", "--from", "2024-08-01", "--to", "2024-08-01"}},
			call{"export " + name, nil, []string{"export", "--source", loc, "--to-dir", filepath.Join(dir, "export")}},
			call{"load " + name, nil, []string{"load", "--source", shards, "--cassandra", loc}},
			call{"schema " + name, nil, []string{"schema", "--cassandra", loc}},
			call{"collect --cassandra " + name, nil, []string{"--log-level", "debug", "collect", "--cassandra", loc, "--accounts", "blog", "--listen", "127.0.0.1:0"}},
			call{"collect --live " + name, nil, []string{"--log-level", "debug", "collect", "--cassandra", "cassandra://127.0.0.1:1/ks", "--accounts", "blog", "--live", loc, "--listen", "127.0.0.1:0"}},
			call{"config collect cassandra " + name, nil, []string{"collect", "--config", config("collect:\n  cassandra: '" + loc + "'\n  accounts: [blog]\n")}},
			call{"config collect live " + name, nil, []string{"collect", "--config", config("collect:\n  cassandra: cassandra://127.0.0.1:1/ks\n  accounts: [blog]\n  live: '" + loc + "'\n")}},
		)
	}
	calls = append(calls,
		call{"redis unreachable", nil, append(run, "--out", redisUnreachable)},
		call{"cassandra unreachable", nil, append(run, "--source", cassUnreachable)},
		call{"lock unreachable", nil, []string{"--log-level", "debug", "schedule", "--config", okConfig, "--lock", redisUnreachable}},
		call{"uniques unreachable", nil, []string{"--log-level", "debug", "uniques", "--redis", redisUnreachable, "--accounts", "blog", "--from", "2024-08-01", "--to", "2024-08-01"}},
		call{"export unreachable", nil, []string{"--log-level", "debug", "export", "--source", cassUnreachable, "--to-dir", filepath.Join(dir, "export")}},
		call{"dry run", nil, append(run, "--dry-run", "--out", "redis://user:"+secret+"@127.0.0.1:6379/0", "--out", "rediss://u:"+secretEscaped+"@r:6380/0")},
		// Refused (a password in a config file), without showing it.
		call{"config job's out with a password", nil, []string{"--log-level", "debug", "run", "--dry-run", "--source", shards, "--config",
			config("jobs:\n  a:\n    reports: [urls]\n    out: ['redis://u:" + secret + "@127.0.0.1:6379/0']\n")}},
		call{"help with the URL in the environment", map[string]string{"PVJOBS_OUT": redisUnreachable, "PVJOBS_SOURCE": cassUnreachable, "PVJOBS_LOCK": redisUnreachable}, []string{"run", "--help"}},
		call{"schedule help", map[string]string{"PVJOBS_LOCK": redisUnreachable}, []string{"schedule", "--help"}},
	)
	if os.Getenv("PVJOBS_REDIS_ADDR") != "" {
		// The server refuses a user it does not know (and the test's own
		// prefix keeps anything written apart).
		_, addr, prefix := redisCLIClient(t)
		calls = append(calls, call{"redis refuses the password", nil, append(run, "--out", "redis://nosuchuser:"+secret+"@"+addr+"/0?prefix="+prefix)})
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			os.Remove(metricsFile)
			code, stdout, stderr := pvjobs(t, context.Background(), c.args...)
			metrics, _ := os.ReadFile(metricsFile)
			for _, s := range secretForms {
				for what, text := range map[string]string{"stdout": stdout, "stderr": stderr, "metrics file": string(metrics)} {
					if strings.Contains(text, s) {
						t.Errorf("exit %d: %s shows the secret %q:\n%s", code, what, s, text)
					}
				}
			}
			if strings.HasPrefix(c.name, "dry run") && (code != 0 || !strings.Contains(stdout, "xxxxx") && !strings.Contains(stdout, "redis 127.0.0.1:6379")) {
				t.Errorf("dry run: exit %d\n%s\n%s", code, stdout, stderr)
			}
			if !strings.HasPrefix(c.name, "dry run") && !strings.Contains(c.name, "help") && code == 0 {
				t.Errorf("exit 0; want a failure\n%s", stderr)
			}
		})
	}
}
