package visits

import (
	"github.com/pvjobs/pvjobs/mapreduce"
	"github.com/pvjobs/pvjobs/mapreduce/hll"
)

// A partial result of the job is written as the number of (account, hour)
// cells with visits or visitors, then per cell its account and hour (by
// account id, local date and hour of the day), its visits, bounces, page
// views and duration in milliseconds, and its visitor sketch as Redis
// stores it (an empty value when it has none).

// EncodePartial implements mapreduce.PartialCodec.
func (j *Job) EncodePartial(e *mapreduce.PartialEncoder, p *Partial) error {
	n := 0
	for i := range p.counts {
		if p.counts[i] != (counts{}) || p.sketches[i] != nil {
			n++
		}
	}
	e.Uvarint(uint64(n))
	var buf []byte
	for i := range p.counts {
		c := &p.counts[i]
		if *c == (counts{}) && p.sketches[i] == nil {
			continue
		}
		e.Account(i / p.hours)
		e.Hour(i % p.hours)
		e.Varint(c.visits)
		e.Varint(c.bounces)
		e.Varint(c.pageviews)
		e.Varint(c.durationMs)
		buf = buf[:0]
		if s := p.sketches[i]; s != nil {
			buf = s.AppendRedis(buf)
		}
		e.Bytes(buf)
	}
	return e.Err()
}

// DecodePartial implements mapreduce.PartialCodec.
func (j *Job) DecodePartial(d *mapreduce.PartialDecoder) (*Partial, error) {
	p := j.NewPartial(d.Plan())
	seen := make([]bool, len(p.counts))
	n := d.Count(7)
	for range n {
		a, h := d.Account(), d.Hour()
		if d.Err() != nil {
			break
		}
		i := a*p.hours + h
		if seen[i] {
			d.Fail("an hour written twice")
			break
		}
		seen[i] = true
		c := counts{visits: d.Varint(), bounces: d.Varint(), pageviews: d.Varint(), durationMs: d.Varint()}
		if c.visits < 0 || c.bounces < 0 || c.pageviews < 0 || c.durationMs < 0 {
			d.Fail("a negative count")
			break
		}
		p.counts[i] = c
		if b := d.Bytes(hll.DenseSize); len(b) > 0 {
			s, err := hll.ParseRedis(b)
			if err != nil {
				d.Fail("%v", err)
				break
			}
			p.sketches[i] = s
		}
	}
	return p, d.Err()
}
