package redis

import (
	"context"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/pvjobs/pvjobs/mapreduce"
)

// LiveHit is one page view as the live counters count it.
type LiveHit struct {
	Account string
	// Time is the page view's time (its timeuuid's).
	Time time.Time
	// Visitor is the visitor key, built as the uniques job builds it
	// (jobs/uniques.VisitorKey); nil adds the page view to no HyperLogLog.
	Visitor []byte
	// URL is the page's report key, normalised as the urls job does
	// (jobs/urls.Normalize); empty counts it in no sorted set.
	URL []byte
}

// LiveOptions configures Live.
type LiveOptions struct {
	// Prefix is the first part of every key (DefaultPrefix when empty):
	// the batch writer's prefix, so both write the same keys.
	Prefix string
	// Loc is the time zone of the keys' days, hours and minutes (UTC when
	// nil): the --tz of the nightly run that later replaces the keys.
	Loc *time.Location
	// Minutes also adds each visitor to its minute's HyperLogLog.
	Minutes bool
	// TTL, when positive, is set as the expiry of every key Live adds to,
	// after each update.
	TTL time.Duration
}

// Live updates the report keys in real time, the way the original Redis
// designs counted: PFADD of the visitor key into the minute (with
// LiveOptions.Minutes), hour, day and month HyperLogLogs, and ZINCRBY of the
// URL into the day's urls sorted set — the keys Writer writes, named by the
// same Keys and TimePart, so that pvjobs uniques and ZREVRANGE read them the
// same way. One Add is one pipelined round trip (per node, on a cluster).
//
// The nightly batch run later replaces the day's keys with exact values:
// RENAME of its sorted sets and (without Options.UVMerge) of the whole
// periods' HyperLogLogs, union into the month. Live is safe for concurrent
// use.
type Live struct {
	c    goredis.UniversalClient
	keys Keys
	opt  LiveOptions
}

// NewLive returns a Live that writes through c.
func NewLive(c goredis.UniversalClient, opt LiveOptions) *Live {
	if opt.Loc == nil {
		opt.Loc = time.UTC
	}
	return &Live{c: c, keys: Keys{Prefix: opt.Prefix}, opt: opt}
}

// urlsName is the urls report's name, the name part of its keys
// (jobs/urls.Name; reports do not import jobs).
const urlsName = "urls"

// LiveParts returns the time parts of the keys a page view at t counts in:
// its minute, hour, day and month of loc, as TimePart names the calendar's
// periods (hours of real elapsed time from local midnight, the repeated hour
// of a fall-back with its UTC offset).
func LiveParts(t time.Time, loc *time.Location) (minute, hour, day, month string) {
	p, _ := liveParts(t, loc)
	return p[0], p[1], p[2], p[3]
}

// liveParts returns LiveParts's parts and the first instant of t's minute.
func liveParts(t time.Time, loc *time.Location) ([4]string, time.Time) {
	lt := t.In(loc)
	d := mapreduce.DateOf(lt)
	dayStart := d.In(loc)
	if lt.Before(dayStart) { // cannot happen: a day starts at its first instant
		dayStart = lt
	}
	hourStart := dayStart.Add(lt.Sub(dayStart).Truncate(time.Hour))
	minuteStart := hourStart.Add(lt.Sub(hourStart).Truncate(time.Minute))
	monthStart := mapreduce.Date{Year: d.Year, Month: d.Month, Day: 1}.In(loc)
	return [4]string{TimePart(mapreduce.PeriodMinute, minuteStart, time.Time{}),
		TimePart(mapreduce.PeriodHour, hourStart, time.Time{}),
		TimePart(mapreduce.PeriodDay, dayStart, time.Time{}),
		TimePart(mapreduce.PeriodMonth, monthStart, time.Time{})}, minuteStart
}

// liveKeys are the keys that the page views of one account in one minute
// (the instants from, to) count in: uv of the HyperLogLogs (the minute's
// first; "" without LiveOptions.Minutes), urls of the day's sorted set.
type liveKeys struct {
	from, to int64
	uv       [4]string
	urls     string
}

// keysOf returns the keys of a page view of account at t, from cache when
// the last page view of the account was of the same minute (page views
// come in time order, so most are).
func (l *Live) keysOf(cache map[string]*liveKeys, account string, t time.Time) *liveKeys {
	ns := t.UnixNano()
	k := cache[account]
	if k != nil && ns >= k.from && ns < k.to {
		return k
	}
	parts, from := liveParts(t, l.opt.Loc)
	k = &liveKeys{from: from.UnixNano(), to: from.Add(time.Minute).UnixNano(), urls: l.keys.Key(account, urlsName, parts[2])}
	for i, p := range parts {
		if i > 0 || l.opt.Minutes {
			k.uv[i] = l.keys.Key(account, UVName, p)
		}
	}
	cache[account] = k
	return k
}

// Add counts hits: one PFADD per HyperLogLog key with all of its visitors,
// one ZINCRBY per distinct URL of a day, in one pipeline. hits and their
// bytes are only read during the call.
func (l *Live) Add(ctx context.Context, hits []LiveHit) error {
	if len(hits) == 0 {
		return nil
	}
	keys := map[string]*liveKeys{}
	var uvOrder []string
	uv := map[string][]any{}
	var zOrder []string
	z := map[string]map[string]*float64{}
	for i := range hits {
		h := &hits[i]
		k := l.keysOf(keys, h.Account, h.Time)
		if h.Visitor != nil {
			v := any(string(h.Visitor))
			for _, key := range k.uv {
				if key == "" {
					continue
				}
				vs, ok := uv[key]
				if !ok {
					uvOrder = append(uvOrder, key)
				}
				uv[key] = append(vs, v)
			}
		}
		if len(h.URL) > 0 {
			day := z[k.urls]
			if day == nil {
				day = map[string]*float64{}
				z[k.urls] = day
				zOrder = append(zOrder, k.urls)
			}
			if n := day[string(h.URL)]; n != nil {
				*n++
			} else {
				one := 1.0
				day[string(h.URL)] = &one
			}
		}
	}
	pipe := l.c.Pipeline()
	for _, k := range uvOrder {
		pipe.PFAdd(ctx, k, uv[k]...)
	}
	for _, k := range zOrder {
		for url, n := range z[k] {
			pipe.ZIncrBy(ctx, k, *n, url)
		}
	}
	if l.opt.TTL > 0 {
		for _, k := range uvOrder {
			pipe.PExpire(ctx, k, l.opt.TTL)
		}
		for _, k := range zOrder {
			pipe.PExpire(ctx, k, l.opt.TTL)
		}
	}
	cmds, err := pipe.Exec(ctx)
	if err != nil {
		for _, c := range cmds {
			if c.Err() != nil {
				return fmt.Errorf("live counters: %s: %w", c.Name(), c.Err())
			}
		}
		return fmt.Errorf("live counters: %w", err)
	}
	return nil
}
