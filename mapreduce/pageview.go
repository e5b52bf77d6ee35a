package mapreduce

import (
	"sync/atomic"
	"time"

	"github.com/pvjobs/pvjobs/mapreduce/hll"
)

// PageView is one decoded page view. Its byte-slice fields alias buffers owned by
// the decoder that filled it: they are valid only until the callback that received
// the PageView returns. A job that keeps a value past that point must copy it (a
// map lookup m[string(b)] does not allocate; an insert must use string(b)).
type PageView struct {
	// Time is the page view's time in Unix nanoseconds, taken from the timeuuid.
	Time int64
	// TS is the raw version-1 timeuuid the page view is stored under.
	TS [16]byte

	URL       []byte
	Title     []byte
	IP        []byte
	Referrer  []byte
	UserAgent []byte
	Language  []byte
	// VisitorID is the optional explicit visitor id; empty when absent.
	VisitorID []byte

	// Shard is the index of the row's shard in the run's [Plan.Shards].
	Shard int
	// Account is the index of the row's account in the run's [Plan.Accounts].
	Account int
	// Visitor is the hash of the page view's visitor key (see [VisitorKey]):
	// MurmurHash64A with Redis's seed, so it is also the element a
	// HyperLogLog of visitors adds.
	Visitor uint64
	// Bucket locates Time in the run's calendar (see [Calendar]).
	Bucket Bucket
	// Agent is the user agent's classification, filled by the run's enricher
	// (Options.NewEnricher) when one is configured; nil otherwise.
	Agent *Agent
	// Origin is the traffic source the page view's referrer and URL tell,
	// filled by the run's enricher when one is configured; nil otherwise.
	// It may point to the enricher's scratch space: it is valid only during
	// the callback that received the PageView.
	Origin *Origin
	// Keep holds what tasks work out for a page view in Map and want again
	// in MapVisit when it is a visit's Entry or Exit (a URL's key id, say,
	// which would otherwise be looked up again when the visit ends, by then
	// out of the cache). The engine zeroes it before each page view's Map
	// and keeps it with a visit's first and last page views. Its slots are
	// shared: see Keeper.
	Keep [KeepSlots]uint64
	// Earlier, when not nil, is the Keep of an earlier page view of the
	// worker with the same ip and user agent (the first of the visitor's
	// open visit), so a task can take what it worked out from those fields
	// (a location, a device) instead of working it out again: see
	// Keeper.Earlier. It is set only when the run finds visits and the page
	// view has no visitor_id (the visitor key is then the ip and user agent).
	Earlier *[KeepSlots]uint64
}

// KeepSlots is the number of slots of PageView.Keep.
const KeepSlots = 6

// Keeper is one partial result's use of a PageView.Keep slot. Its values
// carry its own tag, so a value another Keeper left in a shared slot, or
// one of another worker's page view (a visit stitched from several work
// items), reads as absent.
type Keeper struct {
	slot int
	tag  uint64
}

var keepers atomic.Uint64

// NewKeeper returns a Keeper with a tag of its own and the next slot: the
// partials of one worker, made one after another, share no slot while they
// are at most KeepSlots.
func NewKeeper() Keeper {
	n := keepers.Add(1)
	return Keeper{slot: int(n % KeepSlots), tag: n << 32}
}

// Set keeps v for pv.
func (k Keeper) Set(pv *PageView, v uint32) { pv.Keep[k.slot] = k.tag | uint64(v) }

// Get returns what k kept for pv, if anything.
func (k Keeper) Get(pv *PageView) (uint32, bool) { return k.from(&pv.Keep) }

// Earlier returns what k kept for pv.Earlier's page view, if anything.
func (k Keeper) Earlier(pv *PageView) (uint32, bool) {
	if pv.Earlier == nil {
		return 0, false
	}
	return k.from(pv.Earlier)
}

// from returns what k left in keep, if anything.
func (k Keeper) from(keep *[KeepSlots]uint64) (uint32, bool) {
	x := keep[k.slot]
	return uint32(x), x != 0 && x&^0xffffffff == k.tag
}

// Origin is the classification of a page view's referrer and campaign
// parameters, shared by every job of a run and by the sessions, which start
// a new visit when a page view brings a source other than its visit's.
type Origin struct {
	// Medium is direct, internal, search, social, email, referral or a
	// campaign's utm_medium; Name is the engine's, network's or site's name,
	// or a campaign's utm_source.
	Medium, Name string
	// Campaign is set when Medium and Name come from the page URL's campaign
	// parameters or ad click ids rather than from the referrer.
	Campaign bool
	// IsSearch is set for a search engine's referrer; Engine and Term
	// describe it.
	IsSearch     bool
	Engine, Term string
	// Spam is set when the referrer is a known referrer spammer's: the
	// engine leaves such page views out of every report unless the run
	// includes spam (Options.IncludeSpam).
	Spam bool
	// Key identifies Medium and Name: 0 when the page view brings no source
	// of its own (direct or internal traffic), else a hash of both that is
	// never 0, 1 or 2.
	Key uint64
}

// Agent is the classification of a user agent shared by every job of a run, so
// the user agent is parsed once per row (and cached per string by the enricher).
type Agent struct {
	// Class is one of "desktop", "mobile", "tablet", "bot", "unknown".
	Class   string
	Browser string
	OS      string
	// Bot is Class == "bot": most reports leave bots out.
	Bot bool
}

// Row is one stored cell of a day shard, as a source reads it: the timeuuid
// column name and the msgpack value. Value is owned by the source and valid only
// until the callback that received the Row returns.
type Row struct {
	TS    [16]byte
	Value []byte
	// Index is the row's position within its shard (0-based) as far as the source
	// knows it; for a file it is exact, for a time slice it counts from the slice.
	Index int64
	// Offset is the row's byte offset in its file, or -1 when the source has none.
	Offset int64
	// Decompressed says that Offset counts bytes of the decompressed stream of
	// a compressed file, not bytes of the file itself.
	Decompressed bool
	// Err, when not nil, says the source could not read the row's value (it
	// is over the source's size limit, for example): Value is nil and the
	// engine counts the row as bad, with this error, if its time is in range.
	Err error
}

// Time returns the row's time in Unix nanoseconds from its timeuuid.
func (r *Row) Time() int64 { return UUIDTime(r.TS) }

// UnixTime converts Unix nanoseconds to a UTC time.Time.
func UnixTime(ns int64) time.Time { return time.Unix(0, ns).UTC() }

// VisitorKey appends the visitor key of pv to dst: visitor_id when present,
// else ip + "\n" + user_agent. Live producers that PFADD into pvjobs' Redis
// keys must build the key the same way.
func VisitorKey(dst []byte, pv *PageView) []byte {
	return AppendVisitorKey(dst, pv.IP, pv.UserAgent, pv.VisitorID)
}

// AppendVisitorKey appends the visitor key of a page view with these
// fields to dst, as VisitorKey does.
func AppendVisitorKey[T string | []byte](dst []byte, ip, userAgent, visitorID T) []byte {
	if len(visitorID) > 0 {
		return append(dst, visitorID...)
	}
	dst = append(dst, ip...)
	dst = append(dst, '\n')
	return append(dst, userAgent...)
}

// VisitorHash returns the hash of pv's visitor key, as PageView.Visitor
// holds it; buf is scratch space that may be reused (it is returned).
func VisitorHash(buf []byte, pv *PageView) (uint64, []byte) {
	if len(pv.VisitorID) > 0 {
		return hll.MurmurHash64A(pv.VisitorID, hll.Seed), buf
	}
	buf = VisitorKey(buf[:0], pv)
	return hll.MurmurHash64A(buf, hll.Seed), buf
}
