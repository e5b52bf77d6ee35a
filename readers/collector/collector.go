package collector

import (
	"cmp"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce"
	"golang.org/x/sync/errgroup"
)

// Store is where page views end up: a Cassandra table
// (readers/cassandra.Table implements it).
type Store interface {
	// WriteBatch writes rows into the partition key as one unlogged,
	// single-partition batch, and returns only when Cassandra took them all
	// or the batch failed. It is called from several goroutines at once;
	// rows and their values belong to the caller and are valid only during
	// the call. Writing a row again writes the same cell (same key and
	// timeuuid): replays are idempotent.
	WriteBatch(ctx context.Context, key mapreduce.ShardKey, rows []mapreduce.Row) error
}

// Live receives the page views the collector accepted, for counters updated
// in real time (reports/redis.Live, wired by the command). Add is called
// from one goroutine at a time with the views of a short moment; views are
// valid only during the call. An error is counted and logged; the views are
// not offered again (the nightly batch run replaces live counts with exact
// ones).
type Live interface {
	Add(ctx context.Context, views []PageView) error
}

// Config configures a Collector. Zero values mean the defaults.
type Config struct {
	// Store is the Cassandra table. When nil, Connect is called (again and
	// again, with backoff) until it returns one; until then every page
	// view waits in the spool. Connect, when set, is also called for a new
	// store when a replay has failed three times in a row: a session that
	// lost its nodes for good is replaced.
	Store   Store
	Connect func(ctx context.Context) (Store, error)
	// SpoolDir is the spool's directory (required).
	SpoolDir string
	// Fsync is the spool's fsync policy; FsyncInterval syncs every
	// FsyncInterval (default 1s).
	Fsync         FsyncPolicy
	FsyncInterval time.Duration
	// SegmentAge and SegmentBytes seal a spool segment after that long or
	// that size (default 5s, 64 MiB).
	SegmentAge   time.Duration
	SegmentBytes int64
	// QueueSize bounds the in-memory queue of page views waiting for
	// Cassandra (default 65536); beyond it they wait in the spool.
	QueueSize int
	// Writers is the number of goroutines writing batches, and of batches
	// in flight during a replay (default 8), and
	// BatchRows the most rows of one partition per batch (default 100).
	Writers   int
	BatchRows int
	// WriteTimeout bounds one batch write, retries included (default 5s).
	WriteTimeout time.Duration
	// Accounts is the allow-list (required).
	Accounts *Accounts
	// AccountsReload is how often an accounts file is checked for changes
	// (default 2s).
	AccountsReload time.Duration
	// TrustedProxies are the peers whose X-Forwarded-For / X-Real-IP are
	// believed.
	TrustedProxies []netip.Prefix
	// AnonymizeIP stores the client's /24 (IPv4) or /48 (IPv6) only.
	AnonymizeIP bool
	// RespectDNT answers requests with DNT: 1 or Sec-GPC: 1 as usual and
	// stores nothing.
	RespectDNT bool
	// RateLimit is the page views per second one client IP may send
	// (0: no limit), RateBurst how many it may send at once (default
	// 2×RateLimit, at least 1), MaxRateIPs how many IPs the limiter
	// remembers (default 100000).
	RateLimit  float64
	RateBurst  int
	MaxRateIPs int
	// Limits bound the fields and the body.
	Limits Limits
	// Live, when set, receives every accepted page view; LiveQueue bounds
	// the views waiting for it (default 65536; beyond, they are dropped and
	// counted).
	Live      Live
	LiveQueue int
	// HTTP server timeouts and header limit (defaults 5s, 10s, 10s, 60s,
	// 8 KiB). Requests with larger headers get net/http's own 431, counted
	// as ReasonHeadersTooLarge.
	ReadHeaderTimeout, ReadTimeout, WriteHTTPTimeout, IdleTimeout time.Duration
	MaxHeaderBytes                                                int
	// MaxConnections caps the open client connections (default 10000;
	// negative: no cap). At the cap, a new connection waits in the kernel's
	// accept queue until one closes (see Run).
	MaxConnections int
	// DrainTimeout bounds the shutdown: writing the queue and replaying the
	// spool (default 30s). What is left stays in the spool.
	DrainTimeout time.Duration
	// Logger receives the collector's log (slog.Default() when nil).
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.FsyncInterval, time.Second)
	def(&c.SegmentAge, 5*time.Second)
	def(&c.WriteTimeout, 5*time.Second)
	def(&c.AccountsReload, 2*time.Second)
	def(&c.ReadHeaderTimeout, 5*time.Second)
	def(&c.ReadTimeout, 10*time.Second)
	def(&c.WriteHTTPTimeout, 10*time.Second)
	def(&c.IdleTimeout, 60*time.Second)
	def(&c.DrainTimeout, 30*time.Second)
	if c.SegmentBytes <= 0 {
		c.SegmentBytes = 64 << 20
	}
	if c.QueueSize <= 0 {
		c.QueueSize = 1 << 16
	}
	if c.Writers <= 0 {
		c.Writers = 8
	}
	if c.BatchRows <= 0 {
		c.BatchRows = 100
	}
	if c.LiveQueue <= 0 {
		c.LiveQueue = 1 << 16
	}
	if c.MaxHeaderBytes <= 0 {
		c.MaxHeaderBytes = 8 << 10
	}
	if c.MaxConnections == 0 {
		c.MaxConnections = 10_000
	}
	if c.MaxRateIPs <= 0 {
		c.MaxRateIPs = 100_000
	}
	if c.RateBurst <= 0 {
		c.RateBurst = max(1, int(2*c.RateLimit))
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	c.Limits = c.Limits.withDefaults()
	return c
}

// Collector serves the tracker, the pixel and the beacon endpoint, and
// stores every accepted page view: spool first, then Cassandra (see the
// package documentation).
type Collector struct {
	cfg     Config
	log     *slog.Logger
	gen     *UUIDGen
	m       *Metrics
	spool   *spool
	queue   chan item
	liveCh  chan PageView
	limiter *limiter
	unlock  func()

	store atomic.Pointer[storeBox]
	down  atomic.Bool
	// failures counts the writers' batch failures in a row.
	failures  atomic.Int32
	shutting  atomic.Bool
	closeOnce sync.Once
	closeErr  error

	runCtx    context.Context
	cancelRun context.CancelFunc
	// writeCtx is cancelled when the drain time is up.
	writeCtx    context.Context
	cancelWrite context.CancelFunc
	writers     sync.WaitGroup
	replayDone  chan struct{}
	liveDone    chan struct{}
	bg          sync.WaitGroup
	// langs caches the canonical forms of Accept-Language tags.
	langs languages
}

type storeBox struct{ s Store }

// New starts a collector: it locks and recovers the spool (queuing what an
// earlier process left for replay) and starts the journal, the writers, the
// replayer and, with Live, the live counters. Stop it with Close, or serve
// with Run, which closes it.
func New(cfg Config) (*Collector, error) {
	cfg = cfg.withDefaults()
	if cfg.SpoolDir == "" {
		return nil, errors.New("collect: no spool directory")
	}
	if cfg.Accounts == nil {
		return nil, errors.New("collect: no accounts")
	}
	if cfg.Store == nil && cfg.Connect == nil {
		return nil, errors.New("collect: no store")
	}
	gen, err := NewUUIDGen()
	if err != nil {
		return nil, err
	}
	unlock, err := LockSpool(cfg.SpoolDir)
	if err != nil {
		return nil, err
	}
	c := &Collector{
		cfg:        cfg,
		log:        cfg.Logger,
		gen:        gen,
		m:          &Metrics{},
		queue:      make(chan item, cfg.QueueSize),
		limiter:    newLimiter(cfg.RateLimit, cfg.RateBurst, cfg.MaxRateIPs),
		unlock:     unlock,
		replayDone: make(chan struct{}),
		liveDone:   make(chan struct{}),
	}
	c.spool = &spool{
		dir: cfg.SpoolDir, policy: cfg.Fsync, every: cfg.FsyncInterval,
		maxAge: cfg.SegmentAge, maxLen: cfg.SegmentBytes, gen: gen, log: c.log, m: c.m,
		in: make(chan *entry, 4*maxGroup), stopped: make(chan struct{}), sealReq: make(chan struct{}, 1),
		queue: c.queue, segs: map[uint64]*segment{}, replayCh: make(chan struct{}, 1), lastSync: time.Now(),
	}
	if cfg.Live != nil {
		c.liveCh = make(chan PageView, cfg.LiveQueue)
		c.spool.live = c.liveCh
	}
	if err := c.spool.recover(); err != nil {
		unlock()
		return nil, err
	}
	if n := len(c.spool.replay); n > 0 {
		c.log.Info("collect: spool segments left by an earlier process; replaying them", "segments", n, "dir", cfg.SpoolDir)
	}
	if cfg.Store != nil {
		c.store.Store(&storeBox{cfg.Store})
	} else {
		c.down.Store(true)
	}
	c.runCtx, c.cancelRun = context.WithCancel(context.Background())
	c.writeCtx, c.cancelWrite = context.WithCancel(context.Background())
	go c.spool.run()
	for range cfg.Writers {
		c.writers.Add(1)
		go c.writer()
	}
	go c.replayer()
	if cfg.Live != nil {
		go c.livePump()
	} else {
		close(c.liveDone)
	}
	c.bg.Add(1)
	go func() {
		defer c.bg.Done()
		cfg.Accounts.watch(c.runCtx, cfg.AccountsReload, c.m, c.log)
	}()
	return c, nil
}

// Metrics returns the collector's counters.
func (c *Collector) Metrics() *Metrics { return c.m }

// Run serves HTTP on ln until ctx is cancelled, then shuts down: it stops
// accepting connections, finishes the requests in flight, and closes the
// collector (Close) within Config.DrainTimeout. It returns nil after a
// shutdown that ctx asked for.
//
// At most Config.MaxConnections connections are open at once: at the cap,
// Run accepts the next connection only when one closes, so its request
// waits (in the kernel's accept queue, up to the listen backlog) instead of
// being refused. Requests whose headers exceed Config.MaxHeaderBytes get
// net/http's own 431 and are counted as ReasonHeadersTooLarge.
func (c *Collector) Run(ctx context.Context, ln net.Listener) error {
	ln = newListener(ln, c.cfg.MaxConnections, c.m)
	srv := &http.Server{
		Handler:           c.Handler(),
		ReadHeaderTimeout: c.cfg.ReadHeaderTimeout,
		ReadTimeout:       c.cfg.ReadTimeout,
		WriteTimeout:      c.cfg.WriteHTTPTimeout,
		IdleTimeout:       c.cfg.IdleTimeout,
		MaxHeaderBytes:    c.cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(c.log.Handler(), slog.LevelDebug),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	var serveErr error
	select {
	case serveErr = <-errc:
	case <-ctx.Done():
	}
	c.shutting.Store(true)
	dctx, cancel := context.WithTimeout(context.Background(), c.cfg.DrainTimeout)
	defer cancel()
	if err := srv.Shutdown(dctx); err != nil {
		c.log.Warn("collect: requests still in flight at the drain deadline", "err", err)
	}
	err := c.Close(dctx)
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("serving HTTP: %w", serveErr)
	}
	return err
}

// Close shuts the collector down; call it after the HTTP server stopped
// (Run does). The journal writes what it holds and seals its segment; the
// writers write the queue to Cassandra; the spool segments that still need
// it are replayed; the live counters get what is queued for them. When ctx
// ends first, what is not in Cassandra stays in the spool, which the next
// start (or pvjobs load) replays: nothing answered 2xx is lost.
func (c *Collector) Close(ctx context.Context) error {
	c.closeOnce.Do(func() { c.closeErr = c.close(ctx) })
	return c.closeErr
}

func (c *Collector) close(ctx context.Context) error {
	c.shutting.Store(true)
	c.spool.close()
	close(c.queue)
	writersDone := make(chan struct{})
	go func() { c.writers.Wait(); close(writersDone) }()
	select {
	case <-writersDone:
	case <-ctx.Done():
		c.cancelWrite() // in-flight batches fail; their rows stay spooled
		<-writersDone
	}
	// The replayer finishes the segments waiting, then returns (runCtx).
	c.cancelRun()
	select {
	case <-c.replayDone:
	case <-ctx.Done():
		c.cancelWrite()
		<-c.replayDone
	}
	if c.liveCh != nil {
		close(c.liveCh)
		select {
		case <-c.liveDone:
		case <-ctx.Done():
		}
	}
	c.cancelWrite()
	c.bg.Wait()
	segs, bytes, waiting := c.spool.stats()
	c.unlock()
	if segs > 0 {
		c.log.Warn("collect: page views left in the spool; the next start replays them (or: pvjobs load --source SPOOL)",
			"segments", segs, "bytes", bytes, "waiting_for_replay", waiting, "dir", c.cfg.SpoolDir)
	}
	return nil
}

// currentStore returns the store, or nil when not connected yet.
func (c *Collector) currentStore() Store {
	if b := c.store.Load(); b != nil {
		return b.s
	}
	return nil
}

// failuresDown is the number of batch failures in a row that mark Cassandra
// down.
const failuresDown = 3

// markDown notes failing writes: until a replay succeeds, the writers leave
// page views to the spool instead of trying Cassandra.
func (c *Collector) markDown(err error) {
	if c.down.CompareAndSwap(false, true) {
		c.log.Warn("collect: Cassandra writes failing; page views wait in the spool until it is back", "err", err)
		c.spool.requestSeal()
	}
}

func (c *Collector) markUp() {
	c.failures.Store(0)
	if c.down.CompareAndSwap(true, false) {
		c.log.Info("collect: Cassandra is back; replaying the spool")
	}
}

// linger is how long the writer and the live pump wait for more page views
// when they have fewer than a group: at a few thousand page views per
// second, a group then carries tens of rows instead of one, which saves
// Cassandra (and Redis) a round trip per row. Requests do not wait for it:
// they are answered once their page view is in the spool.
const linger = 5 * time.Millisecond

// groups calls fn with the values ch delivers, in groups of at most
// cap(buf) (gather), until ch is closed. fn must not keep the group.
func groups[T any](ch <-chan T, buf []T, least int, fn func([]T)) {
	t := time.NewTimer(time.Hour)
	t.Stop()
	for open := true; open; {
		v, ok := <-ch
		if !ok {
			return
		}
		buf, open = gather(ch, append(buf[:0], v), least, t)
		fn(buf)
		clear(buf)
	}
}

// gather appends to buf what ch holds, up to cap(buf), waiting at most
// linger in all for more while there are fewer than least. It reports
// false when ch is closed.
func gather[T any](ch <-chan T, buf []T, least int, t *time.Timer) ([]T, bool) {
	waiting := false // t runs: the group's deadline
	defer func() {
		if waiting {
			t.Stop()
		}
	}()
	for len(buf) < cap(buf) {
		select {
		case v, ok := <-ch:
			if !ok {
				return buf, false
			}
			buf = append(buf, v)
			continue
		default:
		}
		if len(buf) >= least {
			break
		}
		if !waiting {
			t.Reset(linger)
			waiting = true
		}
		select {
		case v, ok := <-ch:
			if !ok {
				return buf, false
			}
			buf = append(buf, v)
		case <-t.C:
			waiting = false
			return buf, true
		}
	}
	return buf, true
}

// writer takes page views from the queue and writes them in batches of one
// partition until the queue is closed and empty.
func (c *Collector) writer() {
	defer c.writers.Done()
	rows := make([]mapreduce.Row, 0, c.cfg.BatchRows)
	groups(c.queue, make([]item, 0, 4*c.cfg.BatchRows), c.cfg.BatchRows, func(items []item) { rows = c.writeItems(items, rows) })
}

// writeItems writes items grouped by partition, BatchRows at most at once.
func (c *Collector) writeItems(items []item, rows []mapreduce.Row) []mapreduce.Row {
	slices.SortFunc(items, func(a, b item) int {
		if c := a.key.Day.Compare(b.key.Day); c != 0 {
			return c
		}
		return cmp.Compare(a.key.Account, b.key.Account)
	})
	for start := 0; start < len(items); {
		end := start + 1
		for end < len(items) && end-start < c.cfg.BatchRows && items[end].key == items[start].key {
			end++
		}
		rows = c.writeGroup(items[start:end], rows)
		start = end
	}
	return rows
}

// writeGroup writes items (one partition) as one batch and settles them.
func (c *Collector) writeGroup(items []item, rows []mapreduce.Row) []mapreduce.Row {
	st := c.currentStore()
	if st == nil || c.down.Load() {
		c.settle(items, true)
		return rows
	}
	rows = rows[:0]
	for _, it := range items {
		rows = append(rows, mapreduce.Row{TS: it.ts, Value: it.value, Offset: -1})
	}
	ctx, cancel := context.WithTimeout(c.writeCtx, c.cfg.WriteTimeout)
	t0 := time.Now()
	err := st.WriteBatch(ctx, items[0].key, rows)
	cancel()
	c.m.writeLatency.observe(time.Since(t0))
	clear(rows)
	if err != nil {
		c.m.writeErrors.Add(1)
		// One slow batch is not an outage: its rows go to the spool, and
		// only failures in a row send everything there.
		if c.failures.Add(1) >= failuresDown {
			c.markDown(err)
		}
		c.settle(items, true)
		return rows
	}
	c.failures.Store(0)
	c.m.written.Add(int64(len(items)))
	c.settle(items, false)
	return rows
}

// settle records the fate of items, segment by segment.
func (c *Collector) settle(items []item, failed bool) {
	if failed {
		c.m.spooled.Add(int64(len(items)))
		for _, it := range items {
			it.seg.fail(it.key.String(), it.off)
		}
	}
	for start := 0; start < len(items); {
		end := start + 1
		for end < len(items) && items[end].seg == items[start].seg {
			end++
		}
		c.spool.settle(items[start].seg, int64(end-start), failed)
		start = end
	}
}

// replayer writes the spool segments that need it into Cassandra, oldest
// first, connecting first when there is no store yet. While Cassandra is
// down it retries with backoff (200ms doubling to 5s); its first success
// marks Cassandra up again. Once runCtx ends (shutdown), it makes one pass
// over what is waiting, within writeCtx, and returns.
func (c *Collector) replayer() {
	defer close(c.replayDone)
	const minWait, maxWait = 200 * time.Millisecond, 5 * time.Second
	wait := minWait
	pause := func() bool { // false when the run is over
		t := time.NewTimer(wait)
		defer t.Stop()
		wait = min(2*wait, maxWait)
		select {
		case <-t.C:
			return true
		case <-c.runCtx.Done():
			return false
		}
	}
	final := false
	failures := 0
	for {
		if !final && c.runCtx.Err() != nil {
			final = true
		}
		seg := c.spool.nextReplay()
		if seg == nil {
			if final {
				return
			}
			if c.down.Load() {
				// Seal the active segment so that its rows become a
				// replay, which is how Cassandra is found back.
				c.spool.requestSeal()
			}
			t := time.NewTimer(time.Second)
			select {
			case <-c.spool.replayCh:
			case <-t.C:
			case <-c.runCtx.Done():
			}
			t.Stop()
			continue
		}
		st := c.currentStore()
		if st == nil {
			if final {
				return
			}
			s, err := c.cfg.Connect(c.runCtx)
			if err != nil {
				c.log.Warn("collect: cannot connect to Cassandra; page views wait in the spool", "err", err, "retry_in", wait)
				if !pause() {
					final = true
				}
				continue
			}
			c.store.Store(&storeBox{s})
			st = s
		}
		n, err := c.replaySegment(st, seg)
		var ce *corruptSegmentError
		switch {
		case errors.As(err, &ce):
			c.spool.quarantine(seg, err)
		case err != nil:
			c.markDown(err)
			failures++
			if failures%3 == 0 && c.cfg.Connect != nil && !final {
				// A session that does not find the cluster back by itself
				// (no topology events, behind a proxy): start a new one.
				c.reconnect(st)
			}
			if final || !pause() {
				return
			}
		default:
			c.markUp()
			wait, failures = minWait, 0
			c.spool.replayed(seg)
			c.log.Debug("collect: spool segment replayed", "dir", seg.dir, "rows", n)
		}
	}
}

// replaySegment writes the rows of seg that need it (all of them for a
// segment an earlier process left) with up to Config.Writers batches in
// flight, and returns how many it wrote.
func (c *Collector) replaySegment(st Store, seg *segment) (int64, error) {
	ctx := c.writeCtx
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.cfg.Writers)
	n, err := readSegment(seg.dir, c.cfg.BatchRows, seg.wants, func(key mapreduce.ShardKey, rows []mapreduce.Row) error {
		if err := gctx.Err(); err != nil {
			return err
		}
		g.Go(func() error {
			wctx, cancel := context.WithTimeout(gctx, c.cfg.WriteTimeout)
			defer cancel()
			t0 := time.Now()
			err := st.WriteBatch(wctx, key, rows)
			c.m.writeLatency.observe(time.Since(t0))
			if err != nil {
				c.m.writeErrors.Add(1)
				return err
			}
			c.m.replayed.Add(int64(len(rows)))
			return nil
		})
		return nil
	})
	if werr := g.Wait(); werr != nil {
		var ce *corruptSegmentError
		if !errors.As(err, &ce) {
			return n, werr
		}
	}
	return n, err
}

// reconnect replaces the store old with a new one from Config.Connect, and
// closes old when it can be closed.
func (c *Collector) reconnect(old Store) {
	ctx, cancel := context.WithTimeout(c.runCtx, c.cfg.WriteTimeout)
	s, err := c.cfg.Connect(ctx)
	cancel()
	if err != nil {
		c.log.Warn("collect: reconnecting to Cassandra failed", "err", err)
		return
	}
	c.store.Store(&storeBox{s})
	c.log.Info("collect: new Cassandra session")
	if cl, ok := old.(interface{ Close() }); ok {
		// Writers may still use it: let them finish their batch.
		time.AfterFunc(2*c.cfg.WriteTimeout, cl.Close)
	}
}

// liveGroup is the most page views livePump hands to Live at once. A group
// costs Live about a millisecond of CPU: small enough not to hold up the
// requests on a collector with one core (the Go scheduler lets a goroutine
// run up to 10 ms before it preempts it), large enough for one pipelined
// round trip to carry a few hundred page views.
const liveGroup = 256

// livePump hands accepted page views to Live in groups, until liveCh is
// closed.
func (c *Collector) livePump() {
	defer close(c.liveDone)
	var lastErr time.Time
	groups(c.liveCh, make([]PageView, 0, liveGroup), liveGroup/4, func(views []PageView) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := c.cfg.Live.Add(ctx, views)
		cancel()
		if err != nil {
			c.m.liveErrors.Add(1)
			if time.Since(lastErr) > 10*time.Second {
				lastErr = time.Now()
				c.log.Warn("collect: live counters not updated (the nightly run will write exact values)", "views", len(views), "err", err)
			}
			return
		}
		c.m.liveAdded.Add(int64(len(views)))
	})
}

// Handler returns the collector's HTTP handler: GET /a.js, GET /a.gif,
// POST /e (and its CORS preflight), GET /healthz and GET /metrics.
func (c *Collector) Handler() http.Handler { return http.HandlerFunc(c.serveHTTP) }

func (c *Collector) serveHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/a.js":
		c.serveTracker(w, r)
	case "/a.gif":
		c.servePixel(w, r)
	case "/e":
		c.serveBeacon(w, r)
	case "/healthz":
		c.serveHealth(w, r)
	case "/metrics":
		c.serveMetrics(w, r)
	default:
		c.refuse(w, ReasonNotFound, false)
	}
}

//go:embed tracker/a.js
var trackerJS []byte

// trackerETag is the tracker's strong ETag: a hash of its bytes.
var trackerETag = func() string {
	h := sha256.Sum256(trackerJS)
	return `"` + hex.EncodeToString(h[:8]) + `"`
}()

// Tracker returns the tracker script that GET /a.js serves.
func Tracker() []byte { return slices.Clone(trackerJS) }

func (c *Collector) serveTracker(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		c.refuse(w, ReasonMethod, false)
		return
	}
	h := w.Header()
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("ETag", trackerETag)
	h.Set("X-Content-Type-Options", "nosniff")
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatch(inm, trackerETag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Content-Length", fmt.Sprint(len(trackerJS)))
	if r.Method == http.MethodHead {
		return
	}
	w.Write(trackerJS)
}

// etagMatch reports whether an If-None-Match list names etag (weakly).
func etagMatch(list, etag string) bool {
	for _, t := range strings.Split(list, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

// gif is a transparent 1x1 GIF.
var gif = []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")

func (c *Collector) servePixel(w http.ResponseWriter, r *http.Request) {
	recv := c.gen.Now()
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		c.refuse(w, ReasonMethod, true)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "image/gif")
	h.Set("Cache-Control", "private, no-cache")
	h.Set("Content-Length", fmt.Sprint(len(gif)))
	if r.Method == http.MethodHead {
		return // a check of the pixel (link checkers, prefetch): not a page view
	}
	ip := ClientIP(r.RemoteAddr, r.Header, c.cfg.TrustedProxies)
	if !c.limiter.allow(ip, recv) {
		c.refuse(w, ReasonRateLimited, true)
		return
	}
	f, reason := ParsePixel(r.URL.RawQuery)
	if reason == ReasonNone && f.URL == "" {
		// The classic pixel on a page: the page is the Referer.
		f.URL = r.Header.Get("Referer")
	}
	if reason == ReasonNone {
		reason = c.accept(r, recv, ip, &f)
	}
	if reason != ReasonNone && reason != ReasonDNT {
		c.refuse(w, reason, true)
		return
	}
	if reason == ReasonNone {
		c.m.acceptedPixel.Add(1)
	}
	w.Write(gif)
}

func (c *Collector) serveBeacon(w http.ResponseWriter, r *http.Request) {
	recv := c.gen.Now()
	c.cors(w, r)
	if r.Method == http.MethodOptions {
		h := w.Header()
		h.Set("Access-Control-Allow-Methods", "POST")
		h.Set("Access-Control-Allow-Headers", "Content-Type")
		h.Set("Access-Control-Max-Age", "86400")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if r.Method != http.MethodPost {
		c.refuse(w, ReasonMethod, false)
		return
	}
	ip := ClientIP(r.RemoteAddr, r.Header, c.cfg.TrustedProxies)
	if !c.limiter.allow(ip, recv) {
		c.refuse(w, ReasonRateLimited, false)
		return
	}
	if r.ContentLength > c.cfg.Limits.MaxBody {
		c.refuse(w, ReasonBodyTooLarge, false)
		return
	}
	buf := bodyPool.Get().(*[]byte)
	defer bodyPool.Put(buf)
	body, err := readBody((*buf)[:0], r.Body, c.cfg.Limits.MaxBody)
	*buf = body[:0]
	if err != nil {
		if errors.Is(err, errBodyTooLarge) {
			c.refuse(w, ReasonBodyTooLarge, false)
		} else {
			c.refuse(w, ReasonBadBody, false)
		}
		return
	}
	f, reason := ParseBeacon(body, r.Header.Get("Content-Type"))
	if reason == ReasonNone {
		reason = c.accept(r, recv, ip, &f)
	}
	if reason != ReasonNone && reason != ReasonDNT {
		c.refuse(w, reason, false)
		return
	}
	if reason == ReasonNone {
		c.m.acceptedBeacon.Add(1)
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

var bodyPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

var errBodyTooLarge = errors.New("body too large")

// readBody appends r to dst, failing with errBodyTooLarge beyond limit
// bytes.
func readBody(dst []byte, r io.Reader, limit int64) ([]byte, error) {
	for {
		if len(dst) == cap(dst) {
			dst = append(dst, 0)[:len(dst)]
		}
		n, err := r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if int64(len(dst)) > limit {
			return dst, errBodyTooLarge
		}
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
}

// cors lets pages of any origin send beacons, with credentials (sendBeacon
// sends cookies): the origin is echoed, never "*".
func (c *Collector) cors(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Add("Vary", "Origin")
	if o := r.Header.Get("Origin"); o != "" {
		h.Set("Access-Control-Allow-Origin", o)
		h.Set("Access-Control-Allow-Credentials", "true")
	}
}

// accept checks a page view and stores it: it returns ReasonNone once the
// page view is in the spool, ReasonDNT when it was not stored by request.
func (c *Collector) accept(r *http.Request, recv time.Time, ip netip.Addr, f *Fields) Reason {
	if c.cfg.RespectDNT && (r.Header.Get("DNT") == "1" || r.Header.Get("Sec-GPC") == "1") {
		c.m.rejected[ReasonDNT].Add(1)
		return ReasonDNT
	}
	if reason := f.check(c.cfg.Limits); reason != ReasonNone {
		return reason
	}
	if !c.cfg.Accounts.Allowed(f.ID) {
		return ReasonUnknownAccount
	}
	if c.cfg.AnonymizeIP && ip.IsValid() {
		ip = Anonymize(ip)
	}
	pv := PageView{
		Account:   f.ID,
		URL:       clean(f.URL, c.cfg.Limits.MaxURL),
		Title:     cleanTitle(f.Title, c.cfg.Limits.MaxTitle),
		Referrer:  clean(f.Ref, c.cfg.Limits.MaxURL),
		UserAgent: cleanTitle(r.Header.Get("User-Agent"), c.cfg.Limits.MaxUserAgent),
		Language:  c.langs.first(r.Header.Get("Accept-Language")),
		VisitorID: clean(f.Vid, c.cfg.Limits.MaxVisitorID),
		Received:  recv,
	}
	if ip.IsValid() {
		pv.IP = ip.String()
	}
	e := &entry{account: f.ID, recv: recv, value: AppendValue(make([]byte, 0, 256), &pv)}
	if c.liveCh != nil {
		e.pv = pv
	}
	if err := c.spool.append(e); err != nil {
		return ReasonUnavailable
	}
	return ReasonNone
}

// cleanTitle is clean with control characters replaced by spaces.
func cleanTitle(s string, n int) string {
	if hasControl(s) {
		s = strings.Map(func(r rune) rune {
			if r < 0x20 || r == 0x7f {
				return ' '
			}
			return r
		}, s)
	}
	return clean(s, n)
}

// statusOf maps a reason to its HTTP status.
func statusOf(r Reason) int {
	switch r {
	case ReasonMethod:
		return http.StatusMethodNotAllowed
	case ReasonNotFound:
		return http.StatusNotFound
	case ReasonBodyTooLarge:
		return http.StatusRequestEntityTooLarge
	case ReasonRateLimited:
		return http.StatusTooManyRequests
	case ReasonUnavailable:
		return http.StatusServiceUnavailable
	case ReasonHeadersTooLarge:
		return http.StatusRequestHeaderFieldsTooLarge
	}
	return http.StatusBadRequest
}

// refuse answers a refused request and counts it. The pixel gets its GIF
// all the same, so that a page never shows a broken image.
func (c *Collector) refuse(w http.ResponseWriter, r Reason, pixel bool) {
	c.m.rejected[r].Add(1)
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Pvjobs-Reason", r.String())
	switch r {
	case ReasonRateLimited:
		h.Set("Retry-After", "1")
	case ReasonMethod:
		h.Set("Allow", "GET, HEAD, POST, OPTIONS")
	}
	if pixel {
		h.Set("Content-Type", "image/gif")
		w.WriteHeader(statusOf(r))
		w.Write(gif)
		return
	}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(statusOf(r))
	io.WriteString(w, r.String()+"\n")
}

func (c *Collector) serveHealth(w http.ResponseWriter, r *http.Request) {
	segs, _, waiting := c.spool.stats()
	cass := "up"
	if c.down.Load() {
		cass = "down"
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	status := "ok"
	if c.shutting.Load() {
		status = "shutting_down"
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	fmt.Fprintf(w, `{"status":%q,"cassandra":%q,"queued":%d,"spool_segments":%d,"spool_waiting_for_replay":%d}`+"\n",
		status, cass, len(c.queue), segs, waiting)
}

func (c *Collector) serveMetrics(w http.ResponseWriter, r *http.Request) {
	segs, bytes, _ := c.spool.stats()
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	c.m.write(w, gauges{queued: len(c.queue), queueCap: cap(c.queue), segments: segs, spoolBytes: bytes, cassandraUp: !c.down.Load()})
}

// SpoolStats returns the spool segments on disk, their bytes, and how many
// wait for replay.
func (c *Collector) SpoolStats() (segments int, bytes int64, waitingForReplay int) {
	return c.spool.stats()
}
