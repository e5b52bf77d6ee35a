package uniques

import (
	"slices"

	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/mapreduce/hll"
)

// A partial result of the job is written as: whether it counts exactly,
// whether it has minutes, the number of (account, hour) cells with
// visitors, then per cell its account and hour (by account id, local date
// and hour of the day) and its sketch as Redis stores it (or, counting
// exactly, its visitor keys); then the minute sketches, each with its
// account, hour and minute.

// maxVisitorKey bounds a visitor key read back (ip, newline, user agent; or
// a visitor_id).
const maxVisitorKey = 1 << 24

// EncodePartial implements mapreduce.PartialCodec.
func (j *Job) EncodePartial(e *mapreduce.PartialEncoder, p *Partial) error {
	e.Bool(p.sets != nil)
	e.Bool(p.minutes != nil)
	n := 0
	for i := range p.accounts * p.hours {
		if p.sets != nil && p.sets[i] != nil || p.sets == nil && p.sketches[i] != nil {
			n++
		}
	}
	e.Uvarint(uint64(n))
	var buf []byte
	var keys []string
	for i := range p.accounts * p.hours {
		switch {
		case p.sets != nil && p.sets[i] != nil:
			e.Account(i / p.hours)
			e.Hour(i % p.hours)
			keys = keys[:0]
			for k := range p.sets[i] {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			e.Uvarint(uint64(len(keys)))
			for _, k := range keys {
				e.String(k)
			}
		case p.sets == nil && p.sketches[i] != nil:
			e.Account(i / p.hours)
			e.Hour(i % p.hours)
			buf = p.sketches[i].AppendRedis(buf[:0])
			e.Bytes(buf)
		}
	}
	ms := make([]int, 0, len(p.minutes))
	for k := range p.minutes {
		ms = append(ms, k)
	}
	slices.Sort(ms)
	e.Uvarint(uint64(len(ms)))
	for _, k := range ms {
		cell := k / 60
		e.Account(cell / p.hours)
		e.Hour(cell % p.hours)
		e.Uvarint(uint64(k % 60))
		buf = p.minutes[k].AppendRedis(buf[:0])
		e.Bytes(buf)
	}
	return e.Err()
}

// DecodePartial implements mapreduce.PartialCodec.
func (j *Job) DecodePartial(d *mapreduce.PartialDecoder) (*Partial, error) {
	p := j.NewPartial(d.Plan())
	if exact, minutes := d.Bool(), d.Bool(); d.Err() == nil && (exact != j.opt.Exact || minutes != j.opt.Minutes) {
		d.Fail("exact counts %v and minutes %v, want %v and %v", exact, minutes, j.opt.Exact, j.opt.Minutes)
	}
	sketch := func() *hll.Sketch {
		b := d.Bytes(hll.DenseSize)
		if d.Err() != nil {
			return nil
		}
		s, err := hll.ParseRedis(b)
		if err != nil {
			d.Fail("%v", err)
		}
		return s
	}
	n := d.Count(3)
	for range n {
		a, h := d.Account(), d.Hour()
		if d.Err() != nil {
			break
		}
		i := a*p.hours + h
		if p.sets != nil {
			if p.sets[i] != nil {
				d.Fail("an hour written twice")
				break
			}
			m := d.Count(1)
			set := make(map[string]struct{}, min(m, 1<<16))
			for range m {
				set[d.String(maxVisitorKey)] = struct{}{}
			}
			if d.Err() == nil && len(set) != m {
				d.Fail("a visitor key written twice")
			}
			p.sets[i] = set
			continue
		}
		if p.sketches[i] != nil {
			d.Fail("an hour written twice")
			break
		}
		p.sketches[i] = sketch()
	}
	n = d.Count(4)
	for range n {
		a, h, m := d.Account(), d.Hour(), d.Uvarint()
		if d.Err() != nil {
			break
		}
		if p.minutes == nil || m >= 60 {
			d.Fail("minute %d of an hour (the job keeps minutes: %v)", m, p.minutes != nil)
			break
		}
		k := (a*p.hours+h)*60 + int(m)
		if p.minutes[k] != nil {
			d.Fail("a minute written twice")
			break
		}
		p.minutes[k] = sketch()
	}
	return p, d.Err()
}
