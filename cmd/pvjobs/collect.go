package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/location"
	"github.com/pvjobs/pvjobs/jobs/devices"
	"github.com/pvjobs/pvjobs/jobs/sources/spam"
	"github.com/pvjobs/pvjobs/jobs/uniques"
	"github.com/pvjobs/pvjobs/jobs/urls"
	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/cassandra"
	"github.com/pvjobs/pvjobs/readers/collector"
	"github.com/pvjobs/pvjobs/reports/redis"
)

// collectRedisFlags are the flags of redisFlags that the live counters use.
var collectRedisFlags = []string{"redis-prefix", "uv-granularity", "redis-cluster", "redis-timeout", "redis-user", "redis-ca", "redis-cert", "redis-key", "redis-ttl"}

func collectCommand() *cli.Command {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "listen", Value: "127.0.0.1:8080", Usage: "address to serve /a.js, /a.gif, /e, /healthz and /metrics on", EnvVars: []string{"PVJOBS_COLLECT_LISTEN"}},
		cassandraURLFlag(),
		&cli.StringFlag{Name: "spool", Value: "pvjobs-spool", Usage: "spool directory: every page view is appended here before it is answered, and kept until Cassandra has it", EnvVars: []string{"PVJOBS_SPOOL"}},
		&cli.StringFlag{Name: "fsync", Value: "1s", Usage: "when spool appends are forced to disk: always (before answering), never, or an interval", EnvVars: []string{"PVJOBS_FSYNC"}},
		&cli.StringFlag{Name: "accounts", Aliases: []string{"a"}, Usage: "comma-separated account ids to accept (or --accounts-file)", EnvVars: []string{"PVJOBS_ACCOUNTS"}},
		&cli.StringFlag{Name: "accounts-file", Usage: "file of account ids to accept (one per line, # comments), re-read when it changes", EnvVars: []string{"PVJOBS_ACCOUNTS_FILE"}},
		&cli.StringFlag{Name: "trusted-proxies", Usage: "comma-separated CIDRs whose X-Forwarded-For / X-Real-IP are believed, e.g. 127.0.0.1/32,10.0.0.0/8", EnvVars: []string{"PVJOBS_TRUSTED_PROXIES"}},
		&cli.BoolFlag{Name: "anonymize-ip", Usage: "store the client's /24 (IPv4) or /48 (IPv6) only", EnvVars: []string{"PVJOBS_ANONYMIZE_IP"}},
		&cli.BoolFlag{Name: "respect-dnt", Usage: "store nothing for requests with DNT: 1 or Sec-GPC: 1 (answered as usual)", EnvVars: []string{"PVJOBS_RESPECT_DNT"}},
		&cli.Float64Flag{Name: "rate-limit", Value: 50, Usage: "page views per second per client IP (0: no limit)", EnvVars: []string{"PVJOBS_RATE_LIMIT"}},
		&cli.IntFlag{Name: "rate-burst", Usage: "page views a client IP may send at once (default: 2 × --rate-limit)", EnvVars: []string{"PVJOBS_RATE_BURST"}},
		&cli.IntFlag{Name: "max-body", Value: int(collector.DefaultLimits.MaxBody), Usage: "largest POST /e body, bytes", EnvVars: []string{"PVJOBS_MAX_BODY"}},
		&cli.IntFlag{Name: "queue", Value: 1 << 16, Usage: "page views held in memory for Cassandra; beyond, they wait in the spool", EnvVars: []string{"PVJOBS_QUEUE"}},
		&cli.IntFlag{Name: "writers", Value: 8, Usage: "goroutines writing batches to Cassandra (and batches in flight when replaying the spool)", EnvVars: []string{"PVJOBS_WRITERS"}},
		&cli.DurationFlag{Name: "drain-timeout", Value: 30 * time.Second, Usage: "on SIGTERM, how long to write the queue and the spool to Cassandra before exiting (what is left stays spooled)", EnvVars: []string{"PVJOBS_DRAIN_TIMEOUT"}},
		&cli.StringFlag{Name: "live", Usage: "also count each page view in Redis as it comes: redis://[user:password@]host:port/db (the keys of --out redis://)", EnvVars: []string{"PVJOBS_LIVE_URL"}, Category: "Live counters"},
		&cli.StringFlag{Name: "tz", Value: "UTC", Usage: "live: the time zone of the keys' days and hours (the nightly run's --tz)", EnvVars: []string{"PVJOBS_TZ"}, Category: "Live counters"},
		&cli.BoolFlag{Name: "strip-query", Usage: "live: count URLs without their query (as the nightly run's --strip-query)", Category: "Live counters"},
		&cli.BoolFlag{Name: "include-bots", Usage: "live: count bots too (as the nightly run's --include-bots)", Category: "Live counters"},
		&cli.StringSliceFlag{Name: "spam-domains", Usage: "live: referrer-spam hosts to leave out besides the embedded list (as the nightly run's)", EnvVars: []string{"PVJOBS_SPAM_DOMAINS"}, Category: "Live counters"},
		&cli.BoolFlag{Name: "include-spam", Usage: "live: count referrer spam too (as the nightly run's --include-spam)", Category: "Live counters"},
	}
	for _, f := range redisFlags() {
		if slices.Contains(collectRedisFlags, f.Names()[0]) {
			flags = append(flags, f)
		}
	}
	flags = append(flags, cassandraFlags()...)
	return &cli.Command{
		Name:  "collect",
		Usage: "serve the tracker (/a.js), the pixel (/a.gif) and the beacon endpoint (/e), and store page views in Cassandra",
		UsageText: "pvjobs collect --cassandra cassandra://host[:port]/keyspace --accounts blog,shop [--listen 127.0.0.1:8080] [--spool DIR]\n" +
			"              [--trusted-proxies CIDRs] [--anonymize-ip] [--respect-dnt] [--live redis://host:port/db]",
		Description: "Each accepted page view is appended to the spool (shard files, one directory per few seconds)\n" +
			"before it is answered, then written to Cassandra in unlogged single-partition batches; a spool\n" +
			"segment is deleted once Cassandra has all its rows. When Cassandra is slow or down, page views\n" +
			"wait in the spool and are replayed when it is back. SIGTERM drains; after a crash the next\n" +
			"start replays the spool. 'pvjobs load --source SPOOL' loads a spool by hand.\n\n" +
			"A site includes: <script src=\"https://stats.example.com/a.js\" data-account=\"blog\" defer></script>",
		Flags:  flags,
		Action: collectAction,
	}
}

func collectAction(c *cli.Context) error {
	if c.NArg() > 0 {
		return usagef("collect: unexpected argument %q", c.Args().First())
	}
	cfg := collector.Config{
		SpoolDir:     c.String("spool"),
		AnonymizeIP:  c.Bool("anonymize-ip"),
		RespectDNT:   c.Bool("respect-dnt"),
		RateLimit:    c.Float64("rate-limit"),
		RateBurst:    c.Int("rate-burst"),
		QueueSize:    c.Int("queue"),
		Writers:      c.Int("writers"),
		DrainTimeout: c.Duration("drain-timeout"),
		Logger:       slog.Default(),
	}
	var err error
	if cfg.Fsync, cfg.FsyncInterval, err = collector.ParseFsync(c.String("fsync")); err != nil {
		return usagef("--fsync: %v", err)
	}
	switch list, file := c.String("accounts"), c.String("accounts-file"); {
	case list != "" && file != "":
		return usagef("collect: give --accounts or --accounts-file, not both")
	case list == "all":
		return usagef("--accounts all: the collector accepts only the accounts it is told; name them, or give --accounts-file")
	case list != "":
		if cfg.Accounts, err = collector.NewAccounts(splitList(list)); err != nil {
			return usagef("--accounts: %v", err)
		}
	case file != "":
		if cfg.Accounts, err = collector.LoadAccounts(file); err != nil {
			return usagef("--accounts-file: %v", err)
		}
	default:
		return usagef("collect: name the accounts to accept with --accounts a,b or --accounts-file FILE")
	}
	if cfg.TrustedProxies, err = collector.ParseProxies(c.String("trusted-proxies")); err != nil {
		return usagef("--trusted-proxies: %v", err)
	}
	if cfg.RateLimit < 0 {
		return usagef("--rate-limit %v: want 0 (no limit) or more", cfg.RateLimit)
	}
	if n := c.Int("max-body"); n < 256 || n > 1<<20 {
		return usagef("--max-body %d: want 256 to 1048576 bytes", n)
	} else {
		cfg.Limits.MaxBody = int64(n)
	}
	if cfg.QueueSize < 1 || cfg.Writers < 1 || cfg.Writers > 256 {
		return usagef("--queue and --writers: want at least 1 (--writers at most 256)")
	}
	if cfg.DrainTimeout <= 0 {
		return usagef("--drain-timeout: want a positive duration")
	}
	spec := c.String("cassandra")
	ccfg, err := cassandraConfig(spec, cassandraParamsFromFlags(c))
	if err != nil {
		return err
	}
	cfg.BatchRows = ccfg.BatchRows
	// Failed writes are counted and logged by the collector, once per outage.
	ccfg.OnRetry = nil
	if c.String("live") != "" {
		live, closeLive, err := newLive(c)
		if err != nil {
			return err
		}
		defer closeLive()
		cfg.Live = live
	}
	ln, err := net.Listen("tcp", c.String("listen"))
	if err != nil {
		return usagef("--listen: %v", err)
	}
	defer ln.Close()

	// Connect now: a table that does not exist or has the wrong columns is
	// a usage error. Cassandra not answering is not: page views wait in the
	// spool while the collector keeps trying.
	ctx := c.Context
	cfg.Connect = func(ctx context.Context) (collector.Store, error) { return cassandra.Open(ctx, ccfg) }
	octx, cancel := context.WithTimeout(ctx, 15*time.Second)
	tbl, err := cassandra.Open(octx, ccfg)
	cancel()
	switch {
	case errors.Is(err, cassandra.ErrNoTable) || errors.Is(err, cassandra.ErrLayout):
		return &usageError{location.Scrub(err, spec)}
	case ctx.Err() != nil:
		return ctx.Err()
	case err != nil:
		slog.Warn("collect: Cassandra not reachable; accepting page views into the spool and retrying", "cassandra", ccfg.String(), "err", location.Scrub(err, spec))
	default:
		defer tbl.Close()
		cfg.Store = tbl
	}
	col, err := collector.New(cfg)
	if err != nil {
		if errors.Is(err, collector.ErrSpoolBusy) {
			return usagef("--spool: %v", err)
		}
		return err
	}
	slog.Info("collect: serving", "addr", ln.Addr().String(), "cassandra", ccfg.String(), "spool", cfg.SpoolDir,
		"accounts", cfg.Accounts.Len(), "live", c.String("live") != "")
	if err := col.Run(ctx, ln); err != nil {
		return err
	}
	m := col.Metrics()
	slog.Info("collect: stopped", "accepted", m.Accepted(), "written", m.Written(), "replayed", m.Replayed(), "spooled", m.Spooled())
	return nil
}

// newLive opens the live Redis counters of --live.
func newLive(c *cli.Context) (collector.Live, func(), error) {
	loc, err := time.LoadLocation(c.String("tz"))
	if err != nil {
		return nil, nil, usagef("--tz %q: unknown time zone", c.String("tz"))
	}
	rp := redisParamsFromFlags(c)
	tg, err := redisTarget(c.String("live"), &rp)
	if err != nil {
		return nil, nil, err
	}
	prefix := rp.Prefix
	if tg.Prefix != "" {
		prefix = tg.Prefix
	}
	if err := redis.ValidPrefix(prefix); err != nil {
		return nil, nil, usagef("--redis-prefix: %v", err)
	}
	var ttl time.Duration
	if rp.TTL != "" {
		if ttl, err = parseDuration(rp.TTL); err != nil || ttl <= 0 {
			return nil, nil, usagef("--redis-ttl %q: want a duration such as 2d or 36h", rp.TTL)
		}
	}
	var spamList *spam.List
	if !c.Bool("include-spam") {
		if spamList, err = spam.Embedded().With(c.StringSlice("spam-domains")); err != nil {
			return nil, nil, usagef("--spam-domains: %v", err)
		}
	}
	client := tg.NewClient()
	opt := redis.LiveOptions{Prefix: prefix, Loc: loc, Minutes: uvMinutes(c), TTL: ttl}
	return &liveCounters{live: redis.NewLive(client, opt), stripQuery: c.Bool("strip-query"), bots: !c.Bool("include-bots"),
			spam: spamList, agents: map[string]bool{}},
		func() { client.Close() }, nil
}

// liveCounters turns collected page views into the hits of the live Redis
// counters with the batch jobs' own rules: the visitor key of
// jobs/uniques, the URL normalisation of jobs/urls, bots left out as every
// report but devices leaves them out, and referrer spam as every report
// leaves it out.
type liveCounters struct {
	live       *redis.Live
	stripQuery bool
	bots       bool       // leave bots out
	spam       *spam.List // leave referrer spam out (nil: keep it)
	agents     map[string]bool
	hits       []redis.LiveHit
}

// Add implements collector.Live (one goroutine at a time).
func (l *liveCounters) Add(ctx context.Context, views []collector.PageView) error {
	hits := l.hits[:0]
	for i := range views {
		v := &views[i]
		if l.bots && l.isBot(v.UserAgent) || l.spam != nil && l.spam.Has(referrerHost(v.Referrer)) {
			continue
		}
		pv := mapreduce.PageView{IP: []byte(v.IP), UserAgent: []byte(v.UserAgent), VisitorID: []byte(v.VisitorID)}
		hits = append(hits, redis.LiveHit{
			Account: v.Account,
			Time:    v.Time(),
			Visitor: uniques.VisitorKey(nil, &pv),
			URL:     string(urls.Normalize(nil, []byte(v.URL), l.stripQuery)),
		})
	}
	l.hits = hits
	return l.live.Add(ctx, hits)
}

// referrerHost returns the host of a referrer URL, or "".
func referrerHost(ref string) string {
	if ref == "" {
		return ""
	}
	u, err := url.Parse(ref)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// isBot classifies a user agent, remembering up to 10,000 of them.
func (l *liveCounters) isBot(ua string) bool {
	if b, ok := l.agents[ua]; ok {
		return b
	}
	if len(l.agents) >= 10_000 {
		clear(l.agents)
	}
	b := devices.Classify(ua).Bot
	l.agents[strings.Clone(ua)] = b
	return b
}

// spoolSources returns the directories that pvjobs load reads for --source
// dir: dir itself, or, when dir is a collector's spool, its segments (each a
// directory of shard files). A spool in use by a running collector is
// refused.
func spoolSources(dir string) (dirs []string, unlock func(), err error) {
	segs, err := collector.SpoolSegments(dir)
	if err != nil || len(segs) == 0 {
		return []string{dir}, func() {}, nil
	}
	unlock, err = collector.LockSpool(dir)
	if err != nil {
		return nil, nil, usagef("--source: %v", err)
	}
	return segs, unlock, nil
}
