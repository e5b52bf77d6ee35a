package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/sharding"
)

// TestKubernetesManifests checks the example manifests of
// testdata/kubernetes: each shard Job is Indexed, with more completions
// than pods at once, a retry limit per index, and PVJOBS_SHARD_COUNT equal
// to its completions; and pvjobs takes every container's arguments (each
// shard's as a dry run, with the cluster's paths replaced by local ones).
func TestKubernetesManifests(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "kubernetes", "*.yaml"))
	if len(files) < 2 {
		t.Fatalf("manifests: %v", files)
	}
	shards := t.TempDir()
	mustPvjobs(t, "gen", "--to-dir", shards, "--accounts", "blog,bigsite", "--from", "2024-08-01", "--to", "2024-08-02", "--rows-per-day", "10")
	tmp := t.TempDir()
	local := strings.NewReplacer(
		"/etc/pvjobs/pvjobs.yaml", filepath.Join("..", "..", "testdata", "config", "pvjobs.yaml"),
		"cassandra://cassandra-0.cassandra,cassandra-1.cassandra/pv", shards,
		"/geoip/GeoLite2-City.mmdb", filepath.Join("..", "..", "jobs", "geo", "testdb", "test-city.mmdb"),
		"/reports", filepath.Join(tmp, "reports"),
		"/partials", filepath.Join(tmp, "partials"),
	)
	indexed, merges := 0, 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(strings.NewReader(string(b)))
		for {
			var doc struct {
				Kind     string
				Metadata struct{ Name string }
				Spec     struct {
					JobTemplate struct {
						Spec struct {
							CompletionMode       string `yaml:"completionMode"`
							Completions          int
							Parallelism          int
							BackoffLimitPerIndex *int `yaml:"backoffLimitPerIndex"`
							Template             struct {
								Spec struct {
									Containers []struct {
										Args []string
										Env  []struct{ Name, Value string }
									}
								}
							}
						}
					} `yaml:"jobTemplate"`
				}
			}
			if err := dec.Decode(&doc); err != nil {
				if err.Error() == "EOF" {
					break
				}
				t.Fatalf("%s: %v", f, err)
			}
			if doc.Kind != "CronJob" {
				continue
			}
			js := doc.Spec.JobTemplate.Spec
			name := filepath.Base(f) + " " + doc.Metadata.Name
			for _, c := range js.Template.Spec.Containers {
				env := map[string]string{}
				for _, e := range c.Env {
					env[e.Name] = e.Value
				}
				args := make([]string, len(c.Args))
				for i, a := range c.Args {
					args[i] = local.Replace(a)
				}
				if js.CompletionMode == "Indexed" {
					indexed++
					if js.Completions <= js.Parallelism || js.BackoffLimitPerIndex == nil {
						t.Errorf("%s: completions %d, parallelism %d, backoffLimitPerIndex %v: want more completions than pods at once and a retry limit per index",
							name, js.Completions, js.Parallelism, js.BackoffLimitPerIndex)
					}
					if env["PVJOBS_SHARD_COUNT"] != strconv.Itoa(js.Completions) {
						t.Errorf("%s: PVJOBS_SHARD_COUNT %q, completions %d", name, env["PVJOBS_SHARD_COUNT"], js.Completions)
					}
					// The shard of an account of the config's sample source
					// (for shards by account), or the first (by day).
					index := sharding.Of("blog", js.Completions)
					if slices.Contains(args, "--shard-by=day") {
						index = 0
					}
					t.Setenv("JOB_COMPLETION_INDEX", strconv.Itoa(index))
					t.Setenv("PVJOBS_SHARD_COUNT", env["PVJOBS_SHARD_COUNT"])
					code, stdout, stderr := pvjobs(t, context.Background(), append(args, "--dry-run", "--now", "2024-08-03T02:30:00+02:00")...)
					if want := fmt.Sprintf("shard     %d of %d", index, js.Completions); code != 0 || !strings.Contains(stdout, want) {
						t.Errorf("%s: pvjobs %s: exit %d\n%s%s", name, strings.Join(args, " "), code, stdout, stderr)
					}
					os.Unsetenv("JOB_COMPLETION_INDEX")
					continue
				}
				if args[0] == "merge" {
					merges++
					// No partial results yet: the arguments parse and
					// merge names what is missing.
					code, _, stderr := pvjobs(t, context.Background(), args...)
					if code != exitUsage || !strings.Contains(stderr, "--partials") || strings.Contains(stderr, "flag provided but not defined") {
						t.Errorf("%s: pvjobs %s: exit %d, %s", name, strings.Join(args, " "), code, stderr)
					}
				}
			}
		}
	}
	if indexed != 2 || merges != 1 {
		t.Errorf("%d Indexed Jobs and %d merges checked; want 2 and 1", indexed, merges)
	}
}
