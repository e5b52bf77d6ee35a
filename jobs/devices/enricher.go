package devices

import "github.com/pvjobs/pvjobs/mapreduce"

// DefaultCacheSize is the number of user agents a worker's cache holds when
// NewEnricher is given no positive size: far more than the distinct user
// agents of a busy site's day, a few megabytes.
const DefaultCacheSize = 16384

// NewEnricher returns the run's enricher factory (mapreduce.Options.NewEnricher):
// each call returns the page-view function of one worker, which sets pv.Agent
// to the classification of pv.UserAgent (see Classify). Every worker gets its
// own cache of at most cacheSize user agents (DefaultCacheSize when cacheSize
// <= 0; two at least), used from that worker's goroutine only, so a cache hit
// takes no lock and allocates nothing. The *Agent values are shared between the rows of a
// worker with the same user agent: they are read-only.
func NewEnricher(cacheSize int) func() func(*mapreduce.PageView) {
	return func() func(*mapreduce.PageView) {
		c := newCache(cacheSize)
		return func(pv *mapreduce.PageView) { pv.Agent = c.agent(pv.UserAgent) }
	}
}

// cache maps user agents to their classification for one worker. It keeps
// two generations of at most half its size each: when the current one is
// full it becomes the old one and the oldest is dropped, and an entry found
// in the old one is carried over to the current one. So the cache stays
// bounded and the user agents still in use survive a turnover.
type cache struct {
	cur, old map[string]*mapreduce.Agent
	half     int
}

func newCache(size int) *cache {
	if size <= 0 {
		size = DefaultCacheSize
	}
	half := max(size/2, 1)
	return &cache{cur: make(map[string]*mapreduce.Agent, min(half, 1024)), half: half}
}

// agent returns the classification of ua, from the cache when it holds it.
// ua may alias a buffer the caller reuses: it is copied when cached. Only
// the first MaxLen bytes count, as for Classify.
func (c *cache) agent(ua []byte) *mapreduce.Agent {
	if len(ua) > MaxLen {
		ua = ua[:MaxLen]
	}
	if a, ok := c.cur[string(ua)]; ok {
		return a
	}
	a, ok := c.old[string(ua)]
	if !ok {
		v := Classify(string(ua))
		a = &v
	}
	c.put(string(ua), a)
	return a
}

func (c *cache) put(ua string, a *mapreduce.Agent) {
	if len(c.cur) >= c.half {
		c.old = c.cur
		c.cur = make(map[string]*mapreduce.Agent, min(c.half, 1024))
	}
	c.cur[ua] = a
}

// len returns the number of entries held, for tests.
func (c *cache) len() int { return len(c.cur) + len(c.old) }
