package main

import (
	"context"
	"slices"
	"strings"
	"testing"
)

func TestUniquesUsageErrors(t *testing.T) {
	shards := genShards(t)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no window", []string{"uniques", "--accounts", "blog", "--source", shards}, "required: --from"},
		{"neither source", []string{"uniques", "--accounts", "blog", "--from", "2024-08-01", "--to", "2024-08-02"}, "either --redis"},
		{"both sources", []string{"uniques", "--accounts", "blog", "--from", "2024-08-01", "--to", "2024-08-02", "--source", shards, "--redis", "redis://localhost:1/0"}, "either --redis"},
		{"bad account", []string{"uniques", "--accounts", "a.b", "--from", "2024-08-01", "--to", "2024-08-02", "--source", shards}, "invalid account"},
		{"all from redis", []string{"uniques", "--accounts", "all", "--from", "2024-08-01", "--to", "2024-08-02", "--redis", "redis://localhost:1/0"}, "name the accounts"},
		{"empty window", []string{"uniques", "--accounts", "blog", "--from", "2024-08-01T10:00", "--to", "2024-08-01T10:00", "--source", shards}, "empty"},
		{"unaligned", []string{"uniques", "--accounts", "blog", "--from", "2024-08-01T10:30", "--to", "2024-08-01T12:00", "--redis", "redis://localhost:1/0"}, "--uv-granularity minute"},
		{"bad tz", []string{"uniques", "--accounts", "blog", "--from", "2024-08-01", "--to", "2024-08-02", "--tz", "Mars/Base", "--source", shards}, "--tz"},
		{"bad URL", []string{"uniques", "--accounts", "blog", "--from", "2024-08-01", "--to", "2024-08-02", "--redis", "http://x"}, "redis://"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := pvjobs(t, context.Background(), tc.args...)
			if code != exitUsage || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 and %q", code, errOut, tc.want)
			}
		})
	}
}

// TestUniquesRedisAndSource writes the uniques of generated shards to Redis
// and counts windows across hour, day and month edges both from the keys and
// from the shards: the answers are equal.
func TestUniquesRedisAndSource(t *testing.T) {
	c, addr, prefix := redisCLIClient(t)
	dir := t.TempDir()
	mustPvjobs(t, "gen", "--to-dir", dir, "--accounts", "blog,shop", "--from", "2024-07-30", "--to", "2024-08-02", "--rows-per-day", "2000")
	url := "redis://" + addr + "/0?prefix=" + prefix
	for _, tz := range []string{"UTC", "Asia/Kolkata"} {
		t.Run(tz, func(t *testing.T) {
			if keys := redisKeys(t, c, prefix+":*"); len(keys) > 0 {
				c.Del(context.Background(), keys...)
			}
			mustPvjobs(t, "run", "--source", dir, "--from", "2024-07-30", "--to", "2024-08-02", "--tz", tz, "--jobs", "uniques",
				"--quiet", "--out", url, "--uv-granularity", "minute")
			for _, w := range []struct{ from, to string }{
				{"2024-07-30", "2024-08-02"},
				{"2024-07-31T18:00", "2024-08-02T06:30"},
				{"2024-07-31T23:59", "2024-08-01T00:01"},
				{"2024-07-30T05:00", "2024-07-30T06:00"},
				{"2024-08-01", "2024-08-01"},
			} {
				fromRedis := mustPvjobs(t, "uniques", "--redis", url, "--accounts", "blog,shop", "--from", w.from, "--to", w.to,
					"--tz", tz, "--uv-granularity", "minute")
				fromSource := mustPvjobs(t, "uniques", "--source", dir, "--accounts", "blog,shop", "--from", w.from, "--to", w.to, "--tz", tz)
				if fromRedis != fromSource {
					t.Errorf("window %s to %s: Redis says\n%sthe shards say\n%s", w.from, w.to, fromRedis, fromSource)
				}
				if !strings.HasPrefix(fromRedis, "blog\t") || strings.Count(fromRedis, "\n") != 2 {
					t.Errorf("output %q, want a line per account", fromRedis)
				}
			}
			out := mustPvjobs(t, "uniques", "--redis", url, "--accounts", "blog", "--from", "2024-07-31T18:00", "--to", "2024-08-02T06:30",
				"--tz", tz, "--uv-granularity", "minute", "-v")
			lines := strings.Split(strings.TrimSpace(out), "\n")
			want := []string{"  " + prefix + ":{blog}:uv:2024073118", "  " + prefix + ":{blog}:uv:20240801", "  " + prefix + ":{blog}:uv:202408020629"}
			for _, k := range want {
				if !slices.Contains(lines, k) {
					t.Errorf("-v does not list %s:\n%s", k, out)
				}
			}
			if n := len(lines) - 2; n != 6+1+6+30 {
				t.Errorf("-v lists %d keys, want 43", n)
			}
		})
	}
}

// TestUniquesFallBack counts windows around the Europe/Berlin fall-back of
// 2024-10-27, whose 02:00 hour is there twice, from Redis and from shards.
func TestUniquesFallBack(t *testing.T) {
	c, addr, prefix := redisCLIClient(t)
	dir := t.TempDir()
	mustPvjobs(t, "gen", "--to-dir", dir, "--accounts", "blog", "--from", "2024-10-26", "--to", "2024-10-28", "--rows-per-day", "3000")
	url := "redis://" + addr + "/0?prefix=" + prefix
	mustPvjobs(t, "run", "--source", dir, "--from", "2024-10-26", "--to", "2024-10-27", "--tz", "Europe/Berlin", "--jobs", "uniques",
		"--quiet", "--out", url)
	for _, k := range []string{"2024102702", "2024102702+0100", "2024102703"} {
		if c.Exists(context.Background(), prefix+":{blog}:uv:"+k).Val() != 1 {
			t.Errorf("no key for hour %s", k)
		}
	}
	for _, w := range []struct {
		from, to string
		keys     int
	}{
		{"2024-10-27T01:00", "2024-10-27T04:00", 4},
		{"2024-10-26T22:00", "2024-10-28T00:00", 3},
		{"2024-10-26", "2024-10-27", 2},
	} {
		fromRedis := mustPvjobs(t, "uniques", "--redis", url, "--accounts", "blog", "--from", w.from, "--to", w.to, "--tz", "Europe/Berlin", "-v")
		fromSource := mustPvjobs(t, "uniques", "--source", dir, "--accounts", "blog", "--from", w.from, "--to", w.to, "--tz", "Europe/Berlin")
		first, _, _ := strings.Cut(fromRedis, "\n")
		if first+"\n" != fromSource {
			t.Errorf("window %s to %s: Redis says %q, the shards say %q", w.from, w.to, first, fromSource)
		}
		if n := strings.Count(fromRedis, "\n  "+prefix); n != w.keys {
			t.Errorf("window %s to %s: %d keys, want %d:\n%s", w.from, w.to, n, w.keys, fromRedis)
		}
	}
}
