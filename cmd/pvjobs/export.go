package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/options"
	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/cassandra"
	"github.com/pvjobs/pvjobs/readers/file"
	"github.com/urfave/cli/v2"
	"golang.org/x/sync/errgroup"
)

func exportCommand() *cli.Command {
	return &cli.Command{
		Name:      "export",
		Usage:     "write Cassandra partitions out as shard files",
		UsageText: "pvjobs export --source cassandra://host[:port]/keyspace --to-dir DIR [--accounts a,b|all] [--from YYYY-MM-DD --to YYYY-MM-DD] [--gzip]",
		Description: "Each partition YYYYMMDD.account becomes the shard file DIR/YYYYMMDD.account.mpk[.gz]\n" +
			"holding every row of the partition in timeuuid order, byte for byte as stored\n" +
			"(pvjobs load writes them back). Files appear whole or not at all; existing files of\n" +
			"the same shards are replaced. With --accounts all, or without --from/--to, the\n" +
			"partitions are found by scanning the table's partition keys.\n\n" +
			"Example:\n  pvjobs export --source cassandra://127.0.0.1/pvjobs --to-dir ./shards --from 2024-08-01 --to 2024-08-07",
		Flags:  options.Flags(options.Export),
		Action: exportAction,
	}
}

func exportAction(c *cli.Context) error {
	if c.NArg() > 0 {
		return usagef("export: unexpected argument %q", c.Args().First())
	}
	ctx := c.Context
	v, err := resolve(options.Export, c, nil)
	if err != nil {
		return err
	}
	spec := v.Source
	if !strings.HasPrefix(spec, "cassandra://") {
		return usagef("--source %q: export reads a Cassandra table, cassandra://host[:port]/keyspace", sources.Redact(spec))
	}
	filter, err := newShardFilter(v.Accounts, v.From, v.To)
	if err != nil {
		return err
	}
	dir := v.ToDir
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return err
	}
	tbl, err := openTable(ctx, spec, v.Cassandra)
	if err != nil {
		return err
	}
	defer tbl.Close()

	var keys []mapreduce.ShardKey
	if filter.accounts != nil && !filter.from.IsZero() && !filter.to.IsZero() {
		// Named accounts and days: read those partitions, no scan needed.
		for d := filter.from; !filter.to.Before(d); d = d.AddDays(1) {
			for a := range filter.accounts {
				keys = append(keys, mapreduce.ShardKey{Day: d.In(time.UTC), Account: a})
			}
		}
	} else {
		var start, end time.Time
		if !filter.from.IsZero() || !filter.to.IsZero() {
			start, end = time.Unix(0, 0).UTC(), time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
			if !filter.from.IsZero() {
				start = filter.from.In(time.UTC)
			}
			if !filter.to.IsZero() {
				end = filter.to.AddDays(1).In(time.UTC)
			}
		}
		found, err := tbl.Shards(ctx, start, end)
		if err != nil {
			return err
		}
		for _, k := range found {
			if filter.keep(k) {
				keys = append(keys, k)
			}
		}
		if len(keys) == 0 {
			return fmt.Errorf("%s has no partitions that match --accounts/--from/--to", tbl)
		}
	}

	start := time.Now()
	var rows, done, files, empty atomic.Int64
	stop := startProgress(c, v.Quiet, "exporting", len(keys), &done, &rows)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(tbl.Config().Concurrency)
	for _, k := range keys {
		g.Go(func() error {
			defer done.Add(1)
			n, err := exportShard(gctx, tbl, dir, k, v.Gzip, &rows)
			if err != nil {
				return fmt.Errorf("exporting partition %s: %w", k, err)
			}
			if n == 0 {
				empty.Add(1)
			} else {
				files.Add(1)
			}
			return nil
		})
	}
	err = g.Wait()
	stop()
	if err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "exported %s in %d shard files to %s", fmtRate(rows.Load(), time.Since(start)), files.Load(), dir)
	if n := empty.Load(); n > 0 {
		fmt.Fprintf(c.App.Writer, " (%d partitions empty or missing: no file)", n)
	}
	fmt.Fprintln(c.App.Writer)
	return nil
}

// exportShard writes the partition k to a shard file in dir; an empty or
// missing partition writes no file.
func exportShard(ctx context.Context, tbl *cassandra.Table, dir string, k mapreduce.ShardKey, gz bool, rows *atomic.Int64) (int64, error) {
	return writeShardFile(dir, k, gz, false, func(w *file.Writer) (int64, error) {
		var n int64
		err := tbl.ReadPartition(ctx, k, func(r *mapreduce.Row) error {
			n++
			rows.Add(1)
			return w.Write(r.TS, r.Value)
		})
		return n, err
	})
}
