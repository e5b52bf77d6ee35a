package main

import (
	"fmt"
	"os"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/synth"
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
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			start := time.Now()
			n, err := g.WriteDir(c.Context, dir, c.Bool("gzip"))
			if err != nil {
				return err
			}
			fmt.Fprintf(c.App.Writer, "wrote %d page views in %d shards to %s (%s)\n", n, len(g.Shards()), dir, time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
}
