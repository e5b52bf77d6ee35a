// Package collector is where page views come from: the HTTP collector that
// pvjobs collect runs. It serves the tracker script and the endpoints a
// page calls, and stores every page view it accepts in the page-view table
// (readers/cassandra), in today's stored contract, never losing or doubling
// one.
//
// # Endpoints
//
//	GET  /a.js      the tracker (tracker/a.js, embedded): sends url, title and
//	                referrer with navigator.sendBeacon to /e, or the pixel when
//	                that fails; again on each pushState / popstate navigation
//	                of a single-page app. Cache-Control max-age=3600, an ETag
//	                (304 on If-None-Match).
//	GET  /a.gif     the classic pixel: ?id=ACCOUNT&url=...&ref=...&title=...
//	                (&vid=VISITOR); url defaults to the Referer header. A 1x1
//	                GIF with Cache-Control: private, no-cache.
//	POST /e         the beacon: a JSON object {"id","url","ref","title","vid"}
//	                (sent as text/plain, so no CORS preflight) or the same
//	                names form-encoded; 204. CORS: the Origin is echoed with
//	                Allow-Credentials (sendBeacon sends cookies); OPTIONS
//	                answers a preflight.
//	GET  /healthz   JSON: status, Cassandra up or down, queue and spool sizes;
//	                503 while shutting down.
//	GET  /metrics   Prometheus text: pvjobs_collect_accepted_total{endpoint},
//	                _rejected_total{reason}, _queued, _written_total,
//	                _spooled_total, _replayed_total, _write_seconds (histogram),
//	                _spool_segments, _spool_bytes, _cassandra_up, _live_*,
//	                _connections, _connections_max, _connection_waits_total.
//
// At most Config.MaxConnections client connections are open at once; at the
// cap, the next waits in the kernel's accept queue until one closes.
//
// # What is stored
//
// One row per page view in the partition YYYYMMDD.<account> of the UTC day:
// the column name is a version-1 timeuuid of the receive time (UUIDGen:
// unique across goroutines and processes), the value a msgpack map of url,
// title, ip, referrer, user_agent, language (the first tag of
// Accept-Language, canonical: "de-DE"), and visitor_id when the page sent
// one (AppendValue). The client address is the connection's, or the one
// X-Forwarded-For / X-Real-IP name when the connection comes from a trusted
// proxy (ClientIP); with Config.AnonymizeIP its /24 or /48 (Anonymize).
//
// # Refusals
//
// Every refusal has a Reason, an HTTP status and a metric: an account that is
// not a valid id or not on the allow-list (Accounts: a list, or a file
// re-read when it changes), a missing or non-http(s) url, a field over its
// limit (Limits), a body over Limits.MaxBody, a malformed query or body, a
// client IP over its rate (a token bucket per IP, memory bounded), a method
// or path the collector does not serve, request headers over
// Config.MaxHeaderBytes (net/http's own 431, counted by the collector's
// listener since no handler sees it). Nothing refused is stored. With
// Config.RespectDNT, requests with DNT: 1 or Sec-GPC: 1 are answered as
// usual and not stored (counted as reason dnt).
//
// # From request to Cassandra: nothing lost, nothing twice
//
// An accepted page view is first appended to the spool, and only then
// answered 2xx. The spool is a directory of segments, seg-NNNNNNNNNNNN, each
// a directory of shard files YYYYMMDD.<account>.mpk in the readers/file
// format, appended to by one goroutine in groups (group commit): a request
// waits for its group's write(2), and with FsyncAlways for its fsync too.
// The timeuuid is drawn there, so every file is in timeuuid order. A
// segment is sealed after Config.SegmentAge (5s) or SegmentBytes.
//
// Then the page view goes into a bounded in-memory queue; writer goroutines
// take it in groups and write unlogged single-partition batches
// (Store.WriteBatch). A sealed segment whose rows are all in Cassandra is
// deleted. Rows that did not get there — the queue was full (Cassandra slow)
// or the write failed (Cassandra down) — are replayed from the segment once
// it is settled; while a write fails, the writers stop trying and leave
// every row to the replay, which retries with backoff and, when it
// succeeds, lets the writers write again. A replay writes the same cells
// (same partition, same timeuuid), so writing a row twice stores it once.
//
// On Close (SIGTERM: pvjobs collect stops accepting connections, finishes
// the requests in flight, then closes), the journal seals its segment, the
// writers write the queue, and the segments waiting are replayed, within
// Config.DrainTimeout; what is left stays on disk. After a crash (SIGKILL,
// OOM), New finds the segments the dead process left, cuts a torn last row
// (an append that never finished, so was never answered), and replays them
// in full. pvjobs load --source SPOOL loads a spool by hand; a spool is
// locked (flock) by the collector that uses it.
//
// # Fsync
//
// FsyncInterval (the default, every second): an accepted page view is in
// the kernel when it is answered, so a killed collector loses nothing; a
// power loss or kernel crash may lose the last second. FsyncAlways: synced
// before the answer, nothing is lost even then. FsyncNever: the kernel
// writes back when it likes.
//
// # Live counters
//
// With Config.Live, every accepted page view is also handed (from one
// goroutine, in groups, through a bounded queue that drops and counts when
// full) to a Live, such as reports/redis.Live wired by pvjobs collect
// --live.
package collector
