package collector

import (
	"fmt"
	"io"
	"sync/atomic"
	"time"
)

// Reason says why a request was refused (or, for ReasonDNT, not stored). Each
// has its own HTTP status and its own series of
// pvjobs_collect_rejected_total{reason="..."}.
type Reason uint8

// The reasons a request is refused.
const (
	ReasonNone           Reason = iota
	ReasonMethod                // 405: a method the endpoint does not take
	ReasonNotFound              // 404: no such endpoint
	ReasonBadQuery              // 400: the pixel's query is not valid percent-encoding
	ReasonBadBody               // 400: the beacon's body is neither a JSON object nor a form
	ReasonBodyTooLarge          // 413: the beacon's body is over Limits.MaxBody
	ReasonMissingAccount        // 400: no id
	ReasonBadAccount            // 400: id is not 1-64 of A-Z a-z 0-9 _ -
	ReasonUnknownAccount        // 400: id is not on the allow-list
	ReasonMissingURL            // 400: no url (and, for the pixel, no Referer header)
	ReasonBadURL                // 400: url is not an absolute http(s) URL
	ReasonTooLong               // 400: url, ref, title or vid over its limit
	ReasonBadField              // 400: control characters in ref or vid
	ReasonRateLimited           // 429: the client IP is over the per-IP rate
	ReasonUnavailable           // 503: shutting down, or the spool cannot be written
	ReasonDNT                   // 204/200: DNT: 1 or Sec-GPC: 1 with RespectDNT; answered as usual, not stored
	// ReasonHeadersTooLarge is net/http's own 431 for request headers over
	// Config.MaxHeaderBytes, counted by the collector's listener (no handler
	// sees such a request).
	ReasonHeadersTooLarge
	numReasons
)

var reasonNames = [numReasons]string{
	ReasonNone: "none", ReasonMethod: "method", ReasonNotFound: "not_found", ReasonBadQuery: "bad_query",
	ReasonBadBody: "bad_body", ReasonBodyTooLarge: "body_too_large", ReasonMissingAccount: "missing_account",
	ReasonBadAccount: "bad_account", ReasonUnknownAccount: "unknown_account", ReasonMissingURL: "missing_url",
	ReasonBadURL: "bad_url", ReasonTooLong: "too_long", ReasonBadField: "bad_field",
	ReasonRateLimited: "rate_limited", ReasonUnavailable: "unavailable", ReasonDNT: "dnt",
	ReasonHeadersTooLarge: "headers_too_large",
}

// String returns the reason's metric label.
func (r Reason) String() string {
	if r < numReasons {
		return reasonNames[r]
	}
	return fmt.Sprintf("reason(%d)", r)
}

// Reasons lists every refusal reason.
func Reasons() []Reason {
	out := make([]Reason, 0, numReasons-1)
	for r := ReasonNone + 1; r < numReasons; r++ {
		out = append(out, r)
	}
	return out
}

// latencyBuckets are the upper bounds (seconds) of the write-latency
// histogram.
var latencyBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// histogram is a Prometheus histogram with fixed buckets, updated without
// locks.
type histogram struct {
	counts [14]atomic.Int64 // len(latencyBuckets)+1: the last is +Inf
	sumNs  atomic.Int64
}

func (h *histogram) observe(d time.Duration) {
	s := d.Seconds()
	i := 0
	for i < len(latencyBuckets) && s > latencyBuckets[i] {
		i++
	}
	h.counts[i].Add(1)
	h.sumNs.Add(int64(d))
}

// Metrics are the collector's counters. Every field is safe for concurrent
// use; Write renders them in the Prometheus text format.
type Metrics struct {
	acceptedPixel, acceptedBeacon atomic.Int64
	rejected                      [numReasons]atomic.Int64
	// written counts page views stored in Cassandra from the queue.
	written atomic.Int64
	// spooled counts page views Cassandra did not take from the queue (queue
	// full, Cassandra down or failing): they are stored by replaying the
	// spool.
	spooled atomic.Int64
	// replayed counts rows written to Cassandra by replaying spool segments.
	replayed       atomic.Int64
	writeErrors    atomic.Int64
	spoolErrors    atomic.Int64
	liveAdded      atomic.Int64
	liveDropped    atomic.Int64
	liveErrors     atomic.Int64
	accountReloads atomic.Int64
	accountErrors  atomic.Int64
	writeLatency   histogram
	// connOpen counts the open client connections, connCap is their cap
	// (0: none), connWaits the times the listener reached the cap and
	// waited for a connection to close; connWaiting is true while it
	// waits.
	connOpen, connCap, connWaits atomic.Int64
	connWaiting                  atomic.Bool
}

// Accepted returns the page views accepted (answered 2xx and spooled).
func (m *Metrics) Accepted() int64 { return m.acceptedPixel.Load() + m.acceptedBeacon.Load() }

// Rejected returns the requests refused for reason r.
func (m *Metrics) Rejected(r Reason) int64 {
	if r >= numReasons {
		return 0
	}
	return m.rejected[r].Load()
}

// Written returns the page views written to Cassandra from the queue.
func (m *Metrics) Written() int64 { return m.written.Load() }

// Spooled returns the page views left to the spool's replay.
func (m *Metrics) Spooled() int64 { return m.spooled.Load() }

// Replayed returns the rows written to Cassandra from spool segments.
func (m *Metrics) Replayed() int64 { return m.replayed.Load() }

// Connections returns the open client connections, and whether the
// collector is at Config.MaxConnections, waiting for one to close before it
// accepts another.
func (m *Metrics) Connections() (open int64, atCap bool) {
	return m.connOpen.Load(), m.connWaiting.Load()
}

// gauges are the values Write reads from the collector at the time.
type gauges struct {
	queued, queueCap int
	segments         int
	spoolBytes       int64
	cassandraUp      bool
}

// write renders the metrics in the Prometheus text exposition format.
func (m *Metrics) write(w io.Writer, g gauges) {
	counter := func(name, help string, v int64) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n%s %d\n", name, help, name, name, v)
	}
	gauge := func(name, help string, v float64) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s gauge\n%s %g\n", name, help, name, name, v)
	}
	fmt.Fprintf(w, "# HELP pvjobs_collect_accepted_total Page views accepted (answered 2xx and spooled), by endpoint.\n# TYPE pvjobs_collect_accepted_total counter\n")
	fmt.Fprintf(w, "pvjobs_collect_accepted_total{endpoint=\"pixel\"} %d\n", m.acceptedPixel.Load())
	fmt.Fprintf(w, "pvjobs_collect_accepted_total{endpoint=\"beacon\"} %d\n", m.acceptedBeacon.Load())
	fmt.Fprintf(w, "# HELP pvjobs_collect_rejected_total Requests refused (dnt: answered as usual, not stored), by reason.\n# TYPE pvjobs_collect_rejected_total counter\n")
	for _, r := range Reasons() {
		fmt.Fprintf(w, "pvjobs_collect_rejected_total{reason=%q} %d\n", r.String(), m.rejected[r].Load())
	}
	gauge("pvjobs_collect_queued", "Page views waiting in the in-memory queue for Cassandra.", float64(g.queued))
	gauge("pvjobs_collect_queue_capacity", "Capacity of the in-memory queue.", float64(g.queueCap))
	counter("pvjobs_collect_written_total", "Page views written to Cassandra from the queue.", m.written.Load())
	counter("pvjobs_collect_spooled_total", "Page views Cassandra did not take from the queue (full, down, failing); stored by replaying the spool.", m.spooled.Load())
	counter("pvjobs_collect_replayed_total", "Rows written to Cassandra by replaying spool segments.", m.replayed.Load())
	counter("pvjobs_collect_write_errors_total", "Failed Cassandra batch writes.", m.writeErrors.Load())
	counter("pvjobs_collect_spool_errors_total", "Failed appends to the spool (the request was answered 503).", m.spoolErrors.Load())
	gauge("pvjobs_collect_spool_segments", "Spool segments on disk (the one being written included).", float64(g.segments))
	gauge("pvjobs_collect_spool_bytes", "Bytes of the spool segments on disk.", float64(g.spoolBytes))
	up := 0.0
	if g.cassandraUp {
		up = 1
	}
	gauge("pvjobs_collect_cassandra_up", "1 when the last Cassandra write succeeded.", up)
	counter("pvjobs_collect_live_added_total", "Page views added to the live Redis counters.", m.liveAdded.Load())
	counter("pvjobs_collect_live_dropped_total", "Page views not added to the live counters (their queue was full).", m.liveDropped.Load())
	counter("pvjobs_collect_live_errors_total", "Failed live counter updates.", m.liveErrors.Load())
	gauge("pvjobs_collect_connections", "Open client connections.", float64(m.connOpen.Load()))
	gauge("pvjobs_collect_connections_max", "Most client connections open at once (--max-connections; 0: no cap).", float64(m.connCap.Load()))
	counter("pvjobs_collect_connection_waits_total", "Times the collector reached --max-connections and waited for a connection to close before accepting another.", m.connWaits.Load())
	counter("pvjobs_collect_account_reloads_total", "Times the accounts file was re-read.", m.accountReloads.Load())
	counter("pvjobs_collect_account_errors_total", "Re-reads of the accounts file that failed (the previous list stays).", m.accountErrors.Load())
	fmt.Fprintf(w, "# HELP pvjobs_collect_write_seconds Latency of Cassandra batch writes.\n# TYPE pvjobs_collect_write_seconds histogram\n")
	var cum int64
	for i, b := range latencyBuckets {
		cum += m.writeLatency.counts[i].Load()
		fmt.Fprintf(w, "pvjobs_collect_write_seconds_bucket{le=\"%g\"} %d\n", b, cum)
	}
	cum += m.writeLatency.counts[len(latencyBuckets)].Load()
	fmt.Fprintf(w, "pvjobs_collect_write_seconds_bucket{le=\"+Inf\"} %d\n", cum)
	fmt.Fprintf(w, "pvjobs_collect_write_seconds_sum %g\n", float64(m.writeLatency.sumNs.Load())/1e9)
	fmt.Fprintf(w, "pvjobs_collect_write_seconds_count %d\n", cum)
}
