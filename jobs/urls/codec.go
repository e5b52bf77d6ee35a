package urls

import (
	"github.com/pvjobs/pvjobs/jobs/tally"
	"github.com/pvjobs/pvjobs/mapreduce"
)

// encode writes p as a partial result: the URL keys and their tally, then
// the title counts.
func (p *Partial) encode(e *mapreduce.PartialEncoder) error {
	if err := tally.EncodeKeyed(e, p.keys, p.t); err != nil {
		return err
	}
	tally.EncodeLabels(e, p.titles)
	return e.Err()
}

// decodePartial reads what encode wrote, for a tally of cols counters that
// keeps visitors as told.
func decodePartial(d *mapreduce.PartialDecoder, cols int, visitors bool) (*Partial, error) {
	keys, t, err := tally.DecodeKeyed(d, cols, visitors)
	if err != nil {
		return nil, err
	}
	return &Partial{keys: keys, t: t, titles: tally.DecodeLabels(d, keys.Len())}, d.Err()
}

// EncodePartial implements mapreduce.PartialCodec.
func (j *Job) EncodePartial(e *mapreduce.PartialEncoder, p *Partial) error { return p.encode(e) }

// DecodePartial implements mapreduce.PartialCodec.
func (j *Job) DecodePartial(d *mapreduce.PartialDecoder) (*Partial, error) {
	return decodePartial(d, 1, true)
}

// EncodePartial implements mapreduce.PartialCodec.
func (j *PagesJob) EncodePartial(e *mapreduce.PartialEncoder, p *Partial) error { return p.encode(e) }

// DecodePartial implements mapreduce.PartialCodec.
func (j *PagesJob) DecodePartial(d *mapreduce.PartialDecoder) (*Partial, error) {
	return decodePartial(d, pagesCols, j.has(Name))
}
