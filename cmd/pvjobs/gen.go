package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/options"
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
		UsageText: "pvjobs gen --to-dir DIR [--accounts blog,shop] [--from 2024-08-01 --to 2024-08-07] [--rows-per-day 1000] [--ips sample|public] [--access-log FILE] [--gzip]",
		Flags:     options.Flags(options.Gen),
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usagef("gen: unexpected argument %q", c.Args().First())
			}
			v, err := resolve(options.Gen, c, nil)
			if err != nil {
				return err
			}
			from, _ := mapreduce.ParseDate(v.From) // checked by options
			to, _ := mapreduce.ParseDate(v.To)
			var networks []netip.Prefix
			if strings.EqualFold(v.IPs, "sample") {
				networks = sampleNetworks()
			}
			bots := float64(v.BotPercent) / 100
			if bots == 0 {
				bots = -1 // synth: none
			}
			agents := v.Agents
			if agents == 0 {
				agents = -1 // synth: none
			}
			g, err := synth.New(synth.Config{
				Accounts:   v.Accounts,
				From:       from,
				To:         to,
				RowsPerDay: v.RowsPerDay,
				Pages:      v.Pages,
				Agents:     agents,
				BotShare:   bots,
				Networks:   networks,
				Seed:       v.Seed,
			})
			if err != nil {
				return usagef("%v", err)
			}
			dir := v.ToDir
			if err := os.MkdirAll(dir, 0o777); err != nil {
				return err
			}
			start := time.Now()
			var n int64
			for _, k := range g.Shards() {
				if err := c.Context.Err(); err != nil {
					return err
				}
				m, err := writeShardFile(dir, k, v.Gzip, true, func(w *file.Writer) (int64, error) {
					var m int64
					err := g.Each(k, func(ts [16]byte, value []byte) error {
						m++
						return w.Write(ts, value)
					})
					return m, err
				})
				n += m
				if err != nil {
					return fmt.Errorf("writing shard %s: %w", k, err)
				}
			}
			fmt.Fprintf(c.App.Writer, "wrote %d page views in %d shards to %s (%s)\n", n, len(g.Shards()), dir, time.Since(start).Round(time.Millisecond))
			if v.AccessLog != "" {
				start = time.Now()
				if err := writeAccessLog(c.Context, g, v.AccessLog); err != nil {
					return err
				}
				fmt.Fprintf(c.App.Writer, "wrote the same page views to %s (%s)\n", v.AccessLog, time.Since(start).Round(time.Millisecond))
			}
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

// writeAccessLog writes g's page views to path as a combined access log,
// atomically (package atomicfile).
func writeAccessLog(ctx context.Context, g *synth.Generator, path string) error {
	af, err := atomicfile.Create(path)
	if err != nil {
		return fmt.Errorf("access log: %w", err)
	}
	if _, err := g.WriteAccessLog(ctx, af); err != nil {
		af.Abort()
		return fmt.Errorf("access log %s: %w", path, err)
	}
	if err := af.Commit(); err != nil {
		return fmt.Errorf("access log %s: %w", path, err)
	}
	return nil
}
