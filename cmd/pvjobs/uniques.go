package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/daterange"
	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/options"
	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/reports/redis"
)

func uniquesCommand() *cli.Command {
	return &cli.Command{
		Name:  "uniques",
		Usage: "count the distinct visitors of a time window, from Redis or from the page views",
		UsageText: "pvjobs uniques --accounts blog --from 2024-08-01T18:00 --to 2024-08-03T06:30 --redis redis://host:port/db [-v]\n" +
			"pvjobs uniques --accounts blog --from 2024-08-01T18:00 --to 2024-08-03T06:30 --source DIR|cassandra://...",
		Description: "With --redis, one PFCOUNT over the fewest unique-visitor keys the Redis sink wrote that\n" +
			"make up the window exactly: whole months, then whole days, then hours (then minutes,\n" +
			"with --uv-granularity minute) at the edges. With --source, the uniques job runs over\n" +
			"exactly the window and its sketches are unioned: the same answer without Redis.\n" +
			"Prints one line per account: the account, a tab, the estimate.",
		Flags:  options.Flags(options.Uniques),
		Action: uniquesAction,
	}
}

func uniquesAction(c *cli.Context) error {
	if c.NArg() > 0 {
		return usagef("uniques: unexpected argument %q", c.Args().First())
	}
	v, err := resolve(options.Uniques, c, nil)
	if err != nil {
		return err
	}
	loc, err := time.LoadLocation(v.TZ)
	if err != nil {
		return usagef("--tz %q: unknown time zone", v.TZ)
	}
	start, end, err := daterange.ParseRange(v.From, v.To, loc)
	if err != nil {
		return usagef("%v", err)
	}
	url, src := v.RedisURL, v.Source
	if (url == "") == (src == "") {
		return usagef("uniques: give either --redis URL or --source DIR|cassandra://...")
	}
	if isAll(v.Accounts) && src == "" {
		return usagef("--accounts all: name the accounts (Redis keys cannot be listed cheaply)")
	}
	w := c.App.Writer
	if url != "" {
		return uniquesFromRedis(c.Context, w, url, &v.Redis, v.Accounts, start, end, loc, v.UniqueMinutes(), v.Verbose)
	}
	p := runParams{Values: *v}
	p.Jobs = []string{"uniques"}
	p.Quiet, p.Progress = true, "none"
	setRange(&p, start, end)
	return uniquesFromSource(c.Context, w, &p, v.Verbose)
}

// uniquesFromRedis prints the PFCOUNT of each account's cover of [start, end).
func uniquesFromRedis(ctx context.Context, w io.Writer, url string, rp *redisParams, accounts []string,
	start, end time.Time, loc *time.Location, minutes, verbose bool) error {
	tg, err := redisTarget(url, rp)
	if err != nil {
		return err
	}
	keys := redis.Keys{Prefix: rp.Prefix}
	if tg.Prefix != "" {
		keys.Prefix = tg.Prefix
	}
	if keys.Prefix != "" {
		if err := redis.ValidPrefix(keys.Prefix); err != nil {
			return usagef("--redis-prefix: %v", err)
		}
	}
	client := tg.NewClient()
	defer client.Close()
	for _, a := range accounts {
		n, used, err := redis.Count(ctx, client, keys, a, start, end, loc, minutes)
		if errors.Is(err, redis.ErrUnaligned) {
			hint := "align --from and --to to whole hours"
			if !minutes {
				hint += ", or give --uv-granularity minute when the keys were written with minute keys"
			}
			return usagef("%v: %s", err, hint)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", tg, err)
		}
		fmt.Fprintf(w, "%s\t%d\n", a, n)
		if verbose {
			fmt.Fprintf(w, "  PFCOUNT of %d keys at %s:\n", len(used), tg)
			for _, k := range used {
				fmt.Fprintf(w, "  %s\n", k)
			}
		}
	}
	return nil
}

// uniquesFromSource runs the uniques job over exactly the window of p and
// prints the count of each account's union.
func uniquesFromSource(ctx context.Context, w io.Writer, p *runParams, verbose bool) error {
	s, err := setupRead(ctx, p)
	if err != nil {
		return err
	}
	defer s.close()
	res, err := mapreduce.Run(ctx, s.plan, s.src, s.tasks, s.opts)
	if err != nil {
		return fmt.Errorf("reading %s: %w", s.src, budgetContext(err, p))
	}
	counts := map[string]int64{}
	hours := map[string]int{}
	for _, rep := range res.Reports {
		for _, r := range rep.Rows {
			switch r.Period {
			case mapreduce.PeriodRange:
				counts[r.Account] = int64(r.Primary())
			case mapreduce.PeriodHour:
				hours[r.Account]++
			}
		}
	}
	for _, a := range s.plan.Accounts {
		fmt.Fprintf(w, "%s\t%d\n", a, counts[a])
		if verbose {
			fmt.Fprintf(w, "  union of %d hours with visitors in [%s, %s) %s\n", hours[a],
				s.plan.Start.In(s.plan.Loc).Format(time.RFC3339), s.plan.End.In(s.plan.Loc).Format(time.RFC3339), s.plan.Loc)
		}
	}
	if verbose {
		fmt.Fprintf(w, "  read %d rows (%d bad) from %s\n", res.Summary.Rows, res.Summary.BadRows, s.src)
	}
	return nil
}
