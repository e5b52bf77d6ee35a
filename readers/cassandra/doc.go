// Package cassandra reads page views from a Cassandra table (a
// [mapreduce.Source]), writes shard rows into it (pvjobs load), and creates its
// keyspace and table (pvjobs schema).
//
// # Table layout
//
// The default layout is the original page-view column family seen through CQL:
//
//	CREATE TABLE page_views (
//	    key     text,      -- the shard key, "YYYYMMDD.<account>" (UTC day)
//	    column1 timeuuid,  -- the page view's version-1 UUID (its time)
//	    value   blob,      -- the page view, a msgpack map
//	    PRIMARY KEY (key, column1))
//
// The table and its three column names are configurable ([Layout]), so an
// existing table of another shape works as long as the partition key is text,
// the clustering column a timeuuid and the value a blob. Names are quoted in
// every statement: give them as the schema spells them.
//
// # Reading
//
// A run cuts every shard (one partition) into time slices
// ([mapreduce.SplitSlices]); each work item is one query
//
//	SELECT ts, value FROM table WHERE key = ? AND ts >= ? AND ts < ?
//
// bound to minTimeuuid(slice start) and minTimeuuid(slice end), which
// partitions a day exactly (Cassandra orders timeuuids by time, then by their
// low 8 bytes as signed bytes, and minTimeuuid is the smallest timeuuid of an
// instant). gocql prepares the statement once per connection and pages
// through the result (Config.PageSize rows per page, the next page fetched in
// the background while the current one is consumed), so a slice is streamed,
// never buffered whole. Rows are scanned into reused buffers: the per-row path
// does not allocate.
//
// The slices in flight at once are the run's workers (mapreduce
// Options.Workers, pvjobs --workers): each worker reads one slice at a time,
// with the driver fetching its next page in the background. The source adds
// no limit of its own: one knob, and a worker never waits for a slot while
// holding a slice. Next to the cluster, GOMAXPROCS workers keep the CPU busy;
// across a network with milliseconds per page, more workers than cores hide
// the latency.
//
// # Retries and resume
//
// A query that fails with a transient error (a timeout, an unavailable or
// overloaded coordinator, a lost connection, a node restarting) is retried
// with exponential backoff and full jitter for as long as the outage lasts
// less than Config.Retry.Budget (default 3 minutes, longer than a node
// restart); the budget counts from an outage's first failure and starts
// afresh once a retry delivers rows. Opening the session is retried the same
// way while no node can be reached at all, so a run started during a restart
// waits for the node; a node that answers but refuses the session (TLS,
// credentials) fails at once. Rows already handed to the mapper are not handed
// over again: a retry resumes after the last timeuuid delivered
// (ts > last AND ts < end). Rows are in clustering order and timeuuids are
// unique within a partition, so this neither skips nor repeats a row; it also
// survives a coordinator change, which a saved paging state would not
// (paging states are tied to the query and may be refused by another node
// version). A work item that still fails returns the last error, which the
// engine wraps with the shard and time slice; the run fails and writes no
// report.
//
// # Discovery
//
// [Table.Shards] lists the partitions of a date range by scanning partition
// keys (SELECT DISTINCT key) split into token ranges, read in parallel
// (Murmur3Partitioner; other partitioners are scanned in one pass).
package cassandra
