package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/file"
	"github.com/pvjobs/pvjobs/readers/synth"
	"github.com/pvjobs/pvjobs/reports/atomicfile"
	"github.com/urfave/cli/v2"
)

func genCommand() *cli.Command {
	return &cli.Command{
		Name:      "gen",
		Usage:     "write realistic synthetic shard files (for demos, tests and benchmarks)",
		UsageText: "pvjobs gen --to-dir DIR [--accounts blog,shop] [--from 2024-08-01 --to 2024-08-07] [--rows-per-day 1000] [--gzip]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "to-dir", Aliases: []string{"d"}, Usage: "directory to write shard files into, created if missing (required)"},
			&cli.StringFlag{Name: "accounts", Aliases: []string{"a"}, Value: "blog,shop", Usage: "comma-separated account ids"},
			&cli.StringFlag{Name: "from", Value: "2024-08-01", Usage: "first UTC day"},
			&cli.StringFlag{Name: "to", Value: "2024-08-07", Usage: "last UTC day, inclusive"},
			&cli.IntFlag{Name: "rows-per-day", Value: 1000, Usage: "mean page views per account per day"},
			&cli.IntFlag{Name: "pages", Value: 500, Usage: "distinct pages per account"},
			&cli.IntFlag{Name: "visitors", Usage: "visitor pool per account (default rows-per-day/4)"},
			&cli.IntFlag{Name: "agents", Value: 2000, Usage: "distinct user agents"},
			&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "random seed: the same seed writes the same files"},
			&cli.BoolFlag{Name: "gzip", Usage: "write .mpk.gz files"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usagef("gen: unexpected argument %q", c.Args().First())
			}
			if c.String("to-dir") == "" {
				return usagef("gen: --to-dir is required")
			}
			from, err := mapreduce.ParseDate(c.String("from"))
			if err != nil {
				return usagef("--from: %v", err)
			}
			to, err := mapreduce.ParseDate(c.String("to"))
			if err != nil {
				return usagef("--to: %v", err)
			}
			accounts := splitList(c.String("accounts"))
			for _, a := range accounts {
				if err := mapreduce.ValidateAccount(a); err != nil {
					return usagef("--accounts: %v", err)
				}
			}
			if c.Int("rows-per-day") <= 0 {
				return usagef("--rows-per-day %d: want 1 or more", c.Int("rows-per-day"))
			}
			g, err := synth.New(synth.Config{
				Accounts:   accounts,
				From:       from,
				To:         to,
				RowsPerDay: c.Int("rows-per-day"),
				Pages:      c.Int("pages"),
				Visitors:   c.Int("visitors"),
				Agents:     c.Int("agents"),
				Networks:   sampleNetworks(),
				Seed:       c.Uint64("seed"),
			})
			if err != nil {
				return usagef("%v", err)
			}
			dir := c.String("to-dir")
			if err := os.MkdirAll(dir, 0o777); err != nil {
				return err
			}
			start := time.Now()
			var n int64
			for _, k := range g.Shards() {
				if err := c.Context.Err(); err != nil {
					return err
				}
				m, err := writeShardFile(dir, k, c.Bool("gzip"), true, func(w *file.Writer) (int64, error) {
					var m int64
					for _, row := range g.Rows(k) {
						if err := w.Write(row.TS, row.Value); err != nil {
							return m, err
						}
						m++
					}
					return m, nil
				})
				n += m
				if err != nil {
					return fmt.Errorf("writing shard %s: %w", k, err)
				}
			}
			fmt.Fprintf(c.App.Writer, "wrote %d page views in %d shards to %s (%s)\n", n, len(g.Shards()), dir, time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
}

// writeShardFile writes the shard file of k in dir atomically (package
// atomicfile: synced, renamed into place, a killed run's temporary files
// removed by the next; mode 0666 less the umask). fill writes the rows and
// returns how many; with keepEmpty false a shard without rows leaves no
// file.
func writeShardFile(dir string, k mapreduce.ShardKey, gz, keepEmpty bool, fill func(w *file.Writer) (int64, error)) (int64, error) {
	af, err := atomicfile.Create(filepath.Join(dir, file.FileName(k, gz)))
	if err != nil {
		return 0, err
	}
	w := file.NewWriter(af, gz)
	n, err := fill(w)
	if err == nil {
		err = w.Close()
	}
	if err == nil && (n > 0 || keepEmpty) {
		err = af.Commit()
		// The shard's file in the other form is replaced: a reader refuses
		// a shard with two files.
		if rerr := os.Remove(filepath.Join(dir, file.FileName(k, !gz))); err == nil && rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			err = rerr
		}
	}
	if err != nil || (n == 0 && !keepEmpty) {
		w.Abort()
		af.Abort()
	}
	return n, err
}
