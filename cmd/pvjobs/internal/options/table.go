package options

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/daterange"
	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/location"
	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/scheduler"
	"github.com/pvjobs/pvjobs/cmd/pvjobs/internal/sharding"
	"github.com/pvjobs/pvjobs/jobs"
	"github.com/pvjobs/pvjobs/jobs/sources"
	"github.com/pvjobs/pvjobs/jobs/tally"
	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/readers/cassandra"
	"github.com/pvjobs/pvjobs/readers/collector"
	"github.com/pvjobs/pvjobs/readers/file"
	"github.com/pvjobs/pvjobs/reports/csv"
	"github.com/pvjobs/pvjobs/reports/html"
	"github.com/pvjobs/pvjobs/reports/redis"
)

// Groups of commands that share options.
const (
	runs      = Run | Schedule
	redisConn = Run | Schedule | Uniques | Collect
	cql       = Run | Schedule | Uniques | Load | Export | Schema | Collect
	// live are the options of the batch run that the collector's live
	// counters follow, so that live and nightly keys count alike.
	live = runs | Collect
	// writes are the options of the outputs, which pvjobs merge writes as
	// the run would have.
	writes = runs | Merge
	// dates are the options that name a run's range; pvjobs merge checks
	// its partial results against them.
	dates = Run | Merge
)

// Help headings.
const (
	catCassandra = "Cassandra"
	catRedis     = "Redis"
	catLive      = "Live counters"
	catShards    = "Shards"
)

// Table lists every option of pvjobs, in the order docs list them. Rows with
// the same flag name are one option in different commands (such as
// --accounts, whose default differs in gen); they share their Values field.
var Table = build()

func build() []*Option {
	t := []*Option{
		// Global options, before the command name.
		{Name: "log-level", Kind: String, Default: "info", Env: "PVJOBS_LOG_LEVEL", For: Global,
			Usage: "log level: debug, info, warn, error", Want: "debug, info, warn or error", Check: checkLevel,
			bind: func(v *Values) any { return &v.LogLevel }},
		{Name: "log-format", Kind: String, Default: "text", Env: "PVJOBS_LOG_FORMAT", For: Global, Choices: []string{"text", "json"},
			Usage: "log format: text or json",
			bind:  func(v *Values) any { return &v.LogFormat }},

		// What a run reads.
		{Name: "source", Aliases: []string{"s"}, Kind: String, Env: "PVJOBS_SOURCE", Key: "source", For: runs, URL: true,
			DefaultText: "the embedded sample", Location: sourceLocations,
			Usage: "where page views come from: a directory of shard files, or cassandra://host[:port]/keyspace",
			bind:  func(v *Values) any { return &v.Source }},
		{Name: "source", Aliases: []string{"s"}, Kind: String, For: Uniques, URL: true, Location: sourceLocations,
			Usage: "count from the page views instead: a directory of shard files or cassandra://host[:port]/keyspace",
			bind:  func(v *Values) any { return &v.Source }},
		{Name: "source", Aliases: []string{"s"}, Kind: String, For: Load, Required: true,
			Usage: "directory of shard files, or a collector's spool (--spool of pvjobs collect)",
			bind:  func(v *Values) any { return &v.Source }},
		{Name: "keep-spool", Kind: Bool, For: Load,
			Usage: "when --source is a collector's spool, keep the shard files loaded (by default they are removed once Cassandra has them, so that the collector does not replay them; keep them when loading into another table than the collector's)",
			bind:  func(v *Values) any { return &v.KeepSpool }},
		{Name: "source", Aliases: []string{"s"}, Kind: String, Env: "PVJOBS_SOURCE", For: Export, Required: true, URL: true,
			Usage: "the table: cassandra://[user:password@]host1,host2[:port]/keyspace[?table=...]",
			bind:  func(v *Values) any { return &v.Source }},
		{Name: "accounts", Aliases: []string{"a"}, Kind: List, Default: "all", Env: "PVJOBS_ACCOUNTS", Key: "accounts", For: runs, Check: checkRunAccounts,
			Usage: "comma-separated account ids (1 to 64 of A-Z a-z 0-9 _ -), all (every account the source has in the range), or @FILE (ids separated by white space or commas, # comments: what pvjobs accounts prints)",
			bind:  func(v *Values) any { return &v.Accounts }},
		{Name: "accounts", Aliases: []string{"a"}, Kind: List, Env: "PVJOBS_ACCOUNTS", For: Uniques, Required: true, Check: checkAccounts,
			Usage: "comma-separated account ids (all: every account of --source)",
			bind:  func(v *Values) any { return &v.Accounts }},
		{Name: "accounts", Aliases: []string{"a"}, Kind: List, Default: "blog,shop", For: Gen, Check: checkAccounts,
			Usage: "comma-separated account ids",
			bind:  func(v *Values) any { return &v.Accounts }},
		{Name: "accounts", Aliases: []string{"a"}, Kind: List, Default: "all", For: Load | Export, Check: checkAccounts,
			Usage: "comma-separated account ids, or all",
			bind:  func(v *Values) any { return &v.Accounts }},
		{Name: "from", Kind: String, For: Run,
			Usage: "first day, YYYY-MM-DD, or first instant, RFC 3339 (default: the source's first day, for shard files)",
			bind:  func(v *Values) any { return &v.From }},
		{Name: "to", Kind: String, For: Run,
			Usage: "last day, inclusive, YYYY-MM-DD, or the instant after the range, RFC 3339 (default: the source's last day, for shard files)",
			bind:  func(v *Values) any { return &v.To }},
		{Name: "from", Kind: String, For: Merge,
			Usage: "with --to: the range the partial results must be of (YYYY-MM-DD, or an RFC 3339 instant); others are refused",
			bind:  func(v *Values) any { return &v.From }},
		{Name: "to", Kind: String, For: Merge,
			Usage: "with --from: the last day, inclusive, or the instant after the range, that the partial results must be of",
			bind:  func(v *Values) any { return &v.To }},
		{Name: "from", Kind: String, For: Uniques, Required: true,
			Usage: "start of the window: YYYY-MM-DD, YYYY-MM-DDTHH:MM (in --tz) or RFC 3339",
			bind:  func(v *Values) any { return &v.From }},
		{Name: "to", Kind: String, For: Uniques, Required: true,
			Usage: "end of the window: YYYY-MM-DD (that day included), YYYY-MM-DDTHH:MM (excluded, in --tz) or RFC 3339",
			bind:  func(v *Values) any { return &v.To }},
		{Name: "from", Kind: String, Default: "2024-08-01", For: Gen, Check: checkDate,
			Usage: "first UTC day",
			bind:  func(v *Values) any { return &v.From }},
		{Name: "to", Kind: String, Default: "2024-08-07", For: Gen, Check: checkDate,
			Usage: "last UTC day, inclusive",
			bind:  func(v *Values) any { return &v.To }},
		{Name: "from", Kind: String, For: Load | Export, Check: checkDate,
			Usage: "first UTC day, YYYY-MM-DD (default: the first shard's)",
			bind:  func(v *Values) any { return &v.From }},
		{Name: "to", Kind: String, For: Load | Export, Check: checkDate,
			Usage: "last UTC day, inclusive (default: the last shard's)",
			bind:  func(v *Values) any { return &v.To }},
		{Name: "tz", Kind: Zone, Default: "UTC", Env: "PVJOBS_TZ", Key: "tz", For: runs | Merge,
			Usage: "time zone whose days, hours and months reports use, e.g. Europe/Berlin",
			bind:  func(v *Values) any { return &v.TZ }},
		{Name: "tz", Kind: Zone, Default: "UTC", Env: "PVJOBS_TZ", Key: "tz", Section: SectionCollect, For: Collect, Category: catLive,
			Usage: "live: the time zone of the keys' days and hours (the nightly run's --tz)",
			bind:  func(v *Values) any { return &v.TZ }},
		{Name: "tz", Kind: Zone, Default: "UTC", Env: "PVJOBS_TZ", For: Uniques,
			Usage: "time zone of the window and of the keys' days and hours (the one the keys were written in)",
			bind:  func(v *Values) any { return &v.TZ }},

		// What a run makes and writes.
		{Name: "jobs", Aliases: []string{"j"}, Kind: List, Default: "all", Env: "PVJOBS_JOBS", Key: "reports", For: runs, Check: checkJobs,
			Usage: "comma-separated jobs to run in one pass, or all (see 'pvjobs jobs')",
			bind:  func(v *Values) any { return &v.Jobs }},
		{Name: "out", Aliases: []string{"o"}, Kind: List, Repeat: true, Default: "csv:pvjobs-out,html:pvjobs-out", Env: "PVJOBS_OUT", Key: "out", For: writes, URL: true, Location: outputLocations,
			Usage: "output, repeatable: csv:DIR, html:DIR or redis://[user:pass@]host:port/db",
			bind:  func(v *Values) any { return &v.Out }},
		{Name: "csv-pattern", Kind: String, Default: "{report}.csv", Key: "csv_pattern", For: writes, Check: checkPattern,
			Usage: "CSV file names; {report}, {from}, {to} are replaced, {account} makes a file per account (a file name; {report} is needed for several reports)",
			bind:  func(v *Values) any { return &v.CSVPattern }},
		{Name: "csv-raw", Kind: Bool, Key: "csv_raw", For: writes,
			Usage: "write CSV cells as they are, without neutralising spreadsheet formulas (=, +, -, @)",
			bind:  func(v *Values) any { return &v.CSVRaw }},
		{Name: "html-pattern", Kind: String, Default: html.DefaultPattern, Env: "PVJOBS_HTML_PATTERN", Key: "html_pattern", For: writes, Check: checkHTMLPattern,
			Usage: "file name of each account's page of the HTML report (html:DIR); {account}, {from}, {to} are replaced",
			bind:  func(v *Values) any { return &v.HTMLPattern }},
		{Name: "html-index", Kind: String, Default: html.DefaultIndex, Env: "PVJOBS_HTML_INDEX", Key: "html_index", For: writes, Check: checkHTMLIndex,
			Usage: "file name of the HTML report's page that links the accounts; {from}, {to} are replaced",
			bind:  func(v *Values) any { return &v.HTMLIndex }},
		{Name: "html-top", Kind: Int, Default: fmt.Sprint(html.DefaultTop), Env: "PVJOBS_HTML_TOP", Key: "html_top", For: writes, Min: 1, Want: "1 or more",
			Usage: "rows each table of the HTML report shows before its (other) row",
			bind:  func(v *Values) any { return &v.HTMLTop }},
		{Name: "top", Kind: Int, Default: "10", Key: "top", For: writes, Want: "0 (no table) or more",
			Usage: "rows per report in the table printed to stdout (0: no table)",
			bind:  func(v *Values) any { return &v.Top }},
		{Name: "quiet", Aliases: []string{"q"}, Kind: Bool, Key: "quiet", For: writes,
			Usage: "print neither table nor summary",
			bind:  func(v *Values) any { return &v.Quiet }},
		{Name: "quiet", Aliases: []string{"q"}, Kind: Bool, For: Load | Export,
			Usage: "no progress output",
			bind:  func(v *Values) any { return &v.Quiet }},
		{Name: "slices", Kind: Int, Default: fmt.Sprint(mapreduce.DefaultSlices), Key: "slices", For: runs, Min: 1, Max: 86400,
			Usage: "time slices per day (work items for sources that read slices in parallel)",
			bind:  func(v *Values) any { return &v.Slices }},
		{Name: "workers", Kind: Int, DefaultText: "GOMAXPROCS", Env: "PVJOBS_WORKERS", Key: "workers", For: runs, Max: 1 << 16, Want: "0 (GOMAXPROCS) or more",
			Usage: "worker goroutines",
			bind:  func(v *Values) any { return &v.Workers }},
		{Name: "workers", Kind: Int, DefaultText: "GOMAXPROCS", Env: "PVJOBS_WORKERS", For: Uniques, Max: 1 << 16, Want: "0 (GOMAXPROCS) or more",
			Usage: "with --source: worker goroutines",
			bind:  func(v *Values) any { return &v.Workers }},
		{Name: "max-bad-rows", Kind: Budget, Default: "0.1%", Env: "PVJOBS_MAX_BAD_ROWS", Key: "max_bad_rows", For: runs,
			Usage: "bad rows tolerated before the run fails: a count (100) or a share of rows read (0.1%)",
			bind:  func(v *Values) any { return &v.MaxBadRows }},
		{Name: "max-bad-rows", Kind: Budget, Default: "0.1%", Env: "PVJOBS_MAX_BAD_ROWS", For: Uniques,
			Usage: "with --source: bad rows tolerated: a count or a share of rows read",
			bind:  func(v *Values) any { return &v.MaxBadRows }},
		{Name: "allow-empty", Kind: Bool, Key: "allow_empty", For: writes,
			Usage: "succeed, and replace the reports, when the run reads no page view at all (else it fails: a wrong source, table or account is not taken for a quiet day)",
			bind:  func(v *Values) any { return &v.AllowEmpty }},
		{Name: "max-rows", Kind: Int, Default: fmt.Sprint(tally.DefaultMaxRows), Env: "PVJOBS_MAX_ROWS", Key: "max_rows", For: runs, Want: "0 (every row) or more",
			Usage: "rows each report keeps per account and period; the rest are summed into an (other) row (0: every row)",
			bind:  func(v *Values) any { return &v.MaxRows }},
		{Name: "visit-timeout", Kind: Duration, Default: FormatDuration(mapreduce.DefaultVisitTimeout), Env: "PVJOBS_VISIT_TIMEOUT", Key: "visit_timeout", For: runs,
			MinDuration: time.Second, MaxDuration: 24 * time.Hour, Want: "a duration from 1s to 24h, such as 30m",
			Usage: "visits: the longest gap between two page views of one visit",
			bind:  func(v *Values) any { return &v.VisitTimeout }},
		{Name: "compare", Kind: String, Default: "none", Env: "PVJOBS_COMPARE", Key: "compare", For: runs, Choices: []string{"none", "previous"},
			Usage: "previous: also read the period of the same number of local days just before the range, in the same pass, for previous rows; none: do not",
			bind:  func(v *Values) any { return &v.Compare }},
		{Name: "max-row-size", Kind: Int, Default: fmt.Sprint(file.DefaultMaxRowSize), Key: "max_row_size", For: runs, Max: 1 << 30,
			Want:  fmt.Sprintf("1 to %d bytes (0: the default)", 1<<30),
			Usage: "shard files: the most bytes one page view may take (page views are a few hundred bytes); a longer one is a bad row, read past without being held in memory",
			bind:  func(v *Values) any { return &v.MaxRowSize }},
		{Name: "strip-query", Kind: Bool, Key: "strip_query", For: live,
			Usage: "urls: drop query strings entirely (tracking parameters are always dropped)",
			bind:  func(v *Values) any { return &v.StripQuery }},
		{Name: "internal-domains", Kind: List, Repeat: true, Key: "internal_domains", For: runs, Check: checkDomains,
			Usage: "sources: referrer hosts that count as internal besides the page's own host",
			bind:  func(v *Values) any { return &v.InternalDomains }},
		{Name: "geoip", Kind: String, Env: "PVJOBS_GEOIP", Key: "geoip", For: runs, DefaultText: "none; the test database with the embedded sample",
			Usage: "geo: path of a GeoIP2/GeoLite2 City or Country database (.mmdb)",
			bind:  func(v *Values) any { return &v.GeoIP }},
		{Name: "include-bots", Kind: Bool, Key: "include_bots", For: live,
			Usage: "count bots in every report, not only in devices",
			bind:  func(v *Values) any { return &v.IncludeBots }},
		{Name: "spam-domains", Kind: List, Repeat: true, Env: "PVJOBS_SPAM_DOMAINS", Key: "spam_domains", For: live,
			Usage: "referrer-spam hosts to leave out besides the embedded list (a host covers its subdomains)",
			bind:  func(v *Values) any { return &v.SpamDomains }},
		{Name: "include-spam", Kind: Bool, Key: "include_spam", For: live,
			Usage: "keep referrer spam in the reports (it is left out by default, like bots)",
			bind:  func(v *Values) any { return &v.IncludeSpam }},
		{Name: "exact-uniques", Kind: Bool, Key: "exact_uniques", For: runs,
			Usage: "uniques: count visitors exactly with a hash set (small data; for checking the sketches)",
			bind:  func(v *Values) any { return &v.ExactUniques }},
		{Name: "exact-uniques", Kind: Bool, For: Uniques,
			Usage: "with --source: count exactly with a hash set instead of a sketch",
			bind:  func(v *Values) any { return &v.ExactUniques }},

		// Operating runs: config files, relative dates, dry runs, timeouts,
		// progress and metrics.
		{Name: "config", Aliases: []string{"c"}, Kind: String, Env: "PVJOBS_CONFIG", For: Run | Merge,
			Usage: "config file (YAML) of named jobs: values for the flags not given (flag > env > file > default)",
			bind:  func(v *Values) any { return &v.Config }},
		{Name: "config", Aliases: []string{"c"}, Kind: String, Env: "PVJOBS_CONFIG", For: Schedule,
			Usage: "config file (YAML) of named jobs (required)",
			bind:  func(v *Values) any { return &v.Config }},
		{Name: "job", Kind: String, Env: "PVJOBS_JOB", For: Run | Merge, DefaultText: "the file's only job",
			Usage: "the config file's job to run",
			bind:  func(v *Values) any { return &v.Job }},
		{Name: "job", Kind: List, Repeat: true, For: Schedule, DefaultText: "every job with a schedule",
			Usage: "schedule only this job (repeatable)",
			bind:  func(v *Values) any { return &v.ScheduleJobs }},
		{Name: "yesterday", Kind: Bool, For: dates,
			Usage: "report yesterday: the whole local day (in --tz) before today",
			bind:  func(v *Values) any { return &v.Yesterday }},
		{Name: "today", Kind: Bool, For: dates,
			Usage: "report today: the whole local day (in --tz), so far",
			bind:  func(v *Values) any { return &v.Today }},
		{Name: "last", Kind: String, For: dates, Check: checkLast,
			Usage: "report the last N whole local days before today, today not included: 7d, 2w",
			bind:  func(v *Values) any { return &v.Last }},
		{Name: "now", Kind: String, Env: "PVJOBS_NOW", For: dates, Check: checkNow,
			Usage: "compute --yesterday, --today, --last and a config job's range as of this RFC 3339 time (to re-run a missed night)",
			bind:  func(v *Values) any { return &v.Now }},
		{Name: "dry-run", Kind: Bool, For: Run,
			Usage: "print the plan (range, shard keys, time slices, reports, outputs) and read no data",
			bind:  func(v *Values) any { return &v.DryRun }},
		{Name: "dry-run", Kind: Bool, For: Merge,
			Usage: "check the partial results and the outputs, print what would be merged, write nothing",
			bind:  func(v *Values) any { return &v.DryRun }},
		{Name: "timeout", Kind: Duration, Env: "PVJOBS_TIMEOUT", Key: "timeout", For: runs, DefaultText: "none",
			Want:  "a duration above zero, such as 90m, 2h or 1d",
			Usage: "fail the run, writing nothing, after this long: 90m, 2h, 1d",
			bind:  func(v *Values) any { return &v.Timeout }},
		{Name: "metrics-file", Kind: String, Env: "PVJOBS_METRICS_FILE", Key: "metrics_file", For: runs,
			Usage: "write the run's metrics (Prometheus text format) to this file, for node_exporter's textfile collector",
			bind:  func(v *Values) any { return &v.MetricsFile }},
		{Name: "progress", Kind: String, Default: "auto", Env: "PVJOBS_PROGRESS", For: Run, Choices: []string{"auto", "bar", "log", "none"},
			Usage: "progress: auto (a bar on a terminal, else a log line every 10s), bar, log or none",
			bind:  func(v *Values) any { return &v.Progress }},

		// Shards of a run (package sharding) and their merge.
		{Name: "shard", Kind: String, Env: "PVJOBS_SHARD", For: Run, Category: catShards, Check: checkShard,
			Usage: "run only shard I of N of the run, 0 <= I < N, such as 2/7 (in a Kubernetes Indexed Job, JOB_COMPLETION_INDEX with --shard-count does it)",
			bind:  func(v *Values) any { return &v.Shard }},
		{Name: "shard-count", Kind: Int, Env: "PVJOBS_SHARD_COUNT", For: Run, Category: catShards, Min: 1, Max: sharding.MaxShards,
			Usage: "the number of shards N, with a shard index taken from JOB_COMPLETION_INDEX (the Indexed Job's completions)",
			bind:  func(v *Values) any { return &v.ShardCount }},
		{Name: "shard-by", Kind: String, Env: "PVJOBS_SHARD_BY", For: Run, Category: catShards, Choices: []string{"account", "day"}, DefaultText: "account",
			Usage: "how the run is cut: account (a shard computes whole accounts and writes their final reports) or day (a shard reads some local days and writes partial results to --partials)",
			bind:  func(v *Values) any { return &v.ShardBy }},
		{Name: "partials", Kind: List, Env: "PVJOBS_PARTIALS", For: Run, Category: catShards,
			Usage: "--shard-by day: the directory a shard writes its partial results to (shard-I-of-N.pvpart), for pvjobs merge, instead of reports",
			bind:  func(v *Values) any { return &v.Partials }},
		{Name: "run-id", Kind: String, Env: "PVJOBS_RUN_ID", For: Run, Category: catShards,
			Usage: "--shard-by day: a name of the run (the Kubernetes Job's, a date) that its partial results carry, so that two runs of equal parameters never merge",
			bind:  func(v *Values) any { return &v.RunID }},
		{Name: "partials", Kind: List, Repeat: true, Env: "PVJOBS_PARTIALS", For: Merge, Required: true,
			Usage: "partial-result files, or directories of them (*.pvpart), written by pvjobs run --shard-by day",
			bind:  func(v *Values) any { return &v.Partials }},

		// Keys of config jobs that have no flag: the scheduler's.
		{Key: "schedule", Kind: String, For: Schedule, Check: checkCron,
			Usage: "cron: 5 fields (30 2 * * *), @daily, @hourly, @every 6h; read in the job's tz, or CRON_TZ=Zone …",
			bind:  func(v *Values) any { return &v.Schedule }},
		{Key: "range", Kind: Window, For: runs | Merge,
			Usage: "yesterday, today, last 7d, last 2w: what a run without dates reports, and what each scheduled run reports (default yesterday)",
			bind:  func(v *Values) any { return &v.Range }},
		{Key: "catch_up", Kind: Duration, ZeroOK: true, For: Schedule, DefaultText: "1m",
			Want:  "a duration such as 3d, 12h or 90m",
			Usage: "how old a missed slot may be and still run: 3d, 12h",
			bind:  func(v *Values) any { return &v.CatchUp }},

		// pvjobs schedule.
		{Name: "lock", Kind: String, Env: "PVJOBS_LOCK", Key: "lock", Section: SectionScheduler, For: Schedule, URL: true, Location: lockLocations,
			Usage: "redis://[user:pass@]host:port/db (or rediss://) for a lock per job and the record of done slots, shared by schedulers on several machines; connected with the --redis-* settings",
			bind:  func(v *Values) any { return &v.Lock }},
		{Name: "lock-ttl", Kind: Duration, Default: "1m", Env: "PVJOBS_LOCK_TTL", Key: "lock_ttl", Section: SectionScheduler, For: Schedule, MinDuration: time.Second,
			Want:  "a duration of at least 1s, such as 30s or 2m",
			Usage: "expiry of a Redis lock, refreshed while the run lasts",
			bind:  func(v *Values) any { return &v.LockTTL }},
		{Name: "state", Kind: String, Env: "PVJOBS_STATE", Key: "state", Section: SectionScheduler, For: Schedule,
			Usage: "file recording each job's last done slot, for catch_up after a restart, without --lock",
			bind:  func(v *Values) any { return &v.State }},
		{Name: "metrics-addr", Kind: String, Env: "PVJOBS_METRICS_ADDR", Key: "metrics_addr", Section: SectionScheduler, For: Schedule, Check: checkAddr,
			Usage: "serve /metrics (Prometheus text format) on [host]:port",
			bind:  func(v *Values) any { return &v.MetricsAddr }},

		// Redis.
		{Name: "redis", Kind: String, Env: "PVJOBS_REDIS_URL", For: Uniques, URL: true, Location: lockLocations,
			Usage: "count from the keys of the Redis sink: redis://[user:password@]host:port/db or rediss://...",
			bind:  func(v *Values) any { return &v.RedisURL }},
		{Name: "redis-prefix", Kind: String, Default: redis.DefaultPrefix, Env: "PVJOBS_REDIS_PREFIX", Key: "redis_prefix", For: redisConn | Merge, Category: catRedis, Check: checkPrefix,
			Usage: "redis: first part of every key, as in pv:{blog}:urls:20240801 (URL: prefix=)",
			bind:  func(v *Values) any { return &v.Redis.Prefix }},
		{Name: "redis-batch", Kind: Int, Default: fmt.Sprint(redis.DefaultBatch), Env: "PVJOBS_REDIS_BATCH", Key: "redis_batch", For: runs | Merge, Category: catRedis, Min: 1, Max: 1_000_000,
			Usage: "redis: members per ZADD (URL: batch=)",
			bind:  func(v *Values) any { return &v.Redis.Batch }},
		{Name: "redis-pipeline", Kind: Int, Default: fmt.Sprint(redis.DefaultPipeline), Env: "PVJOBS_REDIS_PIPELINE", Key: "redis_pipeline", For: runs | Merge, Category: catRedis, Min: 1, Max: 1_000_000,
			Usage: "redis: commands per round trip (URL: pipeline=)",
			bind:  func(v *Values) any { return &v.Redis.Pipeline }},
		{Name: "redis-top", Kind: Int, Env: "PVJOBS_REDIS_TOP", Key: "redis_top", For: runs | Merge, Category: catRedis, Want: "0 (all) or more",
			Usage: "redis: keep only the N highest rows of each sorted set, by the report's first measure, the same rows in every measure's (0: all)",
			bind:  func(v *Values) any { return &v.Redis.Top }},
		{Name: "redis-ttl", Aliases: []string{"ttl"}, Kind: Duration, Env: "PVJOBS_REDIS_TTL", Key: "redis_ttl", For: live | Merge, Category: catRedis, DefaultText: "none",
			Want:  "a duration such as 90d or 36h",
			Usage: "redis: expiry of every key written: 90d, 36h",
			bind:  func(v *Values) any { return &v.Redis.TTL }},
		{Name: "redis-range", Kind: Bool, Key: "redis_range", For: runs | Merge, Category: catRedis,
			Usage: "redis: also write the keys of the whole range, as in pv:{blog}:urls:20240801-20240807",
			bind:  func(v *Values) any { return &v.Redis.Range }},
		{Name: "uv-merge", Kind: Bool, Env: "PVJOBS_UV_MERGE", Key: "uv_merge", For: runs | Merge, Category: catRedis,
			Usage: "redis: PFMERGE unique visitors into the existing keys (that a live producer PFADDs to) instead of replacing them",
			bind:  func(v *Values) any { return &v.Redis.UVMerge }},
		{Name: "uv-granularity", Kind: String, Default: "hour", Env: "PVJOBS_UV_GRANULARITY", Key: "uv_granularity", For: redisConn, Category: catRedis,
			Choices: []string{"hour", "minute"}, OldKey: "unique_minutes", OldValues: [2]string{"hour", "minute"},
			Usage: "uniques: finest period of sketches and Redis keys: hour, or minute (adds minute keys)",
			bind:  func(v *Values) any { return &v.UVGranularity }},
		{Name: "redis-cluster", Kind: Bool, Env: "PVJOBS_REDIS_CLUSTER", Key: "redis_cluster", For: redisConn | Schedule | Merge, Category: catRedis,
			Usage: "redis: the URL names a node of a Redis Cluster (URL: cluster=true, or addr= for more seed nodes)",
			bind:  func(v *Values) any { return &v.Redis.Cluster }},
		{Name: "redis-timeout", Kind: Duration, Env: "PVJOBS_REDIS_TIMEOUT", Key: "redis_timeout", For: redisConn | Merge, Category: catRedis,
			DefaultText: "go-redis's 5s dial, 3s read and write", Want: "a duration such as 5s",
			Usage: "redis: dial, read and write timeout: 5s (URL: dial_timeout=, read_timeout=, write_timeout=)",
			bind:  func(v *Values) any { return &v.Redis.Timeout }},
		{Name: "redis-user", Kind: String, Env: "PVJOBS_REDIS_USER", Key: "redis_user", For: redisConn | Merge, Category: catRedis,
			Usage: "redis: ACL user name when the URL has none (the password: $PVJOBS_REDIS_PASSWORD)",
			bind:  func(v *Values) any { return &v.Redis.User }},
		{Kind: String, Env: "PVJOBS_REDIS_PASSWORD", For: redisConn | Merge, Category: catRedis, Secret: true,
			Usage: "redis: password when the URL has none (environment only: keep it off command lines and out of files)",
			bind:  func(v *Values) any { return &v.Redis.Password }},
		{Name: "redis-ca", Kind: String, Env: "PVJOBS_REDIS_CA", Key: "redis_ca", For: redisConn | Merge, Category: catRedis, DefaultText: "the system's",
			Usage: "redis: PEM file of the certificate authorities to trust for rediss://",
			bind:  func(v *Values) any { return &v.Redis.CA }},
		{Name: "redis-cert", Kind: String, Env: "PVJOBS_REDIS_CERT", Key: "redis_cert", For: redisConn | Merge, Category: catRedis,
			Usage: "redis: PEM client certificate for rediss://",
			bind:  func(v *Values) any { return &v.Redis.Cert }},
		{Name: "redis-key", Kind: String, Env: "PVJOBS_REDIS_KEY", Key: "redis_key", For: redisConn | Merge, Category: catRedis,
			Usage: "redis: PEM key of --redis-cert",
			bind:  func(v *Values) any { return &v.Redis.Key }},

		// pvjobs collect. Its keys live in the collect section of a config
		// file.
		{Name: "config", Kind: String, Env: "PVJOBS_CONFIG", For: Collect,
			Usage: "config file (YAML) whose collect section gives values for the flags not given (flag > env > file > default)",
			bind:  func(v *Values) any { return &v.Config }},
		{Name: "listen", Kind: String, Default: "127.0.0.1:8080", Env: "PVJOBS_COLLECT_LISTEN", Key: "listen", Section: SectionCollect, For: Collect, Check: checkListen,
			Usage: "address to serve /a.js, /a.gif, /e, /healthz and /metrics on",
			bind:  func(v *Values) any { return &v.Collect.Listen }},
		{Name: "cassandra", Aliases: []string{"c"}, Kind: String, Env: "PVJOBS_CASSANDRA_URL", Key: "cassandra", Section: SectionCollect, For: Collect, Required: true,
			URL: true, Location: sourceLocations, Check: checkCassandraURL, PasswordEnv: "PVJOBS_CQL_PASSWORD",
			Usage: "the table: cassandra://[user:password@]host1,host2[:port]/keyspace[?table=...&consistency=...] (see --cql-* for the parameters)",
			bind:  func(v *Values) any { return &v.CassandraURL }},
		{Name: "accounts", Aliases: []string{"a"}, Kind: List, Env: "PVJOBS_ACCOUNTS", Key: "accounts", Section: SectionCollect, For: Collect, Check: checkCollectAccounts,
			Usage: "comma-separated account ids to accept (or --accounts-file)",
			bind:  func(v *Values) any { return &v.Accounts }},
		{Name: "accounts-file", Kind: String, Env: "PVJOBS_ACCOUNTS_FILE", Key: "accounts_file", Section: SectionCollect, For: Collect,
			Usage: "file of account ids to accept (one per line, # comments), re-read when it changes",
			bind:  func(v *Values) any { return &v.Collect.AccountsFile }},
		{Name: "spool", Kind: String, Default: "pvjobs-spool", Env: "PVJOBS_SPOOL", Key: "spool", Section: SectionCollect, For: Collect,
			Usage: "spool directory: every page view is appended here before it is answered, and kept until Cassandra has it",
			bind:  func(v *Values) any { return &v.Collect.Spool }},
		{Name: "fsync", Kind: String, Default: "1s", Env: "PVJOBS_FSYNC", Key: "fsync", Section: SectionCollect, For: Collect, Check: checkFsync,
			Usage: "when spool appends are forced to disk: always (before answering), never, or an interval",
			bind:  func(v *Values) any { return &v.Collect.Fsync }},
		{Name: "trusted-proxies", Kind: List, Env: "PVJOBS_TRUSTED_PROXIES", Key: "trusted_proxies", Section: SectionCollect, For: Collect, Check: checkProxies,
			Usage: "CIDRs whose X-Forwarded-For / X-Real-IP are believed, e.g. 127.0.0.1/32,10.0.0.0/8",
			bind:  func(v *Values) any { return &v.Collect.TrustedProxies }},
		{Name: "anonymize-ip", Kind: Bool, Env: "PVJOBS_ANONYMIZE_IP", Key: "anonymize_ip", Section: SectionCollect, For: Collect,
			Usage: "store the client's /24 (IPv4) or /48 (IPv6) only",
			bind:  func(v *Values) any { return &v.Collect.AnonymizeIP }},
		{Name: "respect-dnt", Kind: Bool, Env: "PVJOBS_RESPECT_DNT", Key: "respect_dnt", Section: SectionCollect, For: Collect,
			Usage: "store nothing for requests with DNT: 1 or Sec-GPC: 1 (answered as usual)",
			bind:  func(v *Values) any { return &v.Collect.RespectDNT }},
		{Name: "rate-limit", Kind: Int, Default: "50", Env: "PVJOBS_RATE_LIMIT", Key: "rate_limit", Section: SectionCollect, For: Collect, Min: 0, Max: 1_000_000, Want: "0 (no limit) or more",
			Usage: "page views per second per client IP (0: no limit)",
			bind:  func(v *Values) any { return &v.Collect.RateLimit }},
		{Name: "rate-burst", Kind: Int, Env: "PVJOBS_RATE_BURST", Key: "rate_burst", Section: SectionCollect, For: Collect, Min: 0, Max: 10_000_000, DefaultText: "2 × --rate-limit",
			Usage: "page views a client IP may send at once",
			bind:  func(v *Values) any { return &v.Collect.RateBurst }},
		{Name: "max-body", Kind: Int, Default: "16384", Env: "PVJOBS_MAX_BODY", Key: "max_body", Section: SectionCollect, For: Collect, Min: 256, Max: 1 << 20, Want: "256 to 1048576 bytes",
			Usage: "largest POST /e body, bytes",
			bind:  func(v *Values) any { return &v.Collect.MaxBody }},
		{Name: "max-connections", Kind: Int, Default: "10000", Env: "PVJOBS_MAX_CONNECTIONS", Key: "max_connections", Section: SectionCollect, For: Collect, Min: 0, Max: 1 << 24,
			Want:  "0 (no limit) or more",
			Usage: "open client connections at most; a further one waits in the kernel's backlog until one closes (0: no limit)",
			bind:  func(v *Values) any { return &v.Collect.MaxConnections }},
		{Name: "queue", Kind: Int, Default: "65536", Env: "PVJOBS_QUEUE", Key: "queue", Section: SectionCollect, For: Collect, Min: 1, Max: 1 << 30,
			Usage: "page views held in memory for Cassandra; beyond, they wait in the spool",
			bind:  func(v *Values) any { return &v.Collect.Queue }},
		{Name: "writers", Kind: Int, Default: "8", Env: "PVJOBS_WRITERS", Key: "writers", Section: SectionCollect, For: Collect, Min: 1, Max: 256,
			Usage: "goroutines writing batches to Cassandra (and batches in flight when replaying the spool)",
			bind:  func(v *Values) any { return &v.Collect.Writers }},
		{Name: "drain-timeout", Kind: Duration, Default: "30s", Env: "PVJOBS_DRAIN_TIMEOUT", Key: "drain_timeout", Section: SectionCollect, For: Collect, MinDuration: time.Second,
			Want:  "a duration of at least 1s, such as 30s or 2m",
			Usage: "on SIGTERM, how long to write the queue and the spool to Cassandra before exiting (what is left stays spooled)",
			bind:  func(v *Values) any { return &v.Collect.DrainTimeout }},
		{Name: "live", Kind: String, Env: "PVJOBS_LIVE_URL", Key: "live", Section: SectionCollect, For: Collect, URL: true, Location: lockLocations, Category: catLive,
			PasswordEnv: "PVJOBS_REDIS_PASSWORD",
			Usage:       "also count each page view in Redis as it comes: redis://[user:password@]host:port/db (the keys of --out redis://), with the --redis-* settings",
			bind:        func(v *Values) any { return &v.Collect.Live }},

		// Cassandra tables of load, export and schema.
		{Name: "cassandra", Aliases: []string{"c"}, Kind: String, Env: "PVJOBS_CASSANDRA_URL", For: Load, Required: true, URL: true,
			Usage: "the table: cassandra://[user:password@]host1,host2[:port]/keyspace[?table=...&consistency=...] (see --cql-* for the parameters)",
			bind:  func(v *Values) any { return &v.CassandraURL }},
		{Name: "cassandra", Aliases: []string{"c"}, Kind: String, Default: "cassandra://127.0.0.1:9042/pvjobs", Env: "PVJOBS_CASSANDRA_URL", For: Schema, URL: true,
			Usage: "the table: cassandra://[user:password@]host1,host2[:port]/keyspace[?table=...]",
			bind:  func(v *Values) any { return &v.CassandraURL }},
		{Name: "replication", Aliases: []string{"r"}, Kind: String, Default: "1", For: Schema,
			Usage: "replication of a new keyspace: a factor (SimpleStrategy) or data centres dc1:3,dc2:3 (NetworkTopologyStrategy)",
			bind:  func(v *Values) any { return &v.Replication }},
		{Name: "apply", Kind: Bool, For: Schema,
			Usage: "create the keyspace and table on the cluster",
			bind:  func(v *Values) any { return &v.Apply }},

		// gen, export, uniques.
		{Name: "to-dir", Aliases: []string{"d"}, Kind: String, For: Gen, Required: true,
			Usage: "directory to write shard files into, created if missing",
			bind:  func(v *Values) any { return &v.ToDir }},
		{Name: "to-dir", Aliases: []string{"d"}, Kind: String, For: Export, Required: true,
			Usage: "directory to write shard files into (created if missing)",
			bind:  func(v *Values) any { return &v.ToDir }},
		{Name: "rows-per-day", Kind: Int, Default: "1000", For: Gen, Min: 1,
			Usage: "mean page views per account per day",
			bind:  func(v *Values) any { return &v.RowsPerDay }},
		{Name: "pages", Kind: Int, Default: "2000", For: Gen, Min: 1,
			Usage: "distinct pages per account",
			bind:  func(v *Values) any { return &v.Pages }},
		{Name: "agents", Kind: Int, Default: "4000", For: Gen, Min: 0,
			Usage: "generated long-tail user agents besides the 952 real ones",
			bind:  func(v *Values) any { return &v.Agents }},
		{Name: "bots", Kind: Int, Default: "10", For: Gen, Min: 0, Max: 90,
			Usage: "percentage of page views made by bots",
			bind:  func(v *Values) any { return &v.BotPercent }},
		{Name: "ips", Kind: String, Default: "sample", For: Gen, Choices: []string{"sample", "public"},
			Usage: "visitor addresses: sample (the test GeoIP databases' networks) or public (the whole public address space, for a real GeoLite2 database)",
			bind:  func(v *Values) any { return &v.IPs }},
		{Name: "access-log", Kind: String, For: Gen,
			Usage: "also write the same page views to this file in the combined log format (for GoAccess and other log analysers)",
			bind:  func(v *Values) any { return &v.AccessLog }},
		{Name: "seed", Kind: Uint, Default: "1", For: Gen,
			Usage: "random seed: the same seed writes the same files",
			bind:  func(v *Values) any { return &v.Seed }},
		{Name: "gzip", Kind: Bool, For: Gen | Export,
			Usage: "write .mpk.gz files",
			bind:  func(v *Values) any { return &v.Gzip }},
		{Name: "verbose", Aliases: []string{"v"}, Kind: Bool, For: Uniques,
			Usage: "also print the keys counted (or what was read)",
			bind:  func(v *Values) any { return &v.Verbose }},
	}
	return append(t, cqlOptions()...)
}

// cqlKinds are the kinds of the cassandra.Params that are not text.
var cqlKinds = map[string]Kind{
	"tls": Bool, "tls-insecure": Bool, "token-aware": Bool, "discover": Bool,
	"connect-timeout": Duration, "timeout": Duration, "retry-budget": Duration, "retry-wait": Duration, "retry-max-wait": Duration,
}

// cqlOn are the boolean parameters that are on unless turned off.
var cqlOn = map[string]bool{"token-aware": true, "discover": true}

// cqlOptions returns an option --cql-NAME (environment PVJOBS_CQL_NAME,
// config key cql_NAME) for every parameter of a cassandra:// URL. Only the
// parameters given are stored (Values.Cassandra): they override the URL.
func cqlOptions() []*Option {
	var out []*Option
	for _, p := range cassandra.Params {
		name := p.Name
		o := &Option{
			Name:     "cql-" + name,
			Kind:     cqlKinds[name],
			Env:      "PVJOBS_CQL_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_")),
			Key:      "cql_" + strings.ReplaceAll(name, "-", "_"),
			For:      cql,
			Category: catCassandra,
			Usage:    "Cassandra: " + p.Usage + " (overrides ?" + name + "= of the URL)",
			Check:    func(v any) error { return cassandra.NewConfig("ks", "host").Set(name, cqlText(v)) },
			bind: func(v *Values) any {
				return setter(func(x any) {
					if v.Cassandra == nil {
						v.Cassandra = map[string]string{}
					}
					v.Cassandra[name] = cqlText(x)
				})
			},
		}
		if cqlOn[name] {
			o.DefaultText = "true"
		}
		if o.Kind == Duration {
			o.Want = "a positive duration such as 500ms or 10s"
		}
		if name == "password" {
			// Secrets stay out of config files; the flag shows in ps.
			o.Key, o.Secret = "", true
			o.Usage += "; prefer the environment variable, flags show in ps"
		}
		out = append(out, o)
	}
	return out
}

// cqlText formats a parameter's value as cassandra.Config.Set reads it.
func cqlText(v any) string {
	switch x := v.(type) {
	case time.Duration:
		return x.String()
	case bool:
		return fmt.Sprint(x)
	}
	return v.(string)
}

func checkLevel(v any) error {
	var l slog.Level
	s := v.(string)
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return &valueError{value: s, want: "debug, info, warn or error"}
	}
	return nil
}

func sourceLocations(l Locations) location.Checker { return l.Sources }
func outputLocations(l Locations) location.Checker { return l.Outputs }

// lockLocations checks Redis servers: a lock's, or the keys uniques counts.
func lockLocations(l Locations) location.Checker { return l.Locks }

func checkAccounts(v any) error {
	l := v.([]string)
	for _, a := range l {
		if a == "all" {
			if len(l) > 1 {
				return fmt.Errorf("\"all\" with other accounts: give all or a list")
			}
			continue
		}
		if err := mapreduce.ValidateAccount(a); err != nil {
			return err
		}
	}
	return nil
}

// checkRunAccounts is checkAccounts, and @FILE alone: a file of accounts
// that the run reads.
func checkRunAccounts(v any) error {
	l := v.([]string)
	for _, a := range l {
		if strings.HasPrefix(a, "@") {
			if len(l) > 1 || len(a) == 1 {
				return fmt.Errorf("%q: give @FILE alone, a file of account ids", a)
			}
			return nil
		}
	}
	return checkAccounts(v)
}

func checkShard(v any) error {
	_, _, err := sharding.Parse(v.(string))
	return err
}

func checkDate(v any) error {
	if _, err := mapreduce.ParseDate(v.(string)); err != nil {
		return err
	}
	return nil
}

func checkJobs(v any) error {
	_, err := jobs.Lookup(v.([]string))
	return err
}

func checkDomains(v any) error { return sources.ValidateDomains(v.([]string)) }

// checkPattern checks a CSV pattern is a file name; whether it needs
// {report} depends on the reports, and is checked with them.
func checkPattern(v any) error { return csv.CheckPattern(v.(string), nil) }

// checkHTMLPattern and checkHTMLIndex check the HTML report's file names;
// whether the pages need {account} depends on the accounts, and is checked
// with them.
func checkHTMLPattern(v any) error { return html.CheckPattern(v.(string), "", nil) }
func checkHTMLIndex(v any) error   { return html.CheckPattern("", v.(string), nil) }

func checkLast(v any) error {
	s := v.(string)
	if s == "" {
		return nil
	}
	if _, err := daterange.ParseWindow(s); err != nil {
		return &valueError{value: s, want: "N days or weeks before today: 7d, 2w"}
	}
	return nil
}

func checkNow(v any) error {
	s := v.(string)
	if s == "" {
		return nil
	}
	if _, err := time.Parse(time.RFC3339, s); err != nil {
		return &valueError{value: s, want: "an RFC 3339 time such as 2024-08-08T02:30:00+02:00"}
	}
	return nil
}

func checkCron(v any) error {
	// Checked for syntax here; the config file checks it again in the
	// job's tz.
	_, err := scheduler.ParseCron(v.(string), time.UTC)
	return err
}

func checkAddr(v any) error {
	s := v.(string)
	if _, port, err := net.SplitHostPort(s); err != nil || port == "" {
		return &valueError{value: s, want: "[host]:port, such as :9464 or 127.0.0.1:9464"}
	}
	return nil
}

func checkPrefix(v any) error { return redis.ValidPrefix(v.(string)) }

// checkListen checks an address to listen on: [host]:port.
func checkListen(v any) error {
	s := v.(string)
	_, port, err := net.SplitHostPort(s)
	if _, perr := strconv.ParseUint(port, 10, 16); err != nil || perr != nil {
		return &valueError{value: s, want: "[host]:port, such as 127.0.0.1:8080 or :8080"}
	}
	return nil
}

// checkCassandraURL checks that the collector's table is a cassandra://
// URL (the registry of sources, Location, parses it).
func checkCassandraURL(v any) error {
	s := v.(string)
	if !strings.HasPrefix(s, "cassandra://") {
		return &valueError{value: location.Redact(s), want: "cassandra://host[:port]/keyspace"}
	}
	return nil
}

// checkCollectAccounts checks the accounts a collector accepts: named ones,
// never all.
func checkCollectAccounts(v any) error {
	for _, a := range v.([]string) {
		if a == "all" {
			return errors.New("all: the collector accepts only the accounts it is told: name them, or give an accounts file")
		}
		if err := mapreduce.ValidateAccount(a); err != nil {
			return err
		}
	}
	return nil
}

func checkFsync(v any) error {
	_, _, err := collector.ParseFsync(v.(string))
	return err
}

func checkProxies(v any) error {
	_, err := collector.ParseProxies(strings.Join(v.([]string), ","))
	return err
}
