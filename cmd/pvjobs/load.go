package main

import (
	"fmt"
	"math"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/options"
	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/collector"
	"github.com/pvjobs/pvjobs/readers/file"
	"github.com/urfave/cli/v2"
	"golang.org/x/sync/errgroup"
)

// allTime is a work item range that every row of a shard file falls in, so
// load copies rows whatever their time.
var (
	allStart = time.Unix(0, math.MinInt64)
	allEnd   = time.Unix(0, math.MaxInt64)
)

func loadCommand() *cli.Command {
	return &cli.Command{
		Name:      "load",
		Usage:     "write shard files into a Cassandra table (idempotent: loading twice stores each page view once)",
		UsageText: "pvjobs load --source DIR --cassandra cassandra://host[:port]/keyspace [--accounts a,b|all] [--from YYYY-MM-DD] [--to YYYY-MM-DD]",
		Description: "Each shard file YYYYMMDD.account.mpk[.gz] becomes the partition of that key: every row\n" +
			"is written under its timeuuid, in unlogged batches of one partition (--cql-batch-rows),\n" +
			"--cql-concurrency shards and batches at a time. The table must exist: see 'pvjobs schema'.\n\n" +
			"A collector's spool (pvjobs collect --spool) is loaded segment by segment, locked against a\n" +
			"running collector; once Cassandra has them, the loaded shard files are removed from it (not\n" +
			"with --keep-spool), so that the next collector does not replay them.\n\n" +
			"Example:\n  pvjobs schema --cassandra cassandra://127.0.0.1/pvjobs --apply\n" +
			"  pvjobs load --source ./shards --cassandra cassandra://127.0.0.1/pvjobs",
		Flags:  options.Flags(options.Load),
		Action: loadAction,
	}
}

func loadAction(c *cli.Context) error {
	if c.NArg() > 0 {
		return usagef("load: unexpected argument %q", c.Args().First())
	}
	ctx := c.Context
	v, err := resolve(options.Load, c, nil)
	if err != nil {
		return err
	}
	filter, err := newShardFilter(v.Accounts, v.From, v.To)
	if err != nil {
		return err
	}
	// A collector's spool (pvjobs collect --spool) is a directory of
	// segments, each a directory of shard files: load them all.
	dirs, spool, unlock, err := spoolSources(v.Source)
	if err != nil {
		return err
	}
	defer unlock()
	type shard struct {
		src *file.Source
		key mapreduce.ShardKey
	}
	var loadedFiles []string // the shard files of a spool's segments that are loaded
	var keys []shard
	total := 0
	for _, dir := range dirs {
		src, err := file.Open(dir)
		if err != nil {
			return usagef("--source: %v", err)
		}
		all, err := src.Shards()
		if err != nil {
			return err
		}
		total += len(all)
		var kept []mapreduce.ShardKey
		for _, k := range all {
			if filter.keep(k) {
				kept = append(kept, k)
				keys = append(keys, shard{src, k})
			}
		}
		if len(kept) == 0 {
			continue
		}
		names, err := src.Files(ctx, kept)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return usagef("--source: %v", err)
		}
		for _, n := range names {
			if n != "" {
				loadedFiles = append(loadedFiles, filepath.Join(dir, n))
			}
		}
	}
	if len(keys) == 0 {
		return usagef("--source %s: no shard files to load (of %d, none matches --accounts/--from/--to)", v.Source, total)
	}
	tbl, err := openTable(ctx, v.CassandraURL, v.Cassandra)
	if err != nil {
		return err
	}
	defer tbl.Close()

	start := time.Now()
	var rows, read, done atomic.Int64
	stop := startProgress(c, v.Quiet, "loading", len(keys), &done, &read)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(tbl.Config().Concurrency)
	for _, sh := range keys {
		k, src := sh.key, sh.src
		g.Go(func() error {
			n, err := tbl.WriteShard(gctx, k, func(fn func(*mapreduce.Row) error) error {
				return src.Read(gctx, mapreduce.WorkItem{Shard: k, Start: allStart, End: allEnd}, func(r *mapreduce.Row) error {
					read.Add(1)
					if r.Err != nil { // a row over the size limit: its value was not read
						return &mapreduce.RowError{Shard: k, Index: r.Index, Offset: r.Offset, Decompressed: r.Decompressed, Err: r.Err}
					}
					return fn(r)
				})
			})
			rows.Add(n)
			if err != nil {
				return fmt.Errorf("loading shard %s: %w", k, err)
			}
			done.Add(1)
			return nil
		})
	}
	err = g.Wait()
	stop()
	if err != nil {
		return fmt.Errorf("load stopped after %d of %d shards (loading again is safe: rows are overwritten, not duplicated): %w",
			done.Load(), len(keys), err)
	}
	fmt.Fprintf(c.App.Writer, "loaded %s from %d shard files into %s\n", fmtRate(rows.Load(), time.Since(start)), len(keys), tbl)
	if !spool {
		return nil
	}
	if v.KeepSpool {
		fmt.Fprintf(c.App.Writer, "kept the spool's shard files (--keep-spool): a collector started on %s replays them\n", v.Source)
		return nil
	}
	// Cassandra has every row of these files: a collector need not replay
	// them. The spool is still locked, so none is running.
	files, segs, err := collector.RemoveLoaded(v.Source, loadedFiles)
	if err != nil {
		return fmt.Errorf("loaded, but removing the loaded files from the spool (a collector will replay them again, harmlessly): %w", err)
	}
	fmt.Fprintf(c.App.Writer, "removed %d loaded shard files and %d emptied segments from the spool %s\n", files, segs, v.Source)
	return nil
}
