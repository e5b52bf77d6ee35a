package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/configfile"
	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/location"
	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/options"
	"github.com/pvjobs/pvjobs/jobs/devices"
	jobsources "github.com/pvjobs/pvjobs/jobs/sources"
	"github.com/pvjobs/pvjobs/jobs/sources/spam"
	"github.com/pvjobs/pvjobs/jobs/urls"
	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/cassandra"
	"github.com/pvjobs/pvjobs/readers/collector"
	"github.com/pvjobs/pvjobs/reports/redis"
)

func collectCommand() *cli.Command {
	return &cli.Command{
		Name:  "collect",
		Usage: "serve the tracker (/a.js), the pixel (/a.gif) and the beacon endpoint (/e), and store page views in Cassandra",
		UsageText: "pvjobs collect --cassandra cassandra://host[:port]/keyspace --accounts blog,shop [--listen 127.0.0.1:8080] [--spool DIR]\n" +
			"              [--trusted-proxies CIDRs] [--anonymize-ip] [--respect-dnt] [--live redis://host:port/db]\n" +
			"pvjobs collect --config FILE   (its collect section; flags and environment win over it)",
		Description: "Each accepted page view is appended to the spool (shard files, one directory per few seconds)\n" +
			"before it is answered, then written to Cassandra in unlogged single-partition batches; a spool\n" +
			"segment is deleted once Cassandra has all its rows. When Cassandra is slow or down, page views\n" +
			"wait in the spool and are replayed when it is back. SIGTERM drains; after a crash the next\n" +
			"start replays the spool. 'pvjobs load --source SPOOL' loads a spool by hand.\n\n" +
			"A site includes: <script src=\"https://stats.example.com/a.js\" data-account=\"blog\" defer></script>",
		Flags:  options.Flags(options.Collect),
		Action: collectAction,
	}
}

// collectSettings resolves the options of pvjobs collect: flag > env > the
// collect section of --config > default.
func collectSettings(c *cli.Context) (*options.Values, error) {
	first, err := options.ResolveFirst(options.Collect, c, configLocations, "config")
	if err != nil {
		return nil, &usageError{err}
	}
	var file options.File
	if first.Config != "" {
		f, err := configfile.Load(first.Config, configLocations)
		if err != nil {
			return nil, &usageError{err}
		}
		var ok bool
		if file, ok = f.Collect(); !ok {
			return nil, usagef("--config %s: no collect section (collect:\n  cassandra: cassandra://host/keyspace\n  accounts: [blog])", f.Path)
		}
	}
	return resolve(options.Collect, c, file)
}

func collectAction(c *cli.Context) error {
	if c.NArg() > 0 {
		return usagef("collect: unexpected argument %q", c.Args().First())
	}
	v, err := collectSettings(c)
	if err != nil {
		return err
	}
	o := &v.Collect
	cfg := collector.Config{
		SpoolDir:     o.Spool,
		AnonymizeIP:  o.AnonymizeIP,
		RespectDNT:   o.RespectDNT,
		RateLimit:    float64(o.RateLimit),
		RateBurst:    o.RateBurst,
		QueueSize:    o.Queue,
		Writers:      o.Writers,
		DrainTimeout: o.DrainTimeout,
		Logger:       slog.Default(),
	}
	cfg.Limits.MaxBody = int64(o.MaxBody)
	cfg.MaxConnections = o.MaxConnections
	if cfg.MaxConnections == 0 {
		cfg.MaxConnections = -1 // no cap
	}
	if cfg.Fsync, cfg.FsyncInterval, err = collector.ParseFsync(o.Fsync); err != nil {
		return usagef("--fsync: %v", err)
	}
	switch list, file := v.Accounts, o.AccountsFile; {
	case len(list) > 0 && file != "":
		return usagef("collect: give --accounts or --accounts-file, not both (nor one of them in the config file and the other as a flag or variable)")
	case len(list) > 0:
		if cfg.Accounts, err = collector.NewAccounts(list); err != nil {
			return usagef("--accounts: %v", err)
		}
	case file != "":
		if cfg.Accounts, err = collector.LoadAccounts(file); err != nil {
			return usagef("--accounts-file: %v", err)
		}
	default:
		return usagef("collect: name the accounts to accept with --accounts a,b or --accounts-file FILE")
	}
	if cfg.TrustedProxies, err = collector.ParseProxies(strings.Join(o.TrustedProxies, ",")); err != nil {
		return usagef("--trusted-proxies: %v", err)
	}
	spec := v.CassandraURL
	ccfg, err := cassandraConfig(spec, v.Cassandra)
	if err != nil {
		return err
	}
	cfg.BatchRows = ccfg.BatchRows
	// Failed writes are counted and logged by the collector, once per outage.
	ccfg.OnRetry = nil
	if o.Live != "" {
		live, closeLive, err := newLive(v)
		if err != nil {
			return err
		}
		defer closeLive()
		cfg.Live = live
	}
	ln, err := net.Listen("tcp", o.Listen)
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
		"accounts", cfg.Accounts.Len(), "live", o.Live != "")
	if err := col.Run(ctx, ln); err != nil {
		return err
	}
	m := col.Metrics()
	slog.Info("collect: stopped", "accepted", m.Accepted(), "written", m.Written(), "replayed", m.Replayed(), "spooled", m.Spooled())
	return nil
}

// newLive opens the live Redis counters of --live.
func newLive(v *options.Values) (collector.Live, func(), error) {
	loc, err := time.LoadLocation(v.TZ)
	if err != nil {
		return nil, nil, usagef("--tz %q: unknown time zone", v.TZ)
	}
	rp := v.Redis
	tg, err := redisTarget(v.Collect.Live, &rp)
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
	var spamList *spam.List
	if !v.IncludeSpam {
		if spamList, err = spam.Embedded().With(v.SpamDomains); err != nil {
			return nil, nil, usagef("--spam-domains: %v", err)
		}
	}
	client := tg.NewClient()
	opt := redis.LiveOptions{Prefix: prefix, Loc: loc, Minutes: v.UniqueMinutes(), TTL: rp.TTL}
	return newLiveCounters(redis.NewLive(client, opt), v.StripQuery, !v.IncludeBots, spamList), func() { client.Close() }, nil
}

// newLiveCounters returns the live counters of live: bots left out when
// bots is set, referrer spam when spamList is not nil. Both are told by the
// enrichers of the batch runs, with their caches.
func newLiveCounters(live *redis.Live, stripQuery, bots bool, spamList *spam.List) *liveCounters {
	l := &liveCounters{live: live, stripQuery: stripQuery}
	if bots {
		l.agent = devices.NewEnricher(0)()
	}
	if spamList != nil {
		l.origin = jobsources.NewEnricher(jobsources.Options{Spam: spamList})()
	}
	return l
}

// liveCounters turns collected page views into the hits of the live Redis
// counters with the batch jobs' own rules: the visitor key of
// jobs/uniques, the URL normalisation of jobs/urls, bots left out as every
// report but devices leaves them out, and referrer spam as every report
// leaves it out.
type liveCounters struct {
	live       *redis.Live
	stripQuery bool
	// agent and origin, when not nil, are the batch runs' enrichers: bots
	// and referrer spam are left out. pv is their scratch page view.
	agent, origin func(*mapreduce.PageView)
	pv            mapreduce.PageView
	hits          []redis.LiveHit
	buf, raw      []byte
}

// leftOut reports whether the reports leave v out: a bot's (when bots are
// left out) or referrer spam (when spam is).
func (l *liveCounters) leftOut(v *collector.PageView) bool {
	pv := &l.pv
	if l.agent != nil {
		pv.UserAgent, pv.Agent = append(pv.UserAgent[:0], v.UserAgent...), nil
		if l.agent(pv); pv.Agent.Bot {
			return true
		}
	}
	if l.origin != nil && v.Referrer != "" {
		pv.URL = append(pv.URL[:0], v.URL...)
		pv.Referrer = append(pv.Referrer[:0], v.Referrer...)
		if l.origin(pv); pv.Origin.Spam {
			return true
		}
	}
	return false
}

// Add implements collector.Live (one goroutine at a time).
func (l *liveCounters) Add(ctx context.Context, views []collector.PageView) error {
	hits := l.hits[:0]
	// The hits' visitor keys and URLs live in buf (a slice of it stays
	// valid when it grows: the old array is kept while referenced).
	buf := l.buf[:0]
	for i := range views {
		v := &views[i]
		if l.leftOut(v) {
			continue
		}
		at := len(buf)
		buf = mapreduce.AppendVisitorKey(buf, v.IP, v.UserAgent, v.VisitorID)
		visitor := buf[at:len(buf):len(buf)]
		l.raw = append(l.raw[:0], v.URL...)
		at = len(buf)
		buf = urls.Normalize(buf, l.raw, l.stripQuery)
		hits = append(hits, redis.LiveHit{Account: v.Account, Time: v.Time(), Visitor: visitor, URL: buf[at:len(buf):len(buf)]})
	}
	l.hits, l.buf = hits, buf
	err := l.live.Add(ctx, hits)
	clear(hits) // let go of the old arrays of buf
	return err
}

// spoolSources returns the directories that pvjobs load reads for --source
// dir: dir itself, or, when dir is a collector's spool, its segments (each a
// directory of shard files), with spool true. A spool in use by a running
// collector is refused; unlock releases the spool once the load (and the
// removal of what it loaded) is done.
func spoolSources(dir string) (dirs []string, spool bool, unlock func(), err error) {
	segs, err := collector.SpoolSegments(dir)
	if err != nil || len(segs) == 0 {
		return []string{dir}, false, func() {}, nil
	}
	unlock, err = collector.LockSpool(dir)
	if err != nil {
		return nil, false, nil, usagef("--source: %v", err)
	}
	return segs, true, unlock, nil
}
