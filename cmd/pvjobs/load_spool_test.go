package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/cassandra"
	"github.com/pvjobs/pvjobs/readers/cassandra/cassandratest"
	"github.com/pvjobs/pvjobs/readers/collector"
	"github.com/pvjobs/pvjobs/readers/file"
)

// makeSpool lays generated shard files out as a collector's spool:
// segment 1 holds 2024-08-01 of blog and shop, segment 2 2024-08-02 of both
// and 2024-08-03 of shop, segment 3 2024-08-03 of blog alone. It returns
// the spool and the rows of each shard.
func makeSpool(t *testing.T) (spool string, rows map[string]int) {
	t.Helper()
	shards := genShards(t)
	spool = filepath.Join(t.TempDir(), "spool")
	layout := map[string][]string{
		"seg-000000000001": {"20240801.blog", "20240801.shop"},
		"seg-000000000002": {"20240802.blog", "20240802.shop", "20240803.shop"},
		"seg-000000000003": {"20240803.blog"},
	}
	rows = map[string]int{}
	for seg, keys := range layout {
		if err := os.MkdirAll(filepath.Join(spool, seg), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			name := k + file.Ext
			if err := os.Rename(filepath.Join(shards, name), filepath.Join(spool, seg, name)); err != nil {
				t.Fatal(err)
			}
			rows[k] = countFileRows(t, filepath.Join(spool, seg, name))
		}
	}
	return spool, rows
}

// countFileRows counts the rows of a shard file.
func countFileRows(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := file.NewScanner(f)
	n := 0
	for sc.Next() {
		n++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}

// spoolFiles lists the shard files of a spool, as segment/name.
func spoolFiles(t *testing.T, spool string) []string {
	t.Helper()
	segs, err := collector.SpoolSegments(spool)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, seg := range segs {
		ents, err := os.ReadDir(seg)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			out = append(out, filepath.Base(seg)+"/"+e.Name())
		}
	}
	return out
}

// cassandraRows counts the rows of each shard key in Cassandra.
func cassandraRows(t *testing.T, ks *cassandratest.Keyspace, keys []string) map[string]int {
	t.Helper()
	tbl, err := cassandra.Open(context.Background(), ks.Config())
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Close()
	out := map[string]int{}
	for _, k := range keys {
		key, err := mapreduce.ParseShardKey(k)
		if err != nil {
			t.Fatal(err)
		}
		err = tbl.ReadPartition(context.Background(), key, func(*mapreduce.Row) error { out[k]++; return nil })
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestLoadSpool: pvjobs load of a collector's spool removes the shard files
// it loaded once Cassandra has them — those of the accounts and days asked
// for, and the segments left empty — so that a collector started on the
// spool does not replay them; nothing when the load fails, when the spool is
// in use, or with --keep-spool.
func TestLoadSpool(t *testing.T) {
	addr := cassandratest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ks, err := cassandratest.NewKeyspace(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Drop()
	spool, rows := makeSpool(t)
	all := spoolFiles(t, spool)
	keys := make([]string, 0, len(rows))
	for k := range rows {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	wantFiles := func(what string, want []string) {
		t.Helper()
		if got := spoolFiles(t, spool); !slices.Equal(got, want) {
			t.Errorf("%s: the spool holds\n%v\nwant\n%v", what, got, want)
		}
	}

	// In use by a collector: refused, nothing loaded or removed.
	unlock, err := collector.LockSpool(spool)
	if err != nil {
		t.Fatal(err)
	}
	code, _, stderr := pvjobs(t, ctx, "load", "--source", spool, "--cassandra", ks.URL(), "--quiet")
	unlock()
	if code != exitUsage || !strings.Contains(stderr, "in use") {
		t.Errorf("load of a spool in use: exit %d\n%s", code, stderr)
	}
	wantFiles("after a refused load", all)

	// Cassandra unreachable: the load fails, nothing is removed.
	code, _, stderr = pvjobs(t, ctx, "load", "--source", spool, "--cassandra", "cassandra://"+freeAddr(t)+"/"+ks.Name+"?connect-timeout=1s&retries=1", "--quiet")
	if code == 0 {
		t.Errorf("load into an unreachable Cassandra: exit 0\n%s", stderr)
	}
	wantFiles("after a failed load", all)

	// --keep-spool: loaded, kept.
	out := mustPvjobs(t, "load", "--source", spool, "--cassandra", ks.URL(), "--quiet", "--accounts", "shop", "--keep-spool")
	if !strings.Contains(out, "kept the spool's shard files") {
		t.Errorf("load --keep-spool: %s", out)
	}
	wantFiles("after load --keep-spool", all)

	// One account: its files go, the other's stay; segment 3 held blog's
	// alone and goes with them.
	out = mustPvjobs(t, "load", "--source", spool, "--cassandra", ks.URL(), "--quiet", "--accounts", "blog")
	if !strings.Contains(out, "removed 3 loaded shard files and 1 emptied segments") {
		t.Errorf("load --accounts blog: %s", out)
	}
	wantFiles("after loading blog", []string{
		"seg-000000000001/20240801.shop.mpk", "seg-000000000002/20240802.shop.mpk", "seg-000000000002/20240803.shop.mpk"})

	// The rest: the spool is empty but for its lock file, and a collector
	// started on it has nothing to replay.
	out = mustPvjobs(t, "load", "--source", spool, "--cassandra", ks.URL(), "--quiet")
	if !strings.Contains(out, "removed 3 loaded shard files and 2 emptied segments") {
		t.Errorf("load of the rest: %s", out)
	}
	wantFiles("after loading the rest", nil)
	ents, _ := os.ReadDir(spool)
	if len(ents) != 1 || ents[0].Name() != "LOCK" {
		t.Errorf("the spool holds %v, want its LOCK alone", ents)
	}
	// Every row is in Cassandra once (shop's were loaded twice: the same
	// cells).
	got := cassandraRows(t, ks, keys)
	for _, k := range keys {
		if got[k] != rows[k] {
			t.Errorf("%s: %d rows in Cassandra, %d in the spool", k, got[k], rows[k])
		}
	}
	// Loading the empty spool again is loading an empty directory.
	if code, _, stderr := pvjobs(t, ctx, "load", "--source", spool, "--cassandra", ks.URL(), "--quiet"); code != exitUsage || !strings.Contains(stderr, "no shard files") {
		t.Errorf("load of an emptied spool: exit %d\n%s", code, stderr)
	}
}

// TestLoadSpoolFailsMidway: a load that fails after some shards are in
// Cassandra (a shard file cut inside a row) removes nothing.
func TestLoadSpoolFailsMidway(t *testing.T) {
	addr := cassandratest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ks, err := cassandratest.NewKeyspace(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Drop()
	spool, _ := makeSpool(t)
	torn := filepath.Join(spool, "seg-000000000003", "20240803.blog.mpk")
	st, err := os.Stat(torn)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(torn, st.Size()-3); err != nil {
		t.Fatal(err)
	}
	all := spoolFiles(t, spool)
	code, _, stderr := pvjobs(t, ctx, "load", "--source", spool, "--cassandra", ks.URL(), "--quiet")
	if code == 0 || !strings.Contains(stderr, "load stopped") {
		t.Errorf("load of a spool with a torn file: exit %d\n%s", code, stderr)
	}
	if got := spoolFiles(t, spool); !slices.Equal(got, all) {
		t.Errorf("after a failed load the spool holds\n%v\nwant\n%v", got, all)
	}
}
