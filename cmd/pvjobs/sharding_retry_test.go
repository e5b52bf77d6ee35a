package main

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/sharding"
	"github.com/pvjobs/pvjobs/reports/partials"
)

// retryCase is a small run of five accounts over three days, its
// unsharded reference outputs, and a copy of its shard files in which one
// file of the day 2024-08-02 of account broken is cut short: a run that
// reads it fails.
type retryCase struct {
	args           []string
	good, bad      string
	ref            string
	broken         string
	redisOuts      func(name string) []string
	redisValuesOf  func(name string) map[string]string
	refKeys        map[string]string
	brokenShard, n int
}

func newRetryCase(t *testing.T) *retryCase {
	t.Helper()
	accounts := []string{"blog", "shop", "news", "docs", "forum"}
	rc := &retryCase{good: t.TempDir(), n: 3}
	mustPvjobs(t, "gen", "--to-dir", rc.good, "--accounts", strings.Join(accounts, ","), "--from", "2024-08-01", "--to", "2024-08-03", "--rows-per-day", "80")
	rc.args = []string{"run", "--accounts", strings.Join(accounts, ","), "--from", "2024-08-01", "--to", "2024-08-03",
		"--jobs", "urls,entrypages,visits,uniques,devices", "--max-bad-rows", "0", "--quiet", "--csv-pattern", "{report}-{account}.csv"}
	// The account whose file breaks is in shard 1 of 3.
	for _, a := range accounts {
		if sharding.Of(a, rc.n) == 1 {
			rc.broken = a
			break
		}
	}
	rc.brokenShard = 1
	rc.bad = copyDir(t, rc.good)
	path := filepath.Join(rc.bad, "20240802."+rc.broken+".mpk")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b[:len(b)-7], 0o644); err != nil {
		t.Fatal(err)
	}
	c, addr := shardTestRedis(t)
	prefixes := map[string]string{}
	rc.redisOuts = func(name string) []string {
		if c == nil {
			return nil
		}
		if prefixes[name] == "" {
			prefixes[name] = redisPrefix(t, c, name)
		}
		return []string{"--out", "redis://" + addr + "/0?prefix=" + prefixes[name]}
	}
	rc.redisValuesOf = func(name string) map[string]string {
		if c == nil {
			return nil
		}
		return redisValues(t, c, prefixes[name])
	}
	rc.ref = filepath.Join(t.TempDir(), "ref")
	mustPvjobs(t, rc.run(rc.good, "ref", rc.ref)...)
	rc.refKeys = rc.redisValuesOf("ref")
	return rc
}

// run returns the arguments of a run over source with CSV files in dir and
// Redis keys under the prefix of name.
func (rc *retryCase) run(source, name, dir string, more ...string) []string {
	return slices.Concat(rc.args, []string{"--source", source, "--out", "csv:" + dir}, rc.redisOuts(name), more)
}

func (rc *retryCase) same(t *testing.T, name, dir string) {
	t.Helper()
	cassSameFiles(t, rc.ref, dir)
	if rc.refKeys != nil {
		sameValues(t, name, rc.redisValuesOf(name), rc.refKeys)
	}
}

// TestShardFailsAndRetries: a shard that fails writes nothing of its own
// (its accounts' files and keys, or its partial results) and leaves every
// other shard's output as it is; retried, and run once more (a Kubernetes
// retry of a shard that had succeeded), the outputs are exactly those of
// one unsharded run.
func TestShardFailsAndRetries(t *testing.T) {
	rc := newRetryCase(t)
	t.Run("by account", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "out")
		for i := range rc.n {
			src := rc.good
			if i == rc.brokenShard {
				src = rc.bad
			}
			args := rc.run(src, "acct", dir, "--shard", fmt.Sprintf("%d/%d", i, rc.n))
			code, _, stderr := pvjobs(t, context.Background(), args...)
			if i != rc.brokenShard {
				if code != 0 {
					t.Fatalf("shard %d: exit %d: %s", i, code, stderr)
				}
				continue
			}
			if code != 1 || !strings.Contains(stderr, "no reports written") || !strings.Contains(stderr, "20240802."+rc.broken) {
				t.Fatalf("the broken shard: exit %d, %s", code, stderr)
			}
		}
		for _, n := range dirNames(t, dir) {
			if strings.Contains(n, "-"+rc.broken+".") || strings.HasPrefix(n, ".") {
				t.Errorf("the failed shard left %s", n)
			}
		}
		if keys := rc.redisValuesOf("acct"); keys != nil {
			for k := range keys {
				if strings.Contains(k, "{"+rc.broken+"}") {
					t.Errorf("the failed shard left the key %s", k)
				}
			}
		}
		for range 2 { // the retry, then the same shard again
			mustPvjobs(t, rc.run(rc.good, "acct", dir, "--shard", fmt.Sprintf("%d/%d", rc.brokenShard, rc.n))...)
			rc.same(t, "acct", dir)
		}
	})
	t.Run("by day", func(t *testing.T) {
		parts, dir := t.TempDir(), filepath.Join(t.TempDir(), "out")
		merge := func(extra ...string) (int, string) {
			code, _, stderr := pvjobs(t, context.Background(), slices.Concat([]string{"merge", "--partials", parts, "--quiet",
				"--out", "csv:" + dir, "--csv-pattern", "{report}-{account}.csv"}, rc.redisOuts("day"), extra)...)
			return code, stderr
		}
		shard := func(i int, src, into string) (int, string) {
			code, _, stderr := pvjobs(t, context.Background(), slices.Concat(rc.args, []string{"--source", src,
				"--shard", fmt.Sprintf("%d/%d", i, rc.n), "--shard-by", "day", "--partials", into})...)
			return code, stderr
		}
		for i := range rc.n {
			src := rc.good
			if i == rc.brokenShard {
				src = rc.bad
			}
			code, stderr := shard(i, src, parts)
			if (code == 0) == (i == rc.brokenShard) {
				t.Fatalf("shard %d: exit %d: %s", i, code, stderr)
			}
		}
		if names := dirNames(t, parts); !slices.Equal(names, []string{partials.Name(0, 3), partials.Name(2, 3)}) {
			t.Errorf("partials after a failed shard: %v", names)
		}
		code, stderr := merge()
		if want := "no partial result holds 2024-08-02: shard 1 of 3 (shard-0001-of-0003.pvpart) is missing or failed"; code != 1 || !strings.Contains(stderr, want) {
			t.Errorf("merge without shard 1: exit %d, %s; want exit 1 and %q", code, stderr, want)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("a refused merge wrote %s", dir)
		}
		if code, stderr := shard(rc.brokenShard, rc.good, parts); code != 0 {
			t.Fatalf("retry: %s", stderr)
		}
		if code, stderr := merge(); code != 0 {
			t.Fatalf("merge: %s", stderr)
		}
		rc.same(t, "day", dir)
		// Shard 1 runs again: into the same directory (its file replaced),
		// and into another that merge reads too (two copies of its days).
		again := t.TempDir()
		for _, into := range []string{parts, again} {
			if code, stderr := shard(rc.brokenShard, rc.good, into); code != 0 {
				t.Fatalf("again: %s", stderr)
			}
		}
		code, stderr = merge("--partials", again)
		if code != 0 || !strings.Contains(stderr, "one copy merged") {
			t.Fatalf("merge of a shard run twice: exit %d, %s", code, stderr)
		}
		rc.same(t, "day", dir)
	})
}

// rewriteVersion returns a copy of a partial-result file that says it is
// of format version v, with a valid checksum.
func rewriteVersion(t *testing.T, src, dst string, v uint16) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	binary.BigEndian.PutUint16(b[8:], v)
	sum := sha256.Sum256(b[:len(b)-32])
	copy(b[len(b)-32:], sum[:])
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestMergeRefuses: merge refuses, naming the files and what is wrong with
// them, partial results that are cut short, corrupt, of another format
// version, of another pvjobs version, of another run (another time zone,
// another run id), of days another shard holds, or that leave a day out;
// it writes nothing then.
func TestMergeRefuses(t *testing.T) {
	rc := newRetryCase(t)
	shard := func(i, n int, into string, more ...string) {
		t.Helper()
		mustPvjobs(t, slices.Concat(rc.args, []string{"--source", rc.good, "--shard", fmt.Sprintf("%d/%d", i, n), "--shard-by", "day", "--partials", into}, more)...)
	}
	good := t.TempDir()
	for i := range 3 {
		shard(i, 3, good)
	}
	file := func(i int) string { return filepath.Join(good, partials.Name(i, 3)) }
	// withFile returns a directory holding the good files, file i replaced
	// by what write puts at its path.
	withFile := func(i int, write func(path string)) string {
		dir := copyDir(t, good)
		write(filepath.Join(dir, partials.Name(i, 3)))
		return dir
	}
	content := func(i int) []byte {
		b, err := os.ReadFile(file(i))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	otherVersion := t.TempDir()
	func() {
		defer func(v string) { version = v }(version)
		version = "v9.9.9-test"
		shard(1, 3, otherVersion)
	}()
	otherTZ, otherID, twoShards := t.TempDir(), t.TempDir(), t.TempDir()
	shard(1, 3, otherTZ, "--tz", "Europe/Berlin")
	shard(1, 3, otherID, "--run-id", "nightly-2024-08-04")
	shard(1, 2, twoShards) // days 2024-08-02 and 03
	cases := []struct {
		name  string
		paths []string
		want  []string
	}{
		{"cut short", []string{withFile(1, func(p string) { os.WriteFile(p, content(1)[:len(content(1))/2], 0o644) })},
			[]string{partials.Name(1, 3) + ": partial-result file cut short"}},
		{"a flipped byte", []string{withFile(2, func(p string) {
			b := content(2)
			b[len(b)/2] ^= 1
			os.WriteFile(p, b, 0o644)
		})}, []string{partials.Name(2, 3) + ": partial-result file corrupt (checksum mismatch)"}},
		{"another format version", []string{withFile(0, func(p string) { rewriteVersion(t, file(0), p, partials.FormatVersion+1) })},
			[]string{partials.Name(0, 3) + fmt.Sprintf(": format version %d; this pvjobs reads version %d", partials.FormatVersion+1, partials.FormatVersion)}},
		{"another pvjobs", []string{otherVersion}, []string{"written by pvjobs v9.9.9-test, this is pvjobs dev"}},
		{"another time zone", []string{good, otherTZ}, []string{"2 different runs", "in Europe/Berlin", "in UTC", filepath.Join(otherTZ, partials.Name(1, 3))}},
		{"another run id", []string{good, otherID}, []string{"2 different runs", "run id nightly-2024-08-04"}},
		{"overlapping days", []string{good, twoShards}, []string{"(shard 1 of 2) both hold 2024-08-02", "(shard 2 of 3)"}},
		{"a day left out", []string{file(0), file(2)}, []string{"no partial result holds 2024-08-02: shard 1 of 3"}},
		{"not a partial", []string{withFile(1, func(p string) { os.WriteFile(p, []byte("account,period\n"), 0o644) })},
			[]string{partials.Name(1, 3) + ": not a pvjobs partial-result file"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			args := []string{"merge", "--out", "csv:" + out, "--csv-pattern", "{report}-{account}.csv"}
			for _, p := range tc.paths {
				args = append(args, "--partials", p)
			}
			code, _, stderr := pvjobs(t, context.Background(), args...)
			if code != 1 {
				t.Errorf("exit %d, want 1: %s", code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("a refused merge wrote %s", out)
			}
		})
	}
	// A merge that names its range refuses partial results of another.
	out := filepath.Join(t.TempDir(), "out")
	code, _, stderr := pvjobs(t, context.Background(), "merge", "--partials", good, "--out", "csv:"+out, "--csv-pattern", "{report}-{account}.csv",
		"--from", "2024-08-02", "--to", "2024-08-03")
	if want := "not of the range asked, 2024-08-02T00:00:00Z to 2024-08-04T00:00:00Z in UTC"; code != 1 || !strings.Contains(stderr, want) {
		t.Errorf("merge of another range: exit %d, %s; want %q", code, stderr, want)
	}
	code, _, stderr = pvjobs(t, context.Background(), "merge", "--partials", good, "--out", "csv:"+out, "--csv-pattern", "{report}-{account}.csv",
		"--from", "2024-08-01", "--to", "2024-08-03", "--tz", "Europe/Berlin")
	if want := "give --tz UTC"; code != 1 || !strings.Contains(stderr, want) {
		t.Errorf("merge in another time zone: exit %d, %s; want %q", code, stderr, want)
	}
	// The good files merge, with their range named or not.
	mustPvjobs(t, "merge", "--partials", good, "--out", "csv:"+out, "--csv-pattern", "{report}-{account}.csv", "--quiet", "--from", "2024-08-01", "--to", "2024-08-03")
	cassSameFiles(t, rc.ref, out)
	out = filepath.Join(t.TempDir(), "out")
	mustPvjobs(t, "merge", "--partials", good, "--out", "csv:"+out, "--csv-pattern", "{report}-{account}.csv", "--quiet")
	cassSameFiles(t, rc.ref, out)
}

// TestShardUsage: shard flags that do not fit are refused before anything
// is read (exit 2), saying why.
func TestShardUsage(t *testing.T) {
	shards := t.TempDir()
	mustPvjobs(t, "gen", "--to-dir", shards, "--accounts", "blog,shop", "--from", "2024-08-01", "--to", "2024-08-01", "--rows-per-day", "20")
	dir := t.TempDir()
	badList := filepath.Join(dir, "accounts.txt")
	os.WriteFile(badList, []byte("blog\n# a comment\nshop, a.b\n"), 0o644)
	run := []string{"run", "--source", shards, "--out", "csv:" + filepath.Join(dir, "out")}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		msg  string
	}{
		{"I = N", nil, with(run, "--shard", "3/3"), "want 0 to 2"},
		{"not I/N", nil, with(run, "--shard", "three"), "want I/N"},
		{"by day without --partials", nil, with(run, "--shard", "0/2", "--shard-by", "day"), "give --partials DIR"},
		{"--partials by account", nil, with(run, "--shard", "0/2", "--partials", dir), "only a run cut by days"},
		{"--out by day", nil, with(run, "--shard", "0/2", "--shard-by", "day", "--partials", dir), "give the outputs to pvjobs merge"},
		{"unknown --shard-by", nil, with(run, "--shard", "0/2", "--shard-by", "week"), "want account or day"},
		{"index without a count", map[string]string{"JOB_COMPLETION_INDEX": "1"}, run, "PVJOBS_SHARD_COUNT"},
		{"count without an index", nil, with(run, "--shard-count", "3"), "without --shard or JOB_COMPLETION_INDEX"},
		{"pattern without {account}", nil, with(run, "--shard", "0/2"), "put {account} in the pattern"},
		{"--run-id by account", nil, with(run, "--run-id", "x", "--shard", "0/2", "--csv-pattern", "{report}-{account}.csv"), "--run-id"},
		{"--partials not a directory", nil, []string{"run", "--source", shards, "--partials", badList}, "is not a directory"},
		{"accounts file missing", nil, with(run, "--accounts", "@"+filepath.Join(dir, "nope.txt")), "--accounts @"},
		{"accounts file with a bad id", nil, with(run, "--accounts", "@"+badList), "accounts.txt:3: invalid account id"},
		{"merge without --partials", nil, []string{"merge"}, "partials"},
		{"merge of an empty directory", nil, []string{"merge", "--partials", t.TempDir()}, "no partial-result files"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			code, _, stderr := pvjobs(t, context.Background(), tc.args...)
			if code != exitUsage || !strings.Contains(stderr, tc.msg) {
				t.Errorf("exit %d, %q; want exit 2 and %q", code, stderr, tc.msg)
			}
		})
	}
	if names := dirNames(t, dir); !slices.Equal(names, []string{"accounts.txt"}) {
		t.Errorf("usage errors left %v", names)
	}
}

// TestShardKubernetes: in an Indexed Job, JOB_COMPLETION_INDEX and
// PVJOBS_SHARD_COUNT pick the shard; pvjobs accounts resolves --accounts
// all once into a file that every shard reads with --accounts @FILE.
func TestShardKubernetes(t *testing.T) {
	shards := t.TempDir()
	mustPvjobs(t, "gen", "--to-dir", shards, "--accounts", "blog,shop,news,docs", "--from", "2024-08-01", "--to", "2024-08-02", "--rows-per-day", "30")
	list := mustPvjobs(t, "accounts", "--source", shards)
	if !strings.HasSuffix(list, "blog\ndocs\nnews\nshop\n") || !strings.HasPrefix(list, "# 2024-08-01T00:00:00Z to 2024-08-03T00:00:00Z (UTC), 4 accounts\n") {
		t.Errorf("pvjobs accounts printed %q", list)
	}
	file := filepath.Join(t.TempDir(), "accounts.txt")
	if err := os.WriteFile(file, []byte(list), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("JOB_COMPLETION_INDEX", "1")
	t.Setenv("PVJOBS_SHARD_COUNT", "3")
	out := mustPvjobs(t, "run", "--source", shards, "--accounts", "@"+file, "--dry-run", "--csv-pattern", "{report}-{account}.csv")
	want := (sharding.Spec{Index: 1, Count: 3}).Accounts([]string{"blog", "docs", "news", "shop"})
	if !strings.Contains(out, "shard     1 of 3 by account") || !strings.Contains(out, "accounts  "+strings.Join(want, ", ")+"\n") {
		t.Errorf("dry run of shard 1 of 3:\n%s\nwant accounts %v", out, want)
	}
	if got := mustPvjobs(t, "accounts", "--source", shards, "--accounts", "@"+file); !strings.HasSuffix(got, strings.Join(want, "\n")+"\n") {
		t.Errorf("pvjobs accounts of shard 1 of 3: %q, want %v", got, want)
	}
}
