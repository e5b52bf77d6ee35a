// Package redis writes reports to Redis: the counts of keyed reports as
// sorted sets (one per measure), totals as hashes, unique visitors as native
// HyperLogLog values, each report swapped in atomically per account; and it answers "how many distinct visitors in this window"
// with one PFCOUNT over the fewest keys (Cover, Count).
//
// # Keys
//
// Every key is prefix:{account}:report:time, the prefix "pv" unless
// Options.Prefix says otherwise. The account sits in a hash tag, so all keys
// of an account live in one Redis Cluster slot: one transaction can swap
// them, one PFCOUNT can union them.
//
//	pv:{blog}:urls:20240801               sorted set: a day of a keyed report, its first measure
//	pv:{blog}:urls:20240801-20240807      sorted set: the run's range (Options.Range)
//	pv:{blog}:urls.visitors:20240801      sorted set: another count of the report
//	pv:{blog}:sources.duration_ms:20240801 sorted set: an average's sum (see Several measures)
//	pv:{blog}:visits:20240801             hash: a day of a report of totals (also hours,
//	                                      months, the range)
//	pv:{blog}:uv:2024080118               HyperLogLog: visitors of an hour
//	pv:{blog}:uv:20240801                 HyperLogLog: a day
//	pv:{blog}:uv:202408                   HyperLogLog: a month
//	pv:{blog}:uv:202408011820             HyperLogLog: a minute (uniques minute rows)
//	pv:{blog}:uv:20240801-20240807        HyperLogLog: the range (Options.Range)
//	pv:{blog}:tmp:RUN:urls:20240801       a temporary key of run RUN (see Atomicity)
//
// The report part is the report's name (urls, entrypages, exitpages,
// sources, searchterms, campaigns, titles, languages, hours, devices, geo,
// visits), except "uv" for the uniques report, and report.measure
// (MeasureName) for the sorted sets of measures other than a report's first. The time part (TimePart) is the
// wall-clock time of the period's start in the run's time zone, with the
// year: YYYYMMDDHHMM, YYYYMMDDHH, YYYYMMDD, YYYYMM. Days and months are local
// days and months; hours are the calendar's hours of real elapsed time from
// local midnight (mapreduce.Calendar), so a day has 23 or 25 of them when
// daylight saving time starts or ends. When the clock is turned back, the
// hour (and its minutes) that repeats a wall-clock time already shown gets
// the UTC offset appended, and the first occurrence keeps the plain name:
// in Europe/Berlin on 2024-10-27, 2024102702 is 02:00 CEST and
// 2024102702+0100 is 02:00 CET. A range that is whole local days is named by
// its first and last day; otherwise by its start and end instants to the
// minute, 202408011800-202408030630.
//
// # Values
//
// Sorted sets: members are the report's key columns joined by a tab (a URL;
// "google\tpvjobs redis" for searchterms engine and term; "mobile\tChrome\tAndroid"
// for devices), scores the counts, so ZREVRANGE key 0 9 WITHSCORES is the top
// ten. Options.Top keeps the Top members ZREVRANGE lists first (highest
// score, ties by member, descending) of the report's first measure.
//
// Hashes: a field per stored measure of a report without key columns (the
// visits report), in the order of its measures, whole numbers.
//
// HyperLogLogs: the string value Redis itself holds after PFADDing the same
// visitor keys (see mapreduce/hll and jobs/uniques.VisitorKey): same
// registers, sparse or dense as Redis would encode them, cached cardinality
// marked invalid. PFCOUNT, PFMERGE and later PFADDs work on them as on any
// HyperLogLog. PFCOUNT caches the count in bytes 8 to 15 of the value.
//
// # Writes
//
// Counts are written with ZADD of absolute totals, Options.Batch members per
// ZADD and Options.Pipeline commands per round trip, never ZINCRBY: a re-run
// writes the same scores. Hashes are written with one HSET of every field,
// HyperLogLogs with SET. What happens to each key:
//
//   - A whole period of the run (a day of a whole-day run, its hours, a
//     month the run covers entirely, the range) replaces its key.
//   - A whole period without rows deletes its key: a day of a counting
//     report without page views (the key of every measure), an hour, day,
//     month or range of a report of totals without a row, an hour without
//     visitors (minutes too with Options.Minutes). A re-run on changed data
//     leaves no stale key.
//   - A unique-visitor row of a period the run covers only in part (the month
//     of a nightly run of one day; the edge days and hours of a run from
//     18:00 to 06:30; ReportRow.Partial) is never SET over the key: it is
//     unioned into it. A HyperLogLog union is idempotent, so nightly runs
//     build the month key day by day, and re-running a day does not count
//     twice. The union is computed here, from the key read under WATCH, and
//     written only when it adds a register, so that a re-run leaves the key
//     byte for byte as it was. To rebuild a month exactly, run the whole
//     month: its row is then whole and replaces the key.
//   - A counting row of a period the run covers only in part is not written
//     (Stats.SkippedPartial counts those of hours and days): counts cannot be
//     merged idempotently, and a part must not replace a whole day. Rows of
//     months of a report of totals the run covers in part are not written
//     either, nor counted: every run shorter than a month has one, and the
//     month's hash is written by runs of the whole month only.
//   - With Options.UVMerge, for keys a live producer also PFADDs to, every
//     unique-visitor row is merged with PFMERGE into the existing key, and no
//     unique-visitor key is deleted.
//   - A HyperLogLog key that already holds the value a replacing row would
//     write (its cached count aside) is left alone, so a re-run of the same
//     job leaves every key byte-identical even after readers ran PFCOUNT.
//
// Options.TTL sets an expiry on every key written: on the temporary key
// before RENAME (which keeps it), on the key after a merge.
//
// # Several measures
//
// A report's first measure keeps the key a report had when it had one value,
// prefix:{account}:report:part, and its meaning: page views for urls,
// sources, searchterms, campaigns, titles, languages, hours, devices and
// geo; entries for entrypages, exits for exitpages. Existing readers see no
// change. Every other measure of kind mapreduce.Count gets a sorted set of
// its own, prefix:{account}:report.measure:part (MeasureName), with the same
// members: the kept rows of the account and period, without the (other)
// row, and with Options.Top the Top highest by the first measure in every
// key, so that ZSCORE in any of them answers for every member of the first
// (0 where the count is 0).
//
// Averages are stored as the sums they average, which add up over periods
// and rows where averages do not: avg_visit_duration_s as duration_ms, the
// visits' durations in whole milliseconds (the jobs sum milliseconds; the
// sum is recovered exactly from average × visits × 1000). Rates and means
// (bounce_rate, exit_rate, pageviews_per_visit) are ratios of counts stored
// beside them and are not stored: a reader computes bounces / visits
// (entries in entrypages), duration_ms / visits / 1000, exits / pageviews,
// pageviews / visits, for one period or after ZUNIONSTORE of several. A
// measure of another kind, or an average PlanKeys does not know, is an
// error (ErrMeasure) rather than a silent loss.
//
// A report without key columns (visits) is a hash per account and hour,
// day, month and range, a field per stored measure: visitors, visits,
// pageviews, bounces, duration_ms. It follows the rules of the sorted sets:
// temporary key, swap, deletes of whole periods without rows, TTL, the
// range with Options.Range.
//
// # Planning and committing
//
// PlanKeys decides, without talking to a server, what a run does to each
// key: per account, the keys to replace (with their sorted-set members or
// HyperLogLog values), to merge or union into, and to delete. The Writer
// carries the plan out in two phases: Prepare writes the new values under
// temporary names, Commit swaps them in, Abort drops them. Write is
// Prepare then Commit, for a caller with one output; a caller with several
// prepares them all before it commits any.
//
// # Atomicity
//
// Every key is first written under a temporary name in its account's slot,
// prefix:{account}:tmp:RUN:..., with a safety expiry (Options.TempTTL, an
// hour): what a killed run leaves behind disappears by itself. Each round
// trip of these writes is one MULTI/EXEC, and every transaction that writes
// a temporary key also sets its expiry (SET with an expiry; PEXPIRE after
// the transaction's last ZADD or HSET of the key), so no temporary key exists
// without its expiry at any moment, whenever the writer dies. When all keys
// of all accounts are written, Commit swaps each account in with one
// MULTI/EXEC, under WATCH of its temporary keys (and of the keys it unions
// into): RENAME over the old keys, unions, PFMERGEs, deletes. Readers see
// all of an account's new report or none of it. When anything fails before
// the swap (Redis down for longer than the retry budget or refusing writes,
// a temporary key expired, a key to merge into that is not a HyperLogLog,
// the context cancelled), the temporary keys are deleted and every account
// keeps its previous reports, untouched.
//
// Atomicity is per account: a Redis Cluster cannot run one transaction over
// several slots. Once the swaps have begun they go on even when the context
// is cancelled, so that an interrupt does not split a run; only Redis
// failing during that phase can leave earlier accounts swapped and later
// ones not, and the *CommitError then lists both (and the account, if any,
// whose EXEC was sent but whose outcome could not be learnt: swapped in
// whole or not at all).
//
// # Failures and retries
//
// A failure that trying again may cure is retried with exponential backoff
// (20 ms doubling to 2 s, with jitter) for Options.RetryBudget from its first
// failure (a minute by default: longer than a restart of a server, the
// loading of its data included): a refused, reset or closed connection, a
// timeout, LOADING, TRYAGAIN, CLUSTERDOWN, MASTERDOWN, too many clients, a
// busy script, a transaction aborted because a WATCHed key changed, and
// READONLY, because Check refuses a replica before any data is read, so a
// server that turns replica during a run is a failover in progress (go-redis
// drops the connection and dials again, to the new master when the address
// follows it). Every write is idempotent (SET, ZADD of absolute scores,
// HSET, PEXPIRE), so a transaction whose reply was lost is simply sent again; a
// swap whose reply was lost is resolved by looking at its temporary keys:
// gone means it ran, present means it did not, and it runs again. The keys
// of a server that restarts without persistence are lost with it; the swap
// then fails with ErrTempExpired and changes nothing.
//
// Other errors fail at once. The server's refusal of a command is a
// *CommandError naming the command, its key and the reply: NOPERM (an ACL
// user without a command, +@transaction, or the key pattern), OOM
// (maxmemory with noeviction), WRONGTYPE, NOAUTH. Inside a transaction
// Redis answers EXEC with EXECABORT when it refused a queued command; the
// error reported is that command's own reply. Errors are classified with
// go-redis's typed checks (goredis.IsLoadingError and its siblings,
// goredis.HasErrorPrefix, the goredis.Error interface), net and io errors,
// and context errors.
//
// Check, run by Prepare and by the command line before any data is read,
// runs every command the writes need on probe keys of its own, so that a
// user or a server that would refuse the commit is refused at the start.
//
// # Counting over a window
//
// Cover returns the fewest calendar periods that tile a window exactly:
// whole months, then whole days, then hours, then minutes (when the keys
// have them) at the edges, with the same calendar and key names as the
// writes; Count runs one PFCOUNT over their keys. From 2024-08-01 18:00 to
// 2024-08-03 06:30 that is six hours, a day, six hours and 30 minutes: 43
// keys. The keys of the periods a run covered only in part hold what that
// run (and earlier ones) read of them, so a window counts what was written.
//
// # Servers
//
// Target, from ParseURL, describes a server (redis://, rediss:// for TLS,
// user:password@ for ACL users, /db) or a Redis Cluster (cluster=true,
// addr= for more seed nodes). The writes need these commands: PING, SET,
// GET, GETRANGE, ZADD, HSET, PEXPIRE, PERSIST, RENAME, DEL, EXISTS, PFMERGE, MULTI,
// EXEC, WATCH, UNWATCH (an ACL user with +@read +@write +@transaction
// +@connection and the key pattern prefix:*); Count needs PFCOUNT. Check
// runs them all.
package redis
