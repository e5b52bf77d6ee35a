package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/readers/cassandra/cassandratest"
	"github.com/pvjobs/pvjobs/readers/file"
)

// cassCLI runs pvjobs with args and returns its exit code and output.
func cassCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), append([]string{"pvjobs"}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

// cassMustCLI runs pvjobs and fails the test unless it exits 0.
func cassMustCLI(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := cassCLI(t, args...)
	if code != 0 {
		t.Fatalf("pvjobs %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// cassShardRows reads the rows of a shard file as [ts, value] byte strings.
func cassShardRows(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := file.NewScanner(f)
	var rows []string
	for sc.Next() {
		r := sc.Row()
		rows = append(rows, string(r.TS[:])+string(r.Value))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// cassSameFiles fails unless dirs a and b hold the same files with the same bytes.
func cassSameFiles(t *testing.T, a, b string) {
	t.Helper()
	list := func(d string) []string {
		ents, err := os.ReadDir(d)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		return names
	}
	na, nb := list(a), list(b)
	if strings.Join(na, " ") != strings.Join(nb, " ") {
		t.Fatalf("%s has %v, %s has %v", a, na, b, nb)
	}
	for _, n := range na {
		x, _ := os.ReadFile(filepath.Join(a, n))
		y, _ := os.ReadFile(filepath.Join(b, n))
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between %s and %s", n, a, b)
		}
	}
}

// TestCassandraCLI runs pvjobs against the real Cassandra of make test: schema,
// load, export (a byte-identical round trip), the same reports from shard files
// and from Cassandra, and a run whose Cassandra stops in the middle. One
// keyspace serves every step (Cassandra is slow at DDL); it is dropped at the
// end.
func TestCassandraCLI(t *testing.T) {
	addr := cassandratest.Require(t)
	ks := &cassandratest.Keyspace{Addr: addr, Name: cassandratest.KeyspaceName()}
	t.Cleanup(func() {
		if err := ks.Drop(); err != nil {
			t.Errorf("dropping %s: %v", ks.Name, err)
		}
	})
	url := ks.URL()
	tmp := t.TempDir()
	shards := filepath.Join(tmp, "shards")
	cassMustCLI(t, "gen", "--to-dir", shards, "--accounts", "blog,shop", "--from", "2024-08-01", "--to", "2024-08-03", "--rows-per-day", "2500")
	const geoip = "../../jobs/geo/testdb/test-city.mmdb"
	runArgs := []string{"run", "--from", "2024-08-01", "--to", "2024-08-03", "--tz", "Europe/Berlin", "--jobs", "all", "--geoip", geoip, "--top", "0", "--quiet"}
	fromFiles := filepath.Join(tmp, "csv-files")
	cassMustCLI(t, append(runArgs, "--source", shards, "--out", "csv:"+fromFiles)...)

	t.Run("schema", func(t *testing.T) {
		out := cassMustCLI(t, "schema", "--cassandra", url)
		for _, want := range []string{
			`CREATE KEYSPACE IF NOT EXISTS "` + ks.Name + `" WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1};`,
			`CREATE TABLE IF NOT EXISTS "` + ks.Name + `"."page_views" ("key" text, "column1" timeuuid, "value" blob, PRIMARY KEY ("key", "column1"))`,
		} {
			if !strings.Contains(out, want) {
				t.Errorf("schema printed\n%s\nwant a line containing\n%s", out, want)
			}
		}
		if code, _, errOut := cassCLI(t, "load", "--source", shards, "--cassandra", url); code != exitUsage || !strings.Contains(errOut, "pvjobs schema --apply") {
			t.Errorf("load before schema --apply: exit %d, %s; want exit 2 pointing at schema --apply", code, errOut)
		}
		cassMustCLI(t, "schema", "--cassandra", url, "--apply")
	})

	t.Run("load twice", func(t *testing.T) {
		for i := 0; i < 2; i++ {
			out := cassMustCLI(t, "load", "--source", shards, "--cassandra", url, "--quiet")
			if !regexp.MustCompile(`^loaded \d+ page views in .* from 6 shard files into cassandra://`).MatchString(out) {
				t.Errorf("load printed %q", out)
			}
		}
	})

	t.Run("export round trip", func(t *testing.T) {
		exported := filepath.Join(tmp, "exported")
		out := cassMustCLI(t, "export", "--source", url, "--to-dir", exported, "--quiet")
		if !strings.Contains(out, "in 6 shard files") {
			t.Errorf("export printed %q", out)
		}
		ents, _ := os.ReadDir(shards)
		for _, e := range ents {
			want := cassShardRows(t, filepath.Join(shards, e.Name()))
			got := cassShardRows(t, filepath.Join(exported, e.Name()))
			if len(got) != len(want) {
				t.Errorf("%s: exported %d rows, generated %d (loading twice must not duplicate)", e.Name(), len(got), len(want))
				continue
			}
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("%s: row %d differs after gen, load, export", e.Name(), i)
					break
				}
			}
		}
		cassSameFiles(t, shards, exported)
		// Named accounts and days read those partitions without a scan.
		one := filepath.Join(tmp, "exported-one")
		cassMustCLI(t, "export", "--source", url, "--to-dir", one, "--accounts", "shop,gone", "--from", "2024-08-02", "--to", "2024-08-02", "--gzip", "--quiet")
		if ents, _ := os.ReadDir(one); len(ents) != 1 || ents[0].Name() != "20240802.shop.mpk.gz" {
			t.Errorf("export of shop on 2024-08-02 wrote %v", ents)
		}
	})

	t.Run("same reports from shard files and cassandra", func(t *testing.T) {
		fromCassandra := filepath.Join(tmp, "csv-cassandra")
		cassMustCLI(t, append(runArgs, "--source", url, "--accounts", "all", "--workers", "3", "--slices", "7", "--out", "csv:"+fromCassandra)...)
		cassSameFiles(t, fromFiles, fromCassandra)
	})

	t.Run("accounts without page views", func(t *testing.T) {
		// A table cannot list its shards cheaply: the warning comes after
		// the run, from its summary.
		out := filepath.Join(tmp, "csv-nosuch")
		code, _, errOut := cassCLI(t, append(runArgs, "--source", url, "--accounts", "nosuch", "--out", "csv:"+out)...)
		if code != exitFailed || !strings.Contains(errOut, "account=nosuch") || !strings.Contains(errOut, "no page views: cassandra://") {
			t.Errorf("exit %d; want %d, a warning about nosuch and no page views:\n%s", code, exitFailed, errOut)
		}
		if ents, err := os.ReadDir(out); err == nil && len(ents) > 0 {
			t.Errorf("an empty run wrote %d files into %s", len(ents), out)
		}
		code, _, errOut = cassCLI(t, append(runArgs, "--source", url, "--accounts", "blog,nosuch", "--out", "csv:"+out)...)
		if code != exitOK || !strings.Contains(errOut, "account=nosuch") || strings.Contains(errOut, "account=blog") {
			t.Errorf("exit %d; want 0 and a warning about nosuch only:\n%s", code, errOut)
		}
	})

	t.Run("cassandra stops in the middle of a run", func(t *testing.T) {
		p, err := cassandratest.NewProxy(addr)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		out := filepath.Join(tmp, "csv-stopped")
		// The data is about 7 MB: cut the connection after 2 MB, for good.
		p.CutAfter(2 << 20)
		src := fmt.Sprintf("cassandra://%s/%s?retry-budget=500ms&retry-wait=50ms&retry-max-wait=200ms&page-size=500", p.Addr(), ks.Name)
		start := time.Now()
		code, _, errOut := cassCLI(t, append(runArgs, "--source", src, "--accounts", "blog,shop", "--out", "csv:"+out)...)
		t.Logf("failed after %s:\n%s", time.Since(start).Round(time.Millisecond), cassLastLines(errOut, 4))
		if !p.IsCut() {
			t.Fatal("the proxy was never cut: the run read less than 2 MB")
		}
		if code != exitFailed {
			t.Errorf("exit %d, want %d", code, exitFailed)
		}
		if n := strings.Count(errOut, "cassandra: retrying"); n < 3 {
			t.Errorf("%d retries logged, want at least 3 (waits of 50ms to 200ms in a budget of 500ms)", n)
		}
		failure := regexp.MustCompile(`pvjobs: run failed, no reports written: reading 2024080[123]\.(blog|shop) \[\d\d:\d\d:\d\d,\d\d:\d\d:\d\d\): giving up after \d+ attempts in \S+ \(retry budget 500ms\)`)
		if !failure.MatchString(errOut) {
			t.Errorf("stderr does not name the shard and slice that failed:\n%s", errOut)
		}
		if ents, err := os.ReadDir(out); err == nil && len(ents) > 0 {
			t.Errorf("a failed run wrote %d files into %s", len(ents), out)
		}
	})

	t.Run("a restarted node is picked up again", func(t *testing.T) {
		p, err := cassandratest.NewProxy(addr)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		out := filepath.Join(tmp, "csv-restarted")
		p.CutAfter(2 << 20)
		// The node comes back once the run has logged its first retry: it
		// has seen the outage.
		stderr := newWatchedWriter("cassandra: retrying")
		restored := make(chan error, 1)
		go func() {
			<-stderr.seen
			restored <- p.Restore()
		}()
		src := fmt.Sprintf("cassandra://%s/%s?retry-budget=1m&retry-wait=100ms&retry-max-wait=1s&page-size=500", p.Addr(), ks.Name)
		var stdout bytes.Buffer
		code := run(context.Background(), append([]string{"pvjobs"}, append(runArgs, "--source", src, "--accounts", "blog,shop", "--out", "csv:"+out)...), &stdout, stderr)
		if code != 0 {
			t.Fatalf("exit %d:\n%s", code, stderr)
		}
		select {
		case err := <-restored:
			if err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatal("no retry logged: the proxy was not cut mid-run")
		}
		cassSameFiles(t, fromFiles, out)
	})
}

// watchedWriter collects what is written to it, safe for concurrent writers,
// and closes seen once the text contains a pattern.
type watchedWriter struct {
	pattern string
	seen    chan struct{}
	mu      sync.Mutex
	buf     bytes.Buffer
	closed  bool
}

func newWatchedWriter(pattern string) *watchedWriter {
	return &watchedWriter{pattern: pattern, seen: make(chan struct{})}
}

func (w *watchedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(p)
	if !w.closed && bytes.Contains(w.buf.Bytes(), []byte(w.pattern)) {
		w.closed = true
		close(w.seen)
	}
	return n, err
}

func (w *watchedWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func cassLastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
