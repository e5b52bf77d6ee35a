package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/daterange"
	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/reports/redis"
)

// uniquesRedisFlags are the flags of redisFlags that reading keys needs.
var uniquesRedisFlags = []string{"redis-prefix", "uv-granularity", "redis-cluster", "redis-timeout", "redis-user", "redis-ca", "redis-cert", "redis-key"}

func uniquesCommand() *cli.Command {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "accounts", Aliases: []string{"a"}, Required: true, Usage: "comma-separated account ids (all: every account of --source)", EnvVars: []string{"PVJOBS_ACCOUNTS"}},
		&cli.StringFlag{Name: "from", Required: true, Usage: "start of the window: YYYY-MM-DD, YYYY-MM-DDTHH:MM (in --tz) or RFC 3339"},
		&cli.StringFlag{Name: "to", Required: true, Usage: "end of the window: YYYY-MM-DD (that day included), YYYY-MM-DDTHH:MM (excluded, in --tz) or RFC 3339"},
		&cli.StringFlag{Name: "tz", Value: "UTC", Usage: "time zone of the window and of the keys' days and hours (the one the keys were written in)", EnvVars: []string{"PVJOBS_TZ"}},
		&cli.StringFlag{Name: "redis", Usage: "count from the keys of the Redis sink: redis://[user:password@]host:port/db or rediss://...", EnvVars: []string{"PVJOBS_REDIS_URL"}},
		&cli.StringFlag{Name: "source", Aliases: []string{"s"}, Usage: "count from the page views instead: a directory of shard files or cassandra://host[:port]/keyspace"},
		&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "also print the keys counted (or what was read)"},
		&cli.BoolFlag{Name: "exact-uniques", Usage: "with --source: count exactly with a hash set instead of a sketch"},
		&cli.IntFlag{Name: "workers", Usage: "with --source: worker goroutines (default: GOMAXPROCS)", EnvVars: []string{"PVJOBS_WORKERS"}},
		&cli.StringFlag{Name: "max-bad-rows", Value: "0.1%", Usage: "with --source: bad rows tolerated: a count or a share of rows read", EnvVars: []string{"PVJOBS_MAX_BAD_ROWS"}},
	}
	for _, f := range redisFlags() {
		if slices.Contains(uniquesRedisFlags, f.Names()[0]) {
			flags = append(flags, f)
		}
	}
	flags = append(flags, cassandraFlags()...)
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
		Flags:  flags,
		Action: uniquesAction,
	}
}

func uniquesAction(c *cli.Context) error {
	if c.NArg() > 0 {
		return usagef("uniques: unexpected argument %q", c.Args().First())
	}
	loc, err := time.LoadLocation(c.String("tz"))
	if err != nil {
		return usagef("--tz %q: unknown time zone", c.String("tz"))
	}
	start, end, err := daterange.ParseRange(c.String("from"), c.String("to"), loc)
	if err != nil {
		return usagef("%v", err)
	}
	url, src := c.String("redis"), c.String("source")
	if (url == "") == (src == "") {
		return usagef("uniques: give either --redis URL or --source DIR|cassandra://...")
	}
	accounts := splitList(c.String("accounts"))
	if len(accounts) == 0 {
		return usagef("--accounts: no accounts named")
	}
	all := len(accounts) == 1 && accounts[0] == "all"
	if all && src == "" {
		return usagef("--accounts all: name the accounts (Redis keys cannot be listed cheaply)")
	}
	for _, a := range accounts {
		if err := mapreduce.ValidateAccount(a); err != nil && !all {
			return usagef("--accounts: %v", err)
		}
	}
	w := c.App.Writer
	if url != "" {
		rp := redisParamsFromFlags(c)
		return uniquesFromRedis(c.Context, w, url, &rp, accounts, start, end, loc, uvMinutes(c), c.Bool("verbose"))
	}
	p := runParams{
		Source:       src,
		Accounts:     c.String("accounts"),
		TZ:           c.String("tz"),
		Jobs:         "uniques",
		Quiet:        true,
		Workers:      c.Int("workers"),
		MaxBadRows:   c.String("max-bad-rows"),
		ExactUniques: c.Bool("exact-uniques"),
		Cassandra:    cassandraParamsFromFlags(c),
		runOps:       runOps{Progress: "none"},
	}
	setRange(&p, start, end)
	return uniquesFromSource(c.Context, w, &p, c.Bool("verbose"))
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
