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
	// (jobs/urls.Normalize); "" counts it in no sorted set.
	URL string
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
	lt := t.In(loc)
	d := mapreduce.DateOf(lt)
	dayStart := d.In(loc)
	if lt.Before(dayStart) { // cannot happen: a day starts at its first instant
		dayStart = lt
	}
	hourStart := dayStart.Add(lt.Sub(dayStart).Truncate(time.Hour))
	minuteStart := hourStart.Add(lt.Sub(hourStart).Truncate(time.Minute))
	monthStart := mapreduce.Date{Year: d.Year, Month: d.Month, Day: 1}.In(loc)
	return TimePart(mapreduce.PeriodMinute, minuteStart, time.Time{}),
		TimePart(mapreduce.PeriodHour, hourStart, time.Time{}),
		TimePart(mapreduce.PeriodDay, dayStart, time.Time{}),
		TimePart(mapreduce.PeriodMonth, monthStart, time.Time{})
}

// Add counts hits: one PFADD per HyperLogLog key with all of its visitors,
// one ZINCRBY per distinct URL of a day, in one pipeline. hits and their
// bytes are only read during the call.
func (l *Live) Add(ctx context.Context, hits []LiveHit) error {
	if len(hits) == 0 {
		return nil
	}
	type zkey struct{ key, member string }
	var uvOrder []string
	uv := map[string][]any{}
	var zOrder []zkey
	z := map[zkey]float64{}
	var parts [4]string
	for i := range hits {
		h := &hits[i]
		parts[0], parts[1], parts[2], parts[3] = LiveParts(h.Time, l.opt.Loc)
		if h.Visitor != nil {
			first := 1
			if l.opt.Minutes {
				first = 0
			}
			for _, p := range parts[first:] {
				k := l.keys.Key(h.Account, UVName, p)
				if _, ok := uv[k]; !ok {
					uvOrder = append(uvOrder, k)
				}
				uv[k] = append(uv[k], string(h.Visitor))
			}
		}
		if h.URL != "" {
			zk := zkey{l.keys.Key(h.Account, urlsName, parts[2]), h.URL}
			if _, ok := z[zk]; !ok {
				zOrder = append(zOrder, zk)
			}
			z[zk]++
		}
	}
	pipe := l.c.Pipeline()
	for _, k := range uvOrder {
		pipe.PFAdd(ctx, k, uv[k]...)
	}
	for _, zk := range zOrder {
		pipe.ZIncrBy(ctx, zk.key, z[zk], zk.member)
	}
	if l.opt.TTL > 0 {
		for _, k := range uvOrder {
			pipe.PExpire(ctx, k, l.opt.TTL)
		}
		seen := map[string]bool{}
		for _, zk := range zOrder {
			if !seen[zk.key] {
				seen[zk.key] = true
				pipe.PExpire(ctx, zk.key, l.opt.TTL)
			}
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
